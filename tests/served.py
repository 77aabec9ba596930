"""Real servers as subprocesses on free loopback ports: `debate serve` for the tests that
talk to the running app (browser, HTTP, gradio_client), and `chroma run`. One place for the
launch, the wait until it answers, the log and the shutdown."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
OFFLINE = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)")


def launch_chromium(playwright):
    """Debian's chromium, headless, through Playwright (its own browser download fails
    here)."""
    require_chromium()
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def send(page, text: str) -> None:
    """Type an argument, press Enter, wait until the bot's final (checked) reply is shown."""
    before = page.locator("#chat .bot-msg[data-turn]").count()
    box = page.locator("#student-input textarea")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .bot-msg[data-turn] .badge').length > n", arg=before
    )


class ServedApp:
    """`debate serve --no-ingest` in `cwd`, with only the DEBATE_* variables given in `env`
    (none inherited from the caller's environment). It listens where DEBATE_HOST and
    DEBATE_PORT say, set here from `host` and `port`. `start()` returns once the page answers 200, and raises with
    the end of the server's log if it exits or does not answer within `timeout` seconds."""

    def __init__(
        self,
        cwd: Path,
        env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_name: str = "serve.log",
    ):
        self.cwd = Path(cwd)
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}/"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DEBATE_")}
        self.env.update(OFFLINE)
        self.env.update(env or {})
        self.env.update(DEBATE_HOST=host, DEBATE_PORT=str(self.port))
        self.log_path = self.cwd / log_name
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> ServedApp:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "debate"), "serve", "--no-ingest"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"debate serve exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop(kill=True)
                raise RuntimeError(
                    f"debate serve did not answer in {timeout:.0f} s:\n{self.log()[-3000:]}"
                )
            time.sleep(0.3)
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class ChromaServer:
    """A real `chroma run` server over `path`/db; `start()` returns once its port accepts
    connections. Stopped and started again, it serves the same data."""

    def __init__(self, path: Path):
        self.path, self.port = Path(path), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.path / "chroma.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ChromaServer:
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [chroma, "run", "--path", str(self.path / "db"), "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"chroma run exited: {tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError(f"chroma server did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
