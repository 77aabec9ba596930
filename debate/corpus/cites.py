"""A card's cite as one line of text, written and read back the same way.

Debaters write a cite as the short form in bold, then the full reference in parentheses:

    Kekic 24 (Tatyana Kekic, energy reporter, 2024-05-30, “Serbia signs gas deal”, bne
    IntelliNews, https://example.org/gas, accessed 2026-12-04)

`cite_line` writes that form from the fields (empty fields left out) and `parse_cite` reads
it back: exactly for lines `cite_line` wrote, as well as it can for a team's own cites
(whatever it cannot place stays in `qualification`, so no words are lost). The Word export
(debate.cards.docx_out) and the Word import (debate.corpus.docx_source) both use it.
"""

from __future__ import annotations

import re

CITE_FIELDS = ("author", "qualification", "date", "title", "publisher", "url", "accessed")
UNDATED = "ND"  # the debaters' "no date" in a short cite

_YEAR = re.compile(r"\b(?:1[89]|20)(\d\d)\b")
_URL = re.compile(r"https?://[^\s,)\]]+")
_ACCESSED = re.compile(r",?\s*\baccessed\s+([^,)\]]+)", re.IGNORECASE)
_TITLE = re.compile(r"“([^”]*)”|\"([^\"]*)\"")
_DATE = re.compile(
    r"^(?:\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?|\d{4}"
    r"|\d{0,2}\s*[A-Z][a-z]+\.?\s+\d{0,2},?\s*\d{4}|[A-Z][a-z]+\.?\s+\d{4})$"
)
_OPEN = re.compile(r"[(\[]")


def _surname(author: str) -> str:
    first = re.split(r"\s+(?:and|&)\s+|,|;", author.strip(), maxsplit=1)[0].strip()
    words = first.split()
    return words[-1] if words else ""


def short_cite(fields: dict) -> str:
    """'Kekic 24': the first author's surname (or the publisher, or the title) and the
    two-digit year ('ND' when undated)."""
    name = (
        _surname(fields.get("author", "")) or fields.get("publisher", "") or fields.get("title", "")
    )
    year = _YEAR.search(fields.get("date", ""))
    return f"{name.strip()} {year.group(1) if year else UNDATED}".strip()


def cite_rest(fields: dict) -> str:
    """The parenthesised full reference that follows the short cite."""
    parts = [fields.get(k, "").strip() for k in ("author", "qualification", "date")]
    if fields.get("title", "").strip():
        parts.append(f"“{fields['title'].strip()}”")
    parts += [fields.get(k, "").strip() for k in ("publisher", "url")]
    if fields.get("accessed", "").strip():
        parts.append(f"accessed {fields['accessed'].strip()}")
    parts = [p for p in parts if p]
    return f"({', '.join(parts)})" if parts else ""


def cite_line(fields: dict) -> str:
    return " ".join(p for p in (short_cite(fields), cite_rest(fields)) if p)


def _pieces(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_cite(line: str) -> dict:
    """The fields of a cite line (every field present, "" when not found)."""
    out = dict.fromkeys(CITE_FIELDS, "")
    line = " ".join(line.split())
    opened = _OPEN.search(line)
    if not opened:
        out["qualification"] = line
        return out
    inner = line[opened.end() :].rstrip()
    inner = inner[:-1] if inner.endswith((")", "]")) else inner
    if m := _URL.search(inner):
        out["url"], inner = m.group(0).rstrip("."), inner[: m.start()] + inner[m.end() :]
    if m := _ACCESSED.search(inner):
        out["accessed"], inner = m.group(1).strip(), inner[: m.start()] + inner[m.end() :]
    before, after = inner, ""
    if m := _TITLE.search(inner):
        out["title"] = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        before, after = inner[: m.start()], inner[m.end() :]
    pieces = _pieces(before)
    dated = [i for i, p in enumerate(pieces) if _DATE.match(p)]
    if dated:
        i = dated[-1]
        out["date"] = pieces[i]
        after = ", ".join(pieces[i + 1 :] + [after])
        pieces = pieces[:i]
    if pieces:
        out["author"] = pieces.pop(0)
    out["qualification"] = ", ".join(pieces)
    out["publisher"] = ", ".join(_pieces(after))
    return out
