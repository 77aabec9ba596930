"""BM25 over a motion's passages as a sparse term-by-passage matrix, saved next to the index.

Score (Okapi BM25 with an idf floor, the variant of rank_bm25's BM25Okapi; k1=1.5, b=0.75,
epsilon=0.25):

    score(q, d) = sum over query tokens t of idf(t) * tf(t,d) * (k1 + 1)
                                              / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t) = ln((N - df(t) + 0.5) / (df(t) + 0.5)), and epsilon * (mean idf) where that is
             negative (a term in more than half of the passages still counts a little).

Each term's postings hold idf(t) times the tf part, computed once at build time, so a query
reads only the postings of its own terms (CSC layout: the passages of term j are
`rows[indptr[j]:indptr[j+1]]`) and picks its top n with argpartition. Passages are the
title plus the text, tokenised with `debate.core.text.tokenize`. Rows follow the order of the
`key` given at build time, and equal scores rank by row, so results are deterministic.

The index also keeps, per passage, what a search needs besides the scores: its source, its
source's stance and a fingerprint of its normalised text (duplicates are dropped). A
search then reads from the store only the texts of the passages it returns.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from debate.core.text import TOKENS_VERSION, normalise, tokenize

K1, B, EPSILON = 1.5, 0.75, 0.25
# Postings summed per passage in a dense array once there are more than size / DENSE_FROM.
DENSE_FROM = 16
ARRAYS = ("vocab", "ids", "indptr", "rows", "weights", "sources", "stances", "text_keys")
FORMAT = 2  # bump when the file layout or the scoring changes: older files are rebuilt
# A file also records the tokenizer's version (debate.core.text.TOKENS_VERSION): one written
# with other tokens is refused like a file of another format, so it is rebuilt, not served.


class IndexFileError(Exception):
    """A saved index that cannot be read or does not hang together (damaged or foreign)."""


@dataclass(frozen=True)
class Document:
    id: str
    key: tuple  # sort key of the row: (source_id, start) keeps a source's passages together
    text: str  # what is searched: title and text
    stance: str = ""  # the source's stance
    body: str = ""  # the passage text alone (duplicates are found on it); text when empty

    @property
    def source_id(self) -> str:
        return str(self.key[0]) if self.key else ""


@dataclass(frozen=True)
class PassageMeta:
    """What ranking needs of a passage besides its scores."""

    source_id: str
    stance: str
    text_key: int  # fingerprint of the normalised text: equal for duplicate passages

    @classmethod
    def of(cls, passage) -> PassageMeta:
        return cls(passage.source_id, passage.stance, text_key(passage.text))


def text_key(text: str) -> int:
    """A 64-bit fingerprint of the text with case, quotes, dashes and spacing normalised."""
    folded = " ".join(normalise(text).split()).encode()
    return int.from_bytes(hashlib.blake2b(folded, digest_size=8).digest(), "little")


@dataclass
class LexicalIndex:
    generation: str  # the collection generation this index was built from
    ids: np.ndarray  # (N,) passage ids, utf-8 bytes
    indptr: np.ndarray  # (V+1,) int64
    rows: np.ndarray  # (P,) int32 passage rows of each posting, grouped by term
    weights: np.ndarray  # (P,) float32 idf x tf part of each posting
    terms: dict[str, int]  # token -> term column
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # (N,) codes
    source_names: list[str] = field(default_factory=list)  # source code -> source id
    stances: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # (N,) codes
    stance_names: list[str] = field(default_factory=list)
    text_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))  # (N,)

    @property
    def size(self) -> int:
        return len(self.ids)

    @cached_property
    def row_of(self) -> dict[str, int]:
        return {pid.decode(): row for row, pid in enumerate(self.ids.tolist())}

    def meta(self, ids) -> dict[str, PassageMeta]:
        """{id: PassageMeta} for the ids this index holds (others are left out)."""
        out = {}
        for pid in ids:
            row = self.row_of.get(pid)
            if row is not None:
                out[pid] = PassageMeta(
                    self.source_names[self.sources[row]],
                    self.stance_names[self.stances[row]],
                    int(self.text_keys[row]),
                )
        return out

    def top(self, tokens: list[str], n: int) -> list[tuple[str, float]]:
        """The n best (passage id, score) for query tokens, best first; only passages that
        share a term with the query (score > 0). A repeated query token counts again."""
        counts = Counter(self.terms[t] for t in tokens if t in self.terms)
        if n <= 0 or not counts:
            return []
        rows, scores = self._scores(counts)
        if len(scores) > n:  # keep every passage tied with the n-th, then break ties by row
            nth = np.partition(scores, len(scores) - n)[len(scores) - n]
            keep = np.flatnonzero(scores >= nth)
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:n]
        return [
            (self.ids[r].decode(), float(s))
            for r, s in zip(rows[order], scores[order], strict=True)
            if s > 0
        ]

    def _scores(self, counts: Counter) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of the passages holding any of the terms (term column ->
        times in the query). A passage has one posting per term, so its score is the sum
        of its postings' weights: summed by sorting the postings when they are few, into
        one slot per passage when they are many (common words; then sorting costs more)."""
        spans = [(self.indptr[j], self.indptr[j + 1], c) for j, c in counts.items()]
        if sum(b - a for a, b, _ in spans) * DENSE_FROM < self.size:
            rows = np.concatenate([self.rows[a:b] for a, b, _ in spans])
            weights = np.concatenate([self.weights[a:b] * np.float64(c) for a, b, c in spans])
            rows, inverse = np.unique(rows, return_inverse=True)
            return rows, np.bincount(inverse, weights=weights)
        totals = np.zeros(self.size)
        for a, b, c in spans:  # rows are unique within a term's postings
            totals[self.rows[a:b]] += self.weights[a:b] * np.float64(c)
        rows = np.flatnonzero(totals)
        return rows, totals[rows]

    # -- files ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write atomically (a temporary file renamed into place): a reader sees the old
        file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.terms, key=self.terms.__getitem__)
        header = {"format": FORMAT, "generation": self.generation, "k1": K1, "b": B}
        header["tokens"] = TOKENS_VERSION
        header.update(source_names=self.source_names, stance_names=self.stance_names)
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    header=np.array(json.dumps(header)),
                    vocab=np.frombuffer("\n".join(vocab).encode(), dtype=np.uint8),
                    ids=self.ids,
                    indptr=self.indptr,
                    rows=self.rows,
                    weights=self.weights,
                    sources=self.sources,
                    stances=self.stances,
                    text_keys=self.text_keys,
                )
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """The index saved at path. FileNotFoundError if there is none; IndexFileError if
        it is damaged, of another format, or inconsistent."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("format") != FORMAT:
                    raise IndexFileError(f"{path.name} was written by another version")
                arrays = {k: data[k] for k in ARRAYS}
        except (FileNotFoundError, IndexFileError):
            raise
        except Exception as exc:  # zip, npy or json damage all surface differently
            raise IndexFileError(f"{path.name} cannot be read ({type(exc).__name__})") from exc
        if header.get("format") != FORMAT or header.get("k1") != K1 or header.get("b") != B:
            raise IndexFileError(f"{path.name} was written by another version ({header})")
        if header.get("tokens") != TOKENS_VERSION:
            raise IndexFileError(f"{path.name} was written with other search tokens")
        text = arrays["vocab"].tobytes().decode()
        vocab = text.split("\n") if text else []
        index = cls(
            str(header.get("generation", "")),
            arrays["ids"],
            arrays["indptr"],
            arrays["rows"],
            arrays["weights"],
            dict(zip(vocab, range(len(vocab)), strict=True)),
            arrays["sources"],
            list(header.get("source_names", [])),
            arrays["stances"],
            list(header.get("stance_names", [])),
            arrays["text_keys"],
        )
        index.check()
        return index

    def check(self) -> None:
        """Raise IndexFileError unless the arrays fit together (cheap: no pass over the
        postings beyond bounds)."""
        p = len(self.rows)
        problems = [
            self.indptr.ndim != 1 or len(self.indptr) != len(self.terms) + 1,
            len(self.weights) != p,
            len(self.indptr) > 0 and (self.indptr[0] != 0 or self.indptr[-1] != p),
            p > 0 and (int(self.rows.min()) < 0 or int(self.rows.max()) >= self.size),
            self.ids.dtype.kind != "S",
            any(len(a) != self.size for a in (self.sources, self.stances, self.text_keys)),
            self.size > 0 and int(self.sources.max()) >= len(self.source_names),
            self.size > 0 and int(self.stances.max()) >= len(self.stance_names),
        ]
        if any(problems):
            raise IndexFileError("the saved index is inconsistent")


def build(documents: Iterable[Document], generation: str) -> LexicalIndex:
    """Tokenise every document once and lay out its BM25 weights (see the module
    docstring). Token lists are turned into term ids as they come, so a corpus of 100,000
    passages never holds its tokens all at once."""
    terms: dict[str, int] = {}
    facts = _Facts()
    keys, ids, term_ids, tfs, lengths = [], [], [], [], []
    for doc in documents:
        counts = Counter(tokenize(doc.text))
        keys.append(doc.key)
        ids.append(doc.id.encode())
        facts.add(doc)
        term_ids.append(np.fromiter((terms.setdefault(t, len(terms)) for t in counts), np.int32))
        tfs.append(np.fromiter(counts.values(), np.float64, len(counts)))
        lengths.append(counts.total())
    order = sorted(range(len(ids)), key=lambda i: (keys[i], ids[i]))
    id_array = np.array([ids[i] for i in order], dtype=bytes) if ids else np.array([], "S1")
    if not terms:
        empty = np.zeros(0, np.int32)
        index = LexicalIndex(generation, id_array, np.zeros(1, np.int64), empty, empty, {})
        return facts.attach(index, order)
    row_of = np.empty(len(order), np.int32)
    row_of[order] = np.arange(len(order), dtype=np.int32)
    sizes = [len(t) for t in term_ids]
    cols = np.concatenate(term_ids)
    rows = np.repeat(row_of, sizes)
    tf = np.concatenate(tfs)
    weights = _weights(cols, rows, tf, np.asarray(lengths, np.float64)[order])
    by_term = np.lexsort((rows, cols))
    indptr = np.zeros(len(terms) + 1, np.int64)
    np.cumsum(np.bincount(cols, minlength=len(terms)), out=indptr[1:])
    index = LexicalIndex(
        generation,
        id_array,
        indptr,
        rows[by_term],
        weights[by_term].astype(np.float32),
        terms,
    )
    return facts.attach(index, order)


class _Facts:
    """Per-passage source, stance and text fingerprint, collected during a build."""

    def __init__(self):
        self.sources: dict[str, int] = {}
        self.stances: dict[str, int] = {}
        self.codes: list[tuple[int, int, int]] = []

    def add(self, doc: Document) -> None:
        source = self.sources.setdefault(doc.source_id, len(self.sources))
        stance = self.stances.setdefault(doc.stance, len(self.stances))
        self.codes.append((source, stance, text_key(doc.body or doc.text)))

    def attach(self, index: LexicalIndex, order: list[int]) -> LexicalIndex:
        codes = [self.codes[i] for i in order]
        index.sources = np.array([c[0] for c in codes], np.int32)
        index.stances = np.array([c[1] for c in codes], np.int32)
        index.text_keys = np.array([c[2] for c in codes], np.uint64)
        index.source_names = list(self.sources)
        index.stance_names = list(self.stances)
        return index


def _weights(cols: np.ndarray, rows: np.ndarray, tf: np.ndarray, lengths: np.ndarray):
    """idf(term) x tf part for each posting (term column, passage row, tf), with the
    passage lengths indexed by row."""
    n = len(lengths)
    df = np.bincount(cols).astype(np.float64)
    idf = np.log(n - df + 0.5) - np.log(df + 0.5)
    idf[idf < 0] = EPSILON * idf.mean()
    avgdl = lengths.mean() if n and lengths.mean() > 0 else 1.0
    norm = K1 * (1 - B + B * lengths[rows] / avgdl)
    return idf[cols] * tf * (K1 + 1) / (tf + norm)
