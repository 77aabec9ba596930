"""Work a bot turn would otherwise do on the spot, done ahead: before a motion's first turn
(the web app's start-up) and in the background after it.

A turn's cost is mostly the embedding model: the sentences of every passage it may quote
or cite are compared with the contentions and with the reply's claims. Those embeddings
are cached for the process by text (`Embedder.embed_cached`), so an edited source can
never reuse the vectors of the text it replaced; what is left to a warm turn is the
student's new message and the reply's own sentences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from debate.check.faithfulness import passage_sentences
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.corpus.motions import SIDES, Motion
from debate.corpus.passages import Passage
from debate.search.retrieval import get_retriever
from debate.spar.engines.evidence import quotable
from debate.spar.plan import PASSAGES_PER_POINT

log = logging.getLogger(__name__)

# Texts per model call when warming in the background: small enough that a turn running
# meanwhile waits for at most one such call.
CHUNK = 64


def passage_texts(passages: list[Passage]) -> list[str]:
    """What turns embed of these passages: the sentences the engine may quote (with and
    without the passage's concessions) and the sentences the citation checker compares."""
    texts: dict[str, None] = {}
    for p in passages:
        for skip in (False, True):
            texts.update(dict.fromkeys(quotable(p, skip_concessions=skip)))
        texts.update(dict.fromkeys(passage_sentences(p.text) or [p.text]))
    return list(texts)


def contention_passages(motion: Motion, settings: Settings) -> list[Passage]:
    """The passages retrieved for every contention of both sides: each turn's evidence pool
    starts from these (`plan_turn` searches the chosen contentions the same way)."""
    retriever = get_retriever(motion, settings)
    found: dict[str, Passage] = {}
    for side in SIDES:
        claims = [c.claim for c in motion.contentions_for(side)]
        retriever.warm(claims)
        for claim in claims:
            for hit in retriever.search(claim, k=PASSAGES_PER_POINT, side=side, per_source_cap=1):
                found.setdefault(hit.passage.id, hit.passage)
    return list(found.values())


def warm_motion(motion: Motion, settings: Settings) -> int:
    """Embed the contentions of both sides and the sentences of their passages, in one
    batch; returns how many texts that was."""
    claims = [c.claim for side in SIDES for c in motion.contentions_for(side)]
    texts = claims + passage_texts(contention_passages(motion, settings))
    embed_cached(texts, settings)
    return len(texts)


def warm_passages(
    passages: list[Passage],
    settings: Settings,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Embed the sentences of these passages a chunk at a time, until done or until
    `stop()` says to give up (checked between chunks); returns how many were embedded."""
    texts = passage_texts(passages)
    for i in range(0, len(texts), CHUNK):
        if stop():
            return i
        embed_cached(texts[i : i + CHUNK], settings)
    return len(texts)
