"""LangChain chat models from a spec: `provider:model`, any provider `init_chat_model` knows.

`openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`, `ollama:llama3.1`, `groq:...`,
`mistralai:...` and so on: the provider is passed through to LangChain, which names the
package it needs. With `DEBATE_LLM_BASE_URL` set, a bare model name means an
OpenAI-compatible server (llama.cpp, vLLM, LM Studio). A leaf module: the LLM engine and the
LLM judge both build their models here.
"""

from __future__ import annotations

import re

from debate.core.config import Settings
from debate.core.errors import LLMError

# Providers whose LangChain clients take `timeout` and `max_retries`. A debate turn should
# fall back quickly rather than wait through silent retries; other providers get their
# defaults.
_TIMEOUT_KWARGS = frozenset(
    "openai azure_openai anthropic groq mistralai fireworks together deepseek xai "
    "perplexity".split()
)
# Where the LangChain package is not simply langchain-<provider>.
_PACKAGES = {
    "azure_openai": "langchain-openai",
    "azure_ai": "langchain-azure-ai",
    "bedrock": "langchain-aws",
    "bedrock_converse": "langchain-aws",
    "google_genai": "langchain-google-genai",
    "google_vertexai": "langchain-google-vertexai",
    "google_anthropic_vertex": "langchain-google-vertexai",
    "huggingface": "langchain-huggingface",
}


def parse_spec(settings: Settings) -> tuple[str, str]:
    """(provider, model) of settings.llm; provider is "" when LangChain should infer it
    from the model name (e.g. gpt-4o -> openai)."""
    spec = settings.llm.strip()
    provider, sep, model = spec.partition(":")
    if not sep:
        provider, model = ("openai" if settings.llm_base_url else ""), spec
    provider, model = provider.strip().lower(), model.strip()
    if not model or (sep and not provider):
        raise LLMError(
            f"cannot read the model spec {spec!r}: use provider:model, e.g. openai:gpt-4o-mini, "
            "anthropic:claude-sonnet-4-5 or ollama:llama3.1, or set DEBATE_LLM_BASE_URL to use "
            "an OpenAI-compatible server (llama.cpp, vLLM, LM Studio) by model name"
        )
    return provider, model


def package_for(provider: str) -> str:
    return _PACKAGES.get(provider, "langchain-" + provider.replace("_", "-"))


def _model_kwargs(settings: Settings, provider: str) -> dict:
    kwargs: dict = {}
    if provider == "ollama":
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout}
    elif provider in _TIMEOUT_KWARGS:
        kwargs.update(timeout=settings.llm_timeout, max_retries=0)
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if settings.llm_api_key:
        kwargs["api_key"] = settings.llm_api_key
    elif settings.llm_base_url and provider == "openai":
        kwargs["api_key"] = "not-needed"  # local servers ignore it; the client insists
    return kwargs


def make_chat_model(settings: Settings):
    """The LangChain chat model for settings.llm. Raises LLMError with what to do when the
    provider's package is missing, the key is missing, or the spec is not understood."""
    from langchain.chat_models import init_chat_model

    provider, model = parse_spec(settings)
    kwargs = _model_kwargs(settings, provider)
    try:
        return init_chat_model(model, model_provider=provider or None, **kwargs)
    except ImportError as exc:
        named = re.search(r"langchain[-_][a-z0-9_-]+", str(exc))
        package = named.group(0).replace("_", "-") if named else package_for(provider)
        raise LLMError(
            f"--llm {settings.llm} needs the {package} package: pip install {package}"
        ) from exc
    except Exception as exc:
        text = str(exc).lower()
        if "api_key" in text or "api key" in text or "credentials" in text:
            raise LLMError(
                f"--llm {settings.llm} needs an API key: set DEBATE_LLM_API_KEY (or the "
                "provider's own key variable)"
            ) from exc
        if ("unsupported" in text and "provider" in text) or "infer" in text:
            raise LLMError(
                f"LangChain does not know the model provider in {settings.llm!r}: write "
                "provider:model with a provider init_chat_model supports (openai, anthropic, "
                "ollama, groq, mistralai, google_genai, ...)"
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
