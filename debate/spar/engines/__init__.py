"""Speech engines: the offline evidence engine (default) and the LLM engine (when
settings.llm names a chat model). Both start from the same plan (`engines.plan`) and return
a Reply; `engines.base` says what an engine is."""

from __future__ import annotations

from debate.core.config import Settings
from debate.spar.engines.base import Engine
from debate.spar.engines.evidence import EvidenceEngine
from debate.spar.engines.llm import LLMEngine


def get_engine(settings: Settings) -> Engine:
    """The offline evidence engine unless settings.llm names a chat model."""
    if settings.llm:
        return LLMEngine(settings)
    return EvidenceEngine(settings)
