"""The LLM engine: any LangChain chat model, same retrieval and plan as the offline engine,
prompts from prompts/, and every reply checked by the citation guard before it is shown.

Model spec (settings.llm): `provider:model`, e.g. `openai:gpt-4o-mini`,
`anthropic:claude-sonnet-4-5`, `ollama:llama3.1`. With settings.llm_base_url set, an
OpenAI-compatible server (llama.cpp, vLLM, LM Studio) is used; the spec may then be just
the model name. When the model times out or the API fails mid-debate, the turn falls
back to the offline evidence engine and says so (reply.engine and a notice).
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Generator
from functools import lru_cache
from pathlib import Path

from debate.citations import EvidenceList, Reply
from debate.config import Settings
from debate.engines import Engine, SpeechRequest, TurnPlan, plan_turn
from debate.engines.evidence import EvidenceEngine
from debate.errors import LLMError

log = logging.getLogger(__name__)

# provider -> (pip extra of this project, package, environment variable of its API key)
PROVIDERS = {
    "openai": ("openai", "langchain-openai", "OPENAI_API_KEY"),
    "anthropic": ("anthropic", "langchain-anthropic", "ANTHROPIC_API_KEY"),
    "ollama": ("ollama", "langchain-ollama", ""),
}
MAX_WORDS = {"opening": 350, "rebuttal": 280, "closing": 300, "question": 150}
_SIDE_VERB = {"defend": "support", "attack": "oppose"}
# Our own delimiters must not be closable from inside evidence or a student message.
_DELIMITER = re.compile(r"</?\s*(evidence|student_message|transcript)\s*>", re.IGNORECASE)


def parse_spec(settings: Settings) -> tuple[str, str]:
    spec = settings.llm.strip()
    provider, sep, model = spec.partition(":")
    if not sep:
        provider, model = ("openai" if settings.llm_base_url else ""), spec
    provider = provider.strip().lower()
    if not provider or not model.strip():
        raise LLMError(
            f"cannot read the model spec {spec!r}: use provider:model, e.g. openai:gpt-4o-mini, "
            "anthropic:claude-sonnet-4-5 or ollama:llama3.1, or set DEBATE_LLM_BASE_URL to use "
            "an OpenAI-compatible server (llama.cpp, vLLM, LM Studio) by model name"
        )
    if provider not in PROVIDERS:
        raise LLMError(
            f"unknown LLM provider {provider!r} in {spec!r}: use one of "
            f"{', '.join(PROVIDERS)} (or an OpenAI-compatible server via "
            "DEBATE_LLM_BASE_URL)"
        )
    return provider, model.strip()


def make_chat_model(settings: Settings):
    """The LangChain chat model for settings.llm, with our timeout and no silent retries
    (a debate turn should fall back quickly rather than wait through several retries)."""
    from langchain.chat_models import init_chat_model

    provider, model = parse_spec(settings)
    extra, package, key_var = PROVIDERS[provider]
    kwargs: dict = {}
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout}
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
    else:
        kwargs.update(timeout=settings.llm_timeout, max_retries=0)
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
        if settings.llm_api_key:
            kwargs["api_key"] = settings.llm_api_key
        elif settings.llm_base_url and provider == "openai":
            kwargs["api_key"] = "not-needed"  # local servers ignore it; the client insists
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise LLMError(
            f"--llm {settings.llm} needs the {package} package: install it with "
            f"pip install 'debate[{extra}]' (or pip install {package})"
        ) from exc
    except Exception as exc:
        text = str(exc).lower()
        if key_var and ("api_key" in text or "api key" in text or "credentials" in text):
            raise LLMError(
                f"--llm {settings.llm} needs an API key: set DEBATE_LLM_API_KEY (or {key_var})"
            ) from exc
        raise LLMError(f"cannot set up the model {settings.llm!r}: {exc}") from exc


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(short reason for reply.engine, sentence for the notice) of a failed model call."""
    chain, seen = [], exc
    while seen is not None and len(chain) < 5:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    names = " ".join(type(e).__name__ for e in chain)
    status = next((s for e in chain if isinstance(s := getattr(e, "status_code", None), int)), None)
    if any(isinstance(e, TimeoutError) for e in chain) or "Timeout" in names:
        return "LLM timed out", "The language model did not answer in time"
    if status == 401 or "AuthenticationError" in names:
        return (
            "LLM rejected the API key (401)",
            "The language model rejected the API key (HTTP 401): check DEBATE_LLM_API_KEY",
        )
    if status:
        return f"LLM API error {status}", f"The language model API returned HTTP {status}"
    if "Connect" in names:
        return "LLM unreachable", "The language model server could not be reached"
    return f"LLM error: {type(exc).__name__}", f"The language model call failed ({exc})"


@lru_cache(maxsize=32)
def load_prompt(prompts_dir: str, name: str) -> str:
    path = Path(prompts_dir) / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LLMError(f"missing prompt file {path}: restore it from the repository") from exc


def _material(text: str) -> str:
    return _DELIMITER.sub("", text)


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
            "max_words": MAX_WORDS.get(request.phase, 300),
            "max_words_question": MAX_WORDS["question"],
        }

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
        plan = plan_turn(request)
        evidence = plan.evidence()
        messages = self.messages(request, plan, evidence)
        text = ""
        try:
            if streaming:
                for chunk in self.model.stream(messages):
                    text += chunk.text
                    yield text
            else:
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
        return self.guard(reply, messages)

    def guard(self, reply: Reply, messages: list) -> Reply:
        """Check every sentence's citations; one regeneration with the checker's reasons."""
        if importlib.util.find_spec("debate.guard") is None:
            log.warning("debate.guard is not installed: the LLM reply is shown unchecked")
            reply.notices.append("The citation guard is unavailable: this reply was not checked.")
            return reply
        from langchain_core.messages import AIMessage, HumanMessage

        from debate.guard import guard_reply

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
