"""Editing motion packs: `debate add-source` / `debate new-motion` and the web app's forms
go through the same library functions (motions.add_source, ingest.add_source,
motions.create_motion), keep the coach's motion.yaml as written, and refuse bad input with
a one-line reason, leaving the pack as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from debate.core.errors import MotionError, SourceError
from debate.corpus import ingest, motions
from debate.corpus.motions import load_motion

DEBATE = str(Path(sys.executable).parent / "debate")

# The test pack's motion.yaml as a coach might keep it: comments, a flow list, odd order.
COMMENTED = """\
# Cats v dogs: a practice motion for the junior squad.
id: cats-dogs
title: Test motion
thesis: Cats are better than dogs
sides:
  defend: Cats are better than dogs  # the proposition
  attack: Dogs are better than cats
contentions:
  # Keep each claim to one line.
  defend:
    - claim: Cats need less care.
      sources: [cats]
  attack:
    - Dogs are loyal companions.
sources:
  - sources  # every file in sources/
"""
HTML = (
    "<html><head><title>x</title></head><body><article><p>Cat dander causes allergies in "
    "about ten percent of people, far more often than dogs do, a 2022 clinical review of "
    "3,000 patients found.</p></article></body></html>"
)
TEXT = (
    "Dogs reduce loneliness in older owners: a 2021 study of 2,500 people found that dog "
    "owners walked more and reported feeling lonely less often than people without pets.\n"
)
META = {
    "title": "Cats and allergies",
    "publisher": "Allergy Today",
    "date": "2024-05-06",
    "url": "https://example.org/allergy",
    "stance": "opposes",
}


def cli(*args: str, corpus: Path, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "DEBATE_CORPUS_DIR": str(corpus)}
    env["DEBATE_DATA_DIR"] = str(data)
    return subprocess.run([DEBATE, *args], capture_output=True, text=True, env=env, timeout=300)


def flags(meta: dict) -> list[str]:
    return [x for k, v in meta.items() for x in (f"--{k}", v)]


@pytest.fixture
def pack(make_pack):
    folder = make_pack()
    (folder / "motion.yaml").write_text(COMMENTED, encoding="utf-8")
    return folder


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "Allergy Page.html").write_text(HTML, encoding="utf-8")
    (folder / "lonely.md").write_text(TEXT, encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_cli_add_source_keeps_comments_and_key_order_of_motion_yaml(pack, files, tmp_path):
    out = cli(
        "add-source",
        "cats-dogs",
        str(files / "Allergy Page.html"),
        *flags(META),
        corpus=pack.parent,
        data=tmp_path / "data",
    )
    assert out.returncode == 0, out.stderr
    assert "added “Cats and allergies” as sources/uploads/Allergy-Page.html" in out.stdout
    after = (pack / "motion.yaml").read_text(encoding="utf-8")
    # Every line the coach wrote is still there, in place; the entry is appended after them.
    assert after.startswith(COMMENTED)
    assert after[len(COMMENTED) :] == (
        "  - path: sources/uploads/Allergy-Page.html\n"
        "    id: allergy-page\n"
        "    title: Cats and allergies\n"
        "    publisher: Allergy Today\n"
        "    date: '2024-05-06'\n"
        "    url: https://example.org/allergy\n"
        "    stance: opposes\n"
    )
    data = yaml.safe_load(after)
    assert list(data) == ["id", "title", "thesis", "sides", "contentions", "sources"]
    assert load_motion(pack, pack.parent).sources[-1].id == "allergy-page"


def test_web_handler_and_cli_make_the_same_pack_change(pack, files, tmp_path, settings):
    from debate.app import handlers as h
    from debate.app.runtime import Runtime

    web_corpus = tmp_path / "web-corpus"
    shutil.copytree(pack.parent, web_corpus)
    for name, meta in (("Allergy Page.html", META), ("lonely.md", {**META, "title": "Dogs"})):
        out = cli(
            "add-source",
            "cats-dogs",
            str(files / name),
            *flags(meta),
            corpus=pack.parent,
            data=tmp_path / "cli-data",
        )
        assert out.returncode == 0, out.stderr

    s = replace(settings, corpus_dir=web_corpus, default_motion="cats-dogs")
    ingest.ingest_motion(load_motion("cats-dogs", web_corpus), s)
    rt = Runtime(s).start()
    rt.wait(120)
    state = h.new_tab(rt)
    h.add_source(state, rt, "cats-dogs", str(files / "Allergy Page.html"), dict(META))
    h.add_source(state, rt, "cats-dogs", str(files / "lonely.md"), {**META, "title": "Dogs"})

    assert snapshot(web_corpus / "cats-dogs") == snapshot(pack)
    assert "lonely" in {s.id for s in state.session.motion.sources}


def test_web_form_and_cli_create_the_same_motion(tmp_path):
    from debate.app import handlers as h

    cli_corpus, web_corpus = tmp_path / "cli", tmp_path / "web"
    out = cli(
        "new-motion",
        "--title",
        "School uniforms",
        "--thesis",
        "Schools should require uniforms",
        "--defend",
        "Uniforms cut bullying",
        "--attack",
        "Uniforms limit expression",
        "--attack",
        "They cost families",
        corpus=cli_corpus,
        data=tmp_path / "data",
    )
    assert out.returncode == 0, out.stderr
    assert "school-uniforms: created" in out.stdout
    web = motions.create_motion(
        web_corpus,
        "School uniforms",
        "Schools should require uniforms",
        h.claim_lines("- Uniforms cut bullying\n"),
        h.claim_lines("Uniforms limit expression\nThey cost families"),
    )
    assert snapshot(cli_corpus) == snapshot(web_corpus)
    assert [c.claim for c in web.contentions["attack"]] == [
        "Uniforms limit expression",
        "They cost families",
    ]


BAD_TAG = "---\ntitle: !!python/object/apply:os.system [echo hacked]\n---\nSome text here.\n"


@pytest.mark.parametrize(
    ("name", "data", "extra", "reason"),
    [
        ("missing.md", None, [], "missing.md: no such file"),
        ("notes.xlsx", b"PK\x03\x04", [], "unsupported file type .xlsx"),
        ("notes.docx", b"PK\x03\x04", [], "not a readable .docx"),
        ("page.html", HTML, ["--stance", "maybe"], "stance must be one of supports"),
        ("page.html", HTML, ["--kind", "gossip"], "kind must be one of news"),
        ("tagged.md", BAD_TAG, [], "front matter is not valid YAML"),
        ("cats.md", TEXT, [], "already has a source with id 'cats'"),
        ("bare.md", TEXT, ["--title", "Only a title"], "fill in publisher, date, url"),
    ],
)
def test_cli_add_source_refuses_bad_input_in_one_line_and_leaves_the_pack(
    pack, tmp_path, name, data, extra, reason
):
    path = tmp_path / "incoming" / name
    path.parent.mkdir()
    if data is not None:
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    before = snapshot(pack)
    meta = {k: v for k, v in META.items() if f"--{k}" not in extra}
    args = extra if name == "bare.md" else [*flags(meta), *extra]
    out = cli("add-source", "cats-dogs", str(path), *args, corpus=pack.parent, data=tmp_path / "d")
    assert out.returncode == 1
    assert reason in out.stderr and out.stderr.startswith("error: ")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 2
    assert snapshot(pack) == before


def test_cli_new_motion_refuses_bad_input_in_one_line(pack, tmp_path):
    corpus, data = pack.parent, tmp_path / "d"
    before = snapshot(corpus)
    cases = [
        (["--title", "Pets", "--thesis", "Pets help", "--attack", "No"], "for the defend side"),
        (["--title", "Pets", "--thesis", "", "--defend", "a", "--attack", "b"], "a title and"),
        (
            [
                "--title",
                "Cats",
                "--thesis",
                "x",
                "--defend",
                "a",
                "--attack",
                "b",
                "--id",
                "cats-dogs",
            ],
            "a motion with id 'cats-dogs' already exists",
        ),
        (
            ["--title", "Pets", "--thesis", "x", "--defend", "a", "--attack", "b", "--id", "../x"],
            "must be 3-64 lowercase letters",
        ),
    ]
    for args, reason in cases:
        out = cli("new-motion", *args, corpus=corpus, data=data)
        assert out.returncode == 1 and reason in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    assert snapshot(corpus) == before


def test_traversal_names_are_reduced_to_bare_names(pack, files):
    motion = load_motion(pack, pack.parent)
    for name in ("../../../evil.md", "..\\..\\evil.md", "/etc/evil.md"):
        edit = motions.add_source(motion, files / "lonely.md", name=name, meta=META)
        assert edit.source.path == (pack / "sources" / "evil.md").resolve()
        edit.undo()
    assert not list(pack.parent.parent.rglob("evil.md"))


def test_yaml_tags_in_form_values_stay_plain_text(pack, files):
    motion = load_motion(pack, pack.parent)
    meta = {**META, "title": "!!python/object/apply:os.system ['echo hacked']"}
    edit = motions.add_source(motion, files / "Allergy Page.html", meta=meta)
    entry = yaml.safe_load((pack / "motion.yaml").read_text())["sources"][-1]
    assert entry["title"] == meta["title"]
    assert edit.motion.sources[-1].meta["title"] == meta["title"]


def test_a_motion_yaml_with_a_tag_is_refused_before_any_change(pack, files):
    motion = load_motion(pack, pack.parent)
    (pack / "motion.yaml").write_text(COMMENTED + "extra: !!python/name:os.system ''\n")
    before = snapshot(pack)
    with pytest.raises(MotionError, match="motion.yaml: not valid YAML"):
        motions.add_source(motion, files / "Allergy Page.html", meta=META)
    assert snapshot(pack) == before


def test_failed_indexing_puts_the_pack_back(pack, files, settings, monkeypatch):
    motion = load_motion(pack, pack.parent)
    before = snapshot(pack)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "ingest_motion", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest.add_source(motion, files / "Allergy Page.html", settings, meta=META)
    assert snapshot(pack) == before


def test_upload_size_limit(pack, files, settings):
    motion = load_motion(pack, pack.parent)
    small = replace(settings, upload_max_mb=0.0001)
    with pytest.raises(SourceError, match="over the 0.0001 MB upload limit"):
        ingest.add_source(motion, files / "Allergy Page.html", small, meta=META)


def test_create_motion_refuses_a_taken_id(pack):
    with pytest.raises(MotionError, match="already exists"):
        motions.create_motion(pack.parent, "Cats dogs", "x", ["a"], ["b"], motion_id="cats-dogs")
