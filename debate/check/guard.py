"""The citation guard: no LLM reply reaches the student before the checker has read it.

Every sentence is checked with `debate.check.faithfulness`, then (when an LLM is configured) by
the LLM judge, which can only veto. One policy, whatever the path: a sentence that fails is
never shown; it is dropped and named in a notice (`drop_failing`, `removed_notice`), and a
fabricated `[n]` is never shown as a real citation. What differs is only what the path
allows before that: a whole reply (`guard_reply`, `debate reply` and the eval's debate
suite) gets ONE regeneration with the checker's reasons when the engine offers one; a
streamed reply (`guard_stream`: the page and `debate spar`, what students see) releases
each sentence once it is checked and holds back the ones that fail. Replies leave with
`reply.verdicts` set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Iterable
from dataclasses import replace

from debate.check.citations import CITATION_RE, EvidenceList, Reply, parse_citations
from debate.check.faithfulness import (
    FAILING,
    SUPPORT_THRESHOLD,
    Verdict,
    check_reply,
    check_sentence,
)
from debate.check.judge import judge_verdicts
from debate.check.speech_rules import apply_rules
from debate.core.config import Settings
from debate.core.errors import DebateError
from debate.core.text import sentence_spans

log = logging.getLogger(__name__)

# Shown when nothing of a reply survives the checks: better an honest gap than an
# unsupported claim.
NOTHING_LEFT = "I cannot support that point with the evidence available for this turn."


def failures(verdicts: list[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.status in FAILING]


def check(reply: Reply, settings: Settings) -> list[Verdict]:
    """The checker's verdicts and the speech rules (LLM replies), then the LLM judge's
    vetoes when an LLM is configured."""
    earlier: list[str] = []
    verdicts = [apply_rules(v, reply, settings, earlier) for v in check_reply(reply, settings)]
    if settings.llm:
        verdicts = judge_verdicts(reply, verdicts, settings)
    return verdicts


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


def removed_notice(verdict: Verdict, reply: Reply) -> str:
    """The notice for a sentence the guard kept from the student (fake numbers defused).
    Prompt scaffolding is named, never shown."""
    if verdict.status == "scaffolding":
        return f"Removed text that is not part of a speech ({verdict.reason})."
    if verdict.status in ("meta", "repeated", "off-side", "unfinished"):
        return (
            f"Removed a sentence ({verdict.reason}): {_neutralise(verdict.sentence.strip(), reply)}"
        )
    return (
        f"Removed a sentence the evidence does not support "
        f"({_neutralise(verdict.reason, reply)}): {_neutralise(verdict.sentence.strip(), reply)}"
    )


def drop_failing(reply: Reply, verdicts: list[Verdict]) -> Reply:
    """A new Reply without the failing sentences, each one named in the notices."""
    pieces, pos = [], 0
    notices = list(reply.notices)
    for v in verdicts:
        pieces.append(reply.text[pos : v.start])
        pos = v.end
        if v.status in FAILING:
            notices.append(removed_notice(v, reply))
        else:
            pieces.append(v.sentence)
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
) -> Reply:
    """Check `reply`; regenerate once with the reasons if needed; drop what still fails.
    Returns the reply to show, with `.verdicts` describing its final text."""
    verdicts = check(reply, settings)
    if failures(verdicts) and regenerate is not None:
        feedback = feedback_for(verdicts, settings)
        try:
            second = regenerate(feedback)
        except DebateError as exc:
            log.warning("regeneration failed, keeping the first reply: %s", exc)
            second = None
        if second is not None:
            second_verdicts = check(second, settings)
            # Keep whichever try the checker likes better; ties go to the regeneration,
            # which was written with the reasons in hand.
            if len(failures(second_verdicts)) <= len(failures(verdicts)):
                reply, verdicts = second, second_verdicts
    if failures(verdicts):
        reply = drop_failing(reply, verdicts)
        # What is left after removal already passed the LLM judge (if any): re-check the
        # new text offline rather than pay for the same judgements twice.
        recheck = replace(settings, llm="")
        verdicts = check(reply, recheck)
        if failures(verdicts):
            # Removal can merge fragments into a new failing sentence: remove once more.
            reply = drop_failing(reply, verdicts)
            verdicts = check(reply, recheck)
    reply.verdicts = verdicts
    return reply


def _complete_sentences(text: str, final: bool) -> list[tuple[int, int]]:
    """Spans of the sentences of text that can no longer change. While streaming, the last
    sentence may still grow, and so may one followed only by the start of a citation marker
    ("... in 2022. [" becomes "... in 2022. [3]" once the marker is complete): both wait."""
    spans = sentence_spans(text)
    if final:
        return spans
    ready = []
    for span, following in zip(spans, spans[1:], strict=False):
        if text[following[0]] == "[":
            break
        ready.append(span)
    return ready


def _join(text: str, spans: list[tuple[int, int]]) -> str:
    """The kept sentences of text, with a paragraph break where the text had one."""
    out, last = [], None
    for s, e in spans:
        if last is not None:
            out.append("\n\n" if "\n" in text[last:s] else " ")
        out.append(text[s:e])
        last = e
    return "".join(out)


def _moved(verdicts: list[Verdict], text: str) -> list[Verdict] | None:
    """The kept sentences' verdicts, placed in the joined text, when it splits into exactly
    those sentences with the same citations: checking them again would give the same
    verdicts (a verdict depends on the sentence, its citations and the evidence list, all
    unchanged). None when joining changed a sentence boundary: then they are checked anew."""
    spans = sentence_spans(text)
    if not verdicts or len(spans) != len(verdicts):
        return None
    markers, moved = parse_citations(text), []
    for (s, e), v in zip(spans, verdicts, strict=True):
        numbers = tuple(dict.fromkeys(n for c in markers if s <= c.start < e for n in c.numbers))
        if text[s:e] != v.sentence or numbers != v.citations:
            return None
        moved.append(replace(v, start=s, end=e))
    return moved


def guard_stream(
    chunks: Iterable[str],
    evidence: EvidenceList,
    settings: Settings,
    *,
    side: str = "",
    phase: str = "",
    engine: str = "",
) -> Generator[str, None, Reply]:
    """Check a streamed reply sentence by sentence: yields the checked text shown so far
    (each yield extends the one before) and returns the final Reply with its verdicts.
    Nothing is yielded that has not passed the checker (and the LLM judge, when an LLM is
    configured); a failing sentence is held back and named in a notice."""
    draft = Reply(text="", evidence=evidence, side=side, phase=phase, engine=engine)
    buffer, done = "", 0
    kept: list[Verdict] = []  # of the sentences released, in buffer offsets
    held: list[Verdict] = []
    earlier: list[str] = []  # the kept sentences' claims, for the speech rules

    def release(spans: list[tuple[int, int]]) -> bool:
        nonlocal done
        before = len(kept)
        for s, e in spans:
            if s < done:
                continue
            done = e
            sentence = buffer[s:e]
            numbers = tuple(dict.fromkeys(n for c in parse_citations(sentence) for n in c.numbers))
            current = replace(draft, text=buffer)
            verdict = check_sentence(
                sentence, numbers, current, SUPPORT_THRESHOLD, settings.model_path, s
            )
            verdict = apply_rules(verdict, current, settings, earlier)
            if settings.llm and verdict.status == "supported":
                verdict = judge_verdicts(current, [verdict], settings)[0]
            if verdict.status in FAILING:
                held.append(verdict)
            else:
                kept.append(verdict)
        return len(kept) > before

    for chunk in chunks:
        buffer += chunk
        if release(_complete_sentences(buffer, final=False)):
            yield _join(buffer, [(v.start, v.end) for v in kept])
    if not buffer.strip():
        raise DebateError("the language model returned an empty reply")
    release(_complete_sentences(buffer, final=True))
    notices = [removed_notice(v, draft) for v in held]
    shown = _join(buffer, [(v.start, v.end) for v in kept])
    reply = replace(draft, text=shown or NOTHING_LEFT, notices=notices)
    offline = replace(settings, llm="")  # every kept sentence has been judged already
    reply.verdicts = _moved(kept, reply.text) or check(reply, offline)
    if failures(reply.verdicts):  # joining changed a sentence boundary: never show it
        reply = drop_failing(reply, reply.verdicts)
        reply.verdicts = check(reply, offline)
    yield reply.text
    return reply
