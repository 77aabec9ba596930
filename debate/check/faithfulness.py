"""The citation checker: does each sentence of a reply say only what its cited passages say?

One checker, used twice: by the guard on every LLM reply, and by the eval suites. Layers,
cheapest first (the first layer that fails decides the verdict and its reason):

1. every cited number exists in the evidence list (else `fabricated-citation`);
2. every quoted span occurs in a cited passage, after normalising whitespace, quote marks,
   dashes and case;
3. numbers, months, currencies and named entities of the sentence appear in a cited passage;
   a negation flip against the best-matching passage sentence fails here too;
4. a support score, the mean of lexical overlap (share of the sentence's content words found
   in the best passage window) and embedding similarity with that window, must reach
   SUPPORT_THRESHOLD, calibrated on evals/calibration.jsonl (`debate eval --suite calibration`);
5. optionally, when an LLM is configured, an LLM judge (`debate.check.judge`).

Sentences without citations are `uncited-factual` when they state checkable facts
(numbers, dates, money, quotes, reported events), else `not-factual` (signposting, rhetoric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from debate.check.citations import Reply, parse_citations
from debate.check.claims import (
    CURRENCIES,
    MONTHS,
    antonym_clash,
    canonical,
    claim_text,
    content_tokens,
    entities_in,
    entity_present,
    initialisms,
    is_factual,
    negation_flip,
    numbers_in,
    places_in,
    swapped_numbers,
)
from debate.core.text import (
    BULLET,
    fold_accents,
    quote_found,
    quoted_spans,
    sentence_spans,
    stem,
    words,
)
from debate.corpus.gazetteer import for_motion
from debate.corpus.passages import Passage

if TYPE_CHECKING:
    from debate.core.config import Settings

# Calibrated on the calibration split of evals/calibration.jsonl (fitted 0.526 on 2026-11-26);
# `debate eval --suite calibration` reports the best threshold found and the held-out accuracy.
SUPPORT_THRESHOLD = 0.52
LEXICAL_WEIGHT = 0.5

STATUSES = (
    "supported",
    "unsupported",
    "uncited-factual",
    "fabricated-citation",
    "not-factual",
    # set by the speech rules (debate.check.speech_rules) on LLM replies
    "scaffolding",
    "meta",
    "unfinished",
    "repeated",
    "off-side",
)
FAILING = frozenset(STATUSES) - {"supported", "not-factual"}


@dataclass
class Verdict:
    sentence: str
    start: int
    end: int
    citations: tuple[int, ...]
    status: str
    reason: str
    score: float | None = None
    # Citations that support the sentence by the ALCE rule (see metrics.citation_precision).
    supported_by: tuple[int, ...] = ()
    quotes: int = 0  # quoted spans in the sentence
    quotes_found: int = 0  # of which found verbatim (normalised) in a cited passage
    fabricated: tuple[int, ...] = ()  # cited numbers that are not in the evidence list

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


# ---------------------------------------------------------------- support score
def _embed(texts: list[str], model_path: str) -> list[list[float]]:
    from debate.core.embeddings import get_embedder

    return get_embedder(model_path).embed_cached(texts)


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage as the checker compares them (list bullets dropped)."""
    return list(_passage_sentences(text))


@lru_cache(maxsize=20_000)
def _passage_sentences(text: str) -> tuple[str, ...]:
    # Memoised: the same passages are cited turn after turn.
    return tuple(BULLET.sub("", text[s:e]) for s, e in sentence_spans(text))


def warm(claims: list[str], passages: list[Passage], model_path: str = "") -> None:
    """Embed many claims and passage sentences in one batch (evals check hundreds)."""
    texts = [*claims, *(s for p in passages for s in (passage_sentences(p.text) or [p.text]))]
    # Sorted by length so that each batch pads little: about twice as fast on CPU.
    _embed(sorted(dict.fromkeys(texts), key=len), model_path)


_ATTRIBUTION = {
    stem(w)
    for w in """report reports reported say says said state states stated
    write writes wrote note notes noted according source sources evidence words word put puts
    read add adds added find finds found argue argues argued claim claims claimed quote quoted
    source article document own""".split()
}


@dataclass
class Support:
    score: float
    lexical: float
    semantic: float
    window: list[str]


