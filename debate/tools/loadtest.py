"""`python -m debate.tools.loadtest URL [--sessions 20] [--turns 10] [--password PW]`: drive a
running app (`debate serve`) with simultaneous sessions and print the table: errors,
cross-talk between sessions, and turn latency p50/p95 next to one session alone. Every session opens its tab first; the turns start together once all
are open (a club opens the page, then argues), and only turns are timed.

The sessions are gradio_client threads in this process. On the server's own machine they
take a large share of its CPU (about 20 CPU-seconds per 200 turns on two cores, close to
what the server spends); a club's browsers would not. `--nice` (default 10) lowers this
process's priority so the figure is the server's; `--nice 0` measures with the load
generator competing as an equal. The table says which."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from uuid import uuid4

from rich.console import Console
from rich.table import Table

from debate.core.config import load_settings, offline_environment
from debate.corpus.motions import other_side
from debate.tools.bench import percentile

# Seconds for every session to open its tab before the turns start.
OPEN_TIMEOUT = 300


def _side_of(banner_html: str) -> str:
    return "defend" if "side-defend" in (banner_html or "") else "attack"


def _one_session(
    url: str,
    index: int,
    turns: int,
    switch: bool,
    password: str,
    run: str,
    opened: threading.Barrier | None = None,
) -> dict:
    """One simulated student (and, when `switch`, a coach who switches sides every third
    turn) in a tab of its own; checks its chat holds only its own turns and its side.
    With `opened`, waits after opening its tab until every session has opened theirs, so
    that turns are timed against each other, not against the other tabs' page loads."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=False)
        client.predict(api_name="/load")
        if switch:
            client.predict(password, api_name="/unlock")
    except BaseException:
        if opened is not None:
            opened.abort()  # the others stop waiting; this error is the one reported
        raise
    if opened is not None:
        opened.wait()
    latencies, errors, tokens = [], [], []
    side = "attack"
    chat: list = []
    for turn in range(turns):
        if switch and turn and turn % 3 == 0:
            out = client.predict(api_name="/switch_side")
            side = other_side(side)
            if _side_of(out[4]) != side:
                errors.append(f"session {index}: side switch not shown")
        token = f"zq{run}s{index}t{turn}x"
        tokens.append(token)
        started = time.perf_counter()
        try:
            out = client.predict(
                f"Turn {turn}: my point {token} is that the evidence favours my side.",
                api_name="/send",
            )
        except Exception as exc:  # counted, not raised: the benchmark reports errors
            errors.append(f"session {index} turn {turn}: {type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - started)
        chat = out[3] or []
        if _side_of(out[6]) != side:
            errors.append(f"session {index} turn {turn}: banner shows the wrong side")
    return {"latencies": latencies, "errors": errors, **_audit(chat, index, run, tokens)}


def _audit(chat: list, index: int, run: str, tokens: list[str]) -> dict:
    """What a tab's final chat shows: other sessions' tokens (cross-talk), its own tokens
    that went missing, and how many bot turns it holds."""
    text = json.dumps(chat)
    found = set(re.findall(rf"zq{run}s(\d+)t\d+x", text))
    return {
        "crosstalk": sorted(int(s) for s in found if int(s) != index),
        "missing": [t for t in tokens if t not in text],
        "bot_turns": sum(1 for m in chat if m.get("role") == "assistant"),
    }


def concurrency(
    url: str, sessions: int = 20, turns: int = 10, password: str = "", switch_share: float = 0.25
) -> dict:
    """Drive `sessions` simultaneous tabs of a running app (`debate serve`) through `turns`
    turns each, coaches switching sides in some (`switch_share`, needs the coach password
    when one is set); then one session alone as the baseline, in the same run. Reports
    errors, cross-talk (another session's unique token in a tab's chat), and turn latency
    p50/p95 next to the baseline's."""
    from concurrent.futures import ThreadPoolExecutor

    run = uuid4().hex[:6]
    switching = set(range(0, sessions, max(1, round(1 / switch_share)))) if switch_share else set()
    # Every tab is opened first; the clock starts when all of them begin their turns.
    opened = threading.Barrier(sessions + 1)
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [
            pool.submit(_one_session, url, i, turns, i in switching, password, run, opened)
            for i in range(sessions)
        ]
        try:
            opened.wait(timeout=OPEN_TIMEOUT)
        except threading.BrokenBarrierError:
            opened.abort()
            for f in futures:  # the session that failed to open says why
                if f.exception() and not isinstance(f.exception(), threading.BrokenBarrierError):
                    raise f.exception() from None
            raise
        started = time.perf_counter()
        results = [f.result() for f in futures]
    wall = time.perf_counter() - started
    alone = _one_session(url, sessions, turns, False, password, run + "b")
    lat = [x for r in results for x in r["latencies"]]
    return {
        "sessions": sessions,
        "turns": turns,
        "switching_sessions": len(switching),
        "errors": [e for r in results for e in r["errors"]] + alone["errors"],
        "crosstalk": sum(len(r["crosstalk"]) for r in results),
        "missing_turns": sum(len(r["missing"]) for r in results),
        "turns_done": len(lat),
        "wall_s": wall,
        "p50_s": percentile(lat, 0.5),
        "p95_s": percentile(lat, 0.95),
        "baseline_p50_s": percentile(alone["latencies"], 0.5),
        "baseline_p95_s": percentile(alone["latencies"], 0.95),
    }


def concurrency_table(r: dict) -> Table:
    t = Table("measure", "concurrent", "one session alone", title="debate concurrency")
    t.add_row("sessions × turns", f"{r['sessions']} × {r['turns']}", f"1 × {r['turns']}")
    t.add_row("turn latency p50", f"{r['p50_s']:.2f} s", f"{r['baseline_p50_s']:.2f} s")
    t.add_row("turn latency p95", f"{r['p95_s']:.2f} s", f"{r['baseline_p95_s']:.2f} s")
    t.add_row("errors", str(len(r["errors"])), "")
    t.add_row("cross-talk (foreign tokens)", str(r["crosstalk"]), "")
    t.add_row("turns missing from a chat", str(r["missing_turns"]), "")
    if "client_nice" in r:
        t.caption = f"load generator on the same machine at nice {r['client_nice']}"
    return t


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    parser = argparse.ArgumentParser(prog="python -m debate.tools.loadtest", description=__doc__)
    parser.add_argument("url", help="the running app, e.g. http://127.0.0.1:7860/")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--password", default=None, help="[DEBATE_COACH_PASSWORD]")
    parser.add_argument(
        "--nice",
        type=int,
        default=10,
        help="lower this load generator's CPU priority by this much (0: compete as an "
        "equal with the server on the same machine) [default: 10]",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.nice < 0:
        parser.error("--nice must be 0 or more")
    if args.nice:
        os.nice(args.nice)
    password = args.password if args.password is not None else load_settings().coach_password
    result = concurrency(args.url, args.sessions, args.turns, password)
    result["client_nice"] = args.nice
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        Console().print(concurrency_table(result))
    return 1 if result["errors"] or result["crosstalk"] else 0


if __name__ == "__main__":
    sys.exit(main())
