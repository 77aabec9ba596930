"""A debate between a student and the bot: motion, the bot's side over time, phase, turns.

The bot argues one side (defend or attack the thesis); a coach may switch it at any turn,
effective from the bot's next speech. Phases: opening, rebuttal, closing, plus question
(the student asks; the bot answers once, then the debate returns to its phase).

What the student sends decides the kind of turn (`debate.spar.message.message_kind`): a
question is answered in the question phase (entered for that turn, then left again); a
message with no argument ("ok", "hello", "?") gets a short prompt to make one, recorded as
a turn, with no evidence and no engine call; an argument gets a full speech, which starts
by saying so when the student argues the bot's own side (`argued_side`).

With a format (`debate.corpus.formats`, the `fmt` argument) the round follows it: in an
ordered format (pf, ld, policy, parli) the session knows the entry under way
(`current_period`) and who has the floor (`next_speaker`); the student's message is their
speech, and the bot gives its side's speeches in order (`bot_speech`), each trimmed to its
word budget and named by the format. In a questioning period the student's question is
answered briefly from evidence, and the bot asks its questions (`ask`) through
`questioner`, set by the caller (the coach layer writes them from the flow). A free format
(practice) keeps the phases above and adds the budgets and names. See `speech_order`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

from debate.cards.card import Card
from debate.check.citations import EvidenceList, Reply
from debate.check.faithfulness import check_reply
from debate.core.config import Settings
from debate.core.errors import DebateError
from debate.core.text import quote_key, quoted_spans
from debate.corpus.formats import Format, Period, load_format
from debate.corpus.motions import ROLE, SIDES, Motion, load_motion, other_side
from debate.spar import transcript
from debate.spar.engines import get_engine
from debate.spar.engines.base import Engine, check_side
from debate.spar.engines.evidence import EvidenceEngine, load_templates
from debate.spar.engines.warmup import warm_motion
from debate.spar.message import StudentMessage, argued_side, read_message, warm_message
from debate.spar.plan import PHASES, SpeechRequest
from debate.spar.speech_order import Order, budget, fit_budget, free_period, phase_of
from debate.spar.transcript import Turn

log = logging.getLogger(__name__)

__all__ = ["PHASES", "OPENERS", "Turn", "Session", "warm_first_turn"]
OPENERS = ("student", "bot")


def _notices(message: StudentMessage) -> list[str]:
    if not message.original_chars:
        return []
    return [
        f"Your message was {message.original_chars:,} characters long; I read only the "
        f"first {len(message.text):,} of them."
    ]


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
        fmt: Format | None = None,
    ):
        if opener not in OPENERS:
            raise DebateError(f"unknown opener {opener!r}: use student or bot")
        self.motion = motion
        self.settings = settings
        self.bot_side = check_side(bot_side)
        self.opener = opener
        self.phase = "opening"
        self.turns: list[Turn] = []
        self.cards: list[Card] = []  # the student's cards, saved with the transcript
        self.side_history: list[tuple[int, str]] = [(0, bot_side)]
        self.engine = engine or get_engine(settings)
        self.last_reply: Reply | None = None
        self._resume_phase = "rebuttal"  # where a question returns to
        self._switch_notice = ""
        self.id = uuid4().hex[:12]
        self.started = time.time()
        # Autosaved after every turn, so a crash or a closed tab never loses a debate.
        self.autosave = True
        self.format = fmt
        self.order = Order(fmt) if fmt is not None and fmt.turns == "ordered" else None
        if self.order is not None:
            self.phase = phase_of(self.order.current)
        # questioner(session) -> the bot's next question ("" for none): set by the caller,
        # since questions are written from the flow (debate.coach.questions.next_question).
        self.questioner = None

    # -- the format ----------------------------------------------------------------------
    @property
    def current_period(self) -> Period | None:
        """The format's entry under way (in a free format, the bot's entry for the phase)."""
        if self.order is not None:
            return self.order.current
        return free_period(self.format, self.phase, self.bot_side) if self.format else None

    @property
    def next_speaker(self) -> str:
        """bot or student (or both, in a crossfire); "" once an ordered round is over."""
        return self.order.speaker(self.bot_side) if self.order is not None else "student"

    def advance(self) -> Period | None:
        """End the entry under way (a questioning period ends when the coach says so)."""
        if self.order is None:
            self.next_phase()
            return self.current_period
        period = self.order.advance()
        self.phase = phase_of(period) if period is not None else self.phase
        return period

    # -- coach controls --------------------------------------------------------------------
    def switch_side(self, side: str) -> str:
        """Switch the bot's side from its next speech; returns a one-line acknowledgement."""
        check_side(side)
        label = self.motion.side_label(side)
        if side == self.bot_side:
            return f"I already argue for the {ROLE[side]}: {label}."
        self.bot_side = side
        self.side_history.append((len(self.turns), side))
        line = f"Switching sides: from my next speech I argue for the {ROLE[side]}: {label}."
        self.turns.append(Turn(line, side=side, phase=self.phase, speaker="system"))
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
        if self.order is not None:
            self.advance()
            return self.phase
        order = {"opening": "rebuttal", "rebuttal": "closing", "closing": "closing"}
        self.phase = self._resume_phase if self.phase == "question" else order[self.phase]
        return self.phase

    # -- speeches ------------------------------------------------------------------------
    def read(self, student_text: str | StudentMessage) -> StudentMessage:
        """The student's message read once for its turn (`message.read_message`): cleaned,
        bounded to settings.max_message_chars, its kind known. QueryError when empty."""
        if isinstance(student_text, StudentMessage):
            return student_text
        return read_message(student_text, self.settings.max_message_chars)

    def respond(self, student_text: str | StudentMessage) -> Reply:
        """The bot's reply to a student message (recorded as two turns)."""
        message = self.read(student_text)
        notices = _notices(message)
        if self._wants_argument(message):
            return self._ask_for_argument(message.text, notices)
        if self.order is not None:
            return self._respond_in_order(message, notices)
        previous = self._enter_question_phase(message)
        try:
            reply = self.engine.generate(self._request(message.text))  # one call, no streaming
        except BaseException:
            self.phase = previous
            raise
        reply = self._fit(reply)
        self._record(message.text, reply, notices)
        return reply

    def stream(self, student_text: str | StudentMessage) -> Iterator[str]:
        """Yield the growing reply text; afterwards the Reply is in `self.last_reply`.
        The last text yielded is the final (checked) one, which may differ from the stream."""
        message = self.read(student_text)
        notices = _notices(message)
        if self._wants_argument(message):
            yield self._ask_for_argument(message.text, notices).text
            return
        if self.order is not None:  # an ordered round's speech comes whole, once trimmed
            yield self._respond_in_order(message, notices).text
            return
        previous = self._enter_question_phase(message)
        try:
            request = self._request(message.text)
            reply = yield from self.engine.stream(request)
        except BaseException:
            self.phase = previous
            raise
        reply = self._fit(reply)
        self._record(message.text, reply, notices)
        yield reply.text

    # -- an ordered format ------------------------------------------------------------------
    def _respond_in_order(self, message: StudentMessage, notices: list[str]) -> Reply:
        """The student's message in an ordered round: their speech (then the bot's, when it
        is next), or in a questioning period a question the bot answers or an answer to the
        bot's question (then the bot asks its next one)."""
        period = self.order.current
        if period is None:
            raise DebateError("the round is over: restart it, or read the ballot (debate feedback)")
        who = self.order.speaker(self.bot_side)
        if not period.is_speech:
            if who == "bot" or (message.kind != "question" and self._bot_asked()):
                self._record_student(message.text, period)
                return self.ask() or self._note(f"No more questions from me in {period.name}.")
            return self._answer(message.text, notices, period)
        if who == "bot":
            raise DebateError(f"it is the bot's speech now ({period.name}): let the bot speak")
        self._record_student(message.text, period)
        nxt = self.advance()
        if nxt is not None and nxt.is_speech and self.next_speaker == "bot":
            return self.bot_speech(message.text, notices)
        return self._note(f"Next: {nxt.line()}." if nxt else "That was the last speech.")

    def bot_speech(self, student_text: str = "", notices: list[str] | None = None) -> Reply:
        """The bot's speech under way in an ordered round, for its purpose and within its
        budget, answering the student's last speech; the round moves to the next entry."""
        period = self.order.current
        if period is None or not period.is_speech or period.side != self.bot_side:
            raise DebateError("it is not the bot's speech now")
        if not student_text:
            student_text = next(
                (t.text for t in reversed(self.turns) if t.speaker == "student"), ""
            )
        request = self._request(student_text)
        request.phase = phase_of(period)
        reply = fit_budget(self.engine.generate(request), budget(period, self.rate))
        self._record(None, reply, list(notices or []), advance=False)
        self.advance()
        return reply

    def _answer(self, text: str, notices: list[str], period: Period) -> Reply:
        """A brief answer from evidence to the student's question in a questioning period."""
        self._record_student(text, period)
        request = self._request(text)
        request.phase = "question"
        reply = fit_budget(self.engine.generate(request), budget(period, self.rate))
        self._record(None, reply, notices, advance=False)
        return reply

    def ask(self) -> Reply | None:
        """The bot's next question (from `questioner`), recorded as its turn; None when it
        has none or nobody set a questioner."""
        text = self.questioner(self) if self.questioner is not None else ""
        if not text:
            return None
        reply = Reply(text, EvidenceList(), self.bot_side, "question", engine="questions")
        self._record(None, reply, [], advance=False)
        return reply

    def _wants_argument(self, message: StudentMessage) -> bool:
        """A message with no argument gets a prompt to make one, except a short answer
        ("No.", "I did not say that") to the bot's question in a questioning period."""
        if message.kind == "empty":
            return True
        answering = self.order is not None and self._bot_asked()
        return message.kind == "no-argument" and not answering

    def _bot_asked(self) -> bool:
        last = next((t for t in reversed(self.turns) if t.speaker != "system"), None)
        return last is not None and last.speaker == "bot" and last.engine == "questions"

    def _record_student(self, text: str, period: Period) -> None:
        self.turns.append(
            Turn(text, side=self.bot_side, phase=self.phase, speaker="student", speech=period.name)
        )
        self.save()

    def _note(self, text: str) -> Reply:
        """What the bot says between entries (not a speech: no turn, no evidence)."""
        return Reply(text, EvidenceList(), self.bot_side, self.phase, engine="format")

    @property
    def rate(self) -> float:
        return self.settings.speaking_rate

    def _fit(self, reply: Reply) -> Reply:
        """In a free format, the reply within the budget of the bot's entry for its phase."""
        period = (
            free_period(self.format, reply.phase or self.phase, self.bot_side)
            if self.format
            else None
        )
        return fit_budget(reply, budget(period, self.rate)) if period is not None else reply

    def _enter_question_phase(self, message: StudentMessage) -> str:
        """A question is answered in the question phase whatever the phase is: enter it for
        this turn (`_record` returns to the phase before, as after `set_phase`). Returns
        the phase to restore if the speech fails."""
        previous = self.phase
        if self.phase != "question" and message.kind == "question":
            self.set_phase("question")
        return previous

    def _ask_for_argument(self, text: str, notices: list[str]) -> Reply:
        """The short prompt for a message that makes no argument: no engine call, no
        evidence, the phase unchanged; both turns are recorded."""
        t = load_templates(str(self.settings.prompts_dir))
        student = other_side(self.bot_side)
        line = t["no_argument"][len(self.turns) % len(t["no_argument"])].format(
            student_role=ROLE[student], student_claim=self.motion.side_label(student).rstrip(".")
        )
        reply = Reply(line, EvidenceList(), self.bot_side, self.phase, engine="prompt")
        self._record(text, reply, notices, advance=False)
        return reply

    def open_round(self) -> Reply:
        """The bot's opening speech when the bot opens the debate (in an ordered format:
        the bot's speech under way, `bot_speech`)."""
        if self.order is not None:
            return self.bot_speech()
        request = self._request("")
        request.phase = "opening"
        reply = self.engine.generate(request)
        self._record(None, reply, [])
        return reply

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
        period = self.current_period
        name = period.name if period is not None else ""
        if student_text is not None:
            self.turns.append(
                Turn(student_text, side=self.bot_side, phase=self.phase, speaker="student")
            )
            self.turns[-1].speech = name
        self.turns.append(Turn.of_reply(reply, self.bot_side, self.phase))
        self.turns[-1].speech = name
        self.last_reply = reply
        if advance and self.order is None and self.phase in ("opening", "question"):
            self.next_phase()
        self.save()

    def add_card(self, card: Card) -> Card:
        """Keep one of the student's cards with the round (saved with the transcript)."""
        self.cards.append(card)
        self.save()
        return card

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
        fmt = load_format(data["format"]) if data.get("format") else None
        opener = data.get("opener", "student")
        session = cls(motion, settings, data["bot_side"], opener, engine, fmt)
        if session.order is not None:
            session.order.index = int(data.get("format_index", 0))
        session.phase = check_phase(data.get("phase", "opening"))
        session.id = data.get("id", session.id)
        session.started = float(data.get("started", session.started))
        session.side_history = [(int(i), s) for i, s in data.get("side_history", [])] or [
            (0, session.bot_side)
        ]
        session.turns = [Turn.from_dict(d) for d in data.get("turns", [])]
        session.cards = transcript.cards_of(data)
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
    for side in SIDES:
        session = Session(motion, settings, bot_side=side, engine=EvidenceEngine(settings))
        session.autosave = False
        session.open_round()
        other = other_side(side)
        claims = [c.claim for c in motion.contentions_for(other)]
        session.respond(claims[0] if claims else motion.side_label(other))