def support(claim: str, passages: list[Passage], model_path: str = "") -> Support:
    """Best support for the claim over windows (one sentence, or two adjacent sentences) of
    the passages. score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * semantic, where
    lexical = share of the claim's content words found in the window, semantic = cosine
    similarity of the embeddings (a two-sentence window is the normalised sum of its two)."""
    # Attribution ("the report says", "in the words of") is not part of what is claimed.
    claim_tokens = content_tokens(claim) - _ATTRIBUTION
    sentences_per_passage = [passage_sentences(p.text) or [p.text] for p in passages]
    flat = [s for group in sentences_per_passage for s in group]
    vectors = np.asarray(_embed([claim, *flat], model_path), dtype=np.float32)
    claim_vec, sent_vecs = vectors[0], vectors[1:]
    best = Support(0.0, 0.0, 0.0, [])
    offset = 0
    for group in sentences_per_passage:
        vecs = sent_vecs[offset : offset + len(group)]
        offset += len(group)
        texts = [[s] for s in group] + [[a, b] for a, b in pairwise(group)]
        pairs = vecs[:-1] + vecs[1:]  # a two-sentence window: the normalised sum of both
        pairs /= np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-9)
        semantic = np.concatenate([vecs, pairs]) @ claim_vec
        for text, sim in zip(texts, semantic.tolist(), strict=True):
            tokens = content_tokens(" ".join(text))
            lexical = len(claim_tokens & tokens) / len(claim_tokens) if claim_tokens else 0.0
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * sim
            if score > best.score:
                best = Support(score, lexical, sim, text)
    return best


# ---------------------------------------------------------------- checking one sentence
@dataclass
class Check:
    ok: bool
    reason: str
    score: float | None = None
    quotes: int = 0
    quotes_found: int = 0


def check_claim(
    claim: str,
    cited: list[tuple[int, Passage]],
    threshold: float = SUPPORT_THRESHOLD,
    model_path: str = "",
    lexical_only: bool = False,
) -> Check:
    """Layers 2-4 for a claim against the passages it cites (all present in the list).
    With lexical_only, stop before the support score (no model needed): a passing Check
    then has score None."""
    label = ", ".join(f"[{n}]" for n, _ in cited)
    joined = "\n".join(p.text for _, p in cited)
    quotes = quoted_spans(claim)
    found = [q for q in quotes if any(quote_found(q, p.text) for _, p in cited)]
    counts = {"quotes": len(quotes), "quotes_found": len(found)}
    # The source's own title, publisher and author may be named too ("The Kyiv Independent
    # reported..."), so they count as part of what the citation says.
    meta = " ".join(f"{p.title} {p.publisher} {p.author}" for _, p in cited)
    missing = (
        _quote_missing(quotes, found, label)
        or _figure_missing(claim, joined, meta, label)
        or _name_missing(claim, joined, meta, for_motion(cited[0][1].motion), label)
    )
    if missing:
        return Check(False, missing, **counts)
    if lexical_only:
        return Check(True, f"names, numbers and quotes found in {label}", None, **counts)
    best = support(claim, [p for _, p in cited], model_path)
    clash = (
        negation_flip(claim, best.window)
        or antonym_clash(claim, best.window)
        or swapped_numbers(claim, best.window)
    )
    if clash:
        return Check(False, f"{clash} ({label})", best.score, **counts)
    if best.score < threshold:
        return Check(
            False,
            f"low support {best.score:.2f} < {threshold:.2f} in {label}",
            best.score,
            **counts,
        )
    return Check(True, f"supported by {label} (score {best.score:.2f})", best.score, **counts)


def _quote_missing(quotes: list[str], found: list[str], label: str) -> str | None:
    """Layer 2: the first quoted span found in no cited passage."""
    for q in quotes:
        if q not in found:
            short = q if len(q) <= 60 else q[:57] + "..."
            return f'quote "{short}" not found in {label}'
    return None


