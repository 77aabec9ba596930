"""Hybrid retrieval: BM25 over the motion's passages plus dense vectors from Chroma,
fused, side-aware and diversified across sources.

BM25 catches exact rare terms (names, numbers) that dense search blurs; dense search
catches paraphrases that share no words with the passage. The default fusion is a convex
combination of the two rankings' z-scored scores (Bruch, Gai & Ingber 2023), weighted by
`bm25_weight` and `dense_weight`; reciprocal rank fusion (Cormack et al. 2009, constant
`rrf_k`) and either ranking alone are settings (`fusion`). evals/retrieval/RESULTS.md has
the measurements behind the default.

The BM25 index (debate.corpus.lexical) is built when an ingest finishes and loaded from its file;
it also holds each passage's source, stance and text fingerprint, so ranking, the side
bonus and de-duplication need no texts: a search reads from the store only the passages it
returns.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from debate.core.cache import LRUCache
from debate.core.config import Settings
from debate.core.embeddings import get_embedder
from debate.core.errors import DebateError, QueryError
from debate.core.text import clean_input, has_words, tokenize
from debate.corpus import store
from debate.corpus.lexical import PassageMeta
from debate.corpus.motions import Motion
from debate.corpus.passages import Passage
from debate.corpus.store import PassageStore, open_store
from debate.search.fusion import Fusion

log = logging.getLogger(__name__)

SIDE_STANCE = {"defend": "supports", "attack": "opposes"}
SIDE_SHARE = 0.35  # of the spread of fused scores: see side_bonus
_searchers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dense-search")


@dataclass(frozen=True)
class Retrieved:
    passage: Passage
    score: float  # fused score (see the `fusion` setting)
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


# How many passages a retriever keeps from its recent searches (see Retriever._recent).
RECENT_PASSAGES = 512


class Retriever:
    """Retrieval for one motion, built once per motion and reused. It holds the BM25 index
    (ids and postings, no texts) and the model; passages are read from the store."""

    def __init__(self, motion: Motion, settings: Settings, store: PassageStore | None = None):
        self.motion = motion
        self.settings = settings
        self.store = store or open_store(settings, motion.id)
        self.lexical = self.store.lexical_index()  # raises IndexMissingError if not ingested
        self.embedder = get_embedder(settings.model_path)
        # Passages returned lately, by id (shared with with_settings clones). Bounded: turn
        # after turn a debate comes back to the same few dozen, and reading them from
        # Chroma was a fifth of a turn's time under load. A write makes a new Retriever
        # (get_retriever), so nothing here outlives the text it was read with.
        self._recent: LRUCache[str, Passage] = LRUCache(RECENT_PASSAGES)

    def with_settings(self, settings: Settings) -> Retriever:
        """This retriever (same index, BM25 and model) searching with other settings:
        top_k, rrf_k, the weights, per_source_cap and max_message_chars are read per search."""
        clone = copy.copy(self)
        clone.settings = settings
        return clone

    def get(self, ids: list[str]) -> list[Passage]:
        """The passages of these ids, in their order (ids no longer stored are left out)."""
        ids = list(ids)
        known = self._recent.get_many(ids)
        missing = [i for i in ids if i not in known]
        if missing:
            read = self.store.get(missing)
            self._recent.put_many((p.id, p) for p in read)
            known.update((p.id, p) for p in read)
        return [known[i] for i in ids if i in known]

    def forget_recent(self) -> None:
        """Drop the passages kept from recent searches: benchmarks time a search that
        reads its passages from the store, as a query about something new does."""
        self._recent.clear()

    def all_passages(self) -> list[Passage]:
        """Every passage of the motion, read from the store on each call: for callers that
        scan a whole (small) motion, never for search."""
        return self.store.all_passages()

    def bm25_ranking(self, query: str, n: int) -> list[tuple[str, float]]:
        return self.lexical.top(tokenize(query), n)

    def warm(self, queries: list[str]) -> None:
        """Embed several queries in one batch (a debate turn searches for each contention
        it argues: one model call instead of five)."""
        self.embedder.embed_cached(queries)

    def dense_ranking(self, query: str, n: int) -> list[tuple[str, float]]:
        """The n passages nearest the query's embedding (cached: contentions come back turn
        after turn), as (id, cosine similarity)."""
        if n <= 0:
            return []
        nearest = self.store.nearest(self.embedder.embed_cached([query])[0], n)
        held = self.lexical.row_of  # vectors of records deleted mid-crash are not in it
        return [(pid, sim) for pid, sim in nearest if pid in held][:n]

    def fusion(self) -> Fusion:
        """The fusion the settings ask for (a bad value is a DebateError naming it)."""
        s = self.settings
        total = s.bm25_weight + s.dense_weight
        try:
            return Fusion(
                s.fusion,
                rrf_k=s.rrf_k,
                bm25_weight=s.bm25_weight,
                dense_weight=s.dense_weight,
                alpha=s.dense_weight / total if total > 0 else 0.5,
                norm="zscore",
            )
        except ValueError as exc:
            raise DebateError(f"retrieval settings (DEBATE_FUSION, weights): {exc}") from exc

    def search(
        self,
        query: str,
        k: int | None = None,
        side: str | None = None,
        exclude: set[str] | frozenset[str] = frozenset(),
        per_source_cap: int | None = None,
        mode: str | None = None,
    ) -> list[Retrieved]:
        """Top-k passages for a query. `side` (defend/attack) favours passages whose source
        takes the side's stance. `mode` (hybrid, dense or bm25) overrides the `fusion`
        setting's choice of rankings; hybrid means the configured fusion."""
        query, _ = clean_query(query, self.settings.max_message_chars)
        k = k or self.settings.top_k
        cap = self.settings.per_source_cap if per_source_cap is None else per_source_cap
        depth = max(self.settings.candidates, 4 * k)
        fusion = dataclasses.replace(self.fusion(), depth=depth)
        if mode in ("dense", "bm25"):
            fusion = dataclasses.replace(fusion, method=mode)
        wants_dense, wants_bm25 = fusion.method != "bm25", fusion.method != "dense"
        # Chroma searches the vectors while BM25 ranks
        searching = _searchers.submit(self.dense_ranking, query, depth if wants_dense else 0)
        bm25 = self.bm25_ranking(query, depth) if wants_bm25 else []
        dense = searching.result()
        fused = dict(fusion(bm25, dense))
        meta = self.lexical.meta(fused)
        fused = {pid: score for pid, score in fused.items() if pid in meta}
        if side:
            add_side_bonus(fused, meta, SIDE_STANCE[side], side_bonus(fused, fusion))
        chosen = diversify(fused, meta, k, cap, exclude)
        passages = {p.id: p for p in self.get(chosen)}
        bm25_rank = {pid: r for r, (pid, _) in enumerate(bm25, 1)}
        dense_rank = {pid: r for r, (pid, _) in enumerate(dense, 1)}
        similarity = dict(dense)
        return [
            Retrieved(
                passages[pid],
                fused[pid],
                bm25_rank.get(pid),
                dense_rank.get(pid),
                similarity.get(pid),
            )
            for pid in chosen
            if pid in passages  # deleted since the index was read
        ]


