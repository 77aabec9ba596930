"""A Verbatim-style Word file (.docx) as a source: each card becomes one passage.

Debate teams keep their evidence in Word files made with Verbatim's conventions: headings
Pocket, Hat, Block and Tag (Heading 1-4), each Tag followed by its cite paragraph (the
short cite in bold, then the full reference) and the card's text, with the words read
aloud highlighted and the key words underlined. `read_docx` turns such a file into the
source text (headings, tags, cites and bodies, one block per paragraph group) plus one
CardSpan per card: where its body lies in that text, its tag, its cite's fields
(debate.corpus.cites) and its highlighted and underlined words. A Tag with no text under it
(an analytic) is not a card.

The file is checked before python-docx reads it (`check_package`): it must be a zip
package, without macros or ActiveX parts, with a bounded number of entries whose declared
sizes and compression ratios are bounded (a zip bomb is refused before anything is
inflated; Python's zipfile never inflates past the declared size). A file without cards is
refused too. The style names written by debate.cards.docx_out are the ones read here.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from docx.oxml.ns import qn

from debate.core.errors import SourceError
from debate.corpus.cites import parse_cite
from debate.corpus.passages import CardSpan

# Verbatim's names, by outline level; the built-in "Heading N" styles count too.
HEADING_STYLES = {1: "Pocket", 2: "Hat", 3: "Block", 4: "Tag"}
TAG_LEVEL = 4
CITE_STYLE = "Cite"
UNDERLINE_STYLE = "Underline"
EMPHASIS_STYLE = "Emphasis"  # Verbatim's emphasis is bold, underlined key words

MAX_ENTRIES = 1000
MAX_UNCOMPRESSED = 256 * 1024 * 1024  # all parts together, as declared
MAX_RATIO = 100  # Word's XML compresses about 5-20 times; zip bombs, thousands
RATIO_FLOOR = 1024 * 1024  # smaller parts may compress as much as they like
ACTIVE_PARTS = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml|activeX[^/]*)$", re.IGNORECASE)
MACRO_TYPES = ("macroEnabled", "vbaProject", "ms-office.activeX")
_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)
_YEAR = re.compile(r"\b(\d{4}|\d{2})\s*$")


@dataclass(frozen=True)
class DocxSource:
    text: str
    meta: dict = field(default_factory=dict)
    cards: tuple[CardSpan, ...] = ()


def check_package(path: Path) -> None:
    """Raise SourceError unless the file is a Word package safe to read (see module doc)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise SourceError(
                    f"{path}: {len(infos)} parts inside, over the {MAX_ENTRIES} a Word file "
                    "needs; refused as a possible zip bomb"
                )
            _check_sizes(path, infos)
            for info in infos:
                if ACTIVE_PARTS.search(info.filename):
                    raise SourceError(_macro_message(path, info.filename))
            if "[Content_Types].xml" not in zf.namelist():
                raise SourceError(f"{path}: not a Word document (no [Content_Types].xml)")
            types = zf.read("[Content_Types].xml").decode("utf-8", "replace")
    except zipfile.BadZipFile as exc:
        raise SourceError(
            f"{path}: not a readable .docx (it is not a zip package: {exc}); "
            "save it again from Word as a .docx"
        ) from exc
    for marker in MACRO_TYPES:
        if marker.lower() in types.lower():
            raise SourceError(_macro_message(path, marker))


