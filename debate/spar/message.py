"""Reading the student's message: what kind of message it is, the point it makes (safe to
echo), whether it tries to instruct the bot, and which side it argues. The session reads a
message once per turn (`read_message`); the plan and the coaching read the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from debate.check.citations import CITATION_RE
from debate.check.claims import canonical, content_tokens, negation_flip
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import QueryError
from debate.core.text import STOPWORDS, clean_input, sentence_spans, words
from debate.corpus.gazetteer import for_motion
from debate.corpus.motions import SIDES, Motion

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


def message_kind(text: str) -> str:
    """What a student message is: `empty` (nothing but spaces and invisible characters),
    `no-argument` (fewer than two words beyond greetings and fillers: "ok", "hello", "?",
    "I agree"), `question` (every sentence ends with a question mark: "Why does Serbia buy
    Russian gas?", "Isn't it true that ...?") or `argument`."""
    text = clean_input(text or "").strip()
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
    text = clean_input(message).strip()
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
    sides = [(side, c.claim) for side in SIDES for c in motion.contentions_for(side)]
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
    text = clean_input(message).strip()
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


@dataclass(frozen=True)
class StudentMessage:
    """One student message as read once for its turn."""

    text: str  # made safe (`clean_input`), stripped, bounded to settings.max_message_chars
    kind: str  # one of MESSAGE_KINDS
    original_chars: int = 0  # the length before bounding, when the message was cut (else 0)


def read_message(raw: str, max_chars: int) -> StudentMessage:
    """Clean, strip and bound a student message, and say what kind it is. Raises QueryError
    for a message with nothing in it."""
    if not isinstance(raw, str) or not raw.strip():
        raise QueryError(
            "say something first: make a point, answer my last speech, or ask a question"
        )
    text = clean_input(raw).strip()
    original = 0
    if len(text) > max_chars:
        original = len(text)
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
    return StudentMessage(text, message_kind(text), original)
