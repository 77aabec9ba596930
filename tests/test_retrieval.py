"""Hybrid retrieval on real Chroma with the real model: BM25 and dense each catch what the
other misses, motions never leak into each other, and results spread across sources."""

from __future__ import annotations

import dataclasses

import pytest

from debate.core.config import load_settings
from debate.core.errors import QueryError
from debate.core.text import tokenize
from debate.corpus.ingest import ingest_motion
from debate.corpus.lexical import PassageMeta
from debate.corpus.motions import load_motion
from debate.search.fusion import rrf
from debate.search.retrieval import SIDE_STANCE, add_side_bonus, diversify, get_retriever

FRONT = "---\ntitle: {title}\npublisher: {publisher}\ndate: 2024-01-02\nurl: https://example.org/{name}\nstance: {stance}\n---\n"
FILLER = " More on pets and homes below."

PETS = {
    "care.md": (
        "Cat care",
        "supports",
        [
            "Cats groom themselves several times a day, which keeps their coats clean without baths.",
            "Most cats are happy to be left alone while their owners are at work.",
            "A cat needs a litter box, fresh water and a little play every evening.",
            "Indoor cats live longer on average than cats allowed to roam outside.",
            "Cats purr when they are content and sometimes when they are unwell.",
            "Cats can be trained to come when called, with patience and treats.",
        ],
    ),
    "budget.md": (
        "Town budget",
        "mixed",
        [
            "Filing QX-7731 sets out the town budget for road repairs and street lighting next year.",
            "The town spends most of its money on staff wages and building repairs.",
        ],
    ),
    "sleep.md": (
        "Feline rest",
        "supports",
        [
            "Cats sleep for about fifteen hours in every twenty-four, more than most mammals.",
            "Kittens and old cats rest even longer than adults.",
        ],
    ),
    "dogs.md": (
        "Dogs",
        "opposes",
        [
            "Dogs need walks twice a day and much more attention than cats.",
            "Dogs were domesticated at least 15,000 years ago and bond closely with their owners.",
        ],
    ),
}


def pack_sources(docs: dict) -> dict:
    return {
        name: FRONT.format(title=title, publisher=f"{title} Weekly", name=name, stance=stance)
        + "\n\n".join(p + FILLER for p in paragraphs)
        + "\n"
        for name, (title, stance, paragraphs) in docs.items()
    }


@pytest.fixture
def pets(make_pack, tmp_path, embedder):
    folder = make_pack("pets", pack_sources(PETS))
    settings = load_settings(
        environ={}, data_dir=tmp_path / "data", corpus_dir=folder.parent, chunk_min_chars=20
    )
    motion = load_motion("pets", settings.corpus_dir)
    ingest_motion(motion, settings)
    return get_retriever(motion, settings)


def texts(results) -> list[str]:
    return [r.passage.text for r in results]


def test_hybrid_finds_an_exact_rare_term_that_dense_search_alone_misses(pets):
    query = "QX-7731 kitten sleeping habits"
    dense = texts(pets.search(query, k=3, mode="dense", per_source_cap=0))
    hybrid = pets.search(query, k=3, mode="hybrid", per_source_cap=0)
    assert not any("QX-7731" in t for t in dense)  # the premise: dense blurs the code away
    found = [r for r in hybrid if "QX-7731" in r.passage.text]
    assert found and found[0].bm25_rank == 1


def test_hybrid_finds_a_paraphrase_that_bm25_alone_misses(pets):
    query = "How long do felines snooze?"
    bm25 = texts(pets.search(query, k=3, mode="bm25", per_source_cap=0))
    hybrid = texts(pets.search(query, k=3, mode="hybrid", per_source_cap=0))
    assert not any("fifteen hours" in t for t in bm25)  # no shared word with the passage
    assert "fifteen hours" in hybrid[0]


def test_search_never_returns_passages_of_another_motion(make_pack, tmp_path, embedder):
    make_pack("pets", pack_sources(PETS))
    other = make_pack("dogs-only", pack_sources({"dogs.md": PETS["dogs.md"]}))
    settings = load_settings(
        environ={}, data_dir=tmp_path / "data", corpus_dir=other.parent, chunk_min_chars=20
    )
    pets_motion = load_motion("pets", settings.corpus_dir)
    dogs_motion = load_motion("dogs-only", settings.corpus_dir)
    ingest_motion(pets_motion, settings)
    ingest_motion(dogs_motion, settings)
    for query in ("dogs walks attention", "QX-7731 town budget", "cats sleep"):
        for r in get_retriever(dogs_motion, settings).search(query, k=5):
            assert r.passage.motion == "dogs-only" and r.passage.source_id == "dogs"
    found = get_retriever(pets_motion, settings).search("town budget filing", k=8)
    assert {r.passage.motion for r in found} == {"pets"}


