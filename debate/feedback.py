"""Coaching feedback on the student's turns: their claims checked against the motion's
corpus with the same citation checker the bot's speeches pass, their quotes and figures
compared with the sources, the clash with the bot's points, and the side they argue.
The flow sheet is `debate.flow`; the ballot and the round's chart are `debate.ballot`.

Rules (each one a coach can re-check by reading the passage shown):

**Claims** are the sentences of `flow.student_claims`. A claim that contains every content
word of the thesis states or denies the motion itself: that is the debate, not a fact, and
is marked `motion`, not checked. Every other claim is searched in the motion's passages
(hybrid retrieval, CLAIM_PASSAGES best, no side) and each passage goes through
`faithfulness.check_claim` on its own:
- `backed`: the checker accepts one of them;
- `contradicted`: none does, and on a passage about the same topic (its best sentence at
  least SAME_TOPIC close to the claim, cosine of MiniLM embeddings) the checker's reason is a
  clash (negation, contradiction, swapped numbers, direction) or a figure of the claim (not
  a year or a day) is missing from the passage where that sentence gives other figures;
- `not-in-corpus`: otherwise: the sources neither say it nor say the opposite (noted, not
  flagged: a debater may argue beyond the sources).

**Quotes** (words in quotation marks, three words or more) are looked up in every passage
of the motion with `text.find_quote`: `verbatim`; else `near-verbatim` when a passage
sentence has at least NEAR_VERBATIM of the quote's words in order (difflib ratio), with the
differing words marked; else `none`, with the closest sentence by retrieval shown. A quote
whose words are not all in a source (near-verbatim with a changed content word or number,
or not found) is a misquote.

**Statistics** (sentences with figures other than years and days) are compared with the
sentence of the retrieved passages closest to them (cosine plus shared words): when a figure
of the student is in no retrieved passage and that sentence, about the same topic (at least
SAME_TOPIC), gives other figures, it is a misquote: "you said 10 times; the source says 4
times".

**Attribution**: a sentence that names a source of the corpus ("According to Reuters",
"The Kyiv Independent reported") is checked against that source's passages (and passage
sentences that name it) alone; when none supports it, it is a misattribution, and the
source that does say it is named. A source the corpus does not hold is noted.

**Clash**: the bot's points are those of its previous speech (`flow.bot_points`); each is
answered when a claim of the turn meets the clash rule of `debate.flow`. A turn that
answers none of them is flagged (`no-clash`); the ones ignored are listed either way.

**Side**: `engines.plan.argued_side`; arguing the bot's side is flagged (`wrong-side`).

Problems flagged: misquote, misattribution, contradicted, no-clash, wrong-side,
no-argument; at most one evidence problem per sentence, the most specific (misquote, then
misattribution, then contradicted).
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from debate.ballot import Ballot, chart_data, chart_svg, score_round
from debate.claims import (
    MONTHS,
    canonical,
    claim_text,
    content_tokens,
    is_factual,
    numbers_in,
)
from debate.config import Settings
from debate.engines.plan import argued_side, embed_cached, message_kind
from debate.faithfulness import check_claim
from debate.flow import ROLE, Flow, bot_points, build_from_turns, clash_matrix, other
from debate.flow import student_claims as claim_spans
from debate.gazetteer import for_motion
from debate.motions import Motion, load_motion
from debate.passages import Passage
from debate.retrieval import get_retriever
from debate.text import STOPWORDS, find_quote, quotes_in, sentence_at, sentence_spans, words
from debate.transcript import Turn

log = logging.getLogger(__name__)

CLAIM_PASSAGES = 4
SAME_TOPIC = 0.6
NEAR_VERBATIM = 0.8
QUOTE_MIN_WORDS = 3
CLASH_REASONS = ("negation", "contradiction", "numbers swapped", "direction")
EVIDENCE_PROBLEMS = ("misquote", "misattribution", "contradicted")


# ---------------------------------------------------------------- records
@dataclass
class SourceSentence:
    """A passage sentence shown next to the student's words."""

    passage: Passage
    start: int  # offsets of the sentence in passage.text
    end: int

    @property
    def sentence(self) -> str:
        return self.passage.text[self.start : self.end]

    def to_dict(self) -> dict:
        p = self.passage
        return {
            "passage_id": p.id,
            "source_id": p.source_id,
            "title": p.title,
            "publisher": p.publisher,
            "date": p.date,
            "url": p.url,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "passage": p.text,
        }


