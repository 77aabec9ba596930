"""Word files in and out, with real parts: a Verbatim-style team file made here with
python-docx imports with its tags, cites and highlighted words, through the real ingest
into embedded Chroma with the real embedding model; cards exported to Word import into a
new motion and export again as the same cards; LibreOffice opens the export and renders
its first page; hostile or broken files (macros, zip bombs, no cards, not a zip) are
refused through the library, the CLI's path and the page's, with pack and index unchanged.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_COLOR_INDEX

from debate.cards.card import card_from_passage, card_of_passage, cite_of
from debate.cards.casefile import BLOCK, HAT, CaseFile, Section
from debate.cards.docx_out import write_docx
from debate.core.config import load_settings
from debate.core.errors import DebateError, SourceError
from debate.corpus.docx_source import read_docx
from debate.corpus.ingest import add_source, ingest_motion
from debate.corpus.motions import load_motion
from debate.corpus.passages import decode_spans
from debate.corpus.store import open_store
from tests.conftest import ARTIFACTS, SMALL_MOTION, SOURCE_A, SOURCE_B

META = {
    "title": "Team evidence file",
    "publisher": "Our squad",
    "date": "2026-11-30",
    "url": "https://example.org/team",
}
# The team file's cards: (tag, cite paragraph as (bold, rest), body runs as (text, marks)),
# marks: "u" underlined, "h" highlighted (yellow), "g" highlighted green.
TEAM_CARDS = [
    (
        "Cats save their owners time",
        (
            "Hart 23",
            " (Lena Hart, veterinary researcher, 2023-05-04, “Feline habits”, Pet Science Journal, https://example.org/hart)",
        ),
        [
            ("Cats ", "uh"),
            ("groom themselves", "uh"),
            (" and sleep most of the day, ", ""),
            ("so owners spend little time", "u"),
            (" on care.", ""),
        ],
    ),
    (
        "Dogs cost more than cats",
        ("Ode 21", " (Sam Ode, 2021, “Pet budgets”, Money Weekly)"),
        [
            ("A survey found that ", ""),
            ("dogs cost 40 percent more", "g"),
            (" per year, mostly food and vet bills.", "u"),
        ],
    ),
]


def make_team_file(path: Path, *, styled: bool = False, highlight_second: str = "g") -> Path:
    """A team's Verbatim-style file, made without our exporter: the built-in Heading 1-4,
    direct bold for the short cite and direct underline (or, styled, Verbatim's own names
    based on them, Cite and Underline styles, and Word's italic Emphasis on the other
    runs), Word highlight on runs; an analytic (a tag without text)."""
    d = docx.Document()
    names = {1: "Heading 1", 2: "Heading 2", 3: "Heading 3", 4: "Heading 4"}
    if styled:
        for level, name in zip(range(1, 5), ("Pocket", "Hat", "Block", "Tag"), strict=True):
            st = d.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = d.styles[f"Heading {level}"]
            names[level] = name
        d.styles.add_style("Cite", WD_STYLE_TYPE.CHARACTER).font.bold = True
        d.styles.add_style("Underline", WD_STYLE_TYPE.CHARACTER).font.underline = True
    d.add_paragraph("Cats Aff", style=names[1])
    d.add_paragraph("1AC", style=names[2])
    d.add_paragraph("Care", style=names[3])
    d.add_paragraph("Some loose analytics under the block.")
    for number, (tag, (short, rest), runs) in enumerate(TEAM_CARDS):
        d.add_paragraph(tag, style=names[4])
        cite = d.add_paragraph()
        bold = cite.add_run(short, style="Cite" if styled else None)
        bold.bold = None if styled else True
        cite.add_run(rest)
        body = d.add_paragraph()
        for text, marks in runs:
            run = body.add_run(text)
            if styled:  # underline by a character style; Word's own Emphasis is italic only
                run.style = "Underline" if "u" in marks else "Emphasis"
            else:
                run.font.underline = "u" in marks or None
            if "h" in marks:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            if "g" in marks and number == 1 and highlight_second:
                run.font.highlight_color = WD_COLOR_INDEX.BRIGHT_GREEN
        d.add_paragraph("An analytic: no card under it", style=names[4])
    d.save(str(path))
    return path


def expected_spans(runs, mark: str) -> tuple[tuple[int, int], ...]:
    out, pos = [], 0
    for text, marks in runs:
        if mark in marks or (mark == "h" and "g" in marks):
            if out and out[-1][1] == pos:
                out[-1] = (out[-1][0], pos + len(text))
            else:
                out.append((pos, pos + len(text)))
        pos += len(text)
    return tuple(out)


def write_pack(corpus: Path, motion_id: str, sources: dict) -> None:
    folder = corpus / motion_id
    (folder / "sources").mkdir(parents=True)
    (folder / "motion.yaml").write_text(SMALL_MOTION.format(id=motion_id), encoding="utf-8")
    for name, text in sources.items():
        (folder / "sources" / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory, embedder):
    """A corpus with the cats-dogs pack ingested and a team file added to it (real ingest,
    embedded Chroma), plus an empty second pack for the round trip."""
    base = tmp_path_factory.mktemp("docx-world")
    corpus = base / "corpus"
    write_pack(corpus, "cats-dogs", {"cats.md": SOURCE_A, "dogs.md": SOURCE_B})
    write_pack(corpus, "again", {"dogs.md": SOURCE_B})
    settings = load_settings(environ={}, corpus_dir=corpus, data_dir=base / "data")
    for motion_id in ("cats-dogs", "again"):
        ingest_motion(load_motion(motion_id, corpus), settings)
    team = make_team_file(base / "team-file.docx")
    added = add_source(load_motion("cats-dogs", corpus), team, settings, meta=META)
    return settings, added, base


def stored(settings, motion_id: str, source_id: str | None = None):
    passages = open_store(settings, motion_id).all_passages()
    return [p for p in passages if source_id is None or p.source_id == source_id]


def test_a_team_file_imports_with_its_tags_cites_and_highlights(tmp_path):
    for styled in (False, True):
        read = read_docx(make_team_file(tmp_path / f"team-{styled}.docx", styled=styled))
        assert [c.tag for c in read.cards] == [t for t, _, _ in TEAM_CARDS]
        for card, (_, _, runs) in zip(read.cards, TEAM_CARDS, strict=True):
            assert read.text[card.start : card.end] == "".join(t for t, _ in runs)
            assert card.highlights == expected_spans(runs, "h")
            assert card.underlines == expected_spans(runs, "u")
        first, second = (c.cite for c in read.cards)
        assert first["author"] == "Lena Hart" and first["qualification"] == "veterinary researcher"
        assert first["date"] == "2023-05-04" and first["title"] == "Feline habits"
        assert first["publisher"] == "Pet Science Journal"
        assert first["url"] == "https://example.org/hart"
        assert second["author"] == "Sam Ode" and second["publisher"] == "Money Weekly"
        assert "Some loose analytics" in read.text and "An analytic" in read.text


def test_imported_cards_keep_tag_cite_and_marks_through_the_index(world):
    settings, added, _ = world
    assert added.passages == len(TEAM_CARDS)
    passages = sorted(stored(settings, "cats-dogs", added.source_id), key=lambda p: p.start)
    assert [p.tag for p in passages] == [t for t, _, _ in TEAM_CARDS]
    for passage, (tag, _, runs) in zip(passages, TEAM_CARDS, strict=True):
        card = card_of_passage(passage)
        assert card.tag == tag and card.body == "".join(t for t, _ in runs)
        assert card.highlighted == expected_spans(runs, "h")
        assert card.underlined == expected_spans(runs, "u")
    hart = cite_of(passages[0])
    assert hart.short() == "Hart 23" and hart.qualification == "veterinary researcher"
    # the evidence panel names the card's own source, not the team file
    assert passages[0].publisher == "Pet Science Journal" and passages[0].author == "Lena Hart"
    assert passages[1].url == META["url"]  # the card names no URL: the file's


def test_changing_only_a_highlight_reindexes_the_card(world, tmp_path):
    settings, added, _ = world
    motion = load_motion("cats-dogs", settings.corpus_dir)
    assert not ingest_motion(motion, settings).wrote_anything  # unchanged: nothing written
    make_team_file(added.path, highlight_second="")
    try:
        report = ingest_motion(motion, settings)
        assert report.changed_sources == [added.source_id] and report.embedded == 0
        second = sorted(stored(settings, "cats-dogs", added.source_id), key=lambda p: p.start)[1]
        assert decode_spans(second.highlights) == ()
    finally:
        make_team_file(added.path)
        ingest_motion(motion, settings)


def round_trip_cards(settings):
    """Cards cut from the cats-dogs pack's indexed passages, with sub-spans."""
    cards = []
    for passage in stored(settings, "cats-dogs"):
        if passage.tag:
            cards.append(card_of_passage(passage))
            continue
        n = len(passage.text)
        cards.append(
            card_from_passage(
                passage,
                0,
                n,
                f"Card from {passage.title}",
                [(0, 12), (n // 2, n - 1)],
                [(0, n // 2 + 5)],
            )
        )
    return cards


def case_of(cards) -> CaseFile:
    half = len(cards) // 2
    return CaseFile(
        "Cats and dogs",
        "Proposition",
        [
            Section("Case", HAT, cards[:half]),
            Section("A2 dogs", BLOCK, cards[half:], notes=["Why."]),
        ],
    )


def comparable(card):
    return (card.tag, card.cite, card.body, card.highlighted, card.underlined)


def word_content(path: Path) -> list[tuple]:
    """Every paragraph of a Word file: style, and its runs' text, style, underline, highlight."""
    out = []
    for p in docx.Document(str(path)).paragraphs:
        runs = [(r.text, r.style.name, r.font.underline, r.font.highlight_color) for r in p.runs]
        out.append((p.style.name, runs))
    return out


def test_export_import_into_a_new_motion_and_export_again_gives_the_same_cards(world):
    settings, _, base = world
    cards = round_trip_cards(settings)
    assert len(cards) >= 4 and any(c.highlighted != ((0, len(c.body)),) for c in cards)
    first = write_docx(case_of(cards), base / "export-1.docx")
    added = add_source(load_motion("again", settings.corpus_dir), first, settings, meta=META)
    assert added.passages == len(cards)
    imported = sorted(stored(settings, "again", added.source_id), key=lambda p: p.start)
    again = [card_of_passage(p) for p in imported]
    assert [comparable(c) for c in again] == [comparable(c) for c in cards]
    for card, passage in zip(again, imported, strict=True):
        assert card.body == passage.text and card.motion == "again"
    second = write_docx(case_of(again), base / "export-2.docx")
    assert word_content(second) == word_content(first)


def render_first_page(docx_path: Path, out_dir: Path) -> Path:
    """LibreOffice converts the file to PDF, pdftoppm renders page one as PNG."""
    for tool in ("libreoffice", "pdftoppm"):
        assert shutil.which(tool), f"{tool} is missing: `make test` installs it (make libreoffice)"
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = out_dir / f"{docx_path.stem}.pdf"
    assert pdf.is_file(), "LibreOffice wrote no PDF"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(out_dir / docx_path.stem),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out_dir / f"{docx_path.stem}.png"


def test_libreoffice_opens_the_export_and_renders_its_first_page(world):
    from PIL import Image

    settings, _, base = world
    exported = write_docx(case_of(round_trip_cards(settings)), base / "cards-first-page.docx")
    png = render_first_page(exported, base / "rendered")
    kept = ARTIFACTS / "cards"
    kept.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, kept / png.name)
    assert png.stat().st_size > 20_000
    image = Image.open(png).convert("RGB")
    pixels = list(image.getdata())
    ink = sum(1 for r, g, b in pixels if r + g + b < 300) / len(pixels)
    yellow = sum(1 for r, g, b in pixels if r > 200 and g > 200 and b < 80) / len(pixels)
    assert ink > 0.01, "the page is blank"
    assert yellow > 0.005, "no highlighted words on the page"


# ------------------------------------------------------------------ hostile and broken files
def _valid_bytes() -> bytes:
    buffer = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("A tag", style="Heading 4")
    d.add_paragraph("Some card text that is long enough to read.")
    d.save(buffer)
    return buffer.getvalue()


def _rezip(data: bytes, extra: dict[str, bytes] | None = None, edit=None) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info.filename, edit(info.filename, body) if edit else body)
        for name, body in (extra or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def _docm(name: str, body: bytes) -> bytes:
    if name != "[Content_Types].xml":
        return body
    return body.replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )


def _lying_sizes(data: bytes) -> bytes:
    """The central directory says document.xml unpacks to 300 MB (the data says less)."""
    raw = bytearray(data)
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46 : at + 46 + name_len] == b"word/document.xml":
            struct.pack_into("<I", raw, at + 24, 300 * 1024 * 1024)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
XML_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol1 "lol">' + LAUGHS + "]>"
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:body><w:p><w:pPr><w:pStyle w:val="Heading4"/></w:pPr><w:r><w:t>&lol9;</w:t></w:r></w:p>'
    "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
).encode()


