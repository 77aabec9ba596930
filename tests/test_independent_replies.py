"""Structure of evals/independent_replies.yaml (hand-written, independent of the checker).

Checks the data only, never the checker: evidence snippets resolve to exactly one paragraph
of the named source file, citations point at existing evidence, labels and kinds are from
the allowed sets, and the set is large enough (>= 45 beyond-lexical sentences, >= 60
faithful sentences that cite evidence).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from debate.corpus.motions import source_id_for

ROOT = Path(__file__).resolve().parents[1]
DATA = yaml.safe_load((ROOT / "evals" / "independent_replies.yaml").read_text(encoding="utf-8"))
LABELS = {"ok", "planted", "beyond-lexical"}
BEYOND_KINDS = {
    "role-swap",
    "changed-fact",
    "antonym",
    "wrong-causal",
    "overgeneralisation",
    "hedged-to-certain",
    "wrong-time",
    "wrong-attribution",
    "misattached-number",
    "reversed-comparative",
}
CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _source_files(motion_id: str) -> dict[str, Path]:
    """source id -> file, from motion.yaml: explicit `id` entries, and folders whose files
    get the file-stem id (debate.corpus.motions.source_id_for)."""
    pack = ROOT / "corpus" / motion_id
    spec = yaml.safe_load((pack / "motion.yaml").read_text(encoding="utf-8"))
    files: dict[str, Path] = {}
    for entry in spec["sources"]:
        rel = entry if isinstance(entry, str) else entry["path"]
        path = (pack / rel).resolve()
        if path.is_dir():
            for f in sorted(path.iterdir()):
                if f.suffix in (".md", ".txt"):
                    files[source_id_for(f)] = f
        else:
            sid = entry.get("id") if isinstance(entry, dict) else None
            files[sid or source_id_for(path)] = path
    return files


def _paragraphs(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.index("\n---", 4)
        text = text[text.index("\n", end + 1) + 1 :]
    # blank lines separate paragraphs; a text without any (the seed article) has one per line
    parts = BLANK_LINE.split(text) if BLANK_LINE.search(text) else text.split("\n")
    return [p.strip() for p in parts if p.strip()]


SOURCES = _source_files(DATA["motion"])
PARAGRAPHS = {sid: _paragraphs(path) for sid, path in SOURCES.items()}
REPLIES = DATA["replies"]


def _citations(sentence: str) -> list[int]:
    return [int(n) for group in CITATION.findall(sentence) for n in group.split(",")]


def test_top_level_shape():
    assert DATA["motion"] == "serbia-russia"
    assert 24 <= len(REPLIES) <= 30
    ids = [r["id"] for r in REPLIES]
    assert len(ids) == len(set(ids)), "reply ids must be unique"
    for r in REPLIES:
        assert r["side"] in ("defend", "attack"), r["id"]
        assert r["phase"] in ("opening", "rebuttal", "question", "closing"), r["id"]
        assert 3 <= len(r["sentences"]) <= 6, r["id"]
        assert r["evidence"], r["id"]


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r["id"])
def test_evidence_snippets_occur_in_exactly_one_paragraph(reply):
    for source_id, snippet in reply["evidence"]:
        assert source_id in PARAGRAPHS, f"{reply['id']}: unknown source {source_id!r}"
        assert 30 <= len(snippet) <= 80, f"{reply['id']}: snippet length {len(snippet)}"
        hits = [p for p in PARAGRAPHS[source_id] if snippet in p]
        assert len(hits) == 1, f"{reply['id']}: {snippet!r} in {len(hits)} paragraphs"


@pytest.mark.parametrize("reply", REPLIES, ids=lambda r: r["id"])
def test_labels_and_citations(reply):
    n_evidence = len(reply["evidence"])
    cited = set()
    for row in reply["sentences"]:
        label, sentence, *rest = row
        assert label in LABELS, f"{reply['id']}: label {label!r}"
        assert isinstance(sentence, str) and sentence.strip()
        refs = _citations(sentence)
        for n in refs:
            assert 1 <= n <= n_evidence, f"{reply['id']}: [{n}] but {n_evidence} evidence"
        cited.update(refs)
        if label == "beyond-lexical":
            assert refs, f"{reply['id']}: beyond-lexical sentence without a citation"
            assert len(rest) == 1 and rest[0] in BEYOND_KINDS, f"{reply['id']}: kind {rest}"
        elif label == "planted":
            assert refs and len(rest) == 1, f"{reply['id']}: planted needs a citation and kind"
        else:
            assert not rest, f"{reply['id']}: an ok sentence takes no kind"
    assert cited == set(range(1, n_evidence + 1)), f"{reply['id']}: uncited evidence"


def test_counts_meet_the_minimums():
    labels = Counter()
    kinds = Counter()
    two_passage = 0
    for r in REPLIES:
        for label, sentence, *rest in r["sentences"]:
            refs = _citations(sentence)
            if label == "ok":
                labels["ok-cited" if refs else "ok-rhetoric"] += 1
                two_passage += len(set(refs)) >= 2
            else:
                labels[label] += 1
                if label == "beyond-lexical":
                    kinds[rest[0]] += 1
    assert labels["beyond-lexical"] >= 45, labels
    assert labels["ok-cited"] >= 60, labels
    assert two_passage >= 3, two_passage
    assert len(kinds) >= 8, kinds  # the unfaithful kinds are varied
    assert labels["ok-rhetoric"] >= 1, labels
