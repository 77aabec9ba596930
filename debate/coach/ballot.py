"""The ballot at the end of a round: rubric scores 1-5 with a one-sentence reason each, two
things to do better next time, and a chart of evidence quality per turn.

Scores are rules over the flow (`debate.coach.flow`) and the evidence checks of the student's
turns (`debate.coach.feedback`); each is `1 + round(4 * share)` for a share in [0, 1]:

- **claim clarity**: share of the student's claims that make one point in a readable
  sentence (CLEAR_WORDS words) in a turn that argues their own side; a turn with no
  argument counts as one unclear claim, a turn on the bot's side makes all its claims unclear;
- **evidence**: share of the student's checked claims (all but statements of the motion)
  the corpus backs, minus EVIDENCE_PENALTY for each misquote, misattribution or
  contradicted claim (ALCE-style citation recall, applied to the student's own words);
- **clash**: share of the bot's arguments (flow rows) that a student turn answered;
- **rebuttal**: share of the bot's arguments answered by a student sentence that the
  corpus backs (an answer with evidence); answers from a turn on the bot's side do not count.

With an LLM (settings.llm or `llm=`), the model rewrites the reasons from the same facts
(prompts/feedback.txt). Scores stay the rules'; a reason that names another score, or
shares fewer than FACT_WORDS_MIN content words with its facts, is replaced by the rule's.

**Judges.** The ballot is written for a judge paradigm (`judge=`, JUDGES):
- `flow` (the default; a technical judge who keeps a flow sheet): weights clash 0.35,
  rebuttal 0.3, evidence 0.25, claim clarity 0.1, since a dropped argument is conceded and
  an answer counts when it is carded; reasons in debaters' words, as the rules write them;
- `lay` (a parent or community judge, no flow): weights claim clarity 0.35, evidence 0.3,
  clash 0.2, rebuttal 0.15, since what persuades them is a clear story told with sources they
  can believe; reasons in plain words (LAY_WORDS: "argument" -> "point", "dropped" -> "left
  unanswered") after a question such a judge asks themself (LAY_LEADS).
The criteria's scores are the same for both; the weighted score (1-5) is the weights'
mean of them.

The chart: per turn, the share of checked sentences that the sources support: for the bot
its verdicts (supported / cited or factual sentences), for the student their claims
(backed / checked, misquotes counting as not backed).
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field

from debate.check.claims import claim_text, content_tokens
from debate.coach.flow import Flow
from debate.core.config import Settings
from debate.core.errors import DebateError
from debate.core.text import words

log = logging.getLogger(__name__)

CRITERIA = ("claim clarity", "evidence", "clash", "rebuttal")
CLEAR_WORDS = (5, 35)
EVIDENCE_PENALTY = 0.2
FACT_WORDS_MIN = 2

JUDGES = {
    "flow": {"claim clarity": 0.1, "evidence": 0.25, "clash": 0.35, "rebuttal": 0.3},
    "lay": {"claim clarity": 0.35, "evidence": 0.3, "clash": 0.2, "rebuttal": 0.15},
}
LAY_LEADS = {
    "claim clarity": "Could I follow you?",
    "evidence": "Could I believe you?",
    "clash": "Did you answer the bot?",
    "rebuttal": "Did your answers convince me?",
}
LAY_WORDS = (
    (r"\barguments\b", "points"),
    (r"\bargument\b", "point"),
    (r"\bdropped\b", "left unanswered"),
    (r"\bchecked claims?\b", "claims I could check"),
    (r"\bclaims\b", "points"),
    (r"\bclaim\b", "point"),
)


@dataclass
class Score:
    criterion: str
    score: int  # 1-5
    reason: str  # one sentence, grounded in the facts below
    facts: list[str] = field(default_factory=list)
    rule_reason: str = ""  # the rule's sentence (kept when an LLM wrote `reason`)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Ballot:
    scores: list[Score]
    improvements: list[str]  # two concrete things to do better next time
    reasons_by: str = "rules"  # rules | llm:<spec>
    judge: str = "flow"  # the paradigm the ballot is written for (JUDGES)

    @property
    def weights(self) -> dict[str, float]:
        return JUDGES[self.judge]

    def weighted(self) -> float:
        """The criteria's scores averaged with the judge's weights (1-5)."""
        return round(sum(self.weights[s.criterion] * s.score for s in self.scores), 2)

    def score(self, criterion: str) -> int:
        return next(s.score for s in self.scores if s.criterion == criterion)

    def summary(self) -> str:
        parts = ", ".join(f"{s.criterion} {s.score}" for s in self.scores)
        return f"{parts} ({sum(s.score for s in self.scores)}/{5 * len(self.scores)})"

    def to_dict(self) -> dict:
        return {
            "scores": [s.to_dict() for s in self.scores],
            "improvements": list(self.improvements),
            "summary": self.summary(),
            "reasons_by": self.reasons_by,
            "judge": self.judge,
            "weights": dict(self.weights),
            "weighted": self.weighted(),
        }

    def to_markdown(self) -> str:
        lines = ["| Criterion | Score | Reason |", "|---|---|---|"]
        lines += [f"| {s.criterion} | {s.score}/5 | {s.reason} |" for s in self.scores]
        lines += ["", "**Next time:**", ""]
        lines += [f"{i}. {x}" for i, x in enumerate(self.improvements, 1)]
        weights = ", ".join(f"{c} {w:g}" for c, w in self.weights.items())
        lines += ["", f"**Judge:** {self.judge} ({weights}): {self.weighted():g}/5"]
        return "\n".join(lines)


def _scale(share: float) -> int:
    return 1 + round(4 * max(0.0, min(1.0, share)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def check_judge(judge: str) -> str:
    if judge not in JUDGES:
        raise DebateError(f"unknown judge {judge!r}: use one of {', '.join(JUDGES)}")
    return judge


def lay_reason(reason: str, criterion: str) -> str:
    """A rule's reason as a lay judge would put it (LAY_LEADS, LAY_WORDS)."""
    for pattern, plain in LAY_WORDS:
        reason = re.sub(pattern, plain, reason)
    return f"{LAY_LEADS[criterion]} {reason}"


