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
5. optionally, when an LLM is configured, an LLM judge (`debate.judge`).

Sentences without citations are `uncited-factual` when they state checkable facts
(numbers, dates, money, quotes, reported events), else `not-factual` (signposting, rhetoric).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from debate.citations import Reply, parse_citations
from debate.claims import (  # noqa: F401 - re-exported: the checker's vocabulary
    _BULLET,
    _CURRENCIES,
    MONTHS,
    NEGATIONS,
    _canonical,
    _content_tokens,
    _entity_present,
    _words,
    antonym_clash,
    claim_text,
    entities_in,
    initialisms,
    is_factual,
    negation_flip,
    normalise_quote,
    numbers_in,
    places_in,
    quote_found,
    quoted_spans,
    split_sentences,
    stem,
    strip_accents,
    swapped_numbers,
)
from debate.passages import Passage

if TYPE_CHECKING:
    from debate.config import Settings

# Calibrated on the calibration split of evals/calibration.jsonl (fitted 0.526 on 2026-11-26);
# `debate eval --suite calibration` reports the best threshold found and the held-out accuracy.
SUPPORT_THRESHOLD = 0.52
LEXICAL_WEIGHT = 0.5

STATUSES = ("supported", "unsupported", "uncited-factual", "fabricated-citation", "not-factual")
FAILING = frozenset({"unsupported", "uncited-factual", "fabricated-citation"})


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


# ---------------------------------------------------------------- support score
def _embed(texts: list[str], model_path: str) -> list[list[float]]:
    from debate.embeddings import get_embedder

    return get_embedder(model_path).embed_cached(texts)


def passage_sentences(text: str) -> list[str]:
    return [_BULLET.sub("", text[s:e]) for s, e in split_sentences(text)]


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
    claim_tokens = _content_tokens(claim) - _ATTRIBUTION
    sentences_per_passage = [passage_sentences(p.text) or [p.text] for p in passages]
    flat = [s for group in sentences_per_passage for s in group]
    vectors = _embed([claim, *flat], model_path)
    claim_vec, sent_vecs = vectors[0], vectors[1:]
    best = Support(0.0, 0.0, 0.0, [])
    offset = 0
    for group in sentences_per_passage:
        vecs = sent_vecs[offset : offset + len(group)]
        offset += len(group)
        windows = [([group[i]], vecs[i]) for i in range(len(group))]
        for i in range(len(group) - 1):
            summed = [a + b for a, b in zip(vecs[i], vecs[i + 1], strict=True)]
            norm = math.sqrt(sum(x * x for x in summed)) or 1.0
            windows.append(([group[i], group[i + 1]], [x / norm for x in summed]))
        for text, vec in windows:
            semantic = sum(a * b for a, b in zip(claim_vec, vec, strict=True))
            tokens = _content_tokens(" ".join(text))
            lexical = len(claim_tokens & tokens) / len(claim_tokens) if claim_tokens else 0.0
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * semantic
            if score > best.score:
                best = Support(score, lexical, semantic, text)
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
    texts = [p.text for _, p in cited]
    joined = "\n".join(texts)
    quotes = quoted_spans(claim)
    found = [q for q in quotes if any(quote_found(q, t) for t in texts)]
    for q in quotes:
        if q not in found:
            short = q if len(q) <= 60 else q[:57] + "..."
            return Check(
                False, f'quote "{short}" not found in {label}', None, len(quotes), len(found)
            )
    counts = {"quotes": len(quotes), "quotes_found": len(found)}
    # The source's own title, publisher and author may be named too ("The Kyiv Independent
    # reported..."), so they count as part of what the citation says.
    meta = " ".join(f"{p.title} {p.publisher} {p.author}" for _, p in cited)
    missing_numbers = sorted(numbers_in(claim) - numbers_in(joined + " " + meta))
    if missing_numbers:
        return Check(False, f"number {', '.join(missing_numbers)} not in {label}", **counts)
    low_claim, low_joined = claim.lower(), joined.lower()
    for month in MONTHS:
        if re.search(rf"\b{month}\b", low_claim) and not re.search(rf"\b{month}\b", low_joined):
            if month == "may" and not re.search(r"\bmay\s+\d|\d+\s+may\b", low_claim):
                continue  # the verb "may"
            return Check(False, f"date {month.title()} not in {label}", **counts)
    for symbol, currency in _CURRENCIES.items():
        if re.search(rf"(?<![\w]){re.escape(symbol)}(?![a-z])", low_claim):
            if not any(
                re.search(rf"(?<![\w]){re.escape(s)}(?![a-z])", low_joined)
                for s, c in _CURRENCIES.items()
                if c == currency
            ):
                return Check(False, f"currency {currency} not in {label}", **counts)
    canon_passage = _canonical(joined + " " + meta)
    passage_words = (
        set(_words(joined + " " + meta))
        | set(canon_passage.split())
        | initialisms(joined + " " + meta)
    )
    # A capital named as a place must be a place in the passage too ("in Moscow"), not just
    # a word in it ("The Moscow Times").
    # A capital named as a place must be in the passage as a word of its own, not only
    # inside a name such as "The Moscow Times".
    bare = strip_accents(re.sub(r"\b[A-Z]\w+ (?=[A-Z][a-z])", " ", joined).lower())
    for place in places_in(claim):
        if not re.search(rf"\b{place}\b", bare):
            return Check(False, f'place "{place.title()}" not in {label}', **counts)
    for entity in entities_in(claim):
        if not _entity_present(entity, canon_passage, passage_words):
            return Check(False, f'name "{entity}" not in {label}', **counts)
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
        return Verdict(
            sentence,
            start,
            end,
            numbers,
            "fabricated-citation",
            f"citation {', '.join(f'[{n}]' for n in fabricated)} is not in the "
            f"evidence list ({known})",
            fabricated=tuple(fabricated),
        )
    cited = [(n, reply.evidence.get(n)) for n in numbers]
    whole = check_claim(claim, cited, threshold, model_path)
    if not whole.ok:
        return Verdict(
            sentence,
            start,
            end,
            numbers,
            "unsupported",
            whole.reason,
            whole.score,
            (),
            whole.quotes,
            whole.quotes_found,
        )
    supported_by = numbers
    if len(numbers) > 1:
        # ALCE: a citation is irrelevant when it does not support the sentence alone and the
        # other citations still support it without it.
        keep = []
        for n, p in cited:
            alone = check_claim(claim, [(n, p)], threshold, model_path).ok
            rest = [(m, q) for m, q in cited if m != n]
            if alone or not check_claim(claim, rest, threshold, model_path).ok:
                keep.append(n)
        supported_by = tuple(keep)
    return Verdict(
        sentence,
        start,
        end,
        numbers,
        "supported",
        whole.reason,
        whole.score,
        supported_by,
        whole.quotes,
        whole.quotes_found,
    )


def check_reply(reply: Reply, settings: Settings | None = None) -> list[Verdict]:
    """One verdict per sentence of the reply's text, in order."""
    model_path = settings.model_path if settings is not None else ""
    markers = parse_citations(reply.text)
    verdicts = []
    for start, end in split_sentences(reply.text):
        numbers = tuple(
            dict.fromkeys(n for c in markers if start <= c.start < end for n in c.numbers)
        )
        verdicts.append(
            check_sentence(
                reply.text[start:end], numbers, reply, SUPPORT_THRESHOLD, model_path, start
            )
        )
    if settings is not None and settings.llm:
        from debate.judge import judge_verdicts

        verdicts = judge_verdicts(reply, verdicts, settings)
    return verdicts


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