@dataclass
class ClaimCheck:
    sentence: str
    start: int  # offsets in the turn's text
    end: int
    factual: bool
    verdict: str  # backed | contradicted | not-in-corpus | motion
    reason: str
    source: SourceSentence | None = None

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "source"}
        return {**d, "source": self.source.to_dict() if self.source else None}


@dataclass
class QuoteCheck:
    kind: str  # quote | statistic
    text: str  # the quoted words, or the sentence's figures
    sentence: str
    # quotes: verbatim | near-verbatim | misused | none; figures: found | differs | none
    found: str
    supports: bool  # the checker accepts the student's sentence on that passage
    message: str
    differences: list[tuple[str, str]] = field(default_factory=list)  # (you said, source says)
    marked: str = ""  # the source sentence with the differing words in **bold**
    source: SourceSentence | None = None

    @property
    def misquoted(self) -> bool:
        return self.found in ("none", "differs", "misused") or bool(self.differences)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("source", "differences")}
        d["differences"] = [list(x) for x in self.differences]
        d["misquoted"] = self.misquoted
        return {**d, "source": self.source.to_dict() if self.source else None}


@dataclass
class Attribution:
    sentence: str
    named: str  # the source as the student named it
    known: bool  # the corpus holds it
    says_it: bool
    message: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Problem:
    kind: str  # misquote | misattribution | contradicted | no-clash | wrong-side | no-argument
    message: str
    sentence: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class TurnFeedback:
    turn: int  # index of the student's turn in the round
    text: str
    kind: str  # engines.plan.message_kind
    student_side: str  # the side the student should argue
    argued_side: str  # the side the turn argues ("" when unclear)
    claims: list[ClaimCheck] = field(default_factory=list)
    quotes: list[QuoteCheck] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    answered: list[tuple[str, str]] = field(default_factory=list)  # (bot point, answer)
    ignored: list[str] = field(default_factory=list)  # bot points left unanswered
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def problem_kinds(self) -> list[str]:
        return [p.kind for p in self.problems]

    def to_dict(self) -> dict:
        return {
            "turn": self.turn,
            "text": self.text,
            "kind": self.kind,
            "student_side": self.student_side,
            "argued_side": self.argued_side,
            "claims": [c.to_dict() for c in self.claims],
            "quotes": [q.to_dict() for q in self.quotes],
            "attributions": [a.to_dict() for a in self.attributions],
            "answered": [list(x) for x in self.answered],
            "ignored": list(self.ignored),
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- helpers
def _best_sentence(text: str, passages: list[Passage], settings: Settings):
    """The passage sentence closest to text: (SourceSentence, cosine), by cosine plus the
    share of text's content words it contains. (None, 0.0) without passages."""
    spans = [(p, s, e) for p in passages for s, e in sentence_spans(p.text)]
    if not spans:
        return None, 0.0
    vectors = embed_cached([text] + [p.text[s:e] for p, s, e in spans], settings)
    sims = vectors[1:] @ vectors[0]
    mine = content_tokens(text)
    best, best_score = 0, -1.0
    for i, (p, s, e) in enumerate(spans):
        share = len(mine & content_tokens(p.text[s:e])) / len(mine) if mine else 0.0
        if sims[i] + share > best_score:
            best, best_score = i, float(sims[i] + share)
    p, s, e = spans[best]
    return SourceSentence(p, s, e), float(sims[best])


_AMOUNT = re.compile(
    r"(?:[€$£]\s?)?\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|bn|times|km)?"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety)\b(?:\s(?:percent|per cent|million|billion|times))?",
    re.IGNORECASE,
)


