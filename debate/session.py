"""A debate between a student and the bot: motion, the bot's side over time, phase, turns.

The bot argues one side (defend or attack the thesis); a coach may switch it at any turn,
effective from the bot's next speech. Phases: opening, rebuttal, closing, plus question
(the student asks; the bot answers once, then the debate returns to its phase).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

from debate.citations import CITATION_RE, EvidenceList, Reply
from debate.config import Settings
from debate.engines import (
    PHASES,
    Engine,
    SpeechRequest,
    check_side,
    get_engine,
    quote_key,
    quoted_spans,
)
from debate.errors import DebateError, QueryError
from debate.motions import Motion, load_motion
from debate.passages import Passage
from debate.retrieval import clean_query

log = logging.getLogger(__name__)

__all__ = ["PHASES", "OPENERS", "Turn", "Session"]
OPENERS = ("student", "bot")
_ROLE = {"defend": "proposition", "attack": "opposition"}


@dataclass
class Turn:
    speaker: str  # "student" | "bot" | "system"
    text: str
    side: str  # the bot's side at the time of the turn
    phase: str
    evidence: EvidenceList | None = None
    verdicts: list = field(default_factory=list)
    engine: str = ""
    notices: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)


def check_phase(phase: str) -> str:
    if phase not in PHASES:
        raise DebateError(f"unknown phase {phase!r}: use one of {', '.join(PHASES)}")
    return phase


class Session:
    def __init__(
        self,
        motion: Motion,
        settings: Settings,
        bot_side: str = "attack",
        opener: str = "student",
        engine: Engine | None = None,
    ):
        if opener not in OPENERS:
            raise DebateError(f"unknown opener {opener!r}: use student or bot")
        self.motion = motion
        self.settings = settings
        self.bot_side = check_side(bot_side)
        self.opener = opener
        self.phase = "opening"
        self.turns: list[Turn] = []
        self.side_history: list[tuple[int, str]] = [(0, bot_side)]
        self.engine = engine or get_engine(settings)
        self.last_reply: Reply | None = None
        self._resume_phase = "rebuttal"  # where a question returns to
        self._switch_notice = ""
        self.id = uuid4().hex[:12]
        self.started = time.time()
        # Autosaved after every turn, so a crash or a closed tab never loses a debate.
        self.autosave = True

    # -- coach controls --------------------------------------------------------------------
    def switch_side(self, side: str) -> str:
        """Switch the bot's side from its next speech; returns a one-line acknowledgement."""
        check_side(side)
        label = self.motion.side_label(side)
        if side == self.bot_side:
            return f"I already argue for the {_ROLE[side]}: {label}."
        self.bot_side = side
        self.side_history.append((len(self.turns), side))
        line = f"Switching sides: from my next speech I argue for the {_ROLE[side]}: {label}."
        self.turns.append(Turn("system", line, side, self.phase))
        self._switch_notice = line
        self.save()
        return line

    def set_phase(self, phase: str) -> str:
        check_phase(phase)
        if phase == "question" and self.phase != "question":
            self._resume_phase = self.phase
        self.phase = phase
        return f"Phase: {phase}."

    def next_phase(self) -> str:
        order = {"opening": "rebuttal", "rebuttal": "closing", "closing": "closing"}
        self.phase = self._resume_phase if self.phase == "question" else order[self.phase]
        return self.phase

    # -- speeches ------------------------------------------------------------------------
    def respond(self, student_text: str) -> Reply:
        """The bot's reply to a student message (recorded as two turns)."""
        text, notices = self._prepare(student_text)
        reply = self.engine.generate(self._request(text))  # one call, no streaming
        self._record(text, reply, notices)
        return reply

    def stream(self, student_text: str) -> Iterator[str]:
        """Yield the growing reply text; afterwards the Reply is in `self.last_reply`.
        The last text yielded is the final (checked) one, which may differ from the stream."""
        text, notices = self._prepare(student_text)
        request = self._request(text)
        reply = yield from self.engine.stream(request)
        self._record(text, reply, notices)
        yield reply.text

    def open_round(self) -> Reply:
        """The bot's opening speech when the bot opens the debate."""
        request = self._request("")
        request.phase = "opening"
        reply = self.engine.generate(request)
        self._record(None, reply, [])
        return reply

    def _prepare(self, student_text: str) -> tuple[str, list[str]]:
        text = (student_text or "").strip()
        if not text:
            raise QueryError(
                "say something first: make a point, answer my last speech, or ask a question"
            )
        notices = []
        limit = self.settings.max_message_chars
        if len(text) > limit:
            original = len(text)
            text, _ = clean_query(text, limit)
            notices.append(
                f"Your message was {original:,} characters long; I read only the "
                f"first {len(text):,} of them."
            )
        return text, notices

    def used_quotes(self) -> frozenset[str]:
        return frozenset(
            quote_key(q) for t in self.turns if t.speaker == "bot" for q in quoted_spans(t.text)
        )

    def _request(self, text: str) -> SpeechRequest:
        return SpeechRequest(
            motion=self.motion,
            settings=self.settings,
            side=self.bot_side,
            phase=self.phase,
            student_text=text,
            history=list(self.turns),
            used_quotes=self.used_quotes(),
            turn_number=sum(t.speaker == "bot" for t in self.turns),
        )

    def _record(self, student_text: str | None, reply: Reply, notices: list[str]) -> None:
        if self._switch_notice:
            notices = [self._switch_notice] + notices
            self._switch_notice = ""
        reply.notices = notices + list(reply.notices)
        if student_text is not None:
            self.turns.append(Turn("student", student_text, self.bot_side, self.phase))
        self.turns.append(
            Turn(
                "bot",
                reply.text,
                reply.side or self.bot_side,
                reply.phase or self.phase,
                reply.evidence,
                list(reply.verdicts),
                reply.engine,
                list(reply.notices),
            )
        )
        self.last_reply = reply
        if self.phase in ("opening", "question"):
            self.next_phase()
        self.save()

    # -- persistence ---------------------------------------------------------------------
    @property
    def transcript_path(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self.started))
        return self.settings.transcripts_dir / self.motion.id / f"{stamp}-{self.id}.json"

    def save(self) -> Path | None:
        """Write the transcript as JSON (atomically: a crash mid-write leaves the previous
        version). A failure to save is logged, never raised: the debate goes on."""
        if not self.autosave or not self.turns:
            return None
        path = self.transcript_path
        tmp = path.with_suffix(".json.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
            )
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not save the transcript to %s: %s", path, exc)
            return None
        return path

    # -- export --------------------------------------------------------------------------
    def transcript_markdown(self) -> str:
        """Speeches, the bot's sides over time, and a numbered bibliography of every source
        cited. Each turn's [n] markers are renumbered to the bibliography's numbers."""
        m = self.motion
        sources: dict[tuple, int] = {}
        lines = [f"# {m.title}", "", f"**Motion:** {m.thesis}", ""]
        sides = "; ".join(
            f"{_ROLE[s]} ({m.side_label(s)}) from turn {i + 1}" for i, s in self.side_history
        )
        lines += [f"**Bot's side:** {sides}", "", "## Speeches", ""]
        for i, t in enumerate(self.turns, 1):
            if t.speaker == "system":
                lines += [f"*{t.text}*", ""]
                continue
            who = "Student" if t.speaker == "student" else f"Bot ({_ROLE[t.side]})"
            engine = f" · {t.engine}" if t.speaker == "bot" and t.engine else ""
            lines += [f"### {i}. {who}, {t.phase}{engine}", ""]
            lines += [self._renumber(t, sources), ""]
        if sources:
            lines += ["## Sources", ""]
            for key, n in sorted(sources.items(), key=lambda kv: kv[1]):
                title, publisher, date, url = key
                lines.append(f"{n}. {title}. {publisher}, {date}. {url}")
        return "\n".join(lines).rstrip() + "\n"

    @staticmethod
    def _renumber(turn: Turn, sources: dict[tuple, int]) -> str:
        if turn.speaker != "bot" or turn.evidence is None:
            return CITATION_RE.sub(lambda mt: mt.group(0).replace("[", "\\["), turn.text)

        def global_number(n: int) -> str:
            p = turn.evidence.get(n)
            if p is None:
                return f"{n}?"
            key = (p.title, p.publisher, p.date, p.url)
            sources.setdefault(key, len(sources) + 1)
            return str(sources[key])

        def replace(match: re.Match) -> str:
            from debate.citations import _expand

            numbers = dict.fromkeys(global_number(n) for n in _expand(match.group(1)))
            return "[" + ", ".join(numbers) + "]"

        return CITATION_RE.sub(replace, turn.text)

    def to_dict(self) -> dict:
        def turn_dict(t: Turn) -> dict:
            d = dataclasses.asdict(t)
            d["evidence"] = (
                None if t.evidence is None else [dataclasses.asdict(p) for p in t.evidence.passages]
            )
            d["verdicts"] = [
                dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for v in t.verdicts
            ]
            return d

        return {
            "id": self.id,
            "started": self.started,
            "motion": self.motion.id,
            "bot_side": self.bot_side,
            "phase": self.phase,
            "opener": self.opener,
            "engine": getattr(self.engine, "name", ""),
            "side_history": [list(x) for x in self.side_history],
            "turns": [turn_dict(t) for t in self.turns],
        }

    @classmethod
    def from_dict(
        cls,
        data: dict,
        settings: Settings,
        engine: Engine | None = None,
        motion: Motion | None = None,
    ) -> Session:
        motion = motion or load_motion(data["motion"], settings.corpus_dir)
        session = cls(motion, settings, data["bot_side"], data.get("opener", "student"), engine)
        session.phase = check_phase(data.get("phase", "opening"))
        session.id = data.get("id", session.id)
        session.started = float(data.get("started", session.started))
        session.side_history = [(int(i), s) for i, s in data.get("side_history", [])] or [
            (0, session.bot_side)
        ]
        for d in data.get("turns", []):
            evidence = d.get("evidence")
            session.turns.append(
                Turn(
                    speaker=d["speaker"],
                    text=d["text"],
                    side=d["side"],
                    phase=d["phase"],
                    evidence=None
                    if evidence is None
                    else EvidenceList([Passage(**p) for p in evidence]),
                    verdicts=list(d.get("verdicts") or []),
                    engine=d.get("engine", ""),
                    notices=list(d.get("notices") or []),
                    created=float(d.get("created", 0.0)),
                )
            )
        return session
