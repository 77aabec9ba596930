"""Hybrid retrieval: BM25 over the motion's passages plus dense vectors from Chroma,
fused by reciprocal rank (Cormack et al. 2009), side-aware and diversified across sources.

RRF score of a passage = sum over rankings r of  w_r / (rrf_k + rank_r(passage)).
BM25 catches exact rare terms (names, numbers) that dense search blurs; dense search
catches paraphrases that share no words with the passage.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass

from debate.config import Settings
from debate.embeddings import get_embedder
from debate.errors import QueryError
from debate.motions import Motion
from debate.passages import Passage
from debate.store import PassageStore, open_store
from debate.text import clean_input, has_words, normalise, tokenize

log = logging.getLogger(__name__)

SIDE_STANCE = {"defend": "supports", "attack": "opposes"}


@dataclass(frozen=True)
class Retrieved:
    passage: Passage
    score: float  # fused RRF score
    bm25_rank: int | None = None  # 1-based, None when not in that ranking's candidates
    dense_rank: int | None = None
    similarity: float | None = None  # cosine similarity from the dense ranking

    def to_dict(self) -> dict:
        return {
            **self.passage.to_dict(),
            "score": round(self.score, 5),
            "bm25_rank": self.bm25_rank,
            "dense_rank": self.dense_rank,
            "similarity": None if self.similarity is None else round(self.similarity, 4),
        }


def clean_query(query: str, max_chars: int) -> tuple[str, bool]:
    """Strip and bound a query; returns (query, truncated). Empty queries are refused."""
    query = clean_input(query or "").strip()
    if not has_words(query):
        raise QueryError("empty query: type a few words to search the evidence for")
    if len(query) > max_chars:
        cut = query.rfind(" ", 0, max_chars)
        return query[: cut if cut > max_chars // 2 else max_chars], True
    return query, False


class Retriever:
    """Retrieval for one motion. Built once per motion (BM25 index in memory), reused."""

    def __init__(self, motion: Motion, settings: Settings, store: PassageStore | None = None):
        from rank_bm25 import BM25Okapi

        self.motion = motion
        self.settings = settings
        self.store = store or open_store(settings, motion.id)
        self.passages = self.store.all_passages()  # raises IndexMissingError if not ingested
        self.by_id = {p.id: p for p in self.passages}
        corpus = [tokenize(f"{p.title} {p.text}") for p in self.passages]
        self.bm25 = BM25Okapi(corpus) if self.passages else None
        self.embedder = get_embedder(settings.model_path)

    def with_settings(self, settings: Settings) -> Retriever:
        """This retriever (same index, BM25 and model) searching with other settings:
        top_k, rrf_k, the weights, per_source_cap and max_message_chars are read per search."""
        clone = copy.copy(self)
        clone.settings = settings
        return clone

    def bm25_ranking(self, query: str, n: int) -> list[tuple[str, float]]:
        tokens = tokenize(query)
        if not tokens or self.bm25 is None:
            return []
        scores = self.bm25.get_scores(tokens)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [(self.passages[i].id, float(scores[i])) for i in order[:n] if scores[i] > 0]

    def dense_query(self, query: str, side: str | None) -> str:
        """What the dense ranking embeds: the query, plus the side's claim when given."""
        return f"{query}\n{self.motion.side_label(side)}" if side else query

    def warm(self, queries: list[str], side: str | None = None) -> None:
        """Embed the dense forms of several queries in one batch (a debate turn searches
        for each contention it argues: one model call instead of five)."""
        self.embedder.embed_cached([self.dense_query(q, side) for q in queries])

    def dense_ranking(self, query: str, n: int) -> list[tuple[str, float]]:
        # cached: contentions come back turn after turn
        hits = self.store.query(self.embedder.embed_cached([query])[0], n)
        return [(h.passage.id, h.score) for h in hits]

    def search(
        self,
        query: str,
        k: int | None = None,
        side: str | None = None,
        exclude: set[str] | frozenset[str] = frozenset(),
        per_source_cap: int | None = None,
        mode: str = "hybrid",
    ) -> list[Retrieved]:
        """Top-k passages for a query. `side` (defend/attack) adds the side's claim to the
        query and favours passages whose source stance matches the side. `mode` is
        hybrid, bm25 or dense (the last two exist for tests and benchmarks)."""
        query, _ = clean_query(query, self.settings.max_message_chars)
        k = k or self.settings.top_k
        cap = self.settings.per_source_cap if per_source_cap is None else per_source_cap
        pool = max(4 * k, 30)
        dense_query = self.dense_query(query, side)
        bm25 = self.bm25_ranking(query, pool) if mode in ("hybrid", "bm25") else []
        dense = self.dense_ranking(dense_query, pool) if mode in ("hybrid", "dense") else []

        rrf_k = self.settings.rrf_k
        fused = fuse(
            [(self.settings.bm25_weight, bm25), (self.settings.dense_weight, dense)], rrf_k
        )
        if side:
            add_side_bonus(fused, self.by_id, SIDE_STANCE[side], rrf_k)
        chosen = diversify(fused, self.by_id, k, cap, exclude)
        bm25_rank = {pid: r for r, (pid, _) in enumerate(bm25, 1)}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense, 1)}
        similarity = dict(dense)
        return [
            Retrieved(
                self.by_id[pid],
                fused[pid],
                bm25_rank.get(pid),
                dense_rank.get(pid),
                similarity.get(pid),
            )
            for pid in chosen
        ]