def _figure_missing(claim: str, joined: str, meta: str, label: str) -> str | None:
    """Layer 3, figures: a number, month or currency of the claim the passages lack."""
    missing_numbers = sorted(numbers_in(claim) - numbers_in(joined + " " + meta))
    if missing_numbers:
        return f"number {', '.join(missing_numbers)} not in {label}"
    low_claim, low_joined = claim.lower(), joined.lower()
    for month in MONTHS:
        if re.search(rf"\b{month}\b", low_claim) and not re.search(rf"\b{month}\b", low_joined):
            if month == "may" and not re.search(r"\bmay\s+\d|\d+\s+may\b", low_claim):
                continue  # the verb "may"
            return f"date {month.title()} not in {label}"
    for symbol, currency in CURRENCIES.items():
        if re.search(rf"(?<![\w]){re.escape(symbol)}(?![a-z])", low_claim):
            if not any(
                re.search(rf"(?<![\w]){re.escape(s)}(?![a-z])", low_joined)
                for s, c in CURRENCIES.items()
                if c == currency
            ):
                return f"currency {currency} not in {label}"
    return None


def _name_missing(claim: str, joined: str, meta: str, gaz, label: str) -> str | None:
    """Layer 3, names: a place or named entity of the claim the passages lack (gaz: the
    world's places plus the motion's aliases)."""
    canon_passage, passage_words, bare = _passage_names(joined, meta, gaz)
    for place in places_in(claim, gaz):
        if not re.search(rf"\b{place}\b", bare):
            return f'place "{place.title()}" not in {label}'
    for entity in entities_in(claim, gaz):
        if not entity_present(entity, canon_passage, passage_words, gaz):
            return f'name "{entity}" not in {label}'
    return None


@lru_cache(maxsize=4096)
def _passage_names(joined: str, meta: str, gaz) -> tuple[str, frozenset[str], str]:
    """What layer 3 compares names with, for the cited passages' text and metadata: their
    canonical text, their words (plus canonical ids and initialisms), and their text with
    multi-word names removed. Memoised: the same passages are cited sentence after sentence."""
    canon_passage = canonical(joined + " " + meta, gaz)
    found = words(joined + " " + meta)
    # A name of the claim is matched in lower case: "US" in the passage backs "US" in the
    # sentence whatever case the claim's reader gave it (words keep acronyms in capitals
    # only so that search tells "NIS" from "Niš").
    passage_words = frozenset(
        set(found)
        | {w.lower() for w in found}
        | set(canon_passage.split())
        | initialisms(joined + " " + meta)
    )
    # A capital named as a place must be in the passage as a word of its own, not only
    # inside a name such as "The Moscow Times".
    bare = fold_accents(re.sub(r"\b[A-Z]\w+ (?=[A-Z][a-z])", " ", joined).lower())
    return canon_passage, passage_words, bare


def check_sentence(
    sentence: str,
    numbers: tuple[int, ...],
    reply: Reply,
    threshold: float = SUPPORT_THRESHOLD,
    model_path: str = "",
    start: int = 0,
) -> Verdict:
    """The verdict for one sentence of a reply, given the citation numbers it carries."""
    claim = claim_text(sentence)
    end = start + len(sentence)
    if not numbers:
        if is_factual(claim):
            return Verdict(
                sentence, start, end, (), "uncited-factual", "factual claim without a citation"
            )
        return Verdict(sentence, start, end, (), "not-factual", "no factual claim to cite")
    fabricated = [n for n in numbers if reply.evidence.get(n) is None]
    if fabricated:
        size = len(reply.evidence)
        known = f"1-{size}" if size else "empty"
        cites = ", ".join(f"[{n}]" for n in fabricated)
        reason = f"citation {cites} is not in the evidence list ({known})"
        return Verdict(
            sentence,
            start,
            end,
            numbers,
            "fabricated-citation",
            reason,
            fabricated=tuple(fabricated),
        )
    cited = [(n, reply.evidence.get(n)) for n in numbers]
    whole = check_claim(claim, cited, threshold, model_path)
    status, supported_by = "unsupported", ()
    if whole.ok:
        status, supported_by = "supported", numbers
        if len(numbers) > 1:
            supported_by = _relevant(claim, cited, threshold, model_path)
    return Verdict(
        sentence,
        start,
        end,
        numbers,
        status,
        whole.reason,
        whole.score,
        supported_by,
        whole.quotes,
        whole.quotes_found,
    )


