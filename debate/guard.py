"""The citation guard: no LLM reply reaches the student before the checker has read it.

Every sentence is checked with `debate.faithfulness`. If some fail and the engine gave us a
way to regenerate, the model gets ONE more try with the checker's reasons. Whatever still
fails is removed (default) or visibly marked; a fabricated `[n]` is never shown as a real
citation. The reply leaves with `reply.verdicts` set, so the UI can show a badge.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

from debate.citations import CITATION_RE, Reply
from debate.config import Settings
from debate.errors import DebateError
from debate.faithfulness import FAILING, Verdict, check_reply

log = logging.getLogger(__name__)

# Shown when nothing of a reply survives the checks: better an honest gap than an
# unsupported claim.
NOTHING_LEFT = "I cannot support that point with the evidence available for this turn."


def failures(verdicts: list[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.status in FAILING]


def feedback_for(verdicts: list[Verdict], settings: Settings) -> str:
    """The checker's reasons, worded as instructions for the regeneration."""
    lines = "\n".join(f'- "{v.sentence.strip()}": {v.reason}' for v in failures(verdicts))
    path = settings.prompts_dir / "guard_feedback.txt"
    if path.is_file():
        return path.read_text(encoding="utf-8").format(problems=lines)
    return f"These sentences are not supported by the numbered evidence:\n{lines}"


def _neutralise(sentence: str, reply: Reply) -> str:
    """Turn markers that point outside the evidence list into a visible `[n?]`, which the
    citation parser does not read as a citation."""

    def fix(match: re.Match) -> str:
        numbers = [int(x) for x in re.findall(r"\d+", match.group(1))]
        if all(reply.evidence.get(n) is not None for n in numbers):
            return match.group(0)
        shown = (str(n) if reply.evidence.get(n) is not None else f"{n}?" for n in numbers)
        return "[" + ", ".join(shown) + "]"

    return CITATION_RE.sub(fix, sentence)


def clean(reply: Reply, verdicts: list[Verdict], mode: str = "remove") -> Reply:
    """A new Reply without (mode="remove") or with visibly marked (mode="mark") failing
    sentences, each one explained in the notices."""
    pieces, pos = [], 0
    notices = list(reply.notices)
    for v in verdicts:
        pieces.append(reply.text[pos : v.start])
        pos = v.end
        if v.status not in FAILING:
            pieces.append(v.sentence)
            continue
        if mode == "mark":
            # The reason names evidence numbers; written as "evidence 3", not "[3]", so that
            # nothing in the mark reads as a citation.
            reason = CITATION_RE.sub(lambda m: "evidence " + m.group(1), v.reason)
            pieces.append(f"⚠ [unverified: {reason}] {_neutralise(v.sentence, reply)}")
            notices.append(f"Marked as unverified ({v.reason}): {v.sentence.strip()}")
        else:
            notices.append(
                f"Removed a sentence the evidence does not support ({v.reason}): "
                f"{_neutralise(v.sentence.strip(), reply)}"
            )
    pieces.append(reply.text[pos:])
    # Tidy the gaps left by removed sentences; keep paragraph breaks.
    text = re.sub(r"[ \t]{2,}", " ", "".join(pieces))
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return Reply(
        text=text or NOTHING_LEFT,
        evidence=reply.evidence,
        side=reply.side,
        phase=reply.phase,
        engine=reply.engine,
        notices=notices,
        verdicts=[],
    )


def guard_reply(
    reply: Reply,
    settings: Settings,
    regenerate: Callable[[str], Reply] | None = None,
    mode: str = "remove",
) -> Reply:
    """Check `reply`; regenerate once with the reasons if needed; remove or mark what still
    fails. Returns the reply to show, with `.verdicts` describing its final text."""
    verdicts = check_reply(reply, settings)
    if failures(verdicts) and regenerate is not None:
        feedback = feedback_for(verdicts, settings)
        try:
            second = regenerate(feedback)
        except DebateError as exc:
            log.warning("regeneration failed, keeping the first reply: %s", exc)
            second = None
        if second is not None:
            second_verdicts = check_reply(second, settings)
            # Keep whichever try the checker likes better; ties go to the regeneration,
            # which was written with the reasons in hand.
            if len(failures(second_verdicts)) <= len(failures(verdicts)):
                reply, verdicts = second, second_verdicts
    if failures(verdicts):
        reply = clean(reply, verdicts, mode)
        # What is left after removal already passed the LLM judge (if any): re-check the
        # new text offline rather than pay for the same judgements twice.
        recheck = replace(settings, llm="") if mode == "remove" else settings
        verdicts = check_reply(reply, recheck)
        if mode == "remove" and failures(verdicts):
            # Removal can merge fragments into a new failing sentence: remove once more.
            reply = clean(reply, verdicts, mode)
            verdicts = check_reply(reply, recheck)
    reply.verdicts = verdicts
    return reply
