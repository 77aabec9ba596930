"""One loopback server that replays LLM providers' recorded wire formats, so that tests run
offline and still exercise the real HTTP clients (`langchain-openai`, `langchain-ollama`).

- OpenAI chat completions: `POST .../chat/completions`, a JSON body or server-sent events
  (`data: {chunk}` lines, then `data: [DONE]`); HTTP 401 answers with error_401.json.
- Ollama: `POST /api/chat`, newline-delimited JSON (one `message.content` piece per line,
  then a `done: true` line with the timings) or one JSON object when `stream` is false;
  `GET /api/tags` and `/api/version` for clients that ask which models exist.

The bodies come from tests/data/llm/ (see its README); the server fills in the text. Replies
are texts or functions of the request body, used in order (the last one repeats). Prompts of
the LLM judge (prompts/judge.txt) are told apart from debate turns and answered with
`judge`, so a test can script both the speech and the verdicts on it.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent / "data" / "llm"
ROOT = Path(__file__).resolve().parents[1]
# The judge's prompt opens with this line; debate turns never contain it.
JUDGE_MARK = (ROOT / "prompts" / "judge.txt").read_text(encoding="utf-8").split("\n", 1)[0]

Reply = str | Callable[[dict], str]


def fixture(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def words(text: str, per_chunk: int = 3) -> list[str]:
    """Stream pieces of a few words each, with their trailing spaces."""
    found = re.findall(r"\S+\s*", text)
    return ["".join(found[i : i + per_chunk]) for i in range(0, len(found), per_chunk)]


def tokens(text: str) -> list[str]:
    """Stream pieces the size of a tokenizer's: a word with its leading space, or one
    punctuation mark, so `[9].` arrives as `[`, `9`, `]`, `.`."""
    return re.findall(r" ?\w+| ?[^\w\s]|\s+", text)


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: dict

    @property
    def prompt(self) -> str:
        """The last message's text (for the judge: its whole prompt)."""
        return self.body["messages"][-1]["content"]


class ReplayServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread. `url` is the server root
    (Ollama's base URL), `openai_url` the OpenAI-style base URL (root + /v1).

    replies: the assistant's texts, or functions of the request body, in order.
    judge: the judge's answer ("SUPPORTED", "UNSUPPORTED: why"), or a function of its prompt.
    status: answer every call with this HTTP error (401: OpenAI's invalid-key body).
    delay: seconds to wait before answering (timeouts); chunk_delay: between stream pieces.
    split: how a reply is cut into stream pieces (`words` by default, or `tokens`).
    garbage: answer debate turns with a broken response instead: "html" (a proxy's error
    page with status 200), "truncated" (JSON cut off mid-body), "cut" (a stream that stops
    after a few pieces with the connection closed, no end marker).
    """

    def __init__(
        self,
        replies: Sequence[Reply] = ("",),
        *,
        judge: str | Callable[[str], str] = "SUPPORTED",
        status: int = 200,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        split: Callable[[str], list[str]] = words,
        garbage: str = "",
    ):
        if garbage not in ("", *GARBAGE):
            raise ValueError(f"garbage must be one of {GARBAGE}")
        self.garbage = garbage
        self.replies = list(replies)
        self.judge, self.status, self.delay = judge, status, delay
        self.chunk_delay, self.split = chunk_delay, split
        self.requests: list[Recorded] = []  # debate turns (and regenerations)
        self.judged: list[Recorded] = []  # the LLM judge's prompts
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, chunked streams, as the real APIs

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                owner._get(self)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    owner._post(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.openai_url = self.url + "/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ routing
    def _get(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        if path.endswith("/api/tags"):
            return _send_json(h, 200, fixture("ollama_tags.json"))
        if path.endswith("/api/version"):
            return _send_json(h, 200, fixture("ollama_version.json"))
        _send_json(h, 404, {"error": f"no route for GET {path}"})

    def _post(self, h: BaseHTTPRequestHandler, body: dict) -> None:
        path = h.path.split("?")[0]
        record = Recorded(path, {k.lower(): v for k, v in h.headers.items()}, body)
        is_judge = JUDGE_MARK in json.dumps(body.get("messages", []), ensure_ascii=False)
        with self._lock:
            (self.judged if is_judge else self.requests).append(record)
            turn = len(self.requests)
        if path.endswith("/chat/completions"):
            wire = _openai
        elif path.endswith("/api/chat"):
            wire = _ollama
        else:
            return _send_json(h, 404, {"error": {"message": f"no route for POST {path}"}})
        if self.status != 200:
            return wire.error(h, self.status)
        if self.delay:
            time.sleep(self.delay)
        if is_judge:
            content = self.judge(record.prompt) if callable(self.judge) else self.judge
        else:
            reply = self.replies[min(turn, len(self.replies)) - 1]
            content = reply(body) if callable(reply) else reply
        if self.garbage and not is_judge:
            return _send_garbage(h, self.garbage, wire, body, self.split(content))
        if not body.get("stream"):
            return _send_json(h, 200, wire.whole(body, content))
        h.send_response(200)
        h.send_header("Content-Type", wire.content_type)
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in wire.stream(body, self.split(content)):
            _write_chunk(h, line.encode())
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
        _write_chunk(h, b"")  # end of the chunked body


GARBAGE = ("html", "truncated", "cut")


def _send_garbage(h: BaseHTTPRequestHandler, kind: str, wire, body: dict, pieces: list[str]):
    """A broken answer of the given kind (see ReplayServer), then the connection closed."""
    h.close_connection = True
    if kind == "cut" and body.get("stream"):
        h.send_response(200)
        h.send_header("Content-Type", wire.content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for line in list(wire.stream(body, pieces))[:3]:
            _write_chunk(h, line.encode())
        return  # no closing chunk: the body ends mid-stream
    if kind == "html":
        data = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        content_type = "text/html"
    else:  # truncated, or cut when the client did not stream
        data = json.dumps(wire.whole(body, " ".join(pieces))).encode()[:40]
        content_type = "application/json"
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _send_json(h: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
    data = json.dumps(payload).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json; charset=utf-8")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _write_chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
    h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    h.wfile.flush()


class _openai:
    """OpenAI chat completions (also what llama.cpp, vLLM and LM Studio speak)."""

    content_type = "text/event-stream; charset=utf-8"

    @staticmethod
    def error(h: BaseHTTPRequestHandler, status: int) -> None:
        payload = fixture("error_401.json") if status == 401 else {"error": {"message": "error"}}
        _send_json(h, status, payload)

    @staticmethod
    def whole(body: dict, content: str) -> dict:
        payload = fixture("chat_completion.json")
        payload["model"] = body.get("model", "")
        payload["choices"][0]["message"]["content"] = content
        return payload

    @staticmethod
    def stream(body: dict, pieces: list[str]) -> Iterator[str]:
        template = fixture("chat_completion_chunk.json")
        deltas = [{"role": "assistant", "content": "", "refusal": None}]
        deltas += [{"content": piece} for piece in pieces]
        for delta in deltas + [{}]:
            chunk = copy.deepcopy(template)
            chunk["model"] = body.get("model", "")
            chunk["choices"][0]["delta"] = delta
            chunk["choices"][0]["finish_reason"] = None if delta else "stop"
            yield f"data: {json.dumps(chunk)}\n\n"
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = copy.deepcopy(template)
            usage["choices"] = []
            usage["usage"] = {
                "prompt_tokens": 900,
                "completion_tokens": len(pieces),
                "total_tokens": 900 + len(pieces),
            }
            yield f"data: {json.dumps(usage)}\n\n"
        yield "data: [DONE]\n\n"


class _ollama:
    """Ollama's native API (`ollama serve`, what langchain-ollama calls)."""

    content_type = "application/x-ndjson"

    @staticmethod
    def error(h: BaseHTTPRequestHandler, status: int) -> None:
        _send_json(h, status, fixture("ollama_error_404.json"))

    @staticmethod
    def whole(body: dict, content: str) -> dict:
        payload = fixture("ollama_chat.json")
        payload["model"] = body.get("model", "")
        payload["message"]["content"] = content
        return payload

    @staticmethod
    def stream(body: dict, pieces: list[str]) -> Iterator[str]:
        template = fixture("ollama_chat_chunk.json")
        for piece in pieces:
            line = copy.deepcopy(template)
            line["model"] = body.get("model", "")
            line["message"]["content"] = piece
            yield json.dumps(line) + "\n"
        done = fixture("ollama_chat_done.json")
        done["model"] = body.get("model", "")
        done["eval_count"] = len(pieces)
        yield json.dumps(done) + "\n"


# ---------------------------------------------------------------------- scripted replies
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def evidence_from_prompt(body: dict) -> dict[int, str]:
    """{n: passage text} from the numbered evidence block of a debate turn's user message."""
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    block = prompt.split("<evidence>\n", 1)[1].split("\n</evidence>", 1)[0]
    items = {}
    for entry in re.split(r"\n\n(?=\[\d+\] )", block):
        header, _, text = entry.partition("\n")
        items[int(header[1 : header.index("]")])] = text
    return items


def quotable_sentence(passage_text: str) -> str:
    """The first clean sentence of a passage, without its full stop: what a faithful model
    would quote."""
    for line in passage_text.split("\n"):
        for sentence in _SENTENCE.split(line.strip("-# ")):
            if len(sentence) >= 40 and '"' not in sentence and "“" not in sentence:
                return sentence.rstrip(".")
    raise AssertionError(f"no quotable sentence in {passage_text[:80]!r}")


def faithful_quote(body: dict) -> str:
    """A sentence quoting evidence [1] of the request word for word, cited."""
    return f'The evidence is plain: "{quotable_sentence(evidence_from_prompt(body)[1])}" [1].'
