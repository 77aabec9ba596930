"""Read a source file into plain text plus metadata.

- .md/.txt: UTF-8 text, optional YAML front matter between `---` lines (metadata).
- .html/.htm: the main text (article/main if present), without scripts, styles, menus.
- .pdf: text per page; page spans are kept so passages know their page.
- .docx: a Verbatim-style file of cards (debate.corpus.docx_source): one passage per card.

All offsets used later refer to `LoadedSource.text`, the text after loading.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from debate.core.errors import SourceError
from debate.corpus.passages import CardSpan

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "dd")
_NOISE_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "menu",
    "template",
)


@dataclass(frozen=True)
class LoadedSource:
    text: str
    meta: dict = field(default_factory=dict)
    # (start, end, page_number) spans into text, for PDFs; empty for other formats.
    pages: tuple[tuple[int, int, int], ...] = ()
    # The cards of a Word file of cards, in order; empty for other formats.
    cards: tuple[CardSpan, ...] = ()


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if b"\x00" in raw[:8192]:
        raise SourceError(
            f"{path}: looks like a binary file, not text; save it as .md/.txt/.html/.pdf/.docx"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not valid UTF-8 text (byte {exc.start}); re-save the file as UTF-8"
        ) from exc


def split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise SourceError(
            f"{path}: front matter is not valid YAML ({str(exc).splitlines()[0]})"
        ) from exc
    if not isinstance(meta, dict):
        raise SourceError(f"{path}: front matter must be a mapping of fields")
    return meta, text[match.end() :]


def load_text(path: Path) -> LoadedSource:
    meta, body = split_front_matter(_read_text(path), path)
    return LoadedSource(text=body.replace("\r\n", "\n"), meta=meta)


def load_html(path: Path) -> LoadedSource:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    meta = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    for tag in soup(list(_NOISE_TAGS)):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = []
    for el in root.find_all(_BLOCK_TAGS):
        if el.find(_BLOCK_TAGS):  # a container of other blocks: its children speak for it
            continue
        text = " ".join(el.get_text(" ", strip=True).split())
        if text:
            blocks.append(text)
    if not blocks:
        text = " ".join(root.get_text(" ", strip=True).split())
        blocks = [text] if text else []
    if not blocks:
        raise SourceError(f"{path}: no readable text found in this HTML page")
    return LoadedSource(text="\n\n".join(blocks), meta=meta)


def load_pdf(path: Path) -> LoadedSource:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(path.read_bytes()))
        page_texts = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SourceError(f"{path}: unreadable PDF ({exc}); is the file complete?") from exc
    except Exception as exc:  # pypdf raises many types on damaged files
        raise SourceError(f"{path}: unreadable PDF ({type(exc).__name__}: {exc})") from exc
    parts, pages, pos = [], [], 0
    for number, page_text in enumerate(page_texts, 1):
        cleaned = "\n".join(line.rstrip() for line in page_text.replace("\r\n", "\n").split("\n"))
        cleaned = cleaned.strip()
        if not cleaned:
            continue
        if parts:
            pos += 2  # the "\n\n" joining pages
        pages.append((pos, pos + len(cleaned), number))
        parts.append(cleaned)
        pos += len(cleaned)
    if not parts:
        raise SourceError(
            f"{path}: the PDF has no extractable text (scanned images need OCR first)"
        )
    meta = {}
    info = reader.metadata
    if info and info.title:
        meta["title"] = str(info.title)
    return LoadedSource(text="\n\n".join(parts), meta=meta, pages=tuple(pages))


def load_docx(path: Path) -> LoadedSource:
    from debate.corpus.docx_source import read_docx

    read = read_docx(path)
    return LoadedSource(text=read.text, meta=read.meta, cards=read.cards)


LOADERS = {
    ".md": load_text,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def load_source(path: Path) -> LoadedSource:
    path = Path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise SourceError(
            f"{path}: unsupported file type {path.suffix!r}; use .md, .txt, .html, .pdf or .docx"
        )
    if not path.is_file():
        raise SourceError(f"{path}: file does not exist")
    loaded = loader(path)
    if not loaded.text.strip():
        raise SourceError(f"{path}: the file has no text")
    return loaded
