"""The card: the debater's unit of evidence.

A card is a tag (the claim, in the debater's words), a cite (who said it, where, when), and
a body: an exact span of one passage's source text, with the underlined words (the ones
that matter) and the highlighted words (the ones read aloud) as sub-spans of the body.
Clipping or inventing a card is a serious offence in debate, so a card is validated like a
citation: `validate` checks that the body is the source text at the card's offsets and
that every sub-span lies inside the body.

Offsets: `start`/`end` are offsets into the SOURCE text (as `Passage.start`/`end` are), so
`body == source_text[start:end]`; `underlined` and `highlighted` are relative to `body`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from debate.core.errors import DebateError
from debate.core.text import find_quote
from debate.corpus.cites import CITE_FIELDS, cite_line, short_cite
from debate.corpus.passages import Passage, decode_spans

MAX_TAG_CHARS = 500
# A cut card (and every quote of the evidence engine: clause_cut) reads the words that
# carry the claim, a clause or a sentence.
MAX_QUOTE_WORDS = 40
MAX_QUOTE_CHARS = 320
MIN_CUT_CHARS = 80  # a clause boundary earlier than this leaves too little to read

Span = tuple[int, int]


class CardError(DebateError):
    """A card that does not match its source, or that cannot be read."""


@dataclass(frozen=True)
class Cite:
    author: str = ""
    qualification: str = ""
    date: str = ""
    title: str = ""
    publisher: str = ""
    url: str = ""
    accessed: str = ""

    def short(self) -> str:
        """'Kekic 24': the part of the cite debaters say aloud, in bold on paper."""
        return short_cite(self.to_dict())

    def line(self) -> str:
        """The whole cite as one line (debate.corpus.cites.cite_line)."""
        return cite_line(self.to_dict())

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in CITE_FIELDS}

    @classmethod
    def from_dict(cls, d: dict) -> Cite:
        if not isinstance(d, dict):
            raise CardError(f"a card's cite must be a mapping of fields, got {type(d).__name__}")
        return cls(**{k: str(d.get(k) or "") for k in CITE_FIELDS})


@dataclass(frozen=True)
class Card:
    tag: str
    cite: Cite
    passage_id: str
    source_id: str
    motion: str
    start: int
    end: int
    body: str
    underlined: tuple[Span, ...] = ()
    highlighted: tuple[Span, ...] = ()

    def spoken(self) -> str:
        """The highlighted words, as a debater reads the card aloud."""
        return " ".join(self.body[s:e].strip() for s, e in self.highlighted)

    def to_dict(self) -> dict:
        return {
            "tag": self.tag,
            "cite": self.cite.to_dict(),
            "passage_id": self.passage_id,
            "source_id": self.source_id,
            "motion": self.motion,
            "start": self.start,
            "end": self.end,
            "body": self.body,
            "underlined": [list(s) for s in self.underlined],
            "highlighted": [list(s) for s in self.highlighted],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Card:
        try:
            return cls(
                tag=str(d["tag"]),
                cite=Cite.from_dict(d.get("cite") or {}),
                passage_id=str(d["passage_id"]),
                source_id=str(d["source_id"]),
                motion=str(d["motion"]),
                start=int(d["start"]),
                end=int(d["end"]),
                body=str(d["body"]),
                underlined=_spans(d.get("underlined") or ()),
                highlighted=_spans(d.get("highlighted") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CardError(f"not a card: {type(exc).__name__} {exc}") from exc


def _spans(items) -> tuple[Span, ...]:
    out = []
    for item in items:
        s, e = item
        out.append((int(s), int(e)))
    return tuple(sorted(out))


def segments(card: Card, start: int, end: int):
    """(start, end, underlined, highlighted) pieces of card.body[start:end], cut wherever a
    sub-span begins or ends: how the Word and Markdown exports mark the body."""
    edges = {start, end}
    for s, e in (*card.underlined, *card.highlighted):
        edges.update(x for x in (s, e) if start < x < end)
    cuts = sorted(edges)
    for a, b in zip(cuts, cuts[1:], strict=False):
        under = any(s <= a and b <= e for s, e in card.underlined)
        high = any(s <= a and b <= e for s, e in card.highlighted)
        yield a, b, under, high


def _shifted(spans, by: int, length: int) -> tuple[Span, ...]:
    """Sub-spans moved left by `by` and clipped to a body of `length`; empty ones dropped."""
    out = [(max(s - by, 0), min(e - by, length)) for s, e in _spans(spans)]
    return tuple((s, e) for s, e in out if e > s)


def cite_of(passage: Passage) -> Cite:
    """The cite of a passage: the card's own cite for a card imported from a Word file,
    else the passage's source (author, date, title, publisher, URL)."""
    if passage.cite:
        try:
            return Cite.from_dict(json.loads(passage.cite))
        except ValueError as exc:
            raise CardError(f"passage {passage.id}: its stored cite is not JSON") from exc
    return Cite(
        author=passage.author,
        date=passage.date,
        title=passage.title,
        publisher=passage.publisher,
        url=passage.url,
    )


def clean_tag(tag: str) -> str:
    return " ".join(str(tag).split())


