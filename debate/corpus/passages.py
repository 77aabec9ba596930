"""Passages: paragraph-sized chunks of a source, with exact offsets and provenance.

Invariant: `source_text[p.start:p.end] == p.text` for every passage p of a source.
Ids are derived from content, so re-ingesting the same text yields the same ids.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass

from debate.core.text import sentence_spans, trim_spans

CHUNKER_VERSION = "2"
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")
_NEWLINES = re.compile(r"\n\s*")


@dataclass(frozen=True)
class Passage:
    id: str
    motion: str
    source_id: str
    text: str
    start: int
    end: int
    paragraph: int
    page: int = 0
    title: str = ""
    author: str = ""
    publisher: str = ""
    date: str = ""
    url: str = ""
    stance: str = ""  # the source's label: supports, opposes, mixed, or "" (unlabelled)
    kind: str = ""
    # Each sentence's stance toward the thesis, read at ingest (debate.corpus.stance).
    stances: str = ""
    # A card imported from a Word file (debate.corpus.docx_source): its tag, its cite as
    # JSON (debate.corpus.cites.CITE_FIELDS), and the highlighted and underlined words as
    # spans into `text` (`encode_spans`); all empty for other passages.
    tag: str = ""
    cite: str = ""
    highlights: str = ""
    underlines: str = ""

    def to_dict(self) -> dict:
        """The passage as `--json` outputs show it (`source` is the source id)."""
        return {
            "id": self.id,
            "source": self.source_id,
            "title": self.title,
            "author": self.author,
            "publisher": self.publisher,
            "date": self.date,
            "url": self.url,
            "stance": self.stance,
            "paragraph": self.paragraph,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    def metadata(self) -> dict:
        """Flat metadata for Chroma (scalars only); the text travels as the document."""
        meta = asdict(self)
        meta.pop("id")
        meta.pop("text")
        return meta

    @classmethod
    def from_record(cls, pid: str, text: str, meta: dict) -> Passage:
        known = {k: meta[k] for k in cls.__dataclass_fields__ if k in meta}
        return cls(id=pid, text=text, **known)

    def citation_label(self) -> str:
        where = f"p. {self.page}" if self.page else f"¶{self.paragraph}"
        return f"{self.title} ({self.publisher}, {self.date}), {where}"


def encode_spans(spans) -> str:
    """(start, end) spans as Chroma can store them: '0-12 30-41'."""
    return " ".join(f"{s}-{e}" for s, e in spans)


def decode_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(tuple(int(x) for x in part.split("-", 1)) for part in text.split())


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph spans, trimmed. Blank lines separate paragraphs; a text without any blank
    line (one paragraph per line, like the seed article) is split on single newlines."""
    sep = _BLANK_LINE if _BLANK_LINE.search(text) else _NEWLINES
    spans, pos = [], 0
    for match in sep.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    trimmed = []
    for start, end in spans:
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        tail = len(chunk) - len(chunk.rstrip())
        if end - tail > start + lead:
            trimmed.append((start + lead, end - tail))
    return trimmed


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split text[start:end] into pieces of at most max_chars, at sentence ends if possible."""
    if end - start <= max_chars:
        return [(start, end)]
    cuts = [start + e for _, e in sentence_spans(text[start:end])][:-1]
    pieces, piece_start, last_ok = [], start, None
    for cut in cuts + [end]:
        if cut - piece_start <= max_chars:
            last_ok = cut
            continue
        if last_ok is None or last_ok == piece_start:
            # one sentence longer than max_chars: cut at the last space that fits
            space = text.rfind(" ", piece_start, piece_start + max_chars)
            last_ok = space + 1 if space > piece_start else piece_start + max_chars
        pieces.append((piece_start, last_ok))
        piece_start = last_ok
        last_ok = cut if cut - piece_start <= max_chars else None
        while last_ok is None and end - piece_start > max_chars and cut - piece_start > max_chars:
            space = text.rfind(" ", piece_start, piece_start + max_chars)
            nxt = space + 1 if space > piece_start else piece_start + max_chars
            pieces.append((piece_start, nxt))
            piece_start = nxt
            last_ok = cut if cut - piece_start <= max_chars else None
    if piece_start < end:
        pieces.append((piece_start, end))
    return trim_spans(text, pieces)  # no whitespace at the cut points


def chunk_spans(
    text: str, max_chars: int = 1200, min_chars: int = 120
) -> list[tuple[int, int, int]]:
    """(start, end, paragraph_number) for each chunk of text."""
    pieces: list[tuple[int, int, int]] = []
    for number, (start, end) in enumerate(_blocks(text), 1):
        pieces.extend((s, e, number) for s, e in _split_long(text, start, end, max_chars))
    merged: list[tuple[int, int, int]] = []
    pending: tuple[int, int, int] | None = None
    for piece in pieces:
        if pending is not None:
            if piece[1] - pending[0] <= max_chars:
                piece = (pending[0], piece[1], pending[2])
            else:
                merged.append(pending)
            pending = None
        if piece[1] - piece[0] < min_chars:
            pending = piece  # too short to stand alone (a heading, a title): join the next one
        else:
            merged.append(piece)
    if pending is not None:
        if merged and pending[1] - merged[-1][0] <= max_chars:
            last = merged.pop()
            merged.append((last[0], pending[1], last[2]))
        else:
            merged.append(pending)
    return merged


def passage_id(motion: str, source_id: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha1(f"{motion}\x1f{source_id}\x1f{occurrence}\x1f{text}".encode())
    return digest.hexdigest()[:20]


def page_of(offset: int, pages: tuple[tuple[int, int, int], ...]) -> int:
    for start, end, number in pages:
        if start <= offset < end:
            return number
    return 0


@dataclass(frozen=True)
class CardSpan:
    """A card of a Word file (debate.corpus.docx_source): its body is text[start:end]; its
    highlighted and underlined words are spans relative to the body; `cite` holds the
    fields of debate.corpus.cites.CITE_FIELDS."""

    start: int
    end: int
    tag: str
    cite: dict
    highlights: tuple[tuple[int, int], ...] = ()
    underlines: tuple[tuple[int, int], ...] = ()


def make_passages(
    motion: str,
    source_id: str,
    text: str,
    meta: dict,
    pages: tuple[tuple[int, int, int], ...] = (),
    max_chars: int = 1200,
    min_chars: int = 120,
    cards: tuple[CardSpan, ...] = (),
) -> list[Passage]:
    """The source's passages: paragraph-sized chunks, or, for a file of cards, one passage
    per card (a card is the debater's unit: it is read, cited and kept whole)."""
    if cards:
        return _card_passages(motion, source_id, text, meta, cards)
    seen: dict[str, int] = {}
    passages = []
    for start, end, paragraph in chunk_spans(text, max_chars, min_chars):
        chunk = text[start:end]
        occurrence = seen.get(chunk, 0)
        seen[chunk] = occurrence + 1
        passages.append(
            Passage(
                id=passage_id(motion, source_id, chunk, occurrence),
                motion=motion,
                source_id=source_id,
                text=chunk,
                start=start,
                end=end,
                paragraph=paragraph,
                page=page_of(start, pages),
                title=str(meta.get("title", "")),
                author=str(meta.get("author", "") or ""),
                publisher=str(meta.get("publisher", "")),
                date=str(meta.get("date", "")),
                url=str(meta.get("url", "")),
                stance=str(meta.get("stance", "")),
                kind=str(meta.get("kind", "") or ""),
            )
        )
    return passages


def _card_passages(
    motion: str, source_id: str, text: str, meta: dict, cards: tuple[CardSpan, ...]
) -> list[Passage]:
    """One passage per card; where the card's cite names its author, title, publisher,
    date or URL, the passage carries those (the evidence panel shows the card's own source),
    else the Word file's."""
    seen: dict[str, int] = {}
    passages = []
    for number, card in enumerate(cards, 1):
        chunk = text[card.start : card.end]
        occurrence = seen.get(chunk, 0)
        seen[chunk] = occurrence + 1

        def field(key: str, card: CardSpan = card) -> str:
            return str(card.cite.get(key) or meta.get(key, "") or "")

        passages.append(
            Passage(
                id=passage_id(motion, source_id, chunk, occurrence),
                motion=motion,
                source_id=source_id,
                text=chunk,
                start=card.start,
                end=card.end,
                paragraph=number,
                title=field("title"),
                author=field("author"),
                publisher=field("publisher"),
                date=field("date"),
                url=field("url")
                if str(card.cite.get("url", "")).startswith("http")
                else str(meta.get("url", "")),
                stance=str(meta.get("stance", "")),
                kind=str(meta.get("kind", "") or ""),
                tag=card.tag,
                cite=json.dumps(card.cite, ensure_ascii=False, sort_keys=True),
                highlights=encode_spans(card.highlights),
                underlines=encode_spans(card.underlines),
            )
        )
    return passages