def _macro_message(path: Path, part: str) -> str:
    return (
        f"{path}: the document contains macros or active content ({part}); refused. "
        "Save it as a plain .docx (File > Save As > Word Document) and upload that"
    )


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise SourceError(
            f"{path}: would unpack to {total / 2**20:,.0f} MB, over the "
            f"{MAX_UNCOMPRESSED / 2**20:.0f} MB limit; refused as a possible zip bomb"
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise SourceError(
                f"{path}: part {info.filename} is compressed {info.file_size // max(info.compress_size, 1):,} "
                f"to 1 (a Word file's parts are under {MAX_RATIO} to 1); refused as a possible zip bomb"
            )


def _style_chain(style):
    while style is not None:
        yield style
        style = style.base_style


def heading_level(paragraph) -> int:
    """1-4 for Pocket, Hat, Block and Tag (by Verbatim name, "Heading N", or a style based
    on one of them), 0 for any other paragraph."""
    for style in _style_chain(paragraph.style):
        name = (style.name or "").strip()
        for level, verbatim in HEADING_STYLES.items():
            if name.lower() == verbatim.lower():
                return level
        m = _HEADING.match(name)
        if m and 1 <= int(m.group(1)) <= TAG_LEVEL:
            return int(m.group(1))
    return 0


def _runs(paragraph):
    """The paragraph's runs in order, those inside hyperlinks included."""
    for item in paragraph.iter_inner_content():
        yield from getattr(item, "runs", [item])


def _has_style(run, name: str) -> bool:
    return any((s.name or "").lower() == name.lower() for s in _style_chain(run.style))


def _underlined(run) -> bool:
    """Underlined directly or by its character style (Verbatim's Underline and Emphasis
    styles underline; Word's own Emphasis, italic, does not)."""
    if run.font.underline is not None:
        return bool(run.font.underline)
    return any(s.font.underline for s in _style_chain(run.style))


def _highlight_of(rpr) -> str:
    found = rpr.find(qn("w:highlight")) if rpr is not None else None
    return "" if found is None else (found.get(qn("w:val")) or "")


def _highlighted(run) -> bool:
    """Word's highlight on the run, or on its character style (read from the XML: a
    `none` highlight is not one of python-docx's colours)."""
    values = [_highlight_of(run._r.rPr)]
    values += [_highlight_of(s.element.rPr) for s in _style_chain(run.style)]
    value = next((v for v in values if v), "")
    return value not in ("", "none")


def _bold(run) -> bool:
    return bool(run.bold or any(s.font.bold for s in _style_chain(run.style)))


def is_cite(paragraph) -> bool:
    """A cite paragraph: it has a run in the Cite style, or it opens with bold words."""
    runs = [r for r in _runs(paragraph) if r.text.strip()]
    return bool(runs) and (any(_has_style(r, CITE_STYLE) for r in runs) or _bold(runs[0]))


def cite_fields(paragraph) -> dict:
    """The cite's fields (debate.corpus.cites.parse_cite); a cite without a parenthesised
    full reference gets its author from the short cite's name (and its year when it has
    four digits)."""
    fields = parse_cite(paragraph.text)
    short = " ".join(
        r.text for r in _runs(paragraph) if _has_style(r, CITE_STYLE) or _bold(r)
    ).strip()
    if short and not any(mark in paragraph.text for mark in "(["):
        year = _YEAR.search(short)
        fields["author"] = short[: year.start()].strip() if year else short
        if year and len(year.group(1)) == 4 and not fields["date"]:
            fields["date"] = year.group(1)
    return fields


def _marked(paragraphs) -> tuple[str, list[tuple[int, int]], list[tuple[int, int]]]:
    """The body's text (paragraphs joined by newlines) and its highlighted and underlined
    spans, adjacent runs merged."""
    text, highlights, underlines = "", [], []
    for i, paragraph in enumerate(paragraphs):
        if i:
            text += "\n"
        for run in _runs(paragraph):
            start, text = len(text), text + run.text
            if not run.text:
                continue
            for spans, on in ((highlights, _highlighted(run)), (underlines, _underlined(run))):
                if not on:
                    continue
                if spans and spans[-1][1] == start:
                    spans[-1] = (spans[-1][0], len(text))
                else:
                    spans.append((start, len(text)))
    return text, highlights, underlines


def _trimmed(text, highlights, underlines):
    """The body without leading or trailing whitespace; spans shifted and clipped."""
    lead = len(text) - len(text.lstrip())
    body = text.strip()

    def clip(spans):
        out = [(max(s - lead, 0), min(e - lead, len(body))) for s, e in spans]
        return tuple((s, e) for s, e in out if e > s)

    return body, clip(highlights), clip(underlines)


def _groups(document) -> list[tuple[int, object, list]]:
    """(level, heading paragraph, the paragraphs up to the next heading) in order; level 0
    for the text before the first heading."""
    groups: list[tuple[int, object, list]] = [(0, None, [])]
    for paragraph in document.paragraphs:
        level = heading_level(paragraph)
        if level:
            groups.append((level, paragraph, []))
        else:
            groups[-1][2].append(paragraph)
    return groups


class _Text:
    """The source text as it is built, block by block (blocks joined by blank lines)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, block: str) -> int:
        if self.parts:
            self.pos += 2
        start = self.pos
        self.parts.append(block)
        self.pos += len(block)
        return start

    def text(self) -> str:
        return "\n\n".join(self.parts)


def _card(out: _Text, heading, paragraphs) -> CardSpan | None:
    tag = " ".join(heading.text.split())
    out.add(tag)
    paragraphs = list(paragraphs)
    cite = {}
    if paragraphs and is_cite(paragraphs[0]):
        cite = cite_fields(paragraphs[0])
        out.add(" ".join(paragraphs[0].text.split()))
        paragraphs = paragraphs[1:]
    body, highlights, underlines = _trimmed(*_marked(paragraphs))
    if not body or not tag:
        if body:
            out.add(body)
        return None
    start = out.add(body)
    return CardSpan(start, start + len(body), tag, cite, highlights, underlines)


def read_docx(path: Path) -> DocxSource:
    """The file's text and its cards (see the module docstring); SourceError when it is
    not a safe Word file or holds no card."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    path = Path(path)
    check_package(path)
    try:
        return _parse(docx.Document(str(path)), path)
    except SourceError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{path}: not a readable .docx ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # lxml and python-docx raise many types on damaged parts
        raise SourceError(f"{path}: damaged .docx ({type(exc).__name__}: {exc})") from exc


def _parse(document, path: Path) -> DocxSource:
    out, cards, first_heading = _Text(), [], ""
    for level, heading, paragraphs in _groups(document):
        if level == TAG_LEVEL:
            card = _card(out, heading, paragraphs)
            if card is not None:
                cards.append(card)
            continue
        if heading is not None and heading.text.strip():
            first_heading = first_heading or " ".join(heading.text.split())
            out.add(" ".join(heading.text.split()))
        loose = "\n".join(p.text for p in paragraphs).strip()
        if loose:
            out.add(loose)
    if not cards:
        raise SourceError(
            f"{path}: no cards found: a card is a Tag heading (Heading 4) followed by its "
            "cite and its text; save the file with Verbatim's styles, or upload it as a PDF"
        )
    meta = {"title": document.core_properties.title or first_heading or path.stem}
    return DocxSource(out.text(), meta, tuple(cards))
