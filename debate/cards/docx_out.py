"""Cards and case files as Word files in the Verbatim conventions.

The styles written (the names debate.corpus.docx_source reads back):

- paragraph styles **Pocket**, **Hat**, **Block**, **Tag**, based on Heading 1-4 with
  outline levels 1-4, so Word's navigation pane and Verbatim's tools see the outline;
- character style **Cite** (bold, 13 pt) on the short cite ("Kekic 24"), the full
  reference after it in plain text;
- character style **Underline** (a real single underline, w:u) on the underlined words;
- character style **Emphasis** (bold, underlined) for Verbatim users' own key words (the
  import reads it as underlined; the cards written here use Underline);
- Word's own yellow highlight (w:highlight, WD_COLOR_INDEX.YELLOW) on the highlighted
  words, the ones read aloud.

A card is its Tag heading, its cite paragraph and its body: one paragraph per line of the
body, every character of it as in the source.
"""

from __future__ import annotations

import os
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from debate.cards.card import Card, segments
from debate.cards.casefile import POCKET, TAG, CaseFile
from debate.corpus.docx_source import (
    CITE_STYLE,
    EMPHASIS_STYLE,
    HEADING_STYLES,
    UNDERLINE_STYLE,
)

HIGHLIGHT = WD_COLOR_INDEX.YELLOW
# Verbatim's sizes, in points, for Pocket, Hat, Block and Tag.
HEADING_SIZES = {1: 26, 2: 22, 3: 16, 4: 13}
CITE_SIZE = 13


def _outline(style, level: int) -> None:
    """Set the style's outline level (Word counts from 0: Heading 1 is level 0)."""
    ppr = style.element.get_or_add_pPr()
    for old in ppr.findall(qn("w:outlineLvl")):
        ppr.remove(old)
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), str(level - 1))
    ppr.append(lvl)


def _char_style(styles, name: str):
    if name in [s.name for s in styles]:
        style = styles[name]
    else:
        style = styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
    style.quick_style = True
    return style


def add_styles(document) -> None:
    """The Verbatim styles (see the module docstring), added to the document."""
    styles = document.styles
    for level, name in HEADING_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[f"Heading {level}"]
        style.next_paragraph_style = styles["Normal"]
        style.quick_style = True
        style.font.size = Pt(HEADING_SIZES[level])
        style.font.bold = True
        style.font.italic = False  # Verbatim's headings are upright and black
        style.font.color.rgb = RGBColor(0, 0, 0)
        _outline(style, level)
    cite = _char_style(styles, CITE_STYLE)
    cite.font.bold = True
    cite.font.size = Pt(CITE_SIZE)
    underline = _char_style(styles, UNDERLINE_STYLE)
    underline.font.underline = True
    emphasis = _char_style(styles, EMPHASIS_STYLE)
    emphasis.font.italic = False
    emphasis.font.bold = True
    emphasis.font.underline = True


def add_card(document, card: Card) -> None:
    """The card's Tag, cite and body (see the module docstring)."""
    document.add_paragraph(card.tag, style=HEADING_STYLES[TAG])
    cite = document.add_paragraph()
    cite.add_run(card.cite.short(), style=CITE_STYLE)
    rest = card.cite.line()[len(card.cite.short()) :]
    if rest:
        cite.add_run(rest)
    pos = 0
    for line in card.body.split("\n"):
        paragraph = document.add_paragraph()
        for a, b, under, high in segments(card, pos, pos + len(line)):
            run = paragraph.add_run(card.body[a:b], style=UNDERLINE_STYLE if under else None)
            if high:
                run.font.highlight_color = HIGHLIGHT
        pos += len(line) + 1


def case_document(case: CaseFile):
    """The case file as a python-docx Document: the Pocket title, then each section's
    heading, notes and cards."""
    document = docx.Document()
    add_styles(document)
    document.core_properties.title = case.title()
    document.core_properties.author = "debate"
    document.add_paragraph(case.title(), style=HEADING_STYLES[POCKET])
    for section in case.sections:
        document.add_paragraph(
            " ".join(section.heading.split()), style=HEADING_STYLES[section.level]
        )
        for note in section.notes:
            document.add_paragraph(note)
        for card in section.cards:
            add_card(document, card)
    return document


def write_docx(case: CaseFile, path: str | Path) -> Path:
    """Write the case file to path atomically (a crash leaves any previous file whole)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    case_document(case).save(str(tmp))
    os.replace(tmp, path)
    return path