def figures(text: str) -> dict[str, str]:
    """{canonical number: as written with its unit} for the amounts of text, not years
    (1990-2039) nor days next to a month."""
    out: dict[str, str] = {}
    low = text.lower()
    for m in _AMOUNT.finditer(text):
        found = numbers_in(m.group(0))
        for n in found:
            if re.fullmatch(r"(19|20)\d\d", n):
                continue
            near = low[max(0, m.start() - 12) : m.end() + 12]
            if float(n) <= 31 and any(month in near for month in MONTHS):
                continue
            out.setdefault(n, m.group(0).strip())
    return out


def _mark(sentence: str, different: set[str]) -> str:
    """The sentence with the words in `different` (compared folded) in **bold**."""
    return re.sub(
        r"[\w€$£%.,]+",
        lambda m: (
            f"**{m.group(0)}**"
            if words(m.group(0)) and set(words(m.group(0))) & different
            else m.group(0)
        ),
        sentence,
    )


def _word_diff(mine: str, theirs: str) -> tuple[float, list[tuple[str, str]], set[str]]:
    """difflib ratio of two word sequences, the differing runs (mine, theirs) and the words
    of theirs that differ."""
    a, b = words(mine), words(theirs)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    diffs, marked = [], set()
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            diffs.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
            marked.update(b[j1:j2])
    return matcher.ratio(), diffs, marked


def _is_clash(reason: str) -> bool:
    return reason.startswith(CLASH_REASONS)


def source_names(motion: Motion, passages: list[Passage]) -> dict[str, str]:
    """{lower-case name: source_id} for the publishers (and their parts: 'Reuters (via
    Swissinfo)' gives 'reuters' and 'swissinfo') and authors of the motion's sources."""
    names: dict[str, str] = {}
    for p in passages:
        for raw in [p.publisher, p.author]:
            for part in re.split(r"\(|\)|,| via | and ", raw or ""):
                part = re.sub(r"^(the)\s+", "", part.strip(), flags=re.I).strip()
                if len(part) >= 3:
                    names.setdefault(part.lower(), p.source_id)
    return names


_ATTRIBUTED = re.compile(
    r"\baccording to (?:the )?([A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*)"
    r"|\b(?:the )?([A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*)\s+(?:has\s+)?(?:reported|reports|says|"
    r"said|writes|wrote|notes|noted|found|finds|puts it|points out|pointed out|states|stated)\b",
)


