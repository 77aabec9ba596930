"""Coaching feedback on the student's turns: their claims checked against the motion's
corpus with the same citation checker the bot's speeches pass, their quotes and figures
compared with the sources, the clash with the bot's points, and the side they argue.
The flow sheet is `debate.coach.flow`; the ballot and the round's chart are `debate.coach.ballot`;
the quote, figure and attribution checks are `debate.coach.evidence_checks`.

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

**Quotes**, **statistics** and **attribution**: see `debate.coach.evidence_checks`.

**Clash**: the bot's points are those of its previous speech (`flow.bot_points`); each is
answered when a claim of the turn meets the clash rule of `debate.coach.flow`. A turn that
answers none of them is flagged (`no-clash`); the ones ignored are listed either way.

**Side**: `engines.plan.argued_side`; arguing the bot's side is flagged (`wrong-side`).

Problems flagged: misquote, misattribution, contradicted, no-clash, wrong-side,
no-argument; at most one evidence problem per sentence, the most specific (misquote, then
misattribution, then contradicted).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from debate.check.claims import canonical, claim_text, content_tokens, is_factual, numbers_in
from debate.coach.ballot import Ballot, chart_data, chart_svg, score_round
from debate.coach.evidence_checks import (
    QUOTE_MIN_WORDS,
    SAME_TOPIC,
    Attribution,
    EvidenceChecks,
    QuoteCheck,
    SourceSentence,
    figures,
    is_clash,
)
from debate.coach.flow import Flow, bot_points, build_from_turns, clash_matrix
from debate.coach.flow import student_claims as claim_spans
from debate.core.config import Settings
from debate.core.text import quotes_in, words
from debate.corpus.gazetteer import for_motion
from debate.corpus.motions import ROLE, Motion, load_motion, other_side
from debate.spar.message import argued_side, message_kind
from debate.spar.transcript import Turn

log = logging.getLogger(__name__)

EVIDENCE_PROBLEMS = ("misquote", "misattribution", "contradicted")


# ---------------------------------------------------------------- records
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


# ---------------------------------------------------------------- one turn
class Reviewer:
    """Feedback on the student's turns of one round (retriever and names built once)."""

    def __init__(self, motion: Motion, settings: Settings):
        self.motion = motion
        self.settings = settings
        self.evidence = EvidenceChecks(motion, settings)
        self.gaz = for_motion(motion.id)
        self.thesis_tokens = content_tokens(canonical(motion.thesis, self.gaz))

    def check_claim(self, sentence: str, start: int, end: int) -> ClaimCheck:
        claim = claim_text(sentence)
        factual = is_factual(claim)
        if self.thesis_tokens and self.thesis_tokens <= content_tokens(canonical(claim, self.gaz)):
            return ClaimCheck(sentence, start, end, factual, "motion", "states the motion itself")
        ev = self.evidence
        quoted = ev.quoted_passages(sentence)
        passages = list(dict.fromkeys(quoted + ev.search(claim)))
        clash = None
        for p in passages:
            check = ev.check(claim, p)
            if check.ok or (p in quoted and not is_clash(check.reason)):
                if not check.ok:
                    check.reason = f"quotes {p.publisher} word for word"
                best, _ = ev.best_sentence(claim, [p])
                return ClaimCheck(sentence, start, end, factual, "backed", check.reason, best)
            best, sim = ev.best_sentence(claim, [p])
            if clash is None and sim >= SAME_TOPIC:
                if is_clash(check.reason):
                    clash = (check.reason, best)
                else:
                    lost = [w for n, w in figures(claim).items() if n not in numbers_in(p.text)]
                    if lost and figures(best.sentence):
                        clash = (f"number clash: {', '.join(lost)} not in the passage", best)
        if clash:
            return ClaimCheck(sentence, start, end, factual, "contradicted", clash[0], clash[1])
        best, _ = ev.best_sentence(claim, passages)
        return ClaimCheck(
            sentence, start, end, factual, "not-in-corpus", "no passage says this", best
        )

    def review(self, turns: list, index: int) -> TurnFeedback:
        """Feedback on the student's turn turns[index] (Turn objects)."""
        turn = turns[index]
        text = turn.text
        student_side = other_side(turn.side)
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
        for s, e in spans:
            problem = self._check_sentence(fb, text[s:e], s, e)
            if problem:
                fb.problems.append(problem)
        self._clash(turns, index, fb, [text[s:e] for s, e in spans])
        return fb

    def _check_sentence(self, fb: TurnFeedback, sentence: str, s: int, e: int) -> Problem | None:
        """Claim, attribution, quote and figure checks of one sentence, recorded on fb; the
        sentence's evidence problem, the most specific one (the last found)."""
        problem = None
        check = self.check_claim(sentence, s, e)
        fb.claims.append(check)
        if check.verdict == "contradicted":
            problem = Problem(
                "contradicted", f"The sources say otherwise: {check.reason}.", sentence
            )
        attribution = self.evidence.check_attribution(sentence)
        if attribution:
            fb.attributions.append(attribution)
            if attribution.known and not attribution.says_it:
                problem = Problem("misattribution", attribution.message + ".", sentence)
            elif not attribution.known:
                fb.notes.append(attribution.message + ".")
        for q in quotes_in(sentence):
            if len(words(q.text)) >= QUOTE_MIN_WORDS:
                qc = self.evidence.check_quote(q.text, sentence)
                fb.quotes.append(qc)
                if qc.misquoted:
                    problem = Problem("misquote", f'"{q.text}": {qc.message}.', sentence)
        stat = self.evidence.check_figures(sentence)
        if stat:
            fb.quotes.append(stat)
            if stat.found == "differs":
                problem = Problem("misquote", stat.message + ".", sentence)
            elif stat.found == "none":
                fb.notes.append(stat.message + ".")
        if check.verdict == "not-in-corpus":
            fb.notes.append(f"Not in the sources: {claim_text(sentence)}")
        return problem

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
    from debate.core.config import load_settings

    if isinstance(source, (str, Path)):
        source = load_transcript(Path(source))
    settings = settings or getattr(source, "settings", None) or load_settings()
    if isinstance(source, dict):
        motion = load_motion(source["motion"], settings.corpus_dir)
        return motion, settings, [Turn.from_dict(t) for t in source.get("turns", [])]
    return source.motion, settings, list(source.turns)


def load_transcript(path: Path) -> dict:
    from debate.core.errors import DebateError

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


def review_round(
    source, settings: Settings | None = None, llm=None, judge: str = "flow"
) -> RoundFeedback:
    """Feedback on every student turn, the flow, the ballot and the chart of a round.
    `llm`: a chat model for the ballot's reasons (default: settings.llm, if set); `judge`:
    the paradigm the ballot is written for (flow or lay, `ballot.JUDGES`)."""
    motion, settings, turns = round_of(source, settings)
    reviewer = Reviewer(motion, settings)
    feedback = [reviewer.review(turns, i) for i, t in enumerate(turns) if t.speaker == "student"]
    flow = build_from_turns(turns, motion, settings)
    ballot = score_round(feedback, flow, turns, settings, llm=llm, judge=judge)
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
