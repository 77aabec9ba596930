"""The coach's blocks: prepared answers to the other side's contentions, written under
`blocks:` in motion.yaml (debate.corpus.motions.Block), used when the student's point
matches the contention a block answers.

A block's responses are a tag with a quote of a source (found in one of its passages, so
the quote becomes a card cut from that passage) or with the coach's own analysis. A point
matches a blocked contention when the cosine of their MiniLM embeddings is at least
BLOCK_MATCH (and it is the best-matching blocked contention).
"""

from __future__ import annotations

from dataclasses import dataclass

from debate.cards.card import Card, card_from_quote
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import MotionError
from debate.core.text import find_quote
from debate.corpus.motions import Block, Motion, other_side
from debate.corpus.passages import Passage
from debate.search.retrieval import get_retriever
from debate.spar.plan import SpeechRequest

# Cosine (all-MiniLM-L6-v2) between the student's point and a blocked contention's claim
# from which the block answers the point. Measured on the 41 dev-split messages of
# evals/clash (both motions; the test split unseen), each against its own side's
# contentions: the 11 messages at 0.65 or above all restate the contention they match
# (0.659-0.918); the closest wrong match is 0.644 ("Nuclear gets a country off fossil fuels
# faster" -> the life-cycle emissions contention), and one right match falls below (0.631).
BLOCK_MATCH = 0.65


@dataclass(frozen=True)
class BlockAnswer:
    """One response of a coach's block, ready to read: a quote (an exact substring of
    `passage.text`) or the coach's analysis (passage None, quote "")."""

    tag: str
    passage: Passage | None = None
    quote: str = ""
    analysis: str = ""

    def card(self) -> Card | None:
        """The quote as a card cut from its passage; None for analysis."""
        if self.passage is None:
            return None
        return card_from_quote(self.passage, self.quote, self.tag)


def _quoted(passages: list[Passage], source: str, quote: str) -> tuple[Passage, str] | None:
    for p in passages:
        if p.source_id != source:
            continue
        at = find_quote(quote, p.text)
        if at:
            return p, p.text[at[0] : at[1]]
    return None


def resolve(block: Block, passages: list[Passage]) -> list[BlockAnswer]:
    """The block's responses, each quote found in a passage of its source. MotionError
    naming motion.yaml and the field when a quote is in none of them."""
    out = []
    for j, r in enumerate(block.responses, 1):
        if not r.quote:
            out.append(BlockAnswer(r.tag, analysis=r.analysis))
            continue
        found = _quoted(passages, r.source, r.quote)
        if found is None:
            where = block.where.rstrip("'") + f".responses[{j}].quote'"
            raise MotionError(
                f"{where} is not word for word in any passage of source '{r.source}': "
                f"{r.quote[:80]!r} (copy the words from the source)"
            )
        out.append(BlockAnswer(r.tag, found[0], found[1], r.analysis))
    return out


def check_blocks(motion: Motion, settings: Settings) -> None:
    """Every quote of the motion's blocks found in its ingested passages (MotionError
    naming the file and field otherwise)."""
    if motion.blocks:
        passages = get_retriever(motion, settings).all_passages()
        for block in motion.blocks:
            resolve(block, passages)


def matching_block(motion: Motion, side: str, point: str, settings: Settings) -> Block | None:
    """The coach's block on a contention of `side` that `point` restates best, when their
    cosine is at least BLOCK_MATCH; None otherwise."""
    blocks = motion.blocks_against(side)
    if not blocks or not point.strip():
        return None
    vectors = embed_cached([point[:1000]] + [b.answers for b in blocks], settings)
    sims = vectors[1:] @ vectors[0]
    best = int(sims.argmax())
    return blocks[best] if float(sims[best]) >= BLOCK_MATCH else None


def block_answers(request: SpeechRequest, point: str) -> list[BlockAnswer]:
    """The coach's prepared answers to the student's point: the responses of the block on
    the student's side's contention that the point matches, [] when none matches."""
    block = matching_block(request.motion, other_side(request.side), point, request.settings)
    if block is None:
        return []
    return resolve(block, get_retriever(request.motion, request.settings).all_passages())