# ---------------------------------------------------------------- one turn
class Reviewer:
    """Feedback on the student's turns of one round (retriever and names built once)."""

    def __init__(self, motion: Motion, settings: Settings):
        self.motion = motion
        self.settings = settings
        self.retriever = get_retriever(motion, settings)
        self.passages = self.retriever.passages
        self.names = source_names(motion, self.passages)
        self.gaz = for_motion(motion.id)
        self.thesis_tokens = content_tokens(canonical(motion.thesis, self.gaz))

    def _check(self, claim: str, passage: Passage):
        return check_claim(claim, [(1, passage)], model_path=self.settings.model_path)

    def _search(self, text: str, k: int = CLAIM_PASSAGES) -> list[Passage]:
        return [r.passage for r in self.retriever.search(text, k=k)]

    def _quoted_passages(self, sentence: str) -> list[Passage]:
        """Passages that hold every quotation of the sentence (three words or more) word
        for word: a claim resting on them stands on that passage."""
        quotes = [q.text for q in quotes_in(sentence) if len(words(q.text)) >= QUOTE_MIN_WORDS]
        if not quotes:
            return []
        return [p for p in self.passages if all(find_quote(q, p.text) for q in quotes)]

    def check_claim(self, sentence: str, start: int, end: int) -> ClaimCheck:
        claim = claim_text(sentence)
        factual = is_factual(claim)
        if self.thesis_tokens and self.thesis_tokens <= content_tokens(canonical(claim, self.gaz)):
            return ClaimCheck(sentence, start, end, factual, "motion", "states the motion itself")
        quoted = self._quoted_passages(sentence)
        passages = list(dict.fromkeys(quoted + self._search(claim)))
        clash = None
        for p in passages:
            check = self._check(claim, p)
            if check.ok or (p in quoted and not _is_clash(check.reason)):
                if not check.ok:
                    check.reason = f"quotes {p.publisher} word for word"
                best, _ = _best_sentence(claim, [p], self.settings)
                return ClaimCheck(sentence, start, end, factual, "backed", check.reason, best)
            best, sim = _best_sentence(claim, [p], self.settings)
            if clash is None and sim >= SAME_TOPIC:
                if _is_clash(check.reason):
                    clash = (check.reason, best)
                else:
                    lost = [w for n, w in figures(claim).items() if n not in numbers_in(p.text)]
                    if lost and figures(best.sentence):
                        clash = (f"number clash: {', '.join(lost)} not in the passage", best)
        if clash:
            return ClaimCheck(sentence, start, end, factual, "contradicted", clash[0], clash[1])
        best, _ = _best_sentence(claim, passages, self.settings)
        return ClaimCheck(
            sentence, start, end, factual, "not-in-corpus", "no passage says this", best
        )

    def check_quote(self, quote: str, sentence: str) -> QuoteCheck:
        claim = claim_text(sentence)
        for p in self.passages:
            at = find_quote(quote, p.text)
            if at:
                s, e = sentence_at(p.text, at[0])
                check = self._check(claim, p)
                if _is_clash(check.reason):  # right words, used to say the opposite
                    return QuoteCheck(
                        "quote",
                        quote,
                        sentence,
                        "misused",
                        False,
                        f"the words are in {p.publisher}, but used against their sense "
                        f"({check.reason})",
                        [],
                        "",
                        SourceSentence(p, s, e),
                    )
                return QuoteCheck(
                    "quote",
                    quote,
                    sentence,
                    "verbatim",
                    True,
                    f"in {p.publisher}, word for word",
                    [],
                    "",
                    SourceSentence(p, s, e),
                )
        candidates = self._search(quote, k=6)
        best, best_ratio = None, 0.0
        for p in candidates:
            for s, e in sentence_spans(p.text):
                # the whole sentence, or its stretch as long as the quote
                ratio = max(_word_diff(quote, p.text[s:e])[0], _window_ratio(quote, p.text[s:e]))
                if ratio > best_ratio:
                    best, best_ratio = SourceSentence(p, s, e), ratio
        if best is not None and best_ratio >= NEAR_VERBATIM:
            diffs = _quote_diffs(quote, best.sentence)
            said = "; ".join(f'you wrote "{a}", the source "{b}"' for a, b in diffs)
            return QuoteCheck(
                "quote",
                quote,
                sentence,
                "near-verbatim",
                self._check(claim, best.passage).ok,
                f"nearly word for word in {best.passage.publisher}: {said}"
                if diffs
                else f"in {best.passage.publisher}",
                diffs,
                _mark(best.sentence, {w for _, b in diffs for w in words(b)}),
                best,
            )
        best, _ = _best_sentence(quote, candidates, self.settings)
        where = f"; the closest passage ({best.passage.publisher}) says otherwise" if best else ""
        return QuoteCheck(
            "quote",
            quote,
            sentence,
            "none",
            False,
            f"these words are in none of the motion's sources{where}",
            [],
            "",
            best,
        )

    def check_figures(self, sentence: str) -> QuoteCheck | None:
        mine = figures(sentence)
        if not mine:
            return None
        claim = claim_text(sentence)
        passages = self._search(claim)
        shown = ", ".join(mine.values())
        for p in passages:  # a passage the checker accepts holds every figure
            if self._check(claim, p).ok:
                best, _ = _best_sentence(claim, [p], self.settings)
                return QuoteCheck(
                    "statistic",
                    shown,
                    sentence,
                    "found",
                    True,
                    f"{shown}: as in {p.publisher}",
                    [],
                    "",
                    best,
                )
        best, sim = _best_sentence(claim, passages, self.settings)
        theirs = figures(best.sentence) if best else {}
        missing = (
            {n: w for n, w in mine.items() if n not in numbers_in(best.sentence)} if best else mine
        )
        extra = {n: w for n, w in theirs.items() if n not in mine}
        if best is not None and missing and extra and sim >= SAME_TOPIC:
            pairs = list(zip(missing.values(), extra.values(), strict=False))
            said = "; ".join(f"you said {a}; the source says {b}" for a, b in pairs)
            return QuoteCheck(
                "statistic",
                shown,
                sentence,
                "differs",
                False,
                f"{said} ({best.passage.publisher})",
                pairs,
                _mark(best.sentence, set(words(" ".join(w for _, w in pairs)))),
                best,
            )
        if best is not None and not missing:
            return QuoteCheck(
                "statistic",
                shown,
                sentence,
                "found",
                False,
                f"{shown}: in {best.passage.publisher}, though the passage does "
                "not support the whole sentence",
                [],
                "",
                best,
            )
        return QuoteCheck(
            "statistic",
            shown,
            sentence,
            "none",
            False,
            f"{', '.join(missing.values())}: not in the motion's sources",
            [],
            "",
            best,
        )

    def check_attribution(self, sentence: str) -> Attribution | None:
        named = None
        low = sentence.lower()
        for name, _ in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", low):
                named = name
                break
        m = _ATTRIBUTED.search(sentence)
        if named is None:
            if not m:
                return None
            unknown = (m.group(1) or m.group(2)).strip()
            if unknown.split()[0].lower() in STOPWORDS | {"he", "she", "it", "they", "vučić"}:
                return None
            if not any(unknown.lower() in p.text.lower() for p in self.passages):
                if len(unknown) < 4 or unknown in self.motion.thesis:
                    return None
                return Attribution(
                    sentence,
                    unknown,
                    False,
                    False,
                    f"{unknown} is not among the motion's sources: "
                    "the claim cannot be checked against it",
                )
            named = unknown.lower()
        claim = claim_text(sentence)
        own = [p for p in self.passages if named in f"{p.publisher} {p.author}".lower()]
        mentioning = [p for p in self.passages if named in p.text.lower() and p not in own]
        quoted = self._quoted_passages(sentence)
        for p in own + mentioning:
            check = self._check(claim, p)
            if check.ok or (p in quoted and not _is_clash(check.reason)):
                return Attribution(sentence, named, True, True, f"{p.publisher} says this")
        label = own[0].publisher if own else named.title()
        # who else says it: the claim without "X reported that" / "according to X,"
        bare = _ATTRIBUTED.sub("", claim, count=1)
        bare = re.sub(r"^\W*(that\s+)?", "", bare).strip() or claim
        bare = bare[:1].upper() + bare[1:]
        backed = next(
            (p for p in self._search(bare) if p not in own and self._check(bare, p).ok), None
        )
        elsewhere = f"; {backed.publisher} does" if backed else ""
        return Attribution(sentence, label, True, False, f"{label} does not say this{elsewhere}")

    def review(self, turns: list, index: int) -> TurnFeedback:
        """Feedback on the student's turn turns[index] (Turn objects)."""
        turn = turns[index]
        text = turn.text
        student_side = other(turn.side)
        kind = message_kind(text)
        fb = TurnFeedback(index, text, kind, student_side, "")
        if kind in ("empty", "no-argument"):
            fb.problems.append(
                Problem(
                    "no-argument",
                    "This message makes no argument: make a "
                    "point, answer the bot's last speech, or ask a question.",
                )
            )
            return fb
        fb.argued_side = argued_side(text, self.motion, self.settings)
        if fb.argued_side == turn.side:
            fb.problems.append(
                Problem(
                    "wrong-side",
                    f"You argued the bot's side ({ROLE[turn.side]}: "
                    f"{self.motion.side_label(turn.side)}); your side is the "
                    f"{ROLE[student_side]}: {self.motion.side_label(student_side)}.",
                )
            )
        spans = claim_spans(text)
        evidence_problem: dict[int, Problem] = {}
        for s, e in spans:
            sentence = text[s:e]
            check = self.check_claim(sentence, s, e)
            fb.claims.append(check)
            if check.verdict == "contradicted":
                evidence_problem[s] = Problem(
                    "contradicted", f"The sources say otherwise: {check.reason}.", sentence
                )
            attribution = self.check_attribution(sentence)
            if attribution:
                fb.attributions.append(attribution)
                if attribution.known and not attribution.says_it:
                    evidence_problem[s] = Problem(
                        "misattribution", attribution.message + ".", sentence
                    )
                elif not attribution.known:
                    fb.notes.append(attribution.message + ".")
            for q in quotes_in(sentence):
                if len(words(q.text)) >= QUOTE_MIN_WORDS:
                    qc = self.check_quote(q.text, sentence)
                    fb.quotes.append(qc)
                    if qc.misquoted:
                        evidence_problem[s] = Problem(
                            "misquote", f'"{q.text}": {qc.message}.', sentence
                        )
            stat = self.check_figures(sentence)
            if stat:
                fb.quotes.append(stat)
                if stat.found == "differs":
                    evidence_problem[s] = Problem("misquote", stat.message + ".", sentence)
                elif stat.found == "none":
                    fb.notes.append(stat.message + ".")
            if check.verdict == "not-in-corpus":
                fb.notes.append(f"Not in the sources: {claim_text(sentence)}")
        fb.problems += list(evidence_problem.values())
        self._clash(turns, index, fb, [text[s:e] for s, e in spans])
        return fb

    def _clash(self, turns: list, index: int, fb: TurnFeedback, sentences: list[str]) -> None:
        previous = next((t for t in reversed(turns[:index]) if t.speaker == "bot"), None)
        if previous is None:
            return
        points = bot_points(previous.text, self.motion, previous.side, self.settings)
        for point, (j, _) in zip(
            points, clash_matrix(points, sentences, self.motion, self.settings), strict=True
        ):
            if j >= 0:
                fb.answered.append((point, claim_text(sentences[j])))
            else:
                fb.ignored.append(point)
        if points and not fb.answered:
            fb.problems.append(
                Problem(
                    "no-clash",
                    "You answered none of the bot's points: "
                    + " ".join(f"({i}) {p}" for i, p in enumerate(points, 1)),
                )
            )


