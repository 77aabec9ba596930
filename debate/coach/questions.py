"""The bot's questions in cross-examination and crossfire: pointed, one at a time, written
from what the coaching checks and the flow found in the round so far.

In this order, skipping any question already asked in the round:
1. a figure the student gave that the sources do not hold (`EvidenceChecks.check_figures`
   says `none`, or `differs`: the sources give another number): ask for its source;
2. a contention of the bot the student dropped (`Flow.dropped("bot")`, only the motion's
   contentions, not the cited sentences of its answers): press it;
3. the student's latest claim that no passage backs: ask for the evidence behind it.
Only the student's speeches are read for 1 and 3, not their answers to earlier questions.
None of them: "" (the bot has no question left).

`next_question(session)` is what `Session.questioner` expects (the session cannot import
the coach layer, so the caller hands it this function).
"""

from __future__ import annotations

from debate.check.claims import claim_text
from debate.coach.evidence_checks import EvidenceChecks
from debate.coach.flow import build_from_turns, student_claims
from debate.corpus.motions import SIDES
from debate.spar.engines.evidence import lower_first

# The student's latest turns whose figures and claims are questioned (older ones are cold).
RECENT_TURNS = 3


def _short(text: str, limit: int = 30) -> str:
    """The claim as a clause after "that": its first word lowered unless it is a name."""
    words = lower_first(claim_text(text).rstrip(".!")).split()
    return " ".join(words[:limit]) + ("..." if len(words) > limit else "")


def figure_questions(session, checks: EvidenceChecks) -> list[str]:
    """Questions asking for the source of the student's figures the sources lack."""
    out = []
    for turn in _recent_student_turns(session):
        for s, e in student_claims(turn.text):
            found = checks.check_figures(turn.text[s:e])
            if found is not None and found.found in ("none", "differs"):
                out.append(
                    f"You said that {_short(turn.text[s:e])}. Where does the figure of "
                    f"{found.text} come from: which source, and of what date?"
                )
    return out


def dropped_questions(session) -> list[str]:
    """Questions pressing the bot's arguments that no student turn has answered."""
    flow = build_from_turns(session.turns, session.motion, session.settings)
    contentions = {c.claim for side in SIDES for c in session.motion.contentions_for(side)}
    out = []
    for argument in flow.dropped("bot"):
        if argument.text not in contentions:  # a cited sentence of an answer, not a case
            continue
        speech = argument.speech or f"turn {argument.turn + 1}"
        out.append(
            f"In my {speech} I argued that {_short(argument.text)}. You have not answered "
            "it: what is your answer?"
        )
    return out


def evidence_questions(session, checks: EvidenceChecks) -> list[str]:
    """Questions asking what backs the student's claims that no passage says."""
    out = []
    for turn in _recent_student_turns(session):
        for s, e in student_claims(turn.text):
            sentence = claim_text(turn.text[s:e])
            if not any(checks.check(sentence, p).ok for p in checks.search(sentence)):
                out.append(f"You claim that {_short(sentence)}. What evidence shows that?")
    return out


def _recent_student_turns(session) -> list:
    """The student's latest speeches (not their answers in a questioning period)."""
    turns = [
        t
        for t in session.turns
        if t.speaker == "student" and t.text.strip() and t.phase != "question"
    ]
    return list(reversed(turns[-RECENT_TURNS:]))


def next_question(session) -> str:
    """The bot's next question in the round (see module doc); "" when none is left."""
    asked = {t.text for t in session.turns if t.speaker == "bot" and t.engine == "questions"}
    checks = EvidenceChecks(session.motion, session.settings)
    for make in (
        lambda: figure_questions(session, checks),
        lambda: dropped_questions(session),
        lambda: evidence_questions(session, checks),
    ):
        fresh = [q for q in make() if q not in asked]
        if fresh:
            return fresh[0]
    return ""
