"""A case file: what a team takes into a round, in the shape of a Verbatim Word file.

Verbatim, the debaters' Word template, nests four heading levels: Pocket (a whole file, a
side), Hat (a part: the case, the blocks), Block (one argument or one answer) and Tag (one
card's claim). A CaseFile is that outline: its title is the Pocket, each Section a Hat or a
Block with its cards (each card a Tag with its cite and body). `debate.cards.docx_out` and
`debate.cards.markdown` write it; the prep code fills it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from debate.cards.card import Card, CardError

POCKET, HAT, BLOCK, TAG = 1, 2, 3, 4
LEVEL_NAMES = {POCKET: "Pocket", HAT: "Hat", BLOCK: "Block", TAG: "Tag"}


@dataclass
class Section:
    """A Hat (level 2) or a Block (level 3): a heading, optional analytics (paragraphs in
    the debater's own words, written before the cards) and its cards."""

    heading: str
    level: int = HAT
    cards: list[Card] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.level not in (POCKET, HAT, BLOCK):
            raise CardError(f"a section is a Pocket, Hat or Block (level 1-3), got {self.level}")
        if not " ".join(str(self.heading).split()):
            raise CardError("a section needs a heading")

    def to_dict(self) -> dict:
        return {
            "heading": self.heading,
            "level": self.level,
            "notes": list(self.notes),
            "cards": [c.to_dict() for c in self.cards],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Section:
        return cls(
            heading=str(d["heading"]),
            level=int(d.get("level", HAT)),
            cards=[Card.from_dict(c) for c in d.get("cards") or []],
            notes=[str(n) for n in d.get("notes") or []],
        )


@dataclass
class CaseFile:
    motion_title: str
    side: str = ""  # as the debater says it: "Proposition", "Attack: Serbia is an ally"
    sections: list[Section] = field(default_factory=list)

    def title(self) -> str:
        """The Pocket heading that opens the file."""
        return f"{self.motion_title}: {self.side}" if self.side else self.motion_title

    def cards(self) -> list[Card]:
        return [c for s in self.sections for c in s.cards]

    def to_dict(self) -> dict:
        return {
            "motion_title": self.motion_title,
            "side": self.side,
            "sections": [s.to_dict() for s in self.sections],
        }

    @classmethod
    def from_dict(cls, d: dict) -> CaseFile:
        return cls(
            motion_title=str(d["motion_title"]),
            side=str(d.get("side") or ""),
            sections=[Section.from_dict(s) for s in d.get("sections") or []],
        )
