"""`python -m debate.loadtest URL [--sessions 20] [--turns 10] [--password PW]`: drive a
running app with simultaneous sessions (debate.bench.concurrency) and print the table."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from debate.bench import concurrency, concurrency_table
from debate.config import load_settings, offline_environment


def main(argv: list[str] | None = None) -> int:
    offline_environment()
    parser = argparse.ArgumentParser(prog="python -m debate.loadtest", description=__doc__)
    parser.add_argument("url", help="the running app, e.g. http://127.0.0.1:7860/")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--password", default=None, help="[DEBATE_COACH_PASSWORD]")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    password = args.password if args.password is not None else load_settings().coach_password
    result = concurrency(args.url, args.sessions, args.turns, password)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        Console().print(concurrency_table(result))
    return 1 if result["errors"] or result["crosstalk"] else 0


if __name__ == "__main__":
    sys.exit(main())
