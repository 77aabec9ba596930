"""The default motion's evidence corpus: metadata, balance, no near-duplicates, and every
contention backed by passages from at least two sources."""

from __future__ import annotations

import re

import pytest

from debate.config import load_settings
from debate.ingest import prepare_motion
from debate.loaders import load_source
from debate.motions import load_motion
from debate.retrieval import get_retriever, tokenize

SETTINGS = load_settings(environ={})
MOTION = load_motion("serbia-russia", SETTINGS.corpus_dir)
BRIEFS = [s for s in MOTION.sources if s.path.parent.name == "sources"]


def test_every_source_parses_with_required_metadata_and_a_url():
    prepared = prepare_motion(MOTION, SETTINGS)  # raises on any missing field or bad file
    assert len(prepared) == len(MOTION.sources)
    for src in prepared:
        assert src.meta["url"].startswith(("https://", "http://")), src.spec.path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src.meta["date"]), src.spec.path
        assert src.meta["stance"] in ("supports", "opposes", "mixed")


def test_there_are_at_least_14_briefs_each_with_kind_key_facts_and_250_to_700_words():
    assert len(BRIEFS) >= 14
    for spec in BRIEFS:
        loaded = load_source(spec.path)
        assert loaded.meta.get("kind") in ("news", "analysis", "official", "data"), spec.path
        assert "## Key facts" in loaded.text, spec.path
        words = len(loaded.text.split())
        assert 250 <= words <= 700, f"{spec.path.name}: {words} words"


def test_both_sides_are_covered_within_a_factor_of_one_and_a_half():
    stances = [p.meta["stance"] for p in prepare_motion(MOTION, SETTINGS)]
    supports, opposes = stances.count("supports"), stances.count("opposes")
    assert supports and opposes
    assert max(supports, opposes) / min(supports, opposes) <= 1.5, (supports, opposes)


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_two_sources_are_near_duplicates():
    texts = {s.spec.id: _shingles(s.text) for s in prepare_motion(MOTION, SETTINGS)}
    ids = sorted(texts)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            overlap = len(texts[a] & texts[b]) / max(1, min(len(texts[a]), len(texts[b])))
            assert overlap < 0.2, f"{a} and {b} share {overlap:.0%} of their 5-word shingles"


def test_contentions_name_at_least_two_backing_sources_that_exist():
    ids = {s.id for s in MOTION.sources}
    for side in ("defend", "attack"):
        assert 4 <= len(MOTION.contentions_for(side)) <= 6
        for c in MOTION.contentions_for(side):
            assert len(c.sources) >= 2, c.claim
            assert set(c.sources) <= ids, set(c.sources) - ids


@pytest.mark.parametrize(
    "contention",
    [c for side in ("defend", "attack") for c in MOTION.contentions_for(side)],
    ids=lambda c: f"{c.side}:{c.claim[:40]}",
)
def test_each_contention_retrieves_its_backing_from_two_sources_in_top_5(
    default_settings, contention
):
    results = get_retriever(MOTION, default_settings).search(contention.claim, k=5)
    found = {r.passage.source_id for r in results}
    assert len(found) >= 2
    assert len(found & set(contention.sources)) >= 2, (contention.claim, sorted(found))
