"""What to argue this turn: the speech request, the contentions that clash best with the
student, and the passages retrieved for each of them. Both engines start from this plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from debate.check.citations import EvidenceList
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.corpus.motions import Contention, Motion
from debate.corpus.passages import Passage
from debate.search.retrieval import get_retriever
from debate.spar.message import looks_like_instruction, shorten_point, student_point

PHASES = ("opening", "rebuttal", "closing", "question")
# How many contentions each kind of speech argues.
POINTS_PER_PHASE = {"opening": 3, "rebuttal": 2, "closing": 3, "question": 1}
PASSAGES_PER_POINT = 4
RESERVE_POINTS = 2
# Passages searched for the student's own point, the clash's candidates (at most two of a
# source, so a turn of their source can come up next to our sources' answers).
POINT_PASSAGES = 6
POINT_SOURCE_CAP = 2


@dataclass
class SpeechRequest:
    """Everything an engine needs for one bot speech."""

    motion: Motion
    settings: Settings
    side: str
    phase: str
    student_text: str = ""
    history: list = field(default_factory=list)  # earlier session.Turn objects
    used_quotes: frozenset[str] = frozenset()  # quote_key() of quotes already used
    turn_number: int = 0  # the bot's speech count so far: varies template choice
    # The side the student's message argues (`argued_side`), "" when unclear: when it is
    # the bot's own side, the speech says so first.
    student_side: str = ""

    @property
    def student_argues_our_side(self) -> bool:
        return self.student_side == self.side

    def previous_bot_texts(self) -> list[str]:
        return [t.text for t in self.history if getattr(t, "speaker", "") == "bot"]

    def transcript_text(self, max_chars: int = 6000) -> str:
        """The debate so far as plain lines, most recent last, bounded for prompts."""
        lines = []
        for t in self.history:
            if t.speaker == "system":
                lines.append(f"(coach) {t.text}")
            else:
                who = "Student" if t.speaker == "student" else f"You ({t.side})"
                lines.append(f"{who}, {t.phase}: {t.text}")
        if self.student_argues_our_side:  # the LLM prompts read this note (prompts/system.txt)
            lines.append(
                f"(coach) Note: the student's latest message argues YOUR side "
                f"({self.motion.side_label(self.side)}), not theirs."
            )
        text = "\n\n".join(lines)
        return text[-max_chars:] if len(text) > max_chars else (text or "(nothing yet)")


@dataclass
class Point:
    """One contention chosen for a speech, with the passages retrieved for it."""

    contention: Contention
    score: float
    passages: list[Passage]


@dataclass
class TurnPlan:
    wanted: int  # how many contentions the speech argues (points beyond are reserves)
    points: list[Point]
    pool: list[Passage]  # every passage retrieved for the turn, best first, deduplicated
    point_text: str  # the student's point as it will be named ("" when none)
    injection: bool  # the student's message tried to instruct the bot
    size: int = 8  # passages in the turn's evidence list (settings.top_k)
    point_passages: list[Passage] = field(default_factory=list)  # found for the point

    def evidence(self) -> EvidenceList:
        return EvidenceList(self.pool[: self.size])


def rank_contentions(request: SpeechRequest, message: str) -> list[tuple[Contention, float]]:
    """The bot's contentions, best clash with the student's message first. Clash = how
    close the contention is to what the student said; contentions already argued in this
    debate are pushed down so speeches move on instead of repeating themselves."""
    contentions = request.motion.contentions_for(request.side)
    earlier = " ".join(request.previous_bot_texts())
    if not message.strip():
        base = [1.0 - i * 0.01 for i in range(len(contentions))]  # the coach's order
    else:
        vectors = embed_cached([message[:1000]] + [c.claim for c in contentions], request.settings)
        base = (vectors[1:] @ vectors[0]).tolist()
    scored = []
    for contention, score in zip(contentions, base, strict=True):
        scored.append((contention, score - 0.12 * earlier.count(contention.claim)))
    return sorted(scored, key=lambda cs: -cs[1])


def plan_turn(request: SpeechRequest) -> TurnPlan:
    """Choose the contentions for this speech and retrieve evidence for each of them (plus
    evidence for the student's own words, so the reply can meet their point head on). The
    pool holds at most settings.per_source_cap passages of one source (0: no cap)."""
    retriever = get_retriever(request.motion, request.settings)
    message = request.student_text
    point = student_point(message)
    injection = bool(message) and looks_like_instruction(message)
    how_many = POINTS_PER_PHASE.get(request.phase, 2)
    ranked = rank_contentions(request, point or message)
    points: list[Point] = []
    pool: list[Passage] = []
    cap = request.settings.per_source_cap
    per_source: dict[str, int] = {}

    def take(p: Passage) -> None:
        if p in pool or (cap and per_source.get(p.source_id, 0) >= cap):
            return
        per_source[p.source_id] = per_source.get(p.source_id, 0) + 1
        pool.append(p)

    # Two reserve contentions: the offline engine falls back on them when a chosen one has
    # no fresh, relevant quotation left.
    chosen = ranked[: how_many + RESERVE_POINTS]
    retriever.warm([c.claim for c, _ in chosen] + ([point] if point else []))
    for contention, score in chosen:
        hits = retriever.search(
            contention.claim, k=PASSAGES_PER_POINT, side=request.side, per_source_cap=1
        )
        points.append(Point(contention, score, [h.passage for h in hits]))
    if point:
        student_hits = retriever.search(
            point, k=POINT_PASSAGES, side=request.side, per_source_cap=POINT_SOURCE_CAP
        )
    else:
        student_hits = []
    # Interleave: each point's best passage first, so a capped evidence list keeps them all;
    # the reserves' passages come last.
    main, reserve = points[:how_many], points[how_many:]
    for depth in range(max(PASSAGES_PER_POINT, len(student_hits))):
        if depth < len(student_hits):  # the clash comes first in a rebuttal
            take(student_hits[depth].passage)
        for pt in main:
            if depth < len(pt.passages):
                take(pt.passages[depth])
    for pt in reserve:
        for p in pt.passages:
            take(p)
    for pt in points:  # a point argues only from the turn's (capped) pool
        pt.passages = [p for p in pt.passages if p in pool]
    return TurnPlan(
        wanted=how_many,
        points=points,
        pool=pool,
        point_text=shorten_point(point) if point else "",
        injection=injection,
        size=request.settings.top_k,
        point_passages=[h.passage for h in student_hits if h.passage in pool],
    )
