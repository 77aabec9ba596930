"""The sparse BM25 index: its scores are BM25's, it is saved when an ingest finishes and
loaded (not rebuilt) by the next process, a stale or damaged file is rebuilt and never
served, and a retriever holds no passage texts."""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import shutil
from collections import Counter

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from debate.core.config import load_settings
from debate.core.text import tokenize
from debate.corpus import lexical
from debate.corpus.ingest import ingest_motion
from debate.corpus.lexical import Document, IndexFileError, LexicalIndex, build
from debate.corpus.motions import load_motion
from debate.corpus.passages import Passage
from debate.corpus.store import PassageStore, open_store
from debate.search import retrieval
from debate.search.retrieval import Retriever

WORDS = [f"w{i}" for i in range(60)] + ["cat", "dog", "budget", "qx7731"]


def random_corpus(seed: int = 3, n: int = 120) -> list[Document]:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    return [
        Document(
            f"p{i}", (f"s{i % 9}", i), " ".join(rng.choices(WORDS, weights, k=rng.randint(0, 30)))
        )
        for i in range(n)
    ]


def brute_force_bm25(docs: list[list[str]], query: list[str], k1=1.5, b=0.75, eps=0.25):
    """BM25 (Okapi, idf floored at eps x mean idf) of every document, written out plainly."""
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    df = Counter(t for d in docs for t in set(d))
    idf = {t: math.log(n - f + 0.5) - math.log(f + 0.5) for t, f in df.items()}
    floor = eps * sum(idf.values()) / len(idf)
    idf = {t: v if v >= 0 else floor for t, v in idf.items()}
    scores = []
    for d in docs:
        tf = Counter(d)
        scores.append(
            sum(
                idf.get(q, 0) * tf[q] * (k1 + 1) / (tf[q] + k1 * (1 - b + b * len(d) / avgdl))
                for q in query
            )
        )
    return scores


@pytest.mark.parametrize("summing", ["sorted postings", "dense array"])
@pytest.mark.parametrize(
    "query", ["w1 w5 w40", "cat dog dog", "w0", "qx7731 budget w2 w2 w2", "nothing matches"]
)
def test_index_scores_every_passage_as_brute_force_bm25_and_rank_bm25_do(
    query, summing, monkeypatch
):
    monkeypatch.setattr(lexical, "DENSE_FROM", 0 if summing == "sorted postings" else 10**9)
    docs = random_corpus()
    ordered = sorted(docs, key=lambda d: d.key)  # rows follow the key
    tokens = [tokenize(d.text) for d in ordered]
    expected = brute_force_bm25(tokens, tokenize(query))
    old = BM25Okapi(tokens).get_scores(tokenize(query))
    assert np.allclose(expected, old)
    got = dict(build(docs, "g").top(tokenize(query), len(docs)))
    want = {d.id: s for d, s in zip(ordered, expected, strict=True) if s > 0}
    assert got.keys() == want.keys()
    assert all(math.isclose(got[pid], want[pid], rel_tol=1e-5) for pid in want)


def test_top_n_is_best_first_with_ties_broken_by_row_order_of_the_key():
    texts = ["cat", "cat cat horse", "horse bird fish", "fish bird", "bird horse"]
    docs = [Document(f"d{i}", ("s", -i), texts[i % 5]) for i in range(30)]  # rows: d29 first
    top = build(docs, "g").top(["cat"], 7)
    scores = [s for _, s in top]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 2
    # six passages tie on "cat", then the first (by row) of the "cat cat horse" ones
    assert [pid for pid, _ in top] == ["d25", "d20", "d15", "d10", "d5", "d0", "d26"]


def test_saved_index_loads_back_with_the_same_results(tmp_path):
    index = build(random_corpus(), "gen-1")
    index.save(tmp_path / "i.npz")
    loaded = LexicalIndex.load(tmp_path / "i.npz")
    assert loaded.generation == "gen-1" and loaded.size == index.size
    for query in ("w1 w3", "cat budget", "w7 w7 dog"):
        assert loaded.top(tokenize(query), 15) == index.top(tokenize(query), 15)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "format", "tokens"])
