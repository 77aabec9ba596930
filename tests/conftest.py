"""Shared fixtures: real model (loaded once per session), real Chroma in temp dirs."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def embedder():
    """The real MiniLM model, loaded once for the whole test session."""
    from debate.core.embeddings import get_embedder

    return get_embedder()


@pytest.fixture
def settings(tmp_path, embedder):
    """Settings with an empty data dir of their own (embedded Chroma)."""
    from debate.core.config import load_settings

    return load_settings(environ={}, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def default_settings(tmp_path_factory, embedder):
    """The default motion (seed + corpus) ingested once into a session-wide data dir.
    Tests must not write to it; copy the pack (make_pack) for tests that change sources."""
    from debate.core.config import load_settings
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion

    s = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("default-index"))
    ingest_motion(load_motion("serbia-russia", s.corpus_dir), s)
    return s


@pytest.fixture
def default_motion(default_settings):
    from debate.corpus.motions import load_motion

    return load_motion("serbia-russia", default_settings.corpus_dir)


SMALL_MOTION = """\
id: {id}
title: Test motion
thesis: Cats are better than dogs
sides:
  defend: Cats are better than dogs
  attack: Dogs are better than cats
contentions:
  defend:
    - Cats need less care.
  attack:
    - Dogs are loyal companions.
sources:
  - sources
"""

SOURCE_A = """\
---
title: Cats at home
publisher: Pet Weekly
date: 2024-01-02
url: https://example.org/cats
stance: supports
---
Cats sleep for about fifteen hours a day and groom themselves, so owners spend little time on daily care, brushing or bathing.

A 2023 survey of 1,200 pet owners found that cats cost 40 percent less per year than dogs, mostly because of food and vet bills.
"""

SOURCE_B = """\
---
title: Dogs and people
publisher: Canine Review
date: 2024-03-04
url: https://example.org/dogs
stance: opposes
---
Dogs were domesticated at least 15,000 years ago and have evolved to read human faces and bond closely with their owners.

Guide dogs help blind people walk safely through busy cities every day, stopping at kerbs and steering around obstacles.
"""


@pytest.fixture
def make_pack(tmp_path):
    """Write a small motion pack under tmp_path/corpus/<id>; returns its folder."""

    def make(motion_id: str = "cats-dogs", sources: dict | None = None) -> Path:
        folder = tmp_path / "corpus" / motion_id
        (folder / "sources").mkdir(parents=True, exist_ok=True)
        (folder / "motion.yaml").write_text(SMALL_MOTION.format(id=motion_id), encoding="utf-8")
        for name, text in (sources or {"cats.md": SOURCE_A, "dogs.md": SOURCE_B}).items():
            (folder / "sources" / name).write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, stopped after the session."""
    from tests.served import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server.url
    server.stop()


@pytest.fixture
def replay():
    """Start loopback LLM servers (tests/replay.py: OpenAI and Ollama wire formats);
    `replay(replies, judge=..., delay=...)` returns a started ReplayServer, closed after the
    test."""
    from tests.replay import ReplayServer

    servers: list[ReplayServer] = []

    def start(replies=("",), **options) -> ReplayServer:
        servers.append(ReplayServer(replies, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def app(request, tmp_path_factory, embedder):
    """`debate serve` over the small cats-dogs pack with a coach password (tests/apps.py
    AppServer), one for each test module that asks for it, stopped after the module."""
    from tests.apps import AppServer

    name = request.module.__name__.rsplit(".", 1)[-1]
    server = AppServer(tmp_path_factory.mktemp(name)).start()
    yield server
    server.stop()