def score_round(
    feedback: list, flow: Flow, turns: list, settings: Settings, llm=None, judge: str = "flow"
) -> Ballot:
    """The ballot from the student's TurnFeedback list and the round's flow, for a judge."""
    check_judge(judge)
    claims = [(fb, c) for fb in feedback for c in fb.claims]
    problems = [p for fb in feedback for p in fb.problems]
    wrong = {fb.turn for fb in feedback if "wrong-side" in fb.problem_kinds}
    evidence, backed = _evidence_score(claims, problems)
    scores = [
        _clarity_score(feedback, claims, wrong),
        evidence,
        _clash_score(flow),
        _rebuttal_score(flow, backed, wrong),
    ]
    for s in scores:
        if judge == "lay":
            s.reason = lay_reason(s.reason, s.criterion)
        s.rule_reason = s.reason
    ballot = Ballot(scores, improvements(feedback, flow, scores), judge=judge)
    if llm is None and settings.llm:
        try:
            from debate.core.chat_model import make_chat_model

            llm = make_chat_model(settings)
        except Exception as exc:  # any provider problem: the rules' reasons stand
            log.warning("no LLM for the ballot's reasons: %s", exc)
    if llm is not None:
        llm_reasons(ballot, llm, settings)
    return ballot


def _clarity_score(feedback: list, claims: list, wrong: set[int]) -> Score:
    empty = sum(fb.kind in ("empty", "no-argument") for fb in feedback)
    clear = [
        c
        for fb, c in claims
        if fb.turn not in wrong and CLEAR_WORDS[0] <= len(words(c.sentence)) <= CLEAR_WORDS[1]
    ]
    total = len(claims) + empty
    share = len(clear) / total if total else 0.0
    facts = [f"{len(clear)} of {_plural(total, 'claim')} clear and on your side"]
    if wrong:
        facts.append(f"{_plural(len(wrong), 'turn')} argued the bot's side")
    if empty:
        facts.append(f"{_plural(empty, 'message')} made no argument")
    reason = _cap(facts[0]) + (f"; {'; '.join(facts[1:])}" if facts[1:] else "") + "."
    return Score("claim clarity", _scale(share), reason, facts)


