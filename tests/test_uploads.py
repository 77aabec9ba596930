"""Coach uploads, hostile or wrong: each refused or handled with a clear message; nothing
written outside the corpus and data directories (listings compared before and after); an
existing source never overwritten; the motion's index unchanged after a refusal; refused
and accepted uploads removed from the upload cache; at most UPLOAD_MAX_PASSAGES passages.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from debate.app import handlers as h
from debate.app.runtime import Runtime
from debate.core.errors import DebateError
from tests.apps import MOTION, listing, write_corpus

FORM = {
    "title": "A title",
    "publisher": "Pub",
    "author": "",
    "date": "2024-01-01",
    "stance": "mixed",
    "url": "https://example.org/a",
}
GOOD = "Dogs walk their owners twice a day, which a 2022 study tied to better heart health.\n"


@pytest.fixture
def room(tmp_path, embedder):
    """A runtime over a tmp corpus, an unlocked coach tab, and an 'upload cache' folder."""
    from debate.core.config import load_settings
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion

    corpus = write_corpus(tmp_path / "site")
    s = load_settings(
        environ={},
        corpus_dir=corpus,
        data_dir=tmp_path / "site" / "data",
        default_motion=MOTION,
        coach_password="pw",
        upload_max_mb=1.0,
    )
    ingest_motion(load_motion(MOTION, corpus), s)
    runtime = Runtime(s).start()
    runtime.wait(60)
    tab = h.new_tab(runtime)
    assert h.unlock_coach(tab, runtime, "pw")[0]
    cache = tmp_path / "cache"
    cache.mkdir()
    return runtime, tab, cache, tmp_path


def upload(cache: Path, name: str, data: bytes | str) -> str:
    folder = cache / hashlib.sha1(name.encode() + str(data)[:50].encode()).hexdigest()[:10]
    folder.mkdir(exist_ok=True)
    path = folder / Path(name).name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def index_state(runtime) -> dict:
    from debate.corpus.store import open_store

    return open_store(runtime.settings, MOTION).state()


def whole_tree(tmp_path: Path) -> dict:
    return listing(tmp_path)


def refused(room, name: str, data, form=None, motion_id=MOTION, name_override=None) -> str:
    runtime, tab, cache, tmp_path = room
    path = upload(cache, name, data)
    form = dict(form or FORM)
    if name_override is not None:
        form["filename"] = name_override
    site = tmp_path / "site"
    before_site = listing(site / "corpus")
    before_index = index_state(runtime)
    outside_before = listing(tmp_path / "outside") if (tmp_path / "outside").exists() else {}
    with pytest.raises(DebateError) as info:
        try:
            h.add_source(tab, runtime, motion_id, path, form)
        finally:
            h.discard_upload(path, str(cache))
    assert listing(site / "corpus") == before_site
    assert index_state(runtime) == before_index
    assert not Path(path).exists()  # the refused upload left the cache
    outside = listing(tmp_path / "outside") if (tmp_path / "outside").exists() else {}
    assert outside == outside_before
    message = str(info.value)
    assert message and "\n" not in message and str(cache) not in message
    return message


PDF_NO_TEXT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.mark.parametrize(
    "name,data,expect",
    [
        ("evil.exe", b"MZ\x90\x00binary", "unsupported file type"),
        ("noext", b"plain words", "unsupported file type"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "binary"),
        ("latin1.txt", "Caf\xe9 cr\xe8me ".encode("latin-1") * 20, "utf-8"),
        ("empty.md", b"", "empty"),
        ("big.md", b"a" * (1024 * 1024 + 10), "upload limit"),
        ("bomb.md", gzip.compress(b"a" * 5_000_000), "binary"),
        ("scan.pdf", PDF_NO_TEXT, ""),
        ("fake.pdf", b"<html><body>not a pdf at all</body></html>", ""),
    ],
)
def test_wrong_files_are_refused_with_a_clear_message(room, name, data, expect):
    message = refused(room, name, data)
    assert expect.lower() in message.lower(), message


def test_too_many_passages_is_refused_and_the_limit_is_stated(room):
    para = "Cats and dogs cost their owners money for food, toys and vet visits every year. " * 2
    text = "\n\n".join(f"{para} Paragraph {i}." for i in range(h.UPLOAD_MAX_PASSAGES + 50))
    message = refused(room, "huge.md", text)
    assert f"{h.UPLOAD_MAX_PASSAGES:,} passages" in message


def test_html_with_scripts_is_indexed_as_text_without_them(room):
    runtime, tab, cache, _ = room
    html = (
        "<html><head><script>window.__pwned=1</script></head><body><p>"
        + GOOD * 3
        + '<img src=x onerror="window.__pwned=1"></p></body></html>'
    )
    path = upload(cache, "page.html", html)
    h.add_source(tab, runtime, MOTION, path, FORM)
    from debate.corpus.store import open_store

    texts = [p.text for p in open_store(runtime.settings, MOTION).all_passages()]
    page = [t for t in texts if "walk their owners" in t]
    assert page and not any("__pwned" in t or "<script" in t for t in page)


@pytest.mark.parametrize(
    "given",
    ["../../outside/evil.md", "/etc/evil.md", "..\\..\\outside\\evil.md", "C:\\evil.md"],
)
def test_traversal_names_are_reduced_to_bare_names_inside_the_pack(room, given):
    runtime, tab, cache, tmp_path = room
    (tmp_path / "outside").mkdir(exist_ok=True)
    before = listing(tmp_path / "outside")
    path = upload(cache, "evil.md", GOOD * 3)
    h.add_source(tab, runtime, MOTION, path, {**FORM, "filename": given})
    assert listing(tmp_path / "outside") == before
    assert (runtime.settings.corpus_dir / MOTION / "sources" / "evil.md").is_file()
    assert not Path("/etc/evil.md").exists()


def test_a_name_that_collides_never_overwrites_the_existing_source(room):
    runtime, *_ = room
    target = runtime.settings.corpus_dir / MOTION / "sources" / "cats.md"
    original = target.read_bytes()
    message = refused(room, "cats.md", GOOD * 3)
    assert "already" in message and "rename" in message
    assert target.read_bytes() == original


@pytest.mark.parametrize("motion_id", ["../cats-dogs", "/etc", "..", "cats-dogs/../x", "nope"])
def test_motion_ids_with_path_characters_are_refused(room, motion_id):
    message = refused(room, "ok.md", GOOD * 3, motion_id=motion_id)
    assert "motion" in message


def test_accepted_upload_is_removed_from_the_upload_cache(room):
    runtime, tab, cache, _ = room
    path = upload(cache, "fine.md", GOOD * 3)
    try:
        text = h.add_source(tab, runtime, MOTION, path, FORM)
    finally:
        h.discard_upload(path, str(cache))
    assert "Added" in text
    assert not Path(path).exists() and not Path(path).parent.exists()


def test_discard_never_touches_files_outside_the_cache(tmp_path):
    keep = tmp_path / "keep.md"
    keep.write_text("x")
    cache = tmp_path / "cache"
    cache.mkdir()
    h.discard_upload(str(keep), str(cache))
    h.discard_upload(str(cache / ".." / "keep.md"), str(cache))
    assert keep.exists()
