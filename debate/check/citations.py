"""Evidence lists and citation markers.

For one turn, the retrieved passages are numbered [1]..[k]; a reply's text cites them as
`[n]` or `[n, m]`. A number outside the list is a fabricated citation.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, fields

from debate.core.text import CITATION_RE  # noqa: F401 - [3], [1, 2], [1,2;4], [2-3] (a range)
from debate.corpus.passages import Passage


@dataclass(frozen=True)
class Citation:
    start: int  # offsets of the whole marker in the text
    end: int
    numbers: tuple[int, ...]


def expand_numbers(body: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", body):
        if re.search(r"[-–]", part):
            lo, hi = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            if 0 < hi - lo < 20:
                numbers.extend(range(lo, hi + 1))
                continue
            numbers.extend((lo, hi))
        elif part:
            numbers.append(int(part))
    return tuple(dict.fromkeys(numbers))


def parse_citations(text: str) -> list[Citation]:
    """Every citation marker in text, in order."""
    return [
        Citation(m.start(), m.end(), expand_numbers(m.group(1))) for m in CITATION_RE.finditer(text)
    ]


def cited_numbers(text: str) -> list[int]:
    """Distinct cited numbers in order of first appearance."""
    return list(dict.fromkeys(n for c in parse_citations(text) for n in c.numbers))


@dataclass
class EvidenceList:
    """The passages available to one turn, numbered from 1."""

    passages: list[Passage] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.passages)

    def get(self, number: int) -> Passage | None:
        if 1 <= number <= len(self.passages):
            return self.passages[number - 1]
        return None

    def number_of(self, passage_id: str) -> int | None:
        for i, p in enumerate(self.passages, 1):
            if p.id == passage_id:
                return i
        return None

    def numbered(self) -> list[tuple[int, Passage]]:
        return list(enumerate(self.passages, 1))

    def as_prompt(self) -> str:
        """The numbered evidence block given to a language model."""
        return "\n\n".join(
            f"[{n}] {p.title} ({p.publisher}, {p.date})\n{p.text}" for n, p in self.numbered()
        )


@dataclass
class Speech:
    """What every speech of a round has: its text, the evidence list its [n] markers refer
    to (None for a student's message), the bot's side and the phase at the time, and for a
    bot speech the engine, notices and one verdict per sentence. `Reply` (an engine's
    output) and `transcript.Turn` (a speech as the round keeps it) are both Speeches."""

    text: str
    evidence: EvidenceList | None = None
    side: str = ""
    phase: str = ""
    engine: str = ""
    notices: list[str] = field(default_factory=list)
    # Filled by the faithfulness checker / guard: one verdict per sentence.
    verdicts: list = field(default_factory=list)


SPEECH_FIELDS = tuple(f.name for f in fields(Speech))


@dataclass
class Reply(Speech):
    """One bot speech from an engine: text with [n] markers plus the evidence list they
    refer to."""

    engine: str = "evidence"

    def cited_numbers(self) -> list[int]:
        return cited_numbers(self.text)

    def cited_passages(self) -> list[tuple[int, Passage]]:
        return [(n, p) for n in self.cited_numbers() if (p := self.evidence.get(n)) is not None]

    def fabricated_numbers(self) -> list[int]:
        return [n for n in self.cited_numbers() if self.evidence.get(n) is None]

    def to_dict(self) -> dict:
        """The reply as JSON-ready data: text, citation markers, numbered evidence, verdicts."""
        return {
            "side": self.side,
            "phase": self.phase,
            "engine": self.engine,
            "text": self.text,
            "notices": list(self.notices),
            "citations": [
                {
                    "start": c.start,
                    "end": c.end,
                    "numbers": list(c.numbers),
                    "marker": self.text[c.start : c.end],
                }
                for c in parse_citations(self.text)
            ],
            "evidence": [{"n": n, **p.to_dict()} for n, p in self.evidence.numbered()],
            "verdicts": [v.to_dict() for v in self.verdicts],
        }


def render_terminal(reply: Reply, width: int = 100) -> str:
    """Speech, then the cited passages (source line and text), for a terminal."""
    lines = [reply.text, ""]
    for n, p in reply.cited_passages():
        lines.append(f"[{n}] {p.citation_label()}  {p.url}")
        lines.append("    " + (p.text if len(p.text) <= 600 else p.text[:600] + "…"))
    for n in reply.fabricated_numbers():
        lines.append(f"[{n}] (no such evidence for this turn: citation removed from trust)")
    return "\n".join(lines)


def render_html(text: str, evidence: EvidenceList) -> str:
    """Escape text and turn each [n] into a link to evidence item n (unknown n marked)."""
    out, pos = [], 0
    for c in parse_citations(text):
        out.append(html.escape(text[pos : c.start]))
        links = []
        for n in c.numbers:
            if evidence.get(n) is not None:
                links.append(f'<a class="cite" href="#ev-{n}" data-cite="{n}">{n}</a>')
            else:
                links.append(f'<span class="cite-bad" title="no such evidence">{n}?</span>')
        out.append("[" + ", ".join(links) + "]")
        pos = c.end
    out.append(html.escape(text[pos:]))
    return "".join(out)