def _window_ratio(quote: str, sentence: str) -> float:
    """Best difflib ratio of the quote against stretches of the sentence as long as it."""
    a, b = words(quote), words(sentence)
    if len(b) <= len(a):
        return 0.0
    return max(
        difflib.SequenceMatcher(a=a, b=b[i : i + len(a)], autojunk=False).ratio()
        for i in range(len(b) - len(a) + 1)
    )


def _quote_diffs(quote: str, sentence: str) -> list[tuple[str, str]]:
    """The differing words between the quote and the stretch of sentence it best matches."""
    a, b = words(quote), words(sentence)
    if len(b) > len(a):
        starts = range(len(b) - len(a) + 1)
        i = max(starts, key=lambda i: difflib.SequenceMatcher(a=a, b=b[i : i + len(a)]).ratio())
        b = b[i : i + len(a)]
    _, diffs, _ = _word_diff(" ".join(a), " ".join(b))
    # only changes of meaning: a content word or a figure, not "the" for "a"
    return [(x, y) for x, y in diffs if set(words(f"{x} {y}")) - STOPWORDS]


# ---------------------------------------------------------------- the round
@dataclass
class RoundFeedback:
    motion: str
    turns: list[TurnFeedback]
    flow: Flow
    ballot: Ballot
    chart: dict

    def to_dict(self) -> dict:
        return {
            "motion": self.motion,
            "turns": [t.to_dict() for t in self.turns],
            "flow": self.flow.to_dict(),
            "ballot": self.ballot.to_dict(),
            "chart": self.chart,
        }

    def chart_svg(self) -> str:
        return chart_svg(self.chart)