def side_bonus(fused: dict[str, float], fusion: Fusion) -> float:
    """What a passage of the side's stance gains: half a first rank's score under RRF. That
    is about 0.35 of the spread of a search's fused scores (top 2/61, a lone rank 32 about
    1/92), the share given under the score-based fusions. No labelled data judges sided
    relevance, so this size is carried over, not fitted."""
    if fusion.method == "rrf":
        return 0.5 / (fusion.rrf_k + 1)
    values = fused.values()
    return SIDE_SHARE * (max(values) - min(values)) if fused else 0.0


def add_side_bonus(
    fused: dict[str, float], meta: Mapping, wanted_stance: str, bonus: float
) -> None:
    """`bonus` to passages whose source takes the side's stance, half of it to mixed ones
    (in place). `meta` maps ids to anything with a `stance` (PassageMeta, Passage)."""
    for pid in fused:
        stance = meta[pid].stance
        if stance == wanted_stance:
            fused[pid] += bonus
        elif stance == "mixed":
            fused[pid] += bonus / 2


def diversify(
    fused: dict[str, float],
    meta: Mapping[str, PassageMeta],
    k: int,
    cap: int,
    exclude: set[str] | frozenset[str],
) -> list[str]:
    """The k best passage ids by fused score, skipping excluded ids and duplicate texts, at
    most `cap` per source (0: no cap) unless too few sources remain to fill k."""
    chosen: list[str] = []
    seen_text: set[int] = set()
    per_source: dict[str, int] = {}
    overflow: list[str] = []
    for pid in sorted(fused, key=lambda pid: -fused[pid]):
        about = meta[pid]
        if pid in exclude or about.text_key in seen_text:
            continue
        seen_text.add(about.text_key)
        if cap and per_source.get(about.source_id, 0) >= cap:
            overflow.append(pid)
            continue
        per_source[about.source_id] = per_source.get(about.source_id, 0) + 1
        chosen.append(pid)
        if len(chosen) == k:
            break
    if len(chosen) < k:  # too few sources to honour the cap: fill with the best of the rest
        chosen.extend(overflow[: k - len(chosen)])
        chosen.sort(key=lambda pid: -fused[pid])
    return chosen


_cache: dict[tuple, tuple[int, Retriever]] = {}
_cache_lock = threading.Lock()


def get_retriever(motion: Motion, settings: Settings) -> Retriever:
    """The cached retriever for a motion, rebuilt when the pack changed or when this process
    wrote to the motion's index since it was built (`store.writes`). It searches with the
    settings given here, not those it was first built with."""
    key = (motion.id, settings.chroma_url, str(settings.chroma_path), settings.model_path)
    with _cache_lock:
        built_at, retriever = _cache.get(key, (-1, None))
        now = store.writes(motion.id)
        if retriever is None or retriever.motion != motion or built_at != now:
            retriever = Retriever(motion, settings)
            _cache[key] = (now, retriever)
    return retriever if retriever.settings == settings else retriever.with_settings(settings)