def test_a_damaged_or_foreign_file_is_refused(tmp_path, damage, monkeypatch):
    path = tmp_path / "i.npz"
    if damage == "format":
        monkeypatch.setattr(lexical, "FORMAT", lexical.FORMAT + 1)
    if damage == "tokens":  # written by a tokenizer of another version
        monkeypatch.setattr(lexical, "TOKENS_VERSION", lexical.TOKENS_VERSION - 1)
    build(random_corpus(), "g").save(path)
    monkeypatch.undo()
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not an index at all")
    elif damage == "flip":  # inside the postings: caught by the zip member's CRC
        middle = len(data) // 2
        data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
        path.write_bytes(bytes(data))
    with pytest.raises(IndexFileError):
        LexicalIndex.load(path)


CITY_AND_COMPANY = [
    Document("company", ("a", 0), "NIS, the oil company, runs the refinery at Pančevo."),
    Document("company-2", ("a", 1), "Fuel prices at NIS petrol stations rose in March."),
    Document("city", ("b", 0), "Niš is a city in the south, with a university and a fortress."),
    Document("other", ("c", 0), "The parliament met in the capital to debate the budget."),
    Document("other-2", ("c", 1), "Exports of raspberries grew by a fifth last year."),
]


@pytest.mark.parametrize("query", ["Niš", "the fortress of Niš", "Nis", "nis university"])
def test_a_query_about_a_city_does_not_match_an_acronym_with_the_same_letters(query):
    index = build(CITY_AND_COMPANY, "g")
    found = index.top(tokenize(query), 5)
    assert found[0][0] == "city"
    assert not {"company", "company-2"} & {pid for pid, _ in found}  # they score 0
    assert [pid for pid, _ in index.top(tokenize("Niš"), 5)] == ["city"]


def test_the_acronym_matches_the_acronym():
    index = build(CITY_AND_COMPANY, "g")
    assert {pid for pid, _ in index.top(tokenize("NIS refinery"), 5)} == {"company", "company-2"}


# ---------------------------------------------------------------- with real Chroma
@pytest.fixture
def pack(make_pack, tmp_path, embedder):
    folder = make_pack("cats-dogs")
    settings = load_settings(environ={}, data_dir=tmp_path / "data", corpus_dir=folder.parent)
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    return settings, folder


def retriever(settings) -> Retriever:
    return Retriever(load_motion("cats-dogs", settings.corpus_dir), settings)


def index_file(settings):
    return open_store(settings, "cats-dogs").lexical_path()


def test_ingest_saves_the_index_and_the_next_start_loads_it_without_rebuilding(pack, caplog):
    settings, _ = pack
    path = index_file(settings)
    assert path.is_file()  # written when the ingest finished
    stamp = path.stat().st_mtime_ns
    with caplog.at_level(logging.INFO, logger="debate.corpus.store"):
        first = retriever(settings).bm25_ranking("cats sleep fifteen hours", 3)
        second = retriever(settings).bm25_ranking("cats sleep fifteen hours", 3)
    assert not [r for r in caplog.records if "BM25 index" in r.getMessage()]
    assert path.stat().st_mtime_ns == stamp
    assert first == second and first


@pytest.mark.parametrize("change", ["edit", "delete"])
def test_an_index_saved_before_a_later_ingest_is_detected_as_stale(pack, tmp_path, caplog, change):
    settings, folder = pack
    path = index_file(settings)
    before = tmp_path / "before.npz"
    shutil.copy(path, before)
    dogs = folder / "sources" / "dogs.md"
    if change == "edit":
        dogs.write_text(dogs.read_text().replace("Guide dogs", "Zebrafish"), encoding="utf-8")
    else:
        dogs.unlink()
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings)
    shutil.copy(before, path)  # as if the new index had not been written
    with caplog.at_level(logging.INFO, logger="debate.corpus.store"):
        fresh = retriever(settings)
    assert any("out of date" in r.getMessage() for r in caplog.records)
    assert fresh.bm25_ranking("guide", 5) == []  # only the old text of dogs.md had it
    found = fresh.search("zebrafish", k=2, mode="bm25")
    assert bool(found) == (change == "edit")
    assert LexicalIndex.load(path).generation != LexicalIndex.load(before).generation


def test_a_rebuild_moves_its_staged_index_into_place_with_the_collection(pack, caplog):
    settings, _ = pack
    before = LexicalIndex.load(index_file(settings)).generation
    ingest_motion(load_motion("cats-dogs", settings.corpus_dir), settings, rebuild=True)
    path = index_file(settings)
    assert LexicalIndex.load(path).generation != before
    assert not path.with_name(path.name.replace(".npz", "--next.npz")).exists()
    with caplog.at_level(logging.INFO, logger="debate.corpus.store"):
        assert retriever(settings).bm25_ranking("guide dogs", 2)
    assert not [r for r in caplog.records if "BM25 index" in r.getMessage()]


