"""A debate between a student and the bot: motion, the bot's side over time, phase, turns.

The bot argues one side (defend or attack the thesis); a coach may switch it at any turn,
effective from the bot's next speech. Phases: opening, rebuttal, closing, plus question
(the student asks; the bot answers once, then the debate returns to its phase).

What the student sends decides the kind of turn (`debate.spar.plan.message_kind`): a
question is answered in the question phase (entered for that turn, then left again); a
message with no argument ("ok", "hello", "?") gets a short prompt to make one, recorded as
a turn, with no evidence and no engine call; an argument gets a full speech, which starts
by saying so when the student argues the bot's own side (`argued_side`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

from debate.check.citations import EvidenceList, Reply
from debate.check.faithfulness import check_reply
from debate.core.config import Settings
from debate.core.errors import DebateError, QueryError
from debate.core.text import clean_input, quote_key, quoted_spans
from debate.corpus.motions import Motion, load_motion
from debate.search.retrieval import clean_query
from debate.spar import transcript
from debate.spar.engines import get_engine
from debate.spar.engines.base import Engine, check_side
from debate.spar.engines.evidence import EvidenceEngine, load_templates
from debate.spar.engines.warmup import warm_motion
from debate.spar.plan import (
    PHASES,
    SpeechRequest,
    argued_side,
    clean_message,
    message_kind,
    warm_message,
)
from debate.spar.transcript import ROLE as _ROLE
from debate.spar.transcript import Turn

log = logging.getLogger(__name__)

__all__ = ["PHASES", "OPENERS", "Turn", "Session", "warm_first_turn"]
OPENERS = ("student", "bot")


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
        if message_kind(text) in ("empty", "no-argument"):
            return self._ask_for_argument(text, notices)
        previous = self._enter_question_phase(text)
        try:
            reply = self.engine.generate(self._request(text))  # one call, no streaming
        except BaseException:
            self.phase = previous
            raise
        self._record(text, reply, notices)
        return reply

    def stream(self, student_text: str) -> Iterator[str]:
        """Yield the growing reply text; afterwards the Reply is in `self.last_reply`.
        The last text yielded is the final (checked) one, which may differ from the stream."""
        text, notices = self._prepare(student_text)
        if message_kind(text) in ("empty", "no-argument"):
            yield self._ask_for_argument(text, notices).text
            return
        previous = self._enter_question_phase(text)
        try:
            request = self._request(text)
            reply = yield from self.engine.stream(request)
        except BaseException:
            self.phase = previous
            raise
        self._record(text, reply, notices)
        yield reply.text

    def _enter_question_phase(self, text: str) -> str:
        """A question is answered in the question phase whatever the phase is: enter it for
        this turn (`_record` returns to the phase before, as after `set_phase`). Returns
        the phase to restore if the speech fails."""
        previous = self.phase
        if self.phase != "question" and message_kind(text) == "question":
            self.set_phase("question")
        return previous

    def _ask_for_argument(self, text: str, notices: list[str]) -> Reply:
        """The short prompt for a message that makes no argument: no engine call, no
        evidence, the phase unchanged; both turns are recorded."""
        t = load_templates(str(self.settings.prompts_dir))
        student = "defend" if self.bot_side == "attack" else "attack"
        line = t["no_argument"][len(self.turns) % len(t["no_argument"])].format(
            student_role=_ROLE[student], student_claim=self.motion.side_label(student).rstrip(".")
        )
        reply = Reply(line, EvidenceList(), self.bot_side, self.phase, engine="prompt")
        self._record(text, reply, notices, advance=False)
        return reply

    def open_round(self) -> Reply:
        """The bot's opening speech when the bot opens the debate."""
        request = self._request("")
        request.phase = "opening"
        reply = self.engine.generate(request)
        self._record(None, reply, [])
        return reply

    def _prepare(self, student_text: str) -> tuple[str, list[str]]:
        if not (student_text or "").strip():
            raise QueryError(
                "say something first: make a point, answer my last speech, or ask a question"
            )
        text = clean_message(clean_input(student_text or ""))
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
        if text:
            warm_message(text, self.settings)
        return SpeechRequest(
            motion=self.motion,
            settings=self.settings,
            side=self.bot_side,
            phase=self.phase,
            student_text=text,
            history=list(self.turns),
            used_quotes=self.used_quotes(),
            turn_number=sum(t.speaker == "bot" for t in self.turns),
            student_side=argued_side(text, self.motion, self.settings) if text else "",
        )

    def _record(
        self, student_text: str | None, reply: Reply, notices: list[str], advance: bool = True
    ) -> None:
        """Keep the student's message and the reply as turns, with the reply's verdicts
        (checked here when the engine has not checked it: every bot turn carries them)."""
        if not reply.verdicts:
            reply.verdicts = check_reply(reply, self.settings)
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
        if advance and self.phase in ("opening", "question"):
            self.next_phase()
        self.save()

    # -- persistence (debate.spar.transcript) ---------------------------------------------------
    def save(self) -> Path | None:
        """Autosave the transcript (see debate.spar.transcript.save); None when not saved."""
        return transcript.save(self) if self.autosave else None

    def to_dict(self) -> dict:
        return transcript.to_dict(self)

    @classmethod
    def from_dict(
        cls,
        data: dict,
        settings: Settings,
        engine: Engine | None = None,
        motion: Motion | None = None,
    ) -> Session:
        """A session rebuilt from `transcript.to_dict` output (a saved transcript)."""
        motion = motion or load_motion(data["motion"], settings.corpus_dir)
        session = cls(motion, settings, data["bot_side"], data.get("opener", "student"), engine)
        session.phase = check_phase(data.get("phase", "opening"))
        session.id = data.get("id", session.id)
        session.started = float(data.get("started", session.started))
        session.side_history = [(int(i), s) for i, s in data.get("side_history", [])] or [
            (0, session.bot_side)
        ]
        session.turns = [Turn.from_dict(d) for d in data.get("turns", [])]
        return session

    @property
    def transcript_path(self) -> Path:
        return transcript.path_for(self)


def warm_first_turn(motion: Motion, settings: Settings) -> None:
    """Do ahead what the first turns on a motion would compute: embed its contentions and
    their passages' sentences, then play a throwaway opening and reply per side with the
    offline engine (never an LLM: nothing leaves the machine; nothing is saved). What the
    first student turn still computes is its own message and passages only it finds."""
    warm_motion(motion, settings)
    for side in ("defend", "attack"):
        session = Session(motion, settings, bot_side=side, engine=EvidenceEngine(settings))
        session.autosave = False
        session.open_round()
        other = "attack" if side == "defend" else "defend"
        claims = [c.claim for c in motion.contentions_for(other)]
        session.respond(claims[0] if claims else motion.side_label(other))
