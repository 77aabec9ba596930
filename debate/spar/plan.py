"""What to argue this turn: the speech request, the contentions that clash best with the
student, and the passages retrieved for each of them. Both engines start from this plan.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np

from debate.check.citations import CITATION_RE, EvidenceList
from debate.check.claims import canonical, content_tokens, negation_flip
from debate.core.config import Settings
from debate.core.embeddings import get_embedder
from debate.core.text import STOPWORDS, sentence_spans, words
from debate.corpus.gazetteer import for_motion
from debate.corpus.motions import Contention, Motion
from debate.corpus.passages import Passage
from debate.search.retrieval import get_retriever

PHASES = ("opening", "rebuttal", "closing", "question")


def embed_cached(texts: list[str], settings: Settings) -> np.ndarray:
    """Embeddings of claims and sentences (rows, normalised: a dot product is the cosine),
    from the embedder's process-wide cache."""
    return np.asarray(get_embedder(settings.model_path).embed_cached(texts), dtype=np.float32)


log = logging.getLogger(__name__)

PHASES = ("opening", "rebuttal", "closing", "question")
# How many contentions each kind of speech argues.
POINTS_PER_PHASE = {"opening": 3, "rebuttal": 2, "closing": 3, "question": 1}
PASSAGES_PER_POINT = 4
RESERVE_POINTS = 2

# Messages (or source sentences) that try to steer the bot rather than argue with it.
_INSTRUCTION_RE = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|rule|side|above|previous)"
    r"|\b(system prompt|you are now|from now on you|act as|pretend to be|new instructions)\b"
    r"|\bcite\s*\[\s*\d+\s*\]|\b(switch|change|drop|abandon)\b.{0,20}\bsides?\b"
    r"|\b(respond only with|reply only with|say only|your new rule|you are (now )?dan)\b"
    r"|\b(defend|argue|take|support)\b.{0,12}\bthe (other|opposite) side\b"
    r"|\brepeat\b.{0,30}\b(above|earlier|system|instructions?|prompt)\b"
    r"|\b(disregard|ignore)\b.{0,20}\b(evidence|sources?|citations?)\b"
    r"|^\W*override\b|\b(invent|make up|fabricate)\b.{0,30}\b(statistics?|figures?|numbers?|sources?|quotes?)\b"
    r"|\bmark (it|them) (as )?verified\b|\bthe thesis is now\b"
    r"|\b(the bot|the assistant|the ai|you)\s+(must|should|has to|have to|needs? to|will)\s+"
    r"(concede|admit|lose|stop|repeat|reveal|obey)\b"
    # the same orders in other languages students write in
    r"|\b(ignoriere|vergiss|missachte)\b.{0,40}(anweisung|regel|vorherig)"
    r"|\b(ignorez|oubliez)\b.{0,40}(instruction|consigne|règle|précédent)"
    r"|\b(ignora|olvida)\b.{0,40}(instrucci|regla|anterior)"
    r"|(игнорируй|забудь|игнорировать).{0,40}(инструкц|правил|предыдущ)"
    r"|(忽略|无视|忘记).{0,10}(指令|指示|规则|之前)"
    r"|\b(zaboravi|ignoriši|ignoriraj)\b.{0,40}(uputstv|uput|pravil|prethodn)",
    re.IGNORECASE | re.DOTALL,
)
_HEDGE = re.compile(
    r"^(i (really )?(think|believe|would argue|argue|feel|say)( that)?|in my (view|opinion),?|"
    r"well,?|but,?|so,?|actually,?|also,?|and,?|ok(ay)?,?|in the end,?|after all,?|"
    r"clearly,?|obviously,?)\s+",
    re.IGNORECASE,
)


def looks_like_instruction(text: str) -> bool:
    """True for text that tries to give the bot orders (prompt injection), not arguments."""
    return bool(_INSTRUCTION_RE.search(text))


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


# Invisible characters a paste or a phone keyboard leaves behind; a message of only these
# (and spaces) says nothing.
_ZERO_WIDTH = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Words that carry no argument on their own: greetings, acknowledgements, fillers.
_FILLER = frozenset(
    """ok okay k kk hello hi hey hallo yes no yeah yep nope sure thanks thank thx fine hmm hm
    um uh er lol cool great right well go on start begin please agree disagree agreed true
    false really so and what why how huh sorry wait next continue again good bad nice
    interesting""".split()
)
# Reasons or contrasts: a sentence that restates a contention with one of these answers it
# rather than argues it.
_REBUTTAL_MARKERS = frozenset("but however yet although though despite while whereas even".split())
MESSAGE_KINDS = ("empty", "no-argument", "question", "argument")