def test_results_spread_across_sources_up_to_the_per_source_cap(pets):
    results = pets.search("cats", k=4, per_source_cap=1)
    sources = [r.passage.source_id for r in results]
    assert len(sources) == 4 and len(set(sources)) == 4
    capped = pets.search("cats", k=6, per_source_cap=2)
    counts = [sum(1 for r in capped if r.passage.source_id == s.removesuffix(".md")) for s in PETS]
    assert len(capped) == 6 and max(counts) == 2  # 4 sources x 2 fit 6 results within the cap


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_side_favours_sources_whose_stance_matches(pets, fusion):
    """The side's stance lifts a passage's score by the same amount for every passage of
    that stance: relevance still counts (a much better passage of the other stance can
    stay first), but stance-matching passages climb."""
    searcher = pets.with_settings(dataclasses.replace(pets.settings, fusion=fusion))
    query = "cats and dogs at home"
    plain = {r.passage.id: r for r in searcher.search(query, k=20, per_source_cap=0)}
    for side, stance in (("defend", "supports"), ("attack", "opposes")):
        sided = searcher.search(query, k=20, side=side, per_source_cap=0)
        gains = {r.passage.stance: r.score - plain[r.passage.id].score for r in sided}
        assert gains[stance] > gains.get("mixed", 0) > 0 or "mixed" not in gains
        assert gains[stance] > max(g for st, g in gains.items() if st not in (stance, "mixed"))
        rank_sum = {
            label: sum(i for i, r in enumerate(results) if r.passage.stance == stance)
            for label, results in (("plain", list(plain.values())), ("sided", sided))
        }
        assert rank_sum["sided"] <= rank_sum["plain"]


def test_empty_query_is_refused(pets):
    with pytest.raises(QueryError, match="empty query"):
        pets.search("   ")


def test_get_keeps_the_order_of_ids_and_leaves_out_unknown_ones(pets):
    ids = [p.id for p in pets.all_passages()]
    wanted = [ids[3], "no-such-passage", ids[0], ids[7]]
    assert [p.id for p in pets.get(wanted)] == [ids[3], ids[0], ids[7]]
    assert pets.get([]) == []
    assert len(ids) == len(set(ids)) == pets.store.count()


def previous_bm25(passages):
    """The BM25 ranking as the retriever computed it before the sparse index: rank_bm25
    over every passage (sorted by source and offset), a Python sort over all scores."""
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([tokenize(f"{p.title} {p.text}") for p in passages])

    def ranking(query: str, n: int) -> list[tuple[str, float]]:
        scores = bm25.get_scores(tokenize(query))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [(passages[i].id, float(scores[i])) for i in order[:n] if scores[i] > 0]

    return ranking


def default_queries(motion) -> list[str]:
    claims = [c.claim for side in ("defend", "attack") for c in motion.contentions_for(side)]
    return [motion.thesis, *claims, "arms exports to Ukraine", "gas prices 2022 contract"]


def test_bm25_ranking_matches_the_previous_rank_bm25_on_the_default_motion(
    default_settings, default_motion
):
    retriever = get_retriever(default_motion, default_settings)
    old = previous_bm25(sorted(retriever.all_passages(), key=lambda p: (p.source_id, p.start)))
    for query in default_queries(default_motion):
        new, before = retriever.bm25_ranking(query, 30), old(query, 30)
        assert len(new) == len(before) > 0
        for (new_id, new_score), (old_id, old_score) in zip(new, before, strict=True):
            assert new_score == pytest.approx(old_score, rel=1e-5)
            # ids may swap only between passages whose scores tie
            assert new_id == old_id or dict(before).get(new_id) == pytest.approx(
                old_score, rel=1e-5
            )


@pytest.mark.parametrize("side", [None, "defend", "attack"])
def test_rrf_search_matches_the_previous_implementation_on_passages(
    default_settings, default_motion, side
):
    """With fusion=rrf and the old pool, the index-only search (ranking, side bonus and
    de-duplication on PassageMeta) picks what the old code picked from whole passages
    with the old rank_bm25 index."""
    s = dataclasses.replace(
        default_settings, fusion="rrf", candidates=30, bm25_weight=1.0, dense_weight=1.0
    )
    retriever = get_retriever(default_motion, s)
    passages = retriever.all_passages()
    by_id = {p.id: p for p in passages}
    old = previous_bm25(sorted(passages, key=lambda p: (p.source_id, p.start)))
    for query in default_queries(default_motion):
        pool = max(4 * s.top_k, 30)
        dense = retriever.dense_ranking(query, pool)
        fused = dict(rrf(old(query, pool), dense, k=s.rrf_k))
        if side:
            add_side_bonus(fused, by_id, SIDE_STANCE[side], 0.5 / (s.rrf_k + 1))
        meta = {pid: PassageMeta.of(p) for pid, p in by_id.items()}
        before = diversify(fused, meta, s.top_k, s.per_source_cap, frozenset())
        now = [r.passage.id for r in retriever.search(query, side=side)]
        assert now[:3] == before[:3]
        assert len(set(now) & set(before)) >= len(before) - 1
