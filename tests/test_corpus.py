"""Every motion pack's evidence corpus: metadata, balance, no near-duplicates, and every
contention backed by passages from at least two sources. The checks run once per pack
under corpus/, so a new pack is held to the same standard as the first."""

from __future__ import annotations

import re

import pytest

from debate.core.config import load_settings
from debate.corpus.ingest import ingest_motion, prepare_motion
from debate.corpus.loaders import load_source
from debate.corpus.motions import list_motions
from debate.search.retrieval import get_retriever, tokenize

SETTINGS = load_settings(environ={})
PACK_ERRORS: list = []
MOTIONS = {m.id: m for m in list_motions(SETTINGS.corpus_dir, errors=PACK_ERRORS)}
MOTION_IDS = sorted(MOTIONS)


def briefs(motion):
    return [s for s in motion.sources if s.path.parent.name == "sources"]


def test_every_pack_under_corpus_loads_and_the_default_is_among_them():
    assert not PACK_ERRORS, [str(e) for e in PACK_ERRORS]
    assert SETTINGS.default_motion in MOTIONS
    assert len(MOTIONS) >= 2


@pytest.mark.parametrize("motion_id", MOTION_IDS)
def test_every_source_parses_with_required_metadata_and_a_url(motion_id):
    motion = MOTIONS[motion_id]
    prepared = prepare_motion(motion, SETTINGS)  # raises on any missing field or bad file
    assert len(prepared) == len(motion.sources)
    for src in prepared:
        assert src.meta["url"].startswith(("https://", "http://")), src.spec.path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src.meta["date"]), src.spec.path
        assert src.meta["stance"] in ("supports", "opposes", "mixed")


@pytest.mark.parametrize("motion_id", MOTION_IDS)
def test_there_are_at_least_14_briefs_each_with_kind_key_facts_and_250_to_700_words(motion_id):
    specs = briefs(MOTIONS[motion_id])
    assert len(specs) >= 14
    for spec in specs:
        loaded = load_source(spec.path)
        assert loaded.meta.get("kind") in ("news", "analysis", "official", "data"), spec.path
        assert "## Key facts" in loaded.text, spec.path
        words = len(loaded.text.split())
        assert 250 <= words <= 700, f"{spec.path.name}: {words} words"


@pytest.mark.parametrize("motion_id", MOTION_IDS)
def test_both_sides_are_covered_within_a_factor_of_one_and_a_half(motion_id):
    stances = [p.meta["stance"] for p in prepare_motion(MOTIONS[motion_id], SETTINGS)]
    supports, opposes = stances.count("supports"), stances.count("opposes")
    assert supports and opposes
    assert max(supports, opposes) / min(supports, opposes) <= 1.5, (supports, opposes)


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = tokenize(text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.parametrize("motion_id", MOTION_IDS)
def test_no_two_sources_are_near_duplicates(motion_id):
    texts = {s.spec.id: _shingles(s.text) for s in prepare_motion(MOTIONS[motion_id], SETTINGS)}
    ids = sorted(texts)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            overlap = len(texts[a] & texts[b]) / max(1, min(len(texts[a]), len(texts[b])))
            assert overlap < 0.2, f"{a} and {b} share {overlap:.0%} of their 5-word shingles"


@pytest.mark.parametrize("motion_id", MOTION_IDS)
def test_contentions_name_at_least_two_backing_sources_that_exist(motion_id):
    motion = MOTIONS[motion_id]
    ids = {s.id for s in motion.sources}
    for side in ("defend", "attack"):
        assert 4 <= len(motion.contentions_for(side)) <= 6
        for c in motion.contentions_for(side):
            assert len(c.sources) >= 2, c.claim
            assert set(c.sources) <= ids, set(c.sources) - ids


@pytest.fixture(scope="session")
def indexed_settings(default_settings, tmp_path_factory):
    """Settings whose data dir holds an index of the given motion. The default motion reuses
    the session-wide index of conftest; every other pack is ingested once into its own dir."""
    cache = {default_settings.default_motion: default_settings}

    def get(motion_id: str):
        if motion_id not in cache:
            s = load_settings(environ={}, data_dir=tmp_path_factory.mktemp(f"index-{motion_id}"))
            ingest_motion(MOTIONS[motion_id], s)
            cache[motion_id] = s
        return cache[motion_id]

    return get


@pytest.mark.parametrize(
    ("motion_id", "contention"),
    [
        (motion_id, c)
        for motion_id in MOTION_IDS
        for side in ("defend", "attack")
        for c in MOTIONS[motion_id].contentions_for(side)
    ],
    ids=lambda v: v if isinstance(v, str) else f"{v.side}:{v.claim[:40]}",
)
def test_each_contention_retrieves_its_backing_from_two_sources_in_top_5(
    indexed_settings, motion_id, contention
):
    motion = MOTIONS[motion_id]
    results = get_retriever(motion, indexed_settings(motion_id)).search(contention.claim, k=5)
    found = {r.passage.source_id for r in results}
    assert len(found) >= 2
    assert len(found & set(contention.sources)) >= 2, (contention.claim, sorted(found))
