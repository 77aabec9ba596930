"""Hybrid retrieval on real Chroma with the real model: BM25 and dense each catch what the
other misses, motions never leak into each other, and results spread across sources."""

from __future__ import annotations

import pytest

from debate.config import load_settings
from debate.errors import QueryError
from debate.ingest import ingest_motion
from debate.motions import load_motion
from debate.retrieval import get_retriever

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


def test_side_favours_sources_whose_stance_matches(pets):
    query = "cats and dogs at home"
    attack = pets.search(query, k=2, side="attack", per_source_cap=1)
    assert attack[0].passage.stance == "opposes"
    defend = pets.search(query, k=2, side="defend", per_source_cap=1)
    assert defend[0].passage.stance == "supports"


def test_empty_query_is_refused(pets):
    with pytest.raises(QueryError, match="empty query"):
        pets.search("   ")