def round_of(source, settings: Settings | None = None) -> tuple[Motion, Settings, list[Turn]]:
    """(motion, settings, turns) of a Session, a transcript dict, or a transcript path."""
    from debate.config import load_settings

    if isinstance(source, (str, Path)):
        source = load_transcript(Path(source))
    settings = settings or getattr(source, "settings", None) or load_settings()
    if isinstance(source, dict):
        motion = load_motion(source["motion"], settings.corpus_dir)
        return motion, settings, [Turn.from_dict(t) for t in source.get("turns", [])]
    return source.motion, settings, list(source.turns)


def load_transcript(path: Path) -> dict:
    from debate.errors import DebateError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DebateError(f"cannot read the transcript {path}: {exc}") from exc
    if not isinstance(data, dict) or "motion" not in data or "turns" not in data:
        raise DebateError(f"{path} is not a saved transcript (no 'motion' or 'turns')")
    return data


def review_turn(source, index: int, settings: Settings | None = None) -> TurnFeedback:
    """Feedback on one student turn (index into the round's turns)."""
    motion, settings, turns = round_of(source, settings)
    return Reviewer(motion, settings).review(turns, index)


def review_round(source, settings: Settings | None = None, llm=None) -> RoundFeedback:
    """Feedback on every student turn, the flow, the ballot and the chart of a round.
    `llm`: a chat model for the ballot's reasons (default: settings.llm, if set)."""
    motion, settings, turns = round_of(source, settings)
    reviewer = Reviewer(motion, settings)
    feedback = [reviewer.review(turns, i) for i, t in enumerate(turns) if t.speaker == "student"]
    flow = build_from_turns(turns, motion, settings)
    ballot = score_round(feedback, flow, turns, settings, llm=llm)
    return RoundFeedback(motion.id, feedback, flow, ballot, chart_data(feedback, turns))


