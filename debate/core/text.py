"""Text helpers, written once: sentence spans, quotes, normalisation, tokens and stopwords.

Everything that splits, compares or tokenises prose imports this module, so the checker,
the engine, retrieval and the evidence panel agree on what a sentence and a quote are
(a quote the checker accepts is the quote the page highlights).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

# A citation marker: [3], [1, 2], [1,2;4], [2-3].
CITATION_RE = re.compile(r"\[(\d{1,3}(?:\s*(?:[,;]|-|–)\s*\d{1,3})*)\]")

# ---------------------------------------------------------------- sentences
# A sentence ends at . ! ? … (plus closing quotes and citation markers) before a capital, a
# digit, an opening quote or the end; after a citation marker ("... Europe [2]. bne
# IntelliNews reports") the next sentence may start in lower case.
_SENTENCE_END = re.compile(
    r"[.!?…]+[\"'”’)\]]*(?:\s*\[\d[\d\s,;–-]*\])*(?=\s+[\"“‘(\[]?[A-Z0-9\u00C0-\u024F]|\s*$)"
    r"|(?<=\d\])[.!?](?=\s+\S)"
)
ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr gen lt col vs no e.g i.e u.s u.k u.n etc approx fig ca".split()
)
# List bullets, numbered items and Markdown headings or quotes at the start of a line.
BULLET = re.compile(r"^\s*(?:[-*•>]|\d+[.)]|#+)\s+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text, trimmed, without a leading list bullet or
    heading mark, so that text[start:end] is the sentence exactly. A citation marker after
    the full stop belongs to the sentence before it; a line break always ends a sentence;
    "Mr." or "U.S." inside a sentence does not end it."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pos, base, body = 0, line.start(), line.group(0)
        bullet = BULLET.match(body)
        if bullet:
            pos = bullet.end()
        for m in _SENTENCE_END.finditer(body, pos):
            word = re.search(r"([\w.]+)$", body[pos : m.start()])
            if (
                word
                and m.group(0).startswith(".")
                and (
                    word.group(1).lower() in ABBREVIATIONS or re.fullmatch(r"[A-Z]", word.group(1))
                )
            ):
                continue
            spans.append((base + pos, base + m.end()))
            pos = m.end()
        spans.append((base + pos, base + len(body)))
    return trim_spans(text, spans)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def trim_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans without leading/trailing whitespace; spans left empty are dropped."""
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def sentence_at(text: str, offset: int) -> tuple[int, int]:
    """The span of the sentence of text that contains offset (or the nearest before it)."""
    found = (0, len(text))
    for s, e in sentence_spans(text):
        if s <= offset:
            found = (s, e)
        if offset < e:
            break
    return found


# ---------------------------------------------------------------- input from people
# Invisible characters a paste or a phone keyboard leaves behind: zero-width spaces and
# joiners, direction marks and embeddings, word joiners, the BOM, soft hyphens.
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_input(text: str) -> str:
    """Text as typed or pasted, made safe to process: lone UTF-16 surrogates (which no
    encoder accepts) become U+FFFD, control characters and NUL bytes become spaces,
    invisible characters (zero-width spaces, BOM, soft hyphens) are dropped."""
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub(" ", _INVISIBLE.sub("", text))


def has_words(text: str) -> bool:
    """Does the text contain at least one letter or digit?"""
    return any(c.isalnum() for c in text)


# ---------------------------------------------------------------- normalisation
# Every quote mark compares equal (a quote inside a quote may switch between ' and "), every
# dash is "-", every odd space is " ".
_EQUIVALENT = str.maketrans(
    {
        **dict.fromkeys('“”„‟«»‘’‚‛‹›`"', "'"),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a", " "),
    }
)


# Letters with a stroke do not decompose in Unicode: fold them by hand (one for one).
_STROKES = str.maketrans("ĐđØøŁłĦħı", "DdOoLlHhi")