def _xml_bomb(data: bytes) -> bytes:
    """document.xml expands a billion times through nested entities (lxml refuses it)."""
    return _rezip(data, edit=lambda name, body: XML_BOMB if name == "word/document.xml" else body)


def _no_headings() -> bytes:
    buffer = io.BytesIO()
    d = docx.Document()
    for _ in range(3):
        d.add_paragraph("Plain prose with no card headings at all, paragraph after paragraph.")
    d.save(buffer)
    return buffer.getvalue()


HOSTILE = {
    "macro": (
        lambda v: _rezip(v, {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 512}),
        "macros",
    ),
    "docm-type": (lambda v: _rezip(v, edit=_docm), "macros"),
    "zip-bomb": (lambda v: _rezip(v, {"word/media/image1.png": b"\x00" * 60_000_000}), "zip bomb"),
    "many-parts": (
        lambda v: _rezip(v, {f"customXml/extra{i}.xml": b"<a/>" for i in range(1200)}),
        "zip bomb",
    ),
    "lying-sizes": (_lying_sizes, "zip bomb"),
    "xml-bomb": (_xml_bomb, "damaged .docx"),
    "no-headings": (lambda v: _no_headings(), "no cards found"),
    "not-a-zip": (lambda v: b"This is not a Word file at all. " * 40, "not a readable .docx"),
    "truncated": (lambda v: v[: len(v) * 2 // 3], "not a readable .docx"),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    valid = _valid_bytes()
    files = {}
    for name, (make, _) in HOSTILE.items():
        files[name] = folder / f"{name}.docx"
        files[name].write_bytes(make(valid))
    return files


def pack_and_index(settings, motion_id: str) -> tuple:
    """Every file of the pack with its hash, and the index's passages and metadata."""
    root = settings.corpus_dir / motion_id
    files = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    store = open_store(settings, motion_id)
    texts = sorted((p.id, p.text) for p in store.all_passages())
    return files, store.state(), texts


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_or_broken_file_is_refused_and_nothing_is_written(world, hostile_files, name):
    settings, _, _ = world
    before = pack_and_index(settings, "cats-dogs")
    with pytest.raises(SourceError) as info:
        add_source(
            load_motion("cats-dogs", settings.corpus_dir), hostile_files[name], settings, meta=META
        )
    message = str(info.value)
    assert HOSTILE[name][1] in message and "\n" not in message, message
    assert f"{name}.docx" in message  # names the user's file, not a temporary copy
    assert pack_and_index(settings, "cats-dogs") == before
    assert before[1]  # the comparison covers a real index


def test_the_refusal_checks_can_fail_a_good_file_passes_them(hostile_files, tmp_path):
    good = tmp_path / "good.docx"
    good.write_bytes(_valid_bytes())
    read = read_docx(good)
    assert [c.tag for c in read.cards] == ["A tag"]
    with pytest.raises(SourceError, match="macros"):
        read_docx(hostile_files["macro"])


@pytest.fixture(scope="module")
def page(world):
    """The page's runtime over the same corpus, with an unlocked coach tab."""
    from debate.app import handlers as h
    from debate.app.runtime import Runtime

    settings, _, base = world
    s = load_settings(
        environ={},
        corpus_dir=settings.corpus_dir,
        data_dir=settings.data_dir,
        default_motion="cats-dogs",
        coach_password="pw",
    )
    runtime = Runtime(s).start()
    runtime.wait(120)
    tab = h.new_tab(runtime)
    assert h.unlock_coach(tab, runtime, "pw")[0]
    return runtime, tab, base


@pytest.mark.parametrize("name", ["macro", "zip-bomb", "no-headings", "truncated"])
def test_the_page_refuses_the_same_files_with_nothing_written(page, hostile_files, name):
    from debate.app import handlers as h

    runtime, tab, base = page
    before = pack_and_index(runtime.settings, "cats-dogs")
    upload = base / "cache" / name / "upload.docx"
    upload.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(hostile_files[name], upload)
    form = dict(META, filename=f"{name}.docx")
    with pytest.raises(DebateError) as info:
        h.add_source(tab, runtime, "cats-dogs", str(upload), form)
    assert HOSTILE[name][1] in str(info.value) and f"{name}.docx" in str(info.value)
    assert str(upload) not in str(info.value)
    assert pack_and_index(runtime.settings, "cats-dogs") == before


def test_the_page_accepts_a_team_file(page, tmp_path):
    from debate.app import handlers as h

    runtime, tab, _ = page
    upload = make_team_file(tmp_path / "upload.docx", styled=True)
    message = h.add_source(
        tab, runtime, "cats-dogs", str(upload), dict(META, filename="styled-team.docx")
    )
    assert "styled-team" in message.lower() or "team evidence file" in message.lower(), message
    tags = {
        p.tag for p in stored(runtime.settings, "cats-dogs") if p.source_id.startswith("styled")
    }
    assert tags == {t for t, _, _ in TEAM_CARDS}


def test_debate_add_source_takes_a_team_file_and_refuses_a_macro_one(
    world, hostile_files, tmp_path
):
    from typer.testing import CliRunner

    from debate.cli import app

    settings, _, _ = world
    env = {"DEBATE_CORPUS_DIR": str(settings.corpus_dir), "DEBATE_DATA_DIR": str(settings.data_dir)}
    fields = [f"--{k}={v}" for k, v in META.items()]
    runner = CliRunner(env=env)
    before = pack_and_index(settings, "again")
    refused = runner.invoke(app, ["add-source", "again", str(hostile_files["macro"]), *fields])
    assert refused.exit_code == 1 and "macros" in refused.output, refused.output
    assert pack_and_index(settings, "again") == before
    team = make_team_file(tmp_path / "cli-team.docx")
    added = runner.invoke(app, ["add-source", "again", str(team), *fields])
    assert added.exit_code == 0, added.output
    assert f"{len(TEAM_CARDS)} passages" in added.output
    tags = {p.tag for p in stored(settings, "again") if p.source_id.startswith("cli-team")}
    assert tags == {t for t, _, _ in TEAM_CARDS}