def fuse(rankings: list[tuple[float, list[tuple[str, float]]]], rrf_k: int) -> dict[str, float]:
    """Reciprocal rank fusion: {passage id: sum over (weight, ranking) of weight / (rrf_k +
    rank)}, in order of first appearance."""
    fused: dict[str, float] = {}
    for weight, ranking in rankings:
        for rank, (pid, _) in enumerate(ranking, 1):
            fused[pid] = fused.get(pid, 0.0) + weight / (rrf_k + rank)
    return fused


def add_side_bonus(
    fused: dict[str, float], by_id: dict[str, Passage], wanted_stance: str, rrf_k: int
) -> None:
    """Half a first rank's score to passages whose source takes the side's stance, a
    quarter to mixed ones (in place)."""
    bonus = 0.5 / (rrf_k + 1)
    for pid in fused:
        stance = by_id[pid].stance
        if stance == wanted_stance:
            fused[pid] += bonus
        elif stance == "mixed":
            fused[pid] += bonus / 2


def diversify(
    fused: dict[str, float],
    by_id: dict[str, Passage],
    k: int,
    cap: int,
    exclude: set[str] | frozenset[str],
) -> list[str]:
    """The k best passage ids by fused score, skipping excluded ids and duplicate texts, at
    most `cap` per source (0: no cap) unless too few sources remain to fill k."""
    chosen: list[str] = []
    seen_text: set[str] = set()
    per_source: dict[str, int] = {}
    overflow: list[str] = []
    for pid in sorted(fused, key=lambda pid: -fused[pid]):
        passage = by_id[pid]
        key = " ".join(normalise(passage.text).split())
        if pid in exclude or key in seen_text:
            continue
        seen_text.add(key)
        if cap and per_source.get(passage.source_id, 0) >= cap:
            overflow.append(pid)
            continue
        per_source[passage.source_id] = per_source.get(passage.source_id, 0) + 1
        chosen.append(pid)
        if len(chosen) == k:
            break
    if len(chosen) < k:  # too few sources to honour the cap: fill with the best of the rest
        chosen.extend(overflow[: k - len(chosen)])
        chosen.sort(key=lambda pid: -fused[pid])
    return chosen


_cache: dict[tuple, Retriever] = {}
_cache_lock = threading.Lock()


def get_retriever(motion: Motion, settings: Settings) -> Retriever:
    """The cached retriever for a motion; rebuilt only after `invalidate(motion.id)`. It
    searches with the settings given here, not those it was first built with."""
    key = (motion.id, settings.chroma_url, str(settings.chroma_path), settings.model_path)
    with _cache_lock:
        retriever = _cache.get(key)
        if retriever is None or retriever.motion != motion:
            retriever = Retriever(motion, settings)
            _cache[key] = retriever
    return retriever if retriever.settings == settings else retriever.with_settings(settings)


def invalidate(motion_id: str) -> None:
    with _cache_lock:
        for key in [k for k in _cache if k[0] == motion_id]:
            del _cache[key]