def card_from_passage(
    passage: Passage,
    start: int,
    end: int,
    tag: str,
    highlighted: tuple[Span, ...] | list = (),
    underlined: tuple[Span, ...] | list = (),
) -> Card:
    """The card whose body is passage.text[start:end] (offsets relative to the passage's
    text, as a selection in the evidence panel gives them); sub-spans relative to the
    body. Raises CardError when the span or a sub-span is out of bounds or the tag empty."""
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end):
        raise CardError(f"a card needs 0 <= start < end, got {start!r}..{end!r}")
    if end > len(passage.text):
        raise CardError(
            f"the selection {start}..{end} runs past the passage ({len(passage.text)} characters)"
        )
    # A selection's spaces at either end are not part of the card (Word drops them too).
    chunk = passage.text[start:end]
    lead, kept = len(chunk) - len(chunk.lstrip()), len(chunk.strip())
    if not kept:
        raise CardError("the selection holds no words: select the words of the card")
    for name, spans in (("highlighted", highlighted), ("underlined", underlined)):
        _check_spans(name, _spans(spans), len(chunk))
    start, end = start + lead, start + lead + kept
    highlighted, underlined = _shifted(highlighted, lead, kept), _shifted(underlined, lead, kept)
    card = Card(
        tag=clean_tag(tag),
        cite=cite_of(passage),
        passage_id=passage.id,
        source_id=passage.source_id,
        motion=passage.motion,
        start=passage.start + start,
        end=passage.start + end,
        body=passage.text[start:end],
        underlined=_spans(underlined),
        highlighted=_spans(highlighted),
    )
    validate(card, passage)
    return card


def clause_cut(quote: str) -> str | None:
    """The quote, or its leading clauses when it is longer than a cut card reads (at most
    MAX_QUOTE_WORDS words and MAX_QUOTE_CHARS characters), cut at the last clause boundary
    that fits; None when no boundary leaves MIN_CUT_CHARS. A prefix, so still verbatim.
    The evidence engine cuts its quotes with this too."""
    limit = _limit(quote)
    if len(quote) <= limit:
        return quote
    clause = max(quote.rfind("; ", 0, limit), quote.rfind(", ", 0, limit))
    return quote[:clause] if clause >= MIN_CUT_CHARS else None


def cut(quote: str) -> str:
    """clause_cut, else the quote cut at the last word that fits."""
    clause = clause_cut(quote)
    if clause is not None:
        return clause
    limit = _limit(quote)
    space = quote.rfind(" ", 0, limit + 1)
    return quote[:space] if space > 0 else quote[:limit]


def _limit(quote: str) -> int:
    if len(quote.split()) > MAX_QUOTE_WORDS:
        return min(MAX_QUOTE_CHARS, len(" ".join(quote.split(" ")[:MAX_QUOTE_WORDS])))
    return MAX_QUOTE_CHARS


def card_from_quote(passage: Passage, quote: str, tag: str) -> Card:
    """The card the bot read: the quote found in the passage (exactly, else ignoring
    differences of spacing, quote marks, dashes and case), cut to a card's length, all of
    it underlined and highlighted (the bot read every word). CardError if it is absent."""
    quote = quote.strip()
    at = passage.text.find(quote) if quote else -1
    span = (at, at + len(quote)) if at >= 0 else find_quote(quote, passage.text)
    if not quote or span is None:
        raise CardError(
            f"the quote {quote[:60]!r} is not in passage {passage.id} "
            f"({passage.title}); a card must be cut from its source word for word"
        )
    start, end = span
    end = start + len(cut(passage.text[start:end]))
    whole = ((0, end - start),)
    return card_from_passage(passage, start, end, tag, highlighted=whole, underlined=whole)


def card_of_passage(passage: Passage, tag: str = "") -> Card:
    """The whole passage as a card: an imported card keeps its own tag, cite, highlighted
    and underlined words; any other passage needs a tag."""
    return card_from_passage(
        passage,
        0,
        len(passage.text),
        tag or passage.tag,
        highlighted=decode_spans(passage.highlights),
        underlined=decode_spans(passage.underlines),
    )


def _check_spans(name: str, spans: tuple[Span, ...], length: int) -> None:
    last = 0
    for s, e in spans:
        if not 0 <= s < e <= length:
            raise CardError(f"a {name} span {s}..{e} is outside the card's body (0..{length})")
        if s < last:
            raise CardError(f"{name} spans overlap at {s}")
        last = e


def validate(card: Card, passage: Passage) -> None:
    """Raise CardError unless the card is faithful to its passage: the same passage, the
    body verbatim at its offsets, sub-spans inside the body, a one-line tag of bounded
    length."""
    if card.passage_id != passage.id or card.source_id != passage.source_id:
        raise CardError(f"the card is not cut from passage {passage.id}")
    if not passage.start <= card.start < card.end <= passage.end:
        raise CardError(
            f"the card's offsets {card.start}..{card.end} lie outside its passage "
            f"({passage.start}..{passage.end})"
        )
    if passage.text[card.start - passage.start : card.end - passage.start] != card.body:
        raise CardError(
            f"the card's body is not its source's text at {card.start}..{card.end}: "
            "a card must be the source word for word"
        )
    for name, spans in (("highlighted", card.highlighted), ("underlined", card.underlined)):
        _check_spans(name, spans, len(card.body))
    if not card.tag.strip():
        raise CardError("a card needs a tag: the claim it proves, in your own words")
    if "\n" in card.tag or len(card.tag) > MAX_TAG_CHARS:
        raise CardError(f"a tag is one line of at most {MAX_TAG_CHARS} characters")
