"""Cards and case files as Markdown, mirroring the Word export (debate.cards.docx_out).

    # Pocket (the case file's title)      ## Hat      ### Block      #### Tag
    **Kekic 24** (Tatyana Kekic, 2024-05-30, “Serbia signs gas deal”, bne IntelliNews, URL)

    The card's text, with **underlined words** and ==highlighted words== (both: ==**x**==).

Each line of a card's body is a paragraph; characters Markdown would read as marks
(`\\ * _ = # [ ] < >` and backquotes) are escaped with a backslash, URLs excepted, so the
words are the source's, character for character, once the marks are read.
"""

from __future__ import annotations

import re

from debate.cards.card import Card, segments
from debate.cards.casefile import POCKET, TAG, CaseFile

_SPECIAL = re.compile(r"([\\`*_=#\[\]<>])")


_URL = re.compile(r"(https?://\S+)")


def escape(text: str) -> str:
    """Text with Markdown's marks escaped; URLs are left as they are (autolinks)."""
    parts = _URL.split(text)
    return "".join(p if i % 2 else _SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def body_markdown(card: Card) -> str:
    """The body, one paragraph per line, with its underline and highlight marks."""
    paragraphs, pos = [], 0
    for line in card.body.split("\n"):
        out = []
        for a, b, under, high in segments(card, pos, pos + len(line)):
            piece = card.body[a:b]
            core = piece.strip()
            if not core or not (under or high):
                out.append(escape(piece))
                continue
            lead, tail = piece[: len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()) :]
            marked = f"**{escape(core)}**" if under else escape(core)
            marked = f"=={marked}==" if high else marked
            out.append(f"{lead}{marked}{tail}")
        pos += len(line) + 1
        if line.strip():
            paragraphs.append("".join(out))
    return "\n\n".join(paragraphs)


def card_markdown(card: Card) -> str:
    short = card.cite.short()
    rest = card.cite.line()[len(short) :]
    return "\n\n".join(
        [
            f"{'#' * TAG} {escape(card.tag)}",
            f"**{escape(short)}**{escape(rest)}",
            body_markdown(card),
        ]
    )


def case_markdown(case: CaseFile) -> str:
    """The whole case file: the Pocket title, then each section, its notes and cards."""
    parts = [f"{'#' * POCKET} {escape(case.title())}"]
    for section in case.sections:
        parts.append(f"{'#' * section.level} {escape(' '.join(section.heading.split()))}")
        parts += [escape(note) for note in section.notes]
        parts += [card_markdown(card) for card in section.cards]
    return "\n\n".join(parts) + "\n"