def fold_accents(text: str) -> str:
    """'Vučić' -> 'Vucic', 'Đilas' -> 'Dilas'."""
    if text.isascii():  # most text: nothing to fold (the checker calls this per sentence)
        return text
    return _fold(text)


@lru_cache(maxsize=8192)
def _fold(text: str) -> str:
    # Memoised: the checker folds the same passages for every sentence that cites them.
    decomposed = unicodedata.normalize("NFKD", text.translate(_STROKES))
    if decomposed.isascii():
        return decomposed
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Lower case, no diacritics: how words are compared."""
    return fold_accents(text.lower())


def _normalise_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).translate(_EQUIVALENT).lower()


def normalise_quote(text: str) -> str:
    """How quotes are compared: NFKC, lower case, one kind of quote mark and dash, single
    spaces."""
    return " ".join("".join(_normalise_char(c) for c in text).split())


@lru_cache(maxsize=4096)
def _normalise_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """normalise_quote(text) plus, for each of its characters, the index in text.
    Memoised (the same passages are searched for quote after quote), hence a tuple."""
    chars: list[str] = []
    index: list[int] = []
    last_space = True  # drop leading spaces
    for i, ch in enumerate(text):
        for c in _normalise_char(ch):
            if c.isspace():
                if last_space:
                    continue
                c, last_space = " ", True
            else:
                last_space = False
            chars.append(c)
            index.append(i)
    return "".join(chars), tuple(index)


_ELLIPSIS = re.compile(r"\[\.\.\.\]|\[…\]|\.\.\.|…")
_PIECE_STRIP = " ,.;:!?'-"


def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where quote occurs in text, as (start, end) in text, comparing normalised forms. An
    ellipsis in the quote skips text: each piece must occur, in order. None if not found."""
    norm_text, index = _normalise_with_map(text)
    pos, first, last = 0, None, None
    for piece in _ELLIPSIS.split(quote):
        piece = normalise_quote(piece).strip(_PIECE_STRIP)
        if not piece:
            continue
        at = norm_text.find(piece, pos)
        if at < 0:
            return None
        first = at if first is None else first
        pos = at + len(piece)
        last = pos - 1
    if first is None:
        return None
    return index[first], index[last] + 1


def quote_found(quote: str, text: str) -> bool:
    return find_quote(quote, text) is not None


# ---------------------------------------------------------------- quotes in a sentence
_QUOTED = re.compile(
    r"\"([^\"\n]+)\"|“([^”\n]+)”|«([^»\n]+)»|„([^“”\n]+)[“”]"
    r"|(?<![\w])‘([^’\n]+)’(?![\w])|(?<![\w])'([^'\n]+)'(?![\w])"
)


@dataclass(frozen=True)
class Quote:
    text: str  # the quoted words, without the marks and trailing punctuation
    start: int  # offsets of the quoted words in the text they were found in
    end: int


def quotes_in(text: str) -> list[Quote]:
    """Quoted spans of text, with any kind of quotation marks."""
    out = []
    for m in _QUOTED.finditer(text):
        group = next(i for i, g in enumerate(m.groups(), 1) if g is not None)
        start, end = m.span(group)
        inner = text[start:end]
        stripped = inner.strip(" ,.;:!?")
        if stripped:
            start += inner.index(stripped)
            out.append(Quote(stripped, start, start + len(stripped)))
    return out


def quoted_spans(text: str) -> list[str]:
    return [q.text for q in quotes_in(text)]


def quote_key(quote: str) -> str:
    """Comparable form of a quotation: used to avoid repeating a quote in one debate."""
    return " ".join(re.sub(r"[^\w\s]", " ", normalise(quote)).split())