def list_rounds(settings: Settings) -> list[dict]:
    """Saved rounds, newest first: path, date, motion, sides and a ballot summary (the
    summary is the one saved next to the transcript by `save_ballot`, else "")."""
    import datetime

    out = []
    for path in sorted(settings.transcripts_dir.glob("*/*.json"), reverse=True):
        if path.name.endswith(".ballot.json"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("skipping unreadable transcript %s", path)
            continue
        ballot_path = path.with_suffix(".ballot.json")
        summary = ""
        if ballot_path.is_file():
            try:
                summary = json.loads(ballot_path.read_text(encoding="utf-8")).get("summary", "")
            except (OSError, ValueError):
                pass
        started = float(data.get("started", 0))
        out.append(
            {
                "path": str(path),
                "date": datetime.datetime.fromtimestamp(started, datetime.UTC).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "motion": data.get("motion", ""),
                "sides": [s for _, s in data.get("side_history", [])] or [data.get("bot_side", "")],
                "turns": len(data.get("turns", [])),
                "ballot": summary,
            }
        )
    return out


def save_ballot(path: Path, feedback: RoundFeedback) -> Path:
    """Keep the round's feedback next to its transcript (TRANSCRIPT.ballot.json)."""
    target = Path(path).with_suffix(".ballot.json")
    data = {"summary": feedback.ballot.summary(), **feedback.to_dict()}
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return target
