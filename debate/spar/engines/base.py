"""What every speech engine is: `stream(request)` yields the growing speech text and returns
the final Reply (use `yield from`); `generate(request)` drains it."""

from __future__ import annotations

from collections.abc import Generator

from debate.check.citations import Reply
from debate.core.errors import DebateError
from debate.corpus.motions import SIDES
from debate.spar.plan import SpeechRequest


class Engine:
    """Base class: subclasses implement `stream`."""

    name = "engine"

    def stream(self, request: SpeechRequest) -> Generator[str, None, Reply]:
        raise NotImplementedError

    def generate(self, request: SpeechRequest) -> Reply:
        gen = self.stream(request)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value


def check_side(side: str) -> str:
    if side not in SIDES:
        raise DebateError(f"unknown side {side!r}: use defend (argue the thesis) or attack")
    return side
