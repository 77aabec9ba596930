"""Prep: a case file for one side of a motion, as a debater would carry it into a round.

Two parts, both chosen by the offline evidence engine from the motion's own passages:
- the side's contentions, each with its best PREP_CARDS cards: the quotes the engine would
  read for that contention in an opening speech (`EvidenceEngine.candidates` and `pick`,
  no quote twice in the file, none saying the same as another);
- blocks: for each contention of the other side, the answers to it: first the coach's
  own block from motion.yaml when there is one (debate.spar.blocks), then the clash cards
  the engine would read against that claim in a rebuttal (`EvidenceEngine.clash_cards`,
  each labelled deny, mitigate or turn), or, when nothing answers it, a note to outweigh.

Every card is cut from its passage by debate.cards.card (offsets exact, body verbatim);
the case file is written to Word or Markdown by debate.cards.docx_out / markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from debate.cards import markdown
from debate.cards.card import Card, card_from_quote
from debate.cards.casefile import BLOCK, HAT, CaseFile, Section
from debate.cards.docx_out import write_docx
from debate.core.config import Settings
from debate.core.errors import DebateError
from debate.corpus.motions import ROLE, SIDES, Contention, Motion, other_side, write_atomic
from debate.search.retrieval import get_retriever
from debate.spar.blocks import resolve
from debate.spar.engines.evidence import MIN_RELEVANCE, EvidenceEngine
from debate.spar.plan import SpeechRequest, plan_turn

PREP_CARDS = 2  # cards per contention, as the issue asks ("its best two cards")
KIND_LABELS = {"deny": "Deny", "mitigate": "Mitigate", "turn": "Turn"}
Progress = Callable[[int, int], None]


@dataclass
class Answer:
    """One response in a block: a card, or a line of analysis with no card."""

    card: Card | None = None
    analysis: str = ""


@dataclass
class ContentionPrep:
    claim: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class BlockPrep:
    answers: str  # the other side's contention
    responses: list[Answer] = field(default_factory=list)


@dataclass
class Prep:
    """What `prepare` chose for a side; `case_file` lays it out for the writers."""

    motion: Motion
    side: str
    contentions: list[ContentionPrep]
    blocks: list[BlockPrep]

    def cards(self) -> list[Card]:
        cards = [c for cp in self.contentions for c in cp.cards]
        return cards + [a.card for b in self.blocks for a in b.responses if a.card]


def _request(motion: Motion, side: str, settings: Settings, phase: str, text: str):
    student = other_side(side) if phase == "rebuttal" else ""
    return SpeechRequest(motion, settings, side, phase, student_text=text, student_side=student)


def contention_cards(
    engine: EvidenceEngine, motion: Motion, c: Contention, settings: Settings, quoted: list[str]
) -> list[Card]:
    """The contention's best PREP_CARDS cards: the engine's ranked quotes for it when it is
    the turn's first point (the claim itself as the message), none of `quoted` again."""
    request = _request(motion, c.side, settings, "opening", c.claim)
    plan = plan_turn(request)
    ranked = engine.candidates(request, plan).get(c.claim, [])
    relevant = [x for x in ranked if x.relevance >= MIN_RELEVANCE]
    taken: set[str] = set()
    chosen = engine.pick(relevant, taken, frozenset(), PREP_CARDS, False, quoted)
    # The Block heading is the claim; each Tag says what its own card says.
    return [card_from_quote(x.passage, x.quote, _lead(x.quote)) for x in chosen]


def block_responses(
    engine: EvidenceEngine, motion: Motion, side: str, theirs: Contention, settings: Settings
) -> list[Answer]:
    """Answers to the other side's contention `theirs`: the coach's block (motion.yaml)
    first, then the engine's clash cards against the claim, or a note to outweigh."""
    answers: list[Answer] = []
    passages = None
    for block in motion.blocks_against(theirs.side):
        if block.answers != theirs.claim:
            continue
        passages = passages or get_retriever(motion, settings).all_passages()
        for a in resolve(block, passages):
            answers.append(Answer(a.card(), a.analysis))
    request = _request(motion, side, settings, "rebuttal", theirs.claim)
    coached = {a.card.body for a in answers if a.card}
    for candidate, kind in engine.clash_cards(request, plan_turn(request)):
        tag = f"{KIND_LABELS.get(kind, kind.title())}: {_lead(candidate.quote)}"
        card = card_from_quote(candidate.passage, candidate.quote, tag)
        if card.body not in coached:
            answers.append(Answer(card))
    if not any(a.card for a in answers):
        answers.append(
            Answer(analysis="Nothing in the motion's sources answers this directly: outweigh it.")
        )
    return answers


def _lead(quote: str, words: int = 14) -> str:
    """A tag in the card's own words: its first `words` words (a coach edits it)."""
    parts = quote.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def prepare(
    motion: Motion, side: str, settings: Settings, progress: Progress | None = None
) -> Prep:
    """The case file's contents for `side`; progress(done, total) after each contention."""
    if side not in SIDES:
        raise DebateError(f"unknown side {side!r}: use defend or attack")
    engine = EvidenceEngine(settings)
    ours = motion.contentions_for(side)
    theirs = motion.contentions_for(other_side(side))
    total, done = len(ours) + len(theirs), 0
    quoted: list[str] = []
    contentions, blocks = [], []
    for c in ours:
        contentions.append(
            ContentionPrep(c.claim, contention_cards(engine, motion, c, settings, quoted))
        )
        done += 1
        if progress:
            progress(done, total)
    for c in theirs:
        blocks.append(BlockPrep(c.claim, block_responses(engine, motion, side, c, settings)))
        done += 1
        if progress:
            progress(done, total)
    return Prep(motion, side, contentions, blocks)


def case_file(prep: Prep) -> CaseFile:
    """The prep as a Verbatim-shaped case file: the Pocket is the motion and side; a Hat of
    contentions (a Block each, with its cards) and a Hat of blocks (a Block "AT: <their
    contention>" each, with the coach's analysis as notes, then the answering cards)."""
    motion, side = prep.motion, prep.side
    sections = [Section("Contentions", HAT)]
    sections += [Section(cp.claim, BLOCK, list(cp.cards)) for cp in prep.contentions]
    sections.append(Section(f"Blocks: answers to the {ROLE[other_side(side)]}", HAT))
    for b in prep.blocks:
        cards = [a.card for a in b.responses if a.card]
        notes = [a.analysis for a in b.responses if a.analysis]
        sections.append(Section(f"AT: {b.answers}", BLOCK, cards, notes))
    label = f"{ROLE[side].title()} ({motion.side_label(side)})"
    return CaseFile(motion.title, label, sections)


def case_markdown(prep: Prep) -> str:
    return markdown.case_markdown(case_file(prep))


def write_case(prep: Prep, docx: Path | None = None, md: Path | None = None) -> None:
    """Write the case file as Word (Verbatim styles) and/or Markdown, each atomically."""
    case = case_file(prep)
    if docx is not None:
        write_docx(case, docx)
    if md is not None:
        Path(md).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(md), markdown.case_markdown(case))