def clean_message(text: str) -> str:
    """The message without zero-width characters, stripped."""
    return _ZERO_WIDTH.sub("", text or "").strip()


def message_kind(text: str) -> str:
    """What a student message is: `empty` (nothing but spaces and invisible characters),
    `no-argument` (fewer than two words beyond greetings and fillers: "ok", "hello", "?",
    "I agree"), `question` (every sentence ends with a question mark: "Why does Serbia buy
    Russian gas?", "Isn't it true that ...?") or `argument`."""
    text = clean_message(text)
    if not text:
        return "empty"
    content = [w for w in words(text) if w not in _FILLER and w not in STOPWORDS]
    if len(content) < 2:
        return "no-argument"
    spans = sentence_spans(text)
    if spans and all(text[s:e].rstrip(" \"'”’)").endswith("?") for s, e in spans):
        return "question"
    return "argument"


# A sentence leans to a side when its nearest contention is that side's and at least this
# close (cosine of MiniLM embeddings): a near restatement, not a shared topic. Measured on
# this corpus: restatements score 0.75-0.9, rebuttals of the same topic 0.45-0.7.
SIDE_RESTATEMENT_MIN = 0.75


def argued_side(message: str, motion: Motion, settings: Settings) -> str:
    """The side the student's message argues: `defend`, `attack`, or "" when it does not
    clearly take one. Two rules, the first that decides wins:

    1. the thesis itself: a sentence containing every content word of the thesis (names
       read through the gazetteer, so "Moscow's ally" is "Russian ally") states it, or
       denies it when its negation differs from the thesis's (`negation_flip`);
    2. the contentions: sentences that nearly restate a contention (cosine >=
       SIDE_RESTATEMENT_MIN, nearest of both sides) with no contrast word ("but",
       "although") vote for that contention's side; the side with more votes wins.
    Topic alone never decides: a rebuttal is about the other side's topics."""
    text = clean_message(message)
    sentences = [text[s:e] for s, e in sentence_spans(text) if not text[s:e].rstrip().endswith("?")]
    if not sentences:
        return ""
    gaz = for_motion(motion.id)
    thesis = canonical(motion.thesis, gaz)
    thesis_tokens = content_tokens(thesis)
    votes = {"defend": 0, "attack": 0}
    for sentence in sentences:
        canon = canonical(sentence, gaz)
        if thesis_tokens and thesis_tokens <= content_tokens(canon):
            votes["attack" if negation_flip(canon, [thesis]) else "defend"] += 2
    if votes["defend"] != votes["attack"]:
        return max(votes, key=votes.get)
    sides = [(side, c.claim) for side in ("defend", "attack") for c in motion.contentions_for(side)]
    vectors = embed_cached(sentences + [claim for _, claim in sides], settings)
    sims = vectors[: len(sentences)] @ vectors[len(sentences) :].T
    for sentence, row in zip(sentences, sims, strict=True):
        best = int(row.argmax())
        if row[best] >= SIDE_RESTATEMENT_MIN and not _REBUTTAL_MARKERS & set(words(sentence)):
            votes[sides[best][0]] += 1
    if votes["defend"] == votes["attack"]:
        return ""
    return max(votes, key=votes.get)


def warm_message(message: str, settings: Settings) -> None:
    """Embed in one model call every text a turn derives from the student's message: the
    sentences `argued_side` reads, what `rank_contentions` ranks by, the point's search
    query and the point as the speech names it. The turn then finds them all cached
    instead of calling the model four times for one or two short texts each."""
    text = clean_message(message)
    if not text:
        return
    point = student_point(text)
    texts = [text[s:e] for s, e in sentence_spans(text) if not text[s:e].rstrip().endswith("?")]
    texts.append((point or text)[:1000])
    if point:
        texts.append(shorten_point(point))
    embed_cached(texts, settings)


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
        student_hits = retriever.search(point, k=3, side=request.side, per_source_cap=1)
    else:
        student_hits = []
    # Interleave: each point's best passage first, so a capped evidence list keeps them all;
    # the reserves' passages come last.
    main, reserve = points[:how_many], points[how_many:]
    for depth in range(PASSAGES_PER_POINT):
        for pt in main:
            if depth < len(pt.passages):
                take(pt.passages[depth])
        if depth < len(student_hits):
            take(student_hits[depth].passage)
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
    )
