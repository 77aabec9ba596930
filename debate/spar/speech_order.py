"""The round in its format (`debate.corpus.formats`): whose speech it is, what the engine
writes for it, and how long it may be.

A speech's purpose maps onto the engine's phases (constructive -> opening, rebuttal ->
rebuttal, summary, final focus and reply -> closing: they collapse and weigh); a
questioning period is the question phase. A speech's word budget is its minutes times the
speaking rate (settings.speaking_rate, words per minute); an answer in a questioning period
gets ANSWER_MINUTES of it, since answers there are brief. `fit_budget` trims a speech to
its budget at sentence boundaries, never inside a quotation, and keeps the verdicts of the
sentences it keeps.
"""

from __future__ import annotations

import dataclasses
import re

from debate.check.citations import Reply
from debate.core.text import quotes_in, sentence_spans
from debate.corpus.formats import Format, Period

PHASE_OF_PURPOSE = {
    "constructive": "opening",
    "rebuttal": "rebuttal",
    "summary": "closing",
    "final-focus": "closing",
    "reply": "closing",
}
# A crossfire or cross-examination answer: half a minute of speech (75 words at 150 wpm),
# about what a judge expects before the asker takes the floor back.
ANSWER_MINUTES = 0.5
_CITATION = re.compile(r"\[\d[\d\s,;–-]*\]")


def phase_of(period: Period) -> str:
    """The engine phase that writes for this entry of the round."""
    return PHASE_OF_PURPOSE[period.purpose] if period.is_speech else "question"


def word_count(text: str) -> int:
    """Words as a speaker says them: citation markers are not read aloud."""
    return len(_CITATION.sub(" ", text).split())


def budget(period: Period, rate: float) -> int:
    """Words the bot may say in this entry: a speech's minutes x rate, an answer's
    ANSWER_MINUTES x rate."""
    minutes = period.minutes if period.is_speech else ANSWER_MINUTES
    return int(minutes * rate)


def free_period(fmt: Format, phase: str, side: str) -> Period | None:
    """In a free round (practice), the entry of `side` for the coach's current phase."""
    for p in fmt.round:
        if phase_of(p) == phase and (p.side == side or not p.is_speech):
            return p
    return None


class Order:
    """Where an ordered round stands: the index of the current entry of the format."""

    def __init__(self, fmt: Format, index: int = 0):
        self.format = fmt
        self.index = index

    @property
    def current(self) -> Period | None:
        """The entry now under way; None once the round is over."""
        return self.format.round[self.index] if self.index < len(self.format.round) else None

    @property
    def upcoming(self) -> Period | None:
        i = self.index + 1
        return self.format.round[i] if i < len(self.format.round) else None

    def speaker(self, bot_side: str) -> str:
        """Who has the floor: bot or student for a speech; for a questioning period who
        asks (bot, student or both); "" once the round is over."""
        p = self.current
        if p is None:
            return ""
        if p.is_speech:
            return "bot" if p.side == bot_side else "student"
        if p.asks == "both":
            return "both"
        return "bot" if p.asks == bot_side else "student"

    def advance(self) -> Period | None:
        self.index = min(self.index + 1, len(self.format.round))
        return self.current


def _units(text: str) -> list[tuple[int, int]]:
    """Sentence spans, a quotation that runs over several sentences kept in one unit."""
    quotes = quotes_in(text)
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        inside = units and any(q.start < units[-1][1] < q.end for q in quotes)
        if inside and "\n" not in text[units[-1][1] : s]:
            units[-1] = (units[-1][0], e)
        else:
            units.append((s, e))
    return units


def _keep(text: str, units: list[tuple[int, int]], words: int) -> list[tuple[int, int]]:
    """The first units that fit, plus the last one (the speech's conclusion) when it fits."""
    counts = [word_count(text[s:e]) for s, e in units]
    last = counts[-1] if len(units) > 1 else 0
    for reserve in (last, 0):
        kept, used = [], reserve
        for unit, n in zip(units[:-1] if reserve else units, counts, strict=False):
            if used + n > words:
                break
            kept.append(unit)
            used += n
        if kept:
            return kept + ([units[-1]] if reserve else [])
    return units[:1]  # a first sentence longer than the budget: said whole, never cut


def fit_budget(reply: Reply, words: int) -> Reply:
    """The reply trimmed to at most `words` words (see module doc); unchanged when it fits."""
    text = reply.text
    if word_count(text) <= words:
        return reply
    units = _units(text)
    kept = _keep(text, units, words)
    pieces, shift, verdicts, pos = [], {}, [], 0
    for i, (s, e) in enumerate(kept):
        if i:
            gap = "\n\n" if "\n" in text[kept[i - 1][1] : s] else " "
            pieces.append(gap)
            pos += len(gap)
        shift[(s, e)] = pos - s
        pieces.append(text[s:e])
        pos += e - s
    for v in reply.verdicts:
        unit = next(((s, e) for s, e in kept if s <= v.start and v.end <= e), None)
        if unit is not None:
            d = shift[unit]
            verdicts.append(dataclasses.replace(v, start=v.start + d, end=v.end + d))
    trimmed = dataclasses.replace(reply, text="".join(pieces), verdicts=verdicts)
    trimmed.notices = list(reply.notices)
    return trimmed