def _evidence_score(claims: list, problems: list) -> tuple[Score, list]:
    """The evidence score and the student's backed claims."""
    checked = [c for _, c in claims if c.verdict != "motion"]
    backed = [c for c in checked if c.verdict == "backed"]
    bad = [p for p in problems if p.kind in ("misquote", "misattribution", "contradicted")]
    share = (len(backed) / len(checked) if checked else 0.0) - EVIDENCE_PENALTY * len(bad)
    facts = [
        f"{len(backed)} of your {_plural(len(checked), 'checked claim')} backed by the sources"
    ]
    facts += [f"{p.kind}: {p.message}" for p in bad]
    reason = (
        _cap(facts[0])
        + (
            f", and {_plural(len(bad), 'evidence problem')} ({bad[0].message.rstrip('.')})"
            if bad
            else ""
        )
        + "."
    )
    return Score("evidence", _scale(share), reason, facts), backed


def _clash_score(flow: Flow) -> Score:
    """Over the bot's arguments in the flow: the share a student turn answered."""
    bot_args = flow.of("bot")
    answered = [a for a in bot_args if a.responses]
    share = len(answered) / len(bot_args) if bot_args else 0.0
    dropped = [a.text for a in bot_args if not a.responses]
    facts = [f"you answered {len(answered)} of the bot's {_plural(len(bot_args), 'argument')}"]
    facts += [f"dropped: {t}" for t in dropped]
    reason = (
        _cap(facts[0])
        + (
            f"; you dropped: {dropped[0].rstrip('.')}"
            + (f" and {len(dropped) - 1} more" if len(dropped) > 1 else "")
            if dropped
            else ""
        )
        + "."
    )
    return Score("clash", _scale(share), reason, facts)


def _rebuttal_score(flow: Flow, backed: list, wrong: set[int]) -> Score:
    """Over the bot's arguments: the share answered by a student claim the corpus backs."""
    bot_args = flow.of("bot")
    backed_claims = {claim_text(c.sentence) for c in backed}
    with_evidence = [
        a
        for a in bot_args
        if a.responses
        and any(
            r.speaker == "student" and r.turn not in wrong and r.text in backed_claims
            for r in a.responses
        )
    ]
    share = len(with_evidence) / len(bot_args) if bot_args else 0.0
    facts = [
        f"{len(with_evidence)} of the bot's {_plural(len(bot_args), 'argument')} "
        "answered with evidence the sources back"
    ]
    return Score("rebuttal", _scale(share), _cap(facts[0]) + ".", facts)


def improvements(feedback: list, flow: Flow, scores: list[Score]) -> list[str]:
    """Two concrete things to do better, from the weakest criteria first."""
    ideas: dict[str, list[str]] = {c: [] for c in CRITERIA}
    for fb in feedback:
        for p in fb.problems:
            if p.kind == "misquote":
                ideas["evidence"].append(
                    f"Check every figure and quote against the source before you use it: {p.message}"
                )
            elif p.kind == "misattribution":
                ideas["evidence"].append(f"Name the source that actually says it: {p.message}")
            elif p.kind == "contradicted":
                ideas["evidence"].append(
                    f"Drop or qualify claims the sources contradict: {p.message}"
                )
            elif p.kind == "wrong-side":
                ideas["claim clarity"].append(f"Argue your own side. {p.message}")
            elif p.kind == "no-argument":
                ideas["claim clarity"].append(
                    "Make an argument in every turn: a claim, a reason, and the evidence for it."
                )
        for c in fb.claims:
            if c.verdict == "not-in-corpus":
                ideas["evidence"].append(f"Back this claim with a source: {c.sentence.strip()}")
    dropped = flow.dropped("bot")
    if dropped:
        ideas["clash"].append(
            f"Answer every point of the bot's case; you dropped: {dropped[0].text}"
        )
        ideas["rebuttal"].append(f"Answer the bot's point with evidence: {dropped[0].text}")
    ideas["rebuttal"].append(
        "Back each answer with a quotation from the sources and say whose words they are."
    )
    ideas["claim clarity"].append(
        "Put one claim in each sentence and say which of the bot's points it answers."
    )
    ideas["evidence"].append("Quote the sources word for word and name them.")
    ideas["clash"].append("Weigh your strongest point against the bot's in your last speech.")
    out: list[str] = []
    for s in sorted(scores, key=lambda s: s.score):
        for idea in ideas[s.criterion]:
            if idea not in out:
                out.append(idea)
                break
        if len(out) == 2:
            break
    return out


