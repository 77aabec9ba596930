"""Speech engines: what they are given (SpeechRequest), the plan both engines share
(which contentions clash with the student, which passages back them), and text helpers.

An engine turns a SpeechRequest into a Reply. `stream(request)` is a generator that
yields the growing speech text and returns the final Reply (use `yield from`);
`generate(request)` drains it. Two engines exist: the offline evidence engine (default)
and the LLM engine (when settings.llm names a chat model).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator
from dataclasses import dataclass, field

from debate.citations import CITATION_RE, EvidenceList, Reply
from debate.config import Settings
from debate.motions import SIDES, Contention, Motion
from debate.passages import Passage

log = logging.getLogger(__name__)

PHASES = ("opening", "rebuttal", "closing", "question")
# How many contentions each kind of speech argues.
POINTS_PER_PHASE = {"opening": 3, "rebuttal": 2, "closing": 3, "question": 1}
PASSAGES_PER_POINT = 4
RESERVE_POINTS = 2
MAX_EVIDENCE = 8

# Messages (or source sentences) that try to steer the bot rather than argue with it.
_INSTRUCTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|rule|side|above|previous)"
    r"|\b(system prompt|you are now|from now on you|act as|pretend to be|new instructions)\b"
    r"|\bcite\s*\[\s*\d+\s*\]|\b(switch|change|drop|abandon)\b.{0,20}\bsides?\b",
    re.IGNORECASE | re.DOTALL,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9ČĆŠŽĐ])")
_QUOTED = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_HEDGE = re.compile(
    r"^(i (really )?(think|believe|would argue|argue|feel|say)( that)?|in my (view|opinion),?|"
    r"well,?|but,?|so,?|actually,?|also,?|and,?|ok(ay)?,?|in the end,?|after all,?|"
    r"clearly,?|obviously,?)\s+",
    re.IGNORECASE,
)


def looks_like_instruction(text: str) -> bool:
    """True for text that tries to give the bot orders (prompt injection), not arguments."""
    return bool(_INSTRUCTION_RE.search(text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or list item of text, trimmed, with bullet markers and
    headings left out, so that text[start:end] can be quoted exactly."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        ls, le = line.span()
        pos = ls
        for cut in [m.start() for m in _SENTENCE_END.finditer(text, ls, le)] + [le]:
            s, e = pos, cut
            pos = cut
            while s < e and (text[s].isspace() or text[s] in "-*•#>"):
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s, e))
            while pos < le and text[pos] in "\"'”’)] \t":
                pos += 1
    return spans


def quoted_spans(text: str) -> list[str]:
    """The quoted strings of a speech (between double quotation marks)."""
    return [m.group(1) for m in _QUOTED.finditer(text)]


def quote_key(quote: str) -> str:
    """Comparable form of a quotation: used to avoid repeating a quote in one debate."""
    return " ".join(re.sub(r"[^\w\s]", " ", quote.lower()).split())


def student_point(message: str, max_words: int = 30) -> str:
    """The student's main point in their own words, safe to echo: no [n] markers, no double
    quotes, no instruction-like sentences. Empty when nothing usable remains."""
    candidates = []
    for s, e in sentence_spans(message):
        sentence = message[s:e]
        if looks_like_instruction(sentence):
            continue
        sentence = CITATION_RE.sub("", sentence)
        sentence = re.sub(r"[\"“”<>\[\]{}]", "", sentence)
        sentence = " ".join(sentence.split())
        if len(sentence.split()) >= 3:
            candidates.append(sentence)
    return candidates[0] if candidates else ""


def shorten_point(sentence: str, max_words: int = 30) -> str:
    """Drop a leading hedge ('I think that') and cut long sentences; end with punctuation."""
    sentence = _HEDGE.sub("", sentence.strip())
    sentence = sentence[:1].upper() + sentence[1:]
    words = sentence.split()
    if len(words) > max_words:
        sentence = " ".join(words[:max_words]).rstrip(",;:") + "…"
    if sentence and sentence[-1] not in ".!?…":
        sentence += "."
    return sentence


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

    def evidence(self, limit: int = MAX_EVIDENCE) -> EvidenceList:
        return EvidenceList(self.pool[:limit])


def embed_cached(texts: list[str], settings: Settings) -> list[list[float]]:
    """Embeddings of claims and sentences, from the embedder's process-wide cache."""
    from debate.embeddings import get_embedder

    return get_embedder(settings.model_path).embed_cached(texts)


def cosine(a: list[float], b: list[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))  # vectors are normalised


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
        base = [cosine(vectors[0], v) for v in vectors[1:]]
    scored = []
    for contention, score in zip(contentions, base, strict=True):
        scored.append((contention, score - 0.12 * earlier.count(contention.claim)))
    return sorted(scored, key=lambda cs: -cs[1])


def plan_turn(request: SpeechRequest) -> TurnPlan:
    """Choose the contentions for this speech and retrieve evidence for each of them (plus
    evidence for the student's own words, so the reply can meet their point head on)."""
    from debate.retrieval import get_retriever

    retriever = get_retriever(request.motion, request.settings)
    message = request.student_text
    point = student_point(message)
    injection = bool(message) and looks_like_instruction(message)
    how_many = POINTS_PER_PHASE.get(request.phase, 2)
    ranked = rank_contentions(request, point or message)
    points, pool, seen = [], [], set()
    # Two reserve contentions: the offline engine falls back on them when a chosen one has
    # no fresh, relevant quotation left.
    for contention, score in ranked[: how_many + RESERVE_POINTS]:
        hits = retriever.search(
            contention.claim, k=PASSAGES_PER_POINT, side=request.side, per_source_cap=1
        )
        points.append(Point(contention, score, [h.passage for h in hits]))
    if point:
        student_hits = retriever.search(point, k=3, side=request.side, per_source_cap=1)
    else:
        student_hits = []
    # Interleave: each point's best passage first, so a capped evidence list keeps them all;
    # the reserves' passages come last.
    main, reserve = points[:how_many], points[how_many:]
    for depth in range(PASSAGES_PER_POINT):
        for p in [pt.passages[depth] for pt in main if depth < len(pt.passages)]:
            if p.id not in seen:
                seen.add(p.id)
                pool.append(p)
        if depth < len(student_hits) and student_hits[depth].passage.id not in seen:
            seen.add(student_hits[depth].passage.id)
            pool.append(student_hits[depth].passage)
    for p in [p for pt in reserve for p in pt.passages]:
        if p.id not in seen:
            seen.add(p.id)
            pool.append(p)
    return TurnPlan(
        wanted=how_many,
        points=points,
        pool=pool,
        point_text=shorten_point(point) if point else "",
        injection=injection,
    )


class Engine:
    """Base class: subclasses implement `stream`."""

    name = "engine"

    def stream(self, request: SpeechRequest) -> Generator[str, None, Reply]:
        raise NotImplementedError

    def generate(self, request: SpeechRequest) -> Reply:
        gen = self.stream(request)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value


def get_engine(settings: Settings) -> Engine:
    """The offline evidence engine unless settings.llm names a chat model."""
    if settings.llm:
        from debate.engines.llm import LLMEngine

        return LLMEngine(settings)
    from debate.engines.evidence import EvidenceEngine

    return EvidenceEngine(settings)


def check_side(side: str) -> str:
    from debate.errors import DebateError

    if side not in SIDES:
        raise DebateError(f"unknown side {side!r}: use defend (argue the thesis) or attack")
    return side
