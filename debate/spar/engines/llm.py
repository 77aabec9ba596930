"""The LLM engine: any LangChain chat model, same retrieval and plan as the offline engine,
prompts from prompts/, and every reply checked by the citation guard before it is shown.

Model spec (settings.llm): `provider:model`, e.g. `openai:gpt-4o-mini`,
`anthropic:claude-sonnet-4-5`, `ollama:llama3.1`. With settings.llm_base_url set, an
OpenAI-compatible server (llama.cpp, vLLM, LM Studio) is used; the spec may then be just
the model name. When the model times out or the API fails mid-debate, the turn falls
back to the offline evidence engine and says so (reply.engine and a notice).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator
from functools import lru_cache
from pathlib import Path

from debate.check.citations import EvidenceList, Reply
from debate.check.guard import NOTHING_LEFT, guard_reply, guard_stream
from debate.core.chat_model import describe_failure, make_chat_model
from debate.core.config import Settings
from debate.core.errors import LLMError
from debate.spar.engines.base import Engine
from debate.spar.engines.evidence import EvidenceEngine
from debate.spar.plan import SpeechRequest, TurnPlan, plan_turn

log = logging.getLogger(__name__)

CLASH_KINDS = {
    "deny": "deny: the evidence says otherwise",
    "mitigate": "mitigate: true but smaller than it sounds, or true of others too",
    "turn": "turn: their own side's evidence helps us",
}
MAX_WORDS = {"opening": 350, "rebuttal": 280, "closing": 300, "question": 150}
_SIDE_VERB = {"defend": "support", "attack": "oppose"}
# Our own delimiters must not be closable from inside evidence or a student message.
_DELIMITER = re.compile(r"</?\s*(evidence|student_message|transcript)\s*>", re.IGNORECASE)


@lru_cache(maxsize=32)
def load_prompt(prompts_dir: str, name: str) -> str:
    path = Path(prompts_dir) / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LLMError(f"missing prompt file {path}: restore it from the repository") from exc


def _material(text: str) -> str:
    return _DELIMITER.sub("", text)


# How the model may state facts (Settings.llm_mode; the guard enforces it: speech_rules).
FACT_RULES = {
    "cards": (
        "State facts ONLY by quoting the evidence: a sentence with a number, a date, an event "
        "or a name quotes the exact words of an item in double quotation marks, then cites "
        "it. In your own words, say what the quoted card shows and why it matters; your own "
        "words name no person, place or organisation the motion does not name, and give no "
        "number or date."
    ),
    "paraphrase": "You may state a cited fact in your own words, but never beyond what the item says.",
}


class LLMEngine(Engine):
    def __init__(self, settings: Settings, model=None):
        self.settings = settings
        self.model = model if model is not None else make_chat_model(settings)
        self.name = f"llm:{settings.llm}" if settings.llm else "llm"
        self.fallback = EvidenceEngine(settings)

    def prompt_variables(
        self, request: SpeechRequest, plan: TurnPlan, evidence: EvidenceList
    ) -> dict:
        motion = request.motion
        return {
            "thesis": motion.thesis,
            "side": request.side,
            "side_label": motion.side_label(request.side),
            "side_verb": _SIDE_VERB[request.side],
            "contentions": "\n".join(
                f"- {pt.contention.claim}" for pt in plan.points[: plan.wanted]
            ),
            "evidence": _material(evidence.as_prompt()),
            "evidence_count": len(evidence),
            "transcript": _material(request.transcript_text()),
            "student_message": _material(request.student_text) or "(none: you open the debate)",
            "clash": self.clash_brief(request, plan, evidence),
            "max_words": MAX_WORDS.get(request.phase, 300),
            "max_words_question": MAX_WORDS["question"],
            "fact_rule": FACT_RULES[self.settings.llm_mode],
        }

    def clash_brief(self, request: SpeechRequest, plan: TurnPlan, evidence: EvidenceList) -> str:
        """The cards chosen to answer the student's point (the same clash the offline engine
        argues), numbered as in the evidence list, with the kind of answer each makes."""
        lines = []
        for card, kind in self.fallback.clash_cards(request, plan):
            n = evidence.number_of(card.passage.id)
            if n is not None:
                lines.append(f'- [{n}] ({CLASH_KINDS[kind]}) "{card.quote}"')
        if not lines:
            return (
                "- Nothing in the evidence answers the student's point directly: say so "
                "plainly, then outweigh it with your contentions."
            )
        return _material("\n".join(lines))

    def messages(self, request: SpeechRequest, plan: TurnPlan, evidence: EvidenceList) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        variables = self.prompt_variables(request, plan, evidence)
        prompts = str(self.settings.prompts_dir)
        return [
            SystemMessage(load_prompt(prompts, "system").format_map(variables)),
            HumanMessage(load_prompt(prompts, request.phase).format_map(variables)),
        ]

    def generate(self, request: SpeechRequest) -> Reply:
        """One request/response call (no streaming)."""
        gen = self._run(request, streaming=False)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value

    def stream(self, request: SpeechRequest) -> Generator[str, None, Reply]:
        return (yield from self._run(request, streaming=True))

    def _run(self, request: SpeechRequest, streaming: bool) -> Generator[str, None, Reply]:
        """The model's speech, checked: streamed sentence by sentence through the guard
        (nothing unchecked is yielded), or generated whole and guarded with one
        regeneration. Any provider failure falls back to the offline engine."""
        plan = plan_turn(request)
        evidence = plan.evidence()
        messages = self.messages(request, plan, evidence)
        try:
            if streaming:
                chunks = (chunk.text for chunk in self.model.stream(messages))
                reply = yield from _unless_nothing_left(
                    guard_stream(
                        _nonempty(chunks),
                        evidence,
                        self.settings,
                        side=request.side,
                        phase=request.phase,
                        engine=self.name,
                    )
                )
                if reply.text == NOTHING_LEFT:
                    reply = self._nothing_passed(request, plan, reply)
                    yield reply.text
                return reply
            text = self.model.invoke(messages).text
            if not text.strip():
                raise LLMError("the language model returned an empty reply")
        except Exception as exc:  # any provider failure: the debate goes on offline
            reason, sentence = describe_failure(exc)
            if isinstance(exc, LLMError):
                reason, sentence = "LLM returned nothing", str(exc)[:1].upper() + str(exc)[1:]
            log.warning("LLM call failed (%s): %s", reason, exc)
            reply = self.fallback.build(request, plan)
            reply.engine = f"evidence (fallback: {reason})"
            reply.notices.append(
                f"{sentence}; this speech comes from the offline evidence engine instead."
            )
            yield reply.text
            return reply
        reply = Reply(
            text=text.strip(),
            evidence=evidence,
            side=request.side,
            phase=request.phase,
            engine=self.name,
        )
        reply = self.guard(reply, messages)
        if reply.text == NOTHING_LEFT:
            reply = self._nothing_passed(request, plan, reply)
        return reply

    def _nothing_passed(self, request: SpeechRequest, plan: TurnPlan, guarded: Reply) -> Reply:
        """Every sentence the model wrote failed the checks: the turn still ends with a
        speech, the offline engine's, and the notices still name what was removed."""
        reply = self.fallback.build(request, plan)
        reply.engine = f"evidence (fallback: nothing {self.name} said passed the checks)"
        reply.notices = list(guarded.notices) + [
            "Nothing the language model said passed the checks; this speech comes from the "
            "offline evidence engine instead."
        ]
        return reply

    def guard(self, reply: Reply, messages: list) -> Reply:
        """Check every sentence's citations; one regeneration with the checker's reasons."""
        from langchain_core.messages import AIMessage, HumanMessage

        def regenerate(feedback: str) -> Reply:
            # the guard's feedback (prompts/guard_feedback.txt) is itself the instruction
            try:
                text = self.model.invoke(
                    messages + [AIMessage(reply.text), HumanMessage(feedback)]
                ).text
            except Exception as exc:  # keep the first draft; the guard marks what fails
                log.warning("LLM regeneration failed: %s", describe_failure(exc)[0])
                text = reply.text
            return Reply(
                text=text.strip() or reply.text,
                evidence=reply.evidence,
                side=reply.side,
                phase=reply.phase,
                engine=reply.engine,
                notices=list(reply.notices),
            )

        return guard_reply(reply, self.settings, regenerate=regenerate)


def _unless_nothing_left(stream: Generator[str, None, Reply]) -> Generator[str, None, Reply]:
    """The guarded stream's texts, except the closing "nothing left" line (the caller
    answers with the offline engine instead); returns the stream's Reply."""
    while True:
        try:
            text = next(stream)
        except StopIteration as done:
            return done.value
        if text != NOTHING_LEFT:
            yield text


def _nonempty(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks, raising LLMError when the stream ends without any text (so that the turn
    falls back to the offline engine before anything is shown)."""
    seen = False
    for chunk in chunks:
        seen = seen or bool(chunk.strip())
        yield chunk
    if not seen:
        raise LLMError("the language model returned an empty reply")
