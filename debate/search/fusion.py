"""Ways to merge a BM25 ranking and a dense ranking into one, as pure functions.

Every function takes rankings as lists of (passage id, score), best first, and returns one
in the same form. Ties keep the order of first appearance (BM25's candidates, then
dense's), so results are deterministic.

- Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): score = sum over rankings of
  weight / (k + rank). Only ranks count, so the two score scales never meet; the weights
  let a weaker ranking speak more softly, `k` flattens (large) or sharpens (small) the
  advantage of the first ranks.
- Convex combination of normalised scores (Bruch, Gai & Ingber 2023, "An analysis of
  fusion functions for hybrid retrieval"): score = alpha * dense' + (1 - alpha) * bm25',
  each ranking's scores rescaled by min-max (to [0, 1]) or z-score over its candidates. A
  passage missing from one ranking gets that ranking's lowest rescaled score.
- A single ranking (dense-only, BM25-only).

`depth` limits the candidates read from each ranking (the retriever's candidate pool).
`Fusion` bundles a strategy and its parameters: `Fusion(...)(bm25, dense)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Ranking = list[tuple[str, float]]
METHODS = ("rrf", "convex", "dense", "bm25")
NORMS = ("minmax", "zscore")


def rrf(
    bm25: Ranking,
    dense: Ranking,
    k: float = 60,
    bm25_weight: float = 1.0,
    dense_weight: float = 1.0,
    depth: int | None = None,
) -> Ranking:
    """Weighted reciprocal rank fusion of the two rankings' first `depth` candidates."""
    if k < 0 or bm25_weight < 0 or dense_weight < 0:
        raise ValueError("rrf needs k >= 0 and non-negative weights")
    scores: dict[str, float] = {}
    for weight, ranking in ((bm25_weight, bm25), (dense_weight, dense)):
        for rank, (pid, _) in enumerate(ranking[:depth], 1):
            scores[pid] = scores.get(pid, 0.0) + weight / (k + rank)
    return _ordered(scores)


def normalise(ranking: Ranking, how: str = "minmax") -> dict[str, float]:
    """Scores rescaled over the ranking: min-max to [0, 1] (all 1.0 when every score is
    equal) or z-scores (all 0.0 when every score is equal)."""
    values = [s for _, s in ranking]
    if not values:
        return {}
    if how == "minmax":
        low, high = min(values), max(values)
        span = high - low
        return {pid: (s - low) / span if span else 1.0 for pid, s in ranking}
    if how == "zscore":
        mean = math.fsum(values) / len(values)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
        return {pid: (s - mean) / sd if sd else 0.0 for pid, s in ranking}
    raise ValueError(f"unknown normalisation {how!r}; use one of {', '.join(NORMS)}")


def convex(
    bm25: Ranking,
    dense: Ranking,
    alpha: float = 0.5,
    norm: str = "minmax",
    depth: int | None = None,
) -> Ranking:
    """alpha * normalised dense score + (1 - alpha) * normalised BM25 score, both rescaled
    over the union of the two candidate lists. A passage missing from the BM25 list scores
    0 there when the list holds every match (it shares no term with the query), else the
    list's lowest score; a passage missing from the dense list gets the dense list's lowest.
    So a lone BM25 match (a rare name or code) stands out instead of being rescaled to 0."""
    if not 0 <= alpha <= 1:
        raise ValueError("convex fusion needs 0 <= alpha <= 1")
    bm25, dense = bm25[:depth], dense[:depth]
    ids = list(dict.fromkeys([pid for pid, _ in bm25] + [pid for pid, _ in dense]))
    every_match = depth is None or len(bm25) < depth
    sparse_floor = 0.0 if every_match or not bm25 else min(s for _, s in bm25)
    dense_floor = min((s for _, s in dense), default=0.0)
    sparse_n = normalise(_filled(bm25, ids, sparse_floor), norm)
    dense_n = normalise(_filled(dense, ids, dense_floor), norm)
    return _ordered({pid: alpha * dense_n[pid] + (1 - alpha) * sparse_n[pid] for pid in ids})


def _filled(ranking: Ranking, ids: list[str], floor: float) -> Ranking:
    scores = dict(ranking)
    return [(pid, scores.get(pid, floor)) for pid in ids]


def _ordered(scores: dict[str, float]) -> Ranking:
    return sorted(scores.items(), key=lambda item: -item[1])  # stable: ties keep first seen


@dataclass(frozen=True)
class Fusion:
    """A fusion strategy with its parameters; calling it fuses two rankings."""

    method: str = "rrf"
    rrf_k: float = 60
    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    alpha: float = 0.5
    norm: str = "minmax"
    depth: int | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown fusion {self.method!r}; use one of {', '.join(METHODS)}")
        if self.norm not in NORMS:
            raise ValueError(f"unknown normalisation {self.norm!r}; use one of {', '.join(NORMS)}")
        if self.depth is not None and self.depth < 1:
            raise ValueError("depth must be at least 1 (or None for every candidate)")

    def __call__(self, bm25: Ranking, dense: Ranking) -> Ranking:
        if self.method == "rrf":
            return rrf(bm25, dense, self.rrf_k, self.bm25_weight, self.dense_weight, self.depth)
        if self.method == "convex":
            return convex(bm25, dense, self.alpha, self.norm, self.depth)
        return list((dense if self.method == "dense" else bm25)[: self.depth])

    def describe(self) -> str:
        depth = "all" if self.depth is None else self.depth
        if self.method == "rrf":
            return (
                f"rrf(k={self.rrf_k:g}, bm25_weight={self.bm25_weight:g}, "
                f"dense_weight={self.dense_weight:g}, depth={depth})"
            )
        if self.method == "convex":
            return f"convex(alpha={self.alpha:g}, norm={self.norm}, depth={depth})"
        return f"{self.method}-only(depth={depth})"


# What Retriever.search did for a top-10 search before tuning: equal-weight RRF, k=60, pool 40.
FORMER_DEFAULT = Fusion("rrf", rrf_k=60, bm25_weight=1.0, dense_weight=1.0, depth=40)
# What it does with the default settings (fusion=convex, weights 1.0 / 1.5, candidates=40):
# the winner on the dev splits of evals/retrieval (tune.py).
SHIPPED = Fusion("convex", alpha=0.6, norm="zscore", depth=40)


def blend(ranking: Ranking, extra: dict[str, float], beta: float, top: int = 20) -> Ranking:
    """Re-rank the first `top` of a ranking by (1 - beta) * its min-max normalised score
    + beta * the min-max normalised `extra` score (a second opinion such as a reranker's;
    a passage without one gets the lowest). The rest of the ranking follows unchanged."""
    if not 0 <= beta <= 1:
        raise ValueError("blend needs 0 <= beta <= 1")
    head, tail = ranking[:top], ranking[top:]
    base = normalise(head, "minmax")
    floor = min((extra[pid] for pid, _ in head if pid in extra), default=0.0)
    second = normalise([(pid, extra.get(pid, floor)) for pid, _ in head], "minmax")
    mixed = {pid: (1 - beta) * base[pid] + beta * second[pid] for pid, _ in head}
    return _ordered(mixed) + tail
