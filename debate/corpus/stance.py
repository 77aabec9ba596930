"""The stance of each sentence of a passage toward the motion's thesis, read at ingest.

A source's `stance` label (when the coach gives one) says which side the whole source
argues; inside it, a concession or a counter-fact may argue the other side, and uploaded
articles often come with no label at all. So every sentence of every passage gets a score
at ingest, stored with the passage (`Passage.stances`), and a turn reads it for free:

    score = p(supports) - p(opposes), in [-1, 1]; > 0 argues for the thesis, < 0 against.

The model (`stance_model.StanceModel`, weights in stance_model_weights/, model card there)
is a small head over the MiniLM sentence embeddings we already compute: the thesis, its
negation and the sentence. It was fitted on public human-labelled stance data with topics
held out (evals/stance/RESULTS.md). A missing or damaged weights file is an error, never a
reason to ingest without stances.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import DebateError
from debate.core.text import sentence_spans
from debate.corpus.stance_model import StanceModel, StanceModelError, negate

WEIGHTS = Path(__file__).with_name("stance_model_weights")
# A passage leans to a side when the mean score of its sentences is beyond this (for the
# side bonus of a source nobody labelled); nearer zero it counts as mixed.
LEAN = 0.2


@lru_cache(maxsize=1)
def model() -> StanceModel:
    try:
        return StanceModel.load_vectors_only(str(WEIGHTS))
    except StanceModelError as exc:
        raise DebateError(
            f"the sentence stance model cannot be loaded ({exc}); reinstall the package"
        ) from exc


@lru_cache(maxsize=1)
def version() -> str:
    """Changes whenever the weights change: part of a source's fingerprint, so that new
    weights re-score every sentence at the next ingest."""
    config = json.loads((WEIGHTS / "config.json").read_text(encoding="utf-8"))
    return str(config.get("weights_sha256", ""))[:16] or "unversioned"


def sentence_scores(thesis: str, sentences: list[str], settings: Settings) -> list[float]:
    """The stance score of each sentence toward the thesis (see the module docstring)."""
    if not sentences:
        return []
    vectors = embed_cached([thesis, negate(thesis), *sentences], settings)
    found = model().predict_from_vectors(vectors[0], vectors[2:], vectors[1])
    return [round(score, 3) for _, score in found]


def passage_stances(thesis: str, texts: list[str], settings: Settings) -> list[str]:
    """For each passage text, its sentences' spans and scores, encoded for the store."""
    spans = [sentence_spans(t) for t in texts]
    flat = [t[s:e] for t, sp in zip(texts, spans, strict=True) for s, e in sp]
    scores = iter(sentence_scores(thesis, flat, settings))
    return [encode([(s, e, next(scores)) for s, e in sp]) for sp in spans]


def encode(items: list[tuple[int, int, float]]) -> str:
    """'start,end,score;...' (offsets into the passage text): Chroma keeps only scalars."""
    return ";".join(f"{s},{e},{score:.3f}" for s, e, score in items)


def decode(stances: str) -> list[tuple[int, int, float]]:
    out = []
    for item in filter(None, (stances or "").split(";")):
        s, e, score = item.split(",")
        out.append((int(s), int(e), float(score)))
    return out


def score_at(stances: str, start: int, end: int) -> float | None:
    """The score of the sentence a quote [start, end) of the passage lies in (a quote may
    be a clause of a sentence); None when the passage has no scores."""
    best = None
    for s, e, score in decode(stances):
        if s <= start < e:
            return score
        if best is None and start <= s < end:
            best = score
    return best


def lean(stances: str) -> str:
    """'supports', 'opposes' or 'mixed': which way a passage's sentences lean on the whole
    (the side bonus of a source with no label reads it); '' when it has no scores."""
    scores = [score for _, _, score in decode(stances)]
    if not scores:
        return ""
    mean = sum(scores) / len(scores)
    return "supports" if mean > LEAN else "opposes" if mean < -LEAN else "mixed"