def _relevant(
    claim: str, cited: list[tuple[int, Passage]], threshold: float, model_path: str
) -> tuple[int, ...]:
    """ALCE: a citation is irrelevant when it does not support the sentence alone and the
    other citations still support it without it. The relevant ones, in order."""
    keep = []
    for n, p in cited:
        alone = check_claim(claim, [(n, p)], threshold, model_path).ok
        rest = [(m, q) for m, q in cited if m != n]
        if alone or not check_claim(claim, rest, threshold, model_path).ok:
            keep.append(n)
    return tuple(keep)


def check_reply(reply: Reply, settings: Settings | None = None) -> list[Verdict]:
    """One verdict per sentence of the reply's text, in order."""
    model_path = settings.model_path if settings is not None else ""
    markers = parse_citations(reply.text)
    sentences = []
    for start, end in sentence_spans(reply.text):
        numbers = tuple(
            dict.fromkeys(n for c in markers if start <= c.start < end for n in c.numbers)
        )
        sentences.append((start, reply.text[start:end], numbers))
    _warm_cited(sentences, reply, model_path)
    return [
        check_sentence(sentence, numbers, reply, SUPPORT_THRESHOLD, model_path, start)
        for start, sentence, numbers in sentences
    ]


def _warm_cited(sentences: list[tuple[int, str, tuple[int, ...]]], reply: Reply, model_path: str):
    """Embed the claims of a reply's cited sentences, and their passages' sentences, in one
    model call rather than one per sentence (most passage sentences are cached already)."""
    claims, passages = [], []
    for _, sentence, numbers in sentences:
        cited = [reply.evidence.get(n) for n in numbers]
        if cited and None not in cited:
            claims.append(claim_text(sentence))
            passages += [p for p in cited if p not in passages]
    if claims:
        warm(claims, passages, model_path)


def badge(verdicts: list[Verdict]) -> str:
    """A short summary for the UI, e.g. "4/4 citations verified" (counted per sentence and
    citation number; fabricated and unsupported citations are named)."""
    total = sum(len(v.citations) for v in verdicts)
    if not total:
        uncited = sum(v.status == "uncited-factual" for v in verdicts)
        return f"no citations ({uncited} uncited claims)" if uncited else "no citations"
    verified = sum(len(v.supported_by) for v in verdicts if v.status == "supported")
    text = f"{verified}/{total} citations verified"
    fabricated = sum(v.status == "fabricated-citation" for v in verdicts)
    if fabricated:
        text += f", {fabricated} fabricated"
    return text


# ---------------------------------------------------------------- claim/evidence pairs
@dataclass(frozen=True)
class PairVerdict:
    """The checker's answer for one (claim, evidence) pair, as `debate check` prints it."""

    supported: bool
    score: float  # support score in [0, 1]; 0 when a hard rule failed before scoring
    reason: str

    def to_dict(self) -> dict:
        return {"supported": self.supported, "score": round(self.score, 4), "reason": self.reason}


def evidence_passages(evidence: list[str]) -> list[tuple[int, Passage]]:
    """Evidence texts as numbered passages with no provenance (the pair has none)."""
    return [
        (
            n,
            Passage(
                id=f"e{n}", motion="", source_id=f"e{n}", text=t, start=0, end=len(t), paragraph=1
            ),
        )
        for n, t in enumerate(evidence, 1)
    ]


def check_pairs(
    pairs: list[tuple[str, list[str]]], model_path: str = "", progress=None
) -> list[PairVerdict]:
    """The checker on bare claim/evidence pairs: the claim is supported when the cited
    evidence texts together support it (layers 2-4, the same as for a reply's sentence).
    `progress(n)` is called after each pair."""
    cited_all = [evidence_passages(ev) for _, ev in pairs]
    warm(
        [claim_text(c) for c, _ in pairs], [p for cited in cited_all for _, p in cited], model_path
    )
    out = []
    for (claim, _), cited in zip(pairs, cited_all, strict=True):
        check = check_claim(claim_text(claim), cited, SUPPORT_THRESHOLD, model_path)
        # The score is the support score when it decided; a rule that failed (quote, number,
        # name, negation...) scores 0, so that a ranking by score agrees with the verdicts.
        decided_by_score = check.ok or check.reason.startswith("low support")
        score = check.score if decided_by_score and check.score is not None else 0.0
        out.append(PairVerdict(check.ok, max(0.0, min(1.0, score)), check.reason))
        if progress:
            progress(1)
    return out
