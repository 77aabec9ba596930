"""A debate's transcript: its turns, kept as JSON (autosaved after every turn, atomically)
and exported as Markdown with a numbered bibliography.

Functions take any object with the session's fields (motion, settings, id, started,
bot_side, phase, opener, engine, side_history, turns), so this module does not depend on
`debate.spar.session`; `Session.from_dict` rebuilds a session from `to_dict`'s output.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from debate.cards.card import Card
from debate.check.citations import (
    CITATION_RE,
    SPEECH_FIELDS,
    EvidenceList,
    Reply,
    Speech,
    expand_numbers,
)
from debate.check.faithfulness import Verdict
from debate.corpus.motions import ROLE
from debate.corpus.passages import Passage

PASSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Passage))

log = logging.getLogger(__name__)


@dataclass
class Turn(Speech):
    """A speech as the round keeps it: who gave it and when, besides the Speech fields
    (for a student's or the coach's turn: text, the bot's side at the time, the phase)."""

    speaker: str = "bot"  # "student" | "bot" | "system"
    created: float = field(default_factory=time.time)
    speech: str = ""  # the format's name for the speech ("Pro Summary"), "" without a format

    @classmethod
    def of_reply(cls, reply: Reply, side: str, phase: str) -> Turn:
        """The bot's turn for a reply (side and phase fill in what the reply leaves empty)."""
        speech = {f: getattr(reply, f) for f in SPEECH_FIELDS}
        speech.update(side=reply.side or side, phase=reply.phase or phase)
        speech.update(verdicts=list(reply.verdicts), notices=list(reply.notices))
        return cls(**speech, speaker="bot")

    def to_dict(self) -> dict:
        # Field by field rather than dataclasses.asdict, whose deep copy of every passage
        # was most of the cost of autosaving a long round after each turn.
        return {
            "speaker": self.speaker,
            "text": self.text,
            "side": self.side,
            "phase": self.phase,
            "evidence": None
            if self.evidence is None
            else [{f: getattr(p, f) for f in PASSAGE_FIELDS} for p in self.evidence.passages],
            "verdicts": [v.to_dict() for v in self.verdicts],
            "engine": self.engine,
            "notices": list(self.notices),
            "created": self.created,
            "speech": self.speech,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Turn:
        evidence = d.get("evidence")
        return cls(
            speaker=d["speaker"],
            text=d["text"],
            side=d["side"],
            phase=d["phase"],
            evidence=None if evidence is None else EvidenceList([Passage(**p) for p in evidence]),
            verdicts=[Verdict.from_dict(v) for v in d.get("verdicts") or []],
            engine=d.get("engine", ""),
            notices=list(d.get("notices") or []),
            created=float(d.get("created", 0.0)),
            speech=d.get("speech", ""),
        )


def path_for(session) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(session.started))
    return session.settings.transcripts_dir / session.motion.id / f"{stamp}-{session.id}.json"


def to_dict(session) -> dict:
    return {
        "id": session.id,
        "started": session.started,
        "motion": session.motion.id,
        "bot_side": session.bot_side,
        "phase": session.phase,
        "opener": session.opener,
        "engine": getattr(session.engine, "name", ""),
        "side_history": [list(x) for x in session.side_history],
        # The round's format and, in an ordered one, the index of the entry under way.
        "format": getattr(getattr(session, "format", None), "id", ""),
        "format_index": getattr(getattr(session, "order", None), "index", 0),
        "turns": [t.to_dict() for t in session.turns],
        "cards": [c.to_dict() for c in getattr(session, "cards", [])],  # the student's cards
    }


def cards_of(data: dict) -> list[Card]:
    """The student's cards of a saved transcript (none in one saved before cards)."""
    return [Card.from_dict(c) for c in data.get("cards") or []]


def save(session) -> Path | None:
    """Write the transcript as JSON, atomically (a crash mid-write leaves the previous
    version). A failure to save is logged, never raised: the debate goes on."""
    if not session.turns:
        return None
    path = path_for(session)
    tmp = path.with_suffix(".json.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Compact: json.dumps with an indent runs its pure-Python encoder, several times
        # slower, and this runs after every turn.
        tmp.write_text(json.dumps(to_dict(session), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not save the transcript to %s: %s", path, exc)
        return None
    return path


def markdown(session, flow_table: str = "") -> str:
    """Speeches, the bot's sides over time, a numbered bibliography of every source cited,
    and, when given, the flow sheet of the round (`debate.coach.flow.round_markdown` passes
    it). Each turn's [n] markers are renumbered to the bibliography's numbers."""
    m = session.motion
    sources: dict[tuple, int] = {}
    lines = [f"# {m.title}", "", f"**Motion:** {m.thesis}", ""]
    sides = "; ".join(
        f"{ROLE[s]} ({m.side_label(s)}) from turn {i + 1}" for i, s in session.side_history
    )
    lines += [f"**Bot's side:** {sides}", "", "## Speeches", ""]
    for i, t in enumerate(session.turns, 1):
        if t.speaker == "system":
            lines += [f"*{t.text}*", ""]
            continue
        who = "Student" if t.speaker == "student" else f"Bot ({ROLE[t.side]})"
        engine = f" · {t.engine}" if t.speaker == "bot" and t.engine else ""
        lines += [f"### {i}. {who}, {t.speech or t.phase}{engine}", "", _renumber(t, sources), ""]
    if sources:
        lines += ["## Sources", ""]
        for (title, publisher, date, url), n in sorted(sources.items(), key=lambda kv: kv[1]):
            lines.append(f"{n}. {title}. {publisher}, {date}. {url}")
        lines.append("")
    if flow_table:
        lines += ["## Flow", "", flow_table]
    return "\n".join(lines).rstrip() + "\n"


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

    def renumber(match: re.Match) -> str:
        numbers = dict.fromkeys(global_number(n) for n in expand_numbers(match.group(1)))
        return "[" + ", ".join(numbers) + "]"

    return CITATION_RE.sub(renumber, turn.text)