# ---------------------------------------------------------------- words and tokens
STOPWORDS = frozenset(
    "a an and are as at be been but by for from has have he her his in into is it its of on "
    "or our she so than that the their them then there these they this to was we were what "
    "when which who will with would you your i me my do does did not no yes can could should "
    "about also if".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_WORD = re.compile(r"[a-z0-9]+")
# Bump when `tokenize` (or the words it makes) changes: a BM25 index saved with other tokens
# is refused and rebuilt (debate.corpus.lexical).
TOKENS_VERSION = 2

# ---------------------------------------------------------------- acronyms
# An acronym written in capitals ("NIS", "EU") is another word than the same letters in
# lower or mixed case ("Niš" folds to "nis"): its token keeps its capitals, so it matches only
# itself. Not an acronym: a word with diacritics ("NIŠ"), a stopword or negation in capitals
# ("NOT", "IS"), and the words of capital text: a run of three or more capitalised words
# ("METHODS AND RESULTS") or a text of two or more words with no lower case at all.
_CAPITALS = re.compile(r"[A-Z]{2,}")
_NOT_ACRONYMS = STOPWORDS | frozenset(
    "never none nor neither nothing nobody nowhere cannot without".split()
)


def _acronyms(text: str) -> list[tuple[int, int]]:
    """Spans of the acronyms of text (see above), in order."""
    found = []
    for m in _CAPITALS.finditer(text):
        s, e = m.span()
        if (
            e - s <= 6
            and not (s and _wordy(text[s - 1]))
            and not (e < len(text) and _wordy(text[e]))
            and m.group(0).lower() not in _NOT_ACRONYMS
        ):
            found.append((s, e))
    if not found:
        return found
    if not re.search(r"[a-z]", fold_accents(text)) and len(_WORD.findall(text.lower())) > 1:
        return []  # shouted, or a heading alone
    return [(s, e) for s, e in found if not _in_caps_run(text, s, e)]


def _wordy(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _in_caps_run(text: str, s: int, e: int) -> bool:
    """Is text[s:e] one of three or more capitalised words in a row (apart by spaces)?"""

    def caps(word: str) -> bool:
        return word.isalpha() and word.isupper()

    n = 0
    if s and text[s - 1].isspace():
        for word in reversed(text[max(0, s - 40) : s].split()[-2:]):
            if not caps(word):
                break
            n += 1
    if e < len(text) and text[e].isspace():
        for word in text[e : e + 40].split()[:2]:
            bare = word.rstrip(",.;:!?)")
            if not caps(bare):
                break
            n += 1
            if bare != word:  # punctuation ends the run
                break
    return n >= 2


def _split(text: str, plain) -> list[str]:
    """plain(piece) for the text between acronyms, each acronym as written, in order."""
    out: list[str] = []
    pos = 0
    for s, e in _acronyms(text):
        out += plain(text[pos:s])
        out.append(text[s:e])
        pos = e
    return out + plain(text[pos:]) if pos else plain(text)


def _words(piece: str) -> list[str]:
    return _WORD.findall(normalise(piece.replace("’", "'")))


def words(text: str) -> list[str]:
    """Lower-case, accent-folded words (letters and digits), apostrophes dropped. What the
    checker and the coaching compare; search tells acronyms apart (`search_words`)."""
    return _words(text)


def search_words(text: str) -> list[str]:
    """`words`, except that an acronym keeps its capitals ("NIS" is not "Niš" = "nis"): the
    words search matches on (`tokenize` makes its tokens the same way). Kept out of `words`:
    there, capitals changed the checker's verdicts (QAGS balanced accuracy 0.600 -> 0.576)."""
    return _split(text, _words)


def _tokens(piece: str) -> list[str]:
    return [t for t in _TOKEN.findall(normalise(piece)) if t not in STOPWORDS]


def tokenize(text: str) -> list[str]:
    """Search tokens: words without stopwords, numbers kept whole ('1.15', '80,000'),
    acronyms in capitals (as `words`)."""
    return _split(text, _tokens)


_local = threading.local()  # Snowball stemmer objects are not safe to share across threads


def _stemmer():
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem: 'imposed', 'imposes', 'imposing' -> 'impos'. An
    acronym ("NIS", from `words`) is its own stem."""
    if word.isupper():
        return word
    return _stemmer().stemWord(word)


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]