def test_a_damaged_index_file_is_rebuilt_with_a_warning(pack, caplog):
    settings, _ = pack
    path = index_file(settings)
    expected = retriever(settings).bm25_ranking("dogs read human faces", 4)
    path.write_bytes(path.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="debate.corpus.store"):
        rebuilt = retriever(settings)
    assert any("damaged" in r.getMessage() for r in caplog.records)
    assert rebuilt.bm25_ranking("dogs read human faces", 4) == expected
    assert LexicalIndex.load(path).size == 4  # saved again


def test_an_index_saved_with_other_search_tokens_is_rebuilt_not_served(pack, caplog, monkeypatch):
    settings, _ = pack
    path = index_file(settings)
    expected = retriever(settings).bm25_ranking("dogs read human faces", 4)
    saved = LexicalIndex.load(path)
    monkeypatch.setattr(lexical, "TOKENS_VERSION", lexical.TOKENS_VERSION - 1)
    saved.save(path)  # as written before the tokenizer changed
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="debate.corpus.store"):
        rebuilt = retriever(settings)
    assert any("other search tokens" in r.getMessage() for r in caplog.records)
    assert rebuilt.bm25_ranking("dogs read human faces", 4) == expected
    LexicalIndex.load(path)  # saved again with the tokens of this version


def test_during_an_unfinished_write_the_index_is_built_from_the_store_and_not_saved(pack):
    settings, _ = pack
    store = open_store(settings, "cats-dogs")
    path = store.lexical_path()
    stamp = path.stat().st_mtime_ns
    store.begin("any-model")  # a write under way (or one that died)
    extra = store.all_passages()[0]
    added = dataclasses.replace(extra, id="extra-1", text="Ferrets steal socks.")
    store.upsert([added], [store.embeddings_for([extra.id])[extra.id]], {extra.source_id: "h"})
    found = retriever(settings).bm25_ranking("ferrets socks", 3)
    assert [pid for pid, _ in found] == ["extra-1"]
    assert path.stat().st_mtime_ns == stamp


def _objects(root, skip: tuple) -> list:
    """Every object reachable from root through attributes and containers, except the
    subtrees of `skip` (the model and the Chroma client)."""
    seen, stack, out = set(), [root], []
    while stack:
        obj = stack.pop()
        if id(obj) in seen or any(obj is s for s in skip):
            continue
        seen.add(id(obj))
        out.append(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            stack.extend(vars(obj).values())
    return out


def test_a_retriever_holds_no_passage_texts(pack, monkeypatch):
    settings, _ = pack
    texts = [p.text for p in open_store(settings, "cats-dogs").all_passages()]

    def refuse(self):
        raise AssertionError("a retriever must not read every passage to start")

    monkeypatch.setattr(PassageStore, "all_passages", refuse)
    # It keeps only the few passages its searches returned lately (a bounded cache).
    monkeypatch.setattr(retrieval, "RECENT_PASSAGES", 1)
    r = retriever(settings)
    reachable = _objects(r, skip=(r.embedder, r.store.client))
    assert not [o for o in reachable if isinstance(o, Passage)]  # none to start
    found = r.search("cats sleep", k=2)
    assert len(found) == 2
    reachable = _objects(r, skip=(r.embedder, r.store.client))
    kept = [o for o in reachable if isinstance(o, Passage)]
    assert [p.id for p in kept] == [found[-1].passage.id]  # the last one read, no more
    strings = [o for o in reachable if isinstance(o, str)]
    arrays = [o.tobytes() for o in reachable if isinstance(o, np.ndarray)]
    for text in texts:
        if text == kept[0].text:
            continue
        assert not any(text[:40] in s for s in strings)
        assert not any(text[:40].encode() in a for a in arrays)
    # What it keeps is what the store holds (read again after a write: `store.writes`).
    assert r.get([kept[0].id]) == r.store.get([kept[0].id])
    r.forget_recent()
    assert not [o for o in _objects(r, skip=(r.embedder, r.store.client)) if isinstance(o, Passage)]
