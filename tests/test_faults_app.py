"""Faults under the running app: the Chroma server (DEBATE_CHROMA_URL) stopped mid-session
and started again; the app server SIGKILLed mid-turn. The page says clearly what is wrong
(never a raw "AppError: [Errno 111]"), its status stops saying "Ready." and comes back
when the server does; every autosaved transcript stays valid JSON."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.apps import MOTION, AppServer, status_text
from tests.served import ChromaServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_app(tmp_path_factory, embedder):
    from debate.core.config import load_settings
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion

    base = tmp_path_factory.mktemp("faults")
    chroma = ChromaServer(base).start()
    server = AppServer(base, env={"DEBATE_CHROMA_URL": chroma.url})
    s = load_settings(
        environ={}, corpus_dir=server.corpus, data_dir=server.data, chroma_url=chroma.url
    )
    ingest_motion(load_motion(MOTION, server.corpus), s)
    server.start()
    yield server, chroma
    server.stop()
    chroma.stop()


def test_chroma_server_gone_mid_session_is_said_clearly_and_recovers(chroma_app):
    server, chroma = chroma_app
    client = server.client()
    out = client.predict(
        "Cats are cheaper to keep than dogs, by food and vet bills.", api_name="/send"
    )
    assert status_text(out[2]) == "Ready."
    chroma.stop()
    out = client.predict("Dogs help blind people walk safely in busy cities.", api_name="/send")
    notice, status = status_text(out[1]), status_text(out[2])
    assert "Chroma" in notice, notice
    assert "AppError" not in notice and not notice.startswith("[Errno")
    assert "start it again" in notice  # says what to do
    assert status != "Ready." and "Not ready" in status, status
    chroma.start()
    out = client.predict("Dogs help blind people walk safely in busy cities.", api_name="/send")
    assert status_text(out[1]) == ""
    assert status_text(out[2]) == "Ready."


def test_server_killed_mid_turn_leaves_every_transcript_valid_json(tmp_path, embedder):
    server = AppServer(tmp_path).start()
    clients = [server.client() for _ in range(3)]

    def talk(c, i):
        for t in range(20):
            try:
                c.predict(f"Cats are cheaper than dogs, point {i}-{t}.", api_name="/send")
            except Exception:
                return

    threads = [
        threading.Thread(target=talk, args=(c, i), daemon=True) for i, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    folder = server.data / "transcripts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(folder.rglob("*.json"))) < 3:
        time.sleep(0.2)
    time.sleep(1.3)  # well inside a turn
    server.stop(kill=True)  # SIGKILL
    files = list(folder.rglob("*.json"))
    assert len(files) >= 3
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["turns"], path
