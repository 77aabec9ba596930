"""Helpers for the tests that talk to a running `debate serve` over the small cats-dogs pack
(app security, uploads, hostile input, concurrency, faults, injection): the pack itself,
`AppServer` (a served app over a pre-ingested data dir, with a coach password), and calls
over HTTP as an outsider would make them (gradio_client, or raw HTTP on Gradio's queue by
fn_index). The `app` fixture that starts one per module is in tests/conftest.py."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from tests.conftest import SMALL_MOTION, SOURCE_A, SOURCE_B, free_port
from tests.served import ServedApp

PASSWORD = "s3cret-Coach-pw-7781"
MOTION = "cats-dogs"

SOURCE_C = """\
---
title: Pets and health
publisher: Health Letter
date: 2023-05-06
url: https://example.org/health
stance: mixed
---
Owning a dog was linked to 24 percent lower mortality in a 2019 review of ten studies covering 3.8 million people, mostly through more daily walking.

Cat owners in a Minnesota study had a 30 percent lower risk of death from heart attack over ten years than people who had never owned a cat.
"""


def write_corpus(base: Path) -> Path:
    """A small motion pack of three sources under base/corpus (the app's default motion)."""
    folder = base / "corpus" / MOTION
    (folder / "sources").mkdir(parents=True)
    (folder / "motion.yaml").write_text(SMALL_MOTION.format(id=MOTION), encoding="utf-8")
    for name, text in {"cats.md": SOURCE_A, "dogs.md": SOURCE_B, "health.md": SOURCE_C}.items():
        (folder / "sources" / name).write_text(text, encoding="utf-8")
    return base / "corpus"


def listing(*roots: Path) -> dict[str, int]:
    """Every file under the roots with its size (directory listings to compare)."""
    out = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file():
                out[str(p)] = p.stat().st_size
    return out


class AppServer(ServedApp):
    """`debate serve --no-ingest` in a subprocess over a pre-ingested data dir."""

    def __init__(self, base: Path, password: str = PASSWORD, env: dict | None = None):
        from debate.core.config import load_settings
        from debate.corpus.ingest import ingest_motion
        from debate.corpus.motions import load_motion

        self.base = base
        self.corpus = write_corpus(base) if not (base / "corpus").exists() else base / "corpus"
        self.data = base / "data"
        self.settings = load_settings(environ={}, corpus_dir=self.corpus, data_dir=self.data)
        if not (env or {}).get("DEBATE_CHROMA_URL"):
            ingest_motion(load_motion(MOTION, self.corpus), self.settings)
        self.password = password
        variables = {
            "DEBATE_DATA_DIR": str(self.data),
            "DEBATE_CORPUS_DIR": str(self.corpus),
            "DEBATE_DEFAULT_MOTION": MOTION,
            "DEBATE_COACH_PASSWORD": password,
            "GRADIO_TEMP_DIR": str(base / "gradio-cache"),
            **(env or {}),
        }
        port = free_port()
        super().__init__(base, variables, port=port, log_name=f"serve-{port}.log")

    def client(self):
        """A new gradio_client session (a new tab) with its debate loaded."""
        from gradio_client import Client

        c = Client(self.url, verbose=False, download_files=False)
        c.predict(api_name="/load")
        return c


# ---------------------------------------------------------------- calls over HTTP


def status_text(html: str) -> str:
    if not isinstance(html, str):  # gr.skip(): the component was left as it was
        return ""
    return re.sub(r"<[^>]+>", "", html)


def config(app: AppServer) -> dict:
    with urllib.request.urlopen(app.url + "config", timeout=10) as resp:
        return json.loads(resp.read())


def fn_index(app: AppServer, api_name: str) -> int:
    for i, dep in enumerate(config(app)["dependencies"]):
        if dep.get("api_name") == api_name:
            return dep.get("id", i)
    raise KeyError(api_name)


def raw_call(app: AppServer, session: str, fn: int, data: list, timeout: float = 60) -> list:
    """Join Gradio's queue by fn_index as the page does (raw HTTP) and read the SSE stream
    to the end; returns the `process_completed` output data (or raises with its error)."""
    body = json.dumps({"data": data, "fn_index": fn, "session_hash": session, "event_data": None})
    req = urllib.request.Request(
        app.url + "gradio_api/queue/join",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        assert resp.status == 200, resp.read()
    stream = urllib.request.urlopen(
        app.url + f"gradio_api/queue/data?session_hash={session}", timeout=timeout
    )
    with stream:
        for raw in stream:
            line = raw.decode().strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("msg") == "process_completed":
                if not msg.get("success", True):
                    raise RuntimeError(f"call failed: {msg.get('output')}")
                return msg["output"]["data"]
    raise RuntimeError("stream ended without a result")