# ---------------------------------------------------------------- LLM-written reasons
_SCORE_MENTION = re.compile(
    r"\b([0-9])\s*(?:/|out of)\s*5\b|\bscore[sd]?\s*(?:of\s*)?([0-9])\b", re.I
)


def acceptable_reason(text: str, score: Score) -> bool:
    """An LLM reason may stand when it is one non-empty sentence-sized text, names no score
    other than the rule's, and shares FACT_WORDS_MIN content words with the facts."""
    text = (text or "").strip()
    if not text or len(text) > 400:
        return False
    for m in _SCORE_MENTION.finditer(text):
        if int(m.group(1) or m.group(2)) != score.score:
            return False
    facts = content_tokens(" ".join(score.facts))
    return len(content_tokens(text) & facts) >= FACT_WORDS_MIN


def llm_reasons(ballot: Ballot, llm, settings: Settings) -> None:
    """Let the LLM write the reasons from the facts (prompts/feedback.txt); keep the rules'
    reason for every criterion where its text is not acceptable."""
    from pathlib import Path

    try:
        template = (Path(settings.prompts_dir) / "feedback.txt").read_text(encoding="utf-8")
        facts = "\n".join(
            f"- {s.criterion} (score {s.score}/5): " + "; ".join(s.facts) for s in ballot.scores
        )
        from langchain_core.messages import HumanMessage

        answer = llm.invoke([HumanMessage(template.format(facts=facts))]).text
        data = json.loads(re.search(r"\{.*\}", answer, re.S).group(0))
    except Exception as exc:  # a failed or malformed answer: the rules' reasons stand
        log.warning("LLM ballot reasons not used: %s", exc)
        return
    used = 0
    for s in ballot.scores:
        text = data.get(s.criterion) if isinstance(data, dict) else None
        if isinstance(text, str) and acceptable_reason(text, s):
            s.reason = " ".join(text.split())
            used += 1
    if used:
        ballot.reasons_by = f"llm:{settings.llm}" if settings.llm else "llm"


# ---------------------------------------------------------------- chart
def chart_data(feedback: list, turns: list) -> dict:
    """Evidence quality per turn, 0-1 (None: nothing checkable), for both sides."""
    by_turn = {fb.turn: fb for fb in feedback}
    points = []
    for i, t in enumerate(turns):
        if t.speaker == "bot":
            counted = [v for v in t.verdicts if v.status != "not-factual"]
            value = (
                sum(v.status == "supported" for v in counted) / len(counted) if counted else None
            )
        elif t.speaker == "student" and i in by_turn:
            fb = by_turn[i]
            checked = [c for c in fb.claims if c.verdict != "motion"]
            bad = {p.sentence for p in fb.problems if p.sentence}
            good = [c for c in checked if c.verdict == "backed" and c.sentence not in bad]
            value = len(good) / len(checked) if checked else None
        else:
            continue
        points.append({"turn": i + 1, "speaker": t.speaker, "value": value})
    return {
        "metric": "evidence quality (share of checked sentences the sources support)",
        "points": points,
    }


def chart_svg(data: dict, width: int = 360, height: int = 140) -> str:
    """A small bar chart of chart_data: one bar per turn (bot grey-blue, student green),
    height = evidence quality; a turn with nothing to check shows a dash."""
    points = data.get("points", [])
    pad, base = 24, height - 22
    step = (width - 2 * pad) / max(1, len(points))
    bar = max(4.0, step * 0.6)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(data.get("metric", ""))}">',
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#999"/>',
    ]
    for i, p in enumerate(points):
        x = pad + i * step + (step - bar) / 2
        colour = "#5b7fa6" if p["speaker"] == "bot" else "#3c9a5f"
        label = html.escape(f"turn {p['turn']} ({p['speaker']})")
        if p["value"] is None:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{base - 4}" font-size="10" '
                f'text-anchor="middle">–<title>{label}: nothing to check</title></text>'
            )
        else:
            h = (base - pad) * p["value"]
            out.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{label}: {p["value"]:.0%}</title></rect>'
            )
        out.append(
            f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="10" '
            f'text-anchor="middle">{p["turn"]}</text>'
        )
    out.append(
        f'<text x="{pad}" y="14" font-size="11">{html.escape("evidence quality per turn")}</text>'
    )
    out.append("</svg>")
    return "".join(out)
