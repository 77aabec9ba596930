"""Faithfulness metrics over checker verdicts. Each function states the definition it computes.

Citation recall and precision follow ALCE (Gao et al. 2023, "Enabling Large Language Models
to Generate Text with Citations"), with our checker in place of ALCE's NLI model. A
"factual" sentence is one whose verdict is not `not-factual`. Functions return None when
their denominator is zero (nothing to measure), so a report can say "n/a" instead of a
made-up 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable

from debate.check.faithfulness import Verdict


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def citation_recall(verdicts: Iterable[Verdict]) -> float | None:
    """Share of factual sentences whose citations, taken together, support them (ALCE
    citation recall). Uncited factual sentences and sentences citing a number outside the
    evidence list count as not supported."""
    factual = [v for v in verdicts if v.status != "not-factual"]
    return _ratio(sum(v.status == "supported" for v in factual), len(factual))


def citation_precision(verdicts: Iterable[Verdict]) -> float | None:
    """Share of citations (sentence, cited number) that support their sentence (ALCE
    citation precision). A citation is irrelevant when it does not support the sentence
    alone AND the sentence's other citations support it without it; a citation of an
    unsupported sentence, or to a number outside the evidence list, does not support it."""
    verdicts = list(verdicts)
    total = sum(len(v.citations) for v in verdicts)
    good = sum(len(v.supported_by) for v in verdicts if v.status == "supported")
    return _ratio(good, total)


def fabricated_citation_rate(verdicts: Iterable[Verdict]) -> float | None:
    """Share of citations (sentence, cited number) whose number is not in the turn's
    evidence list."""
    verdicts = list(verdicts)
    total = sum(len(v.citations) for v in verdicts)
    return _ratio(sum(len(v.fabricated) for v in verdicts), total)


def quote_exactness(verdicts: Iterable[Verdict]) -> float | None:
    """Share of quoted spans found verbatim in a cited passage, after normalising
    whitespace, quote marks, dashes and case."""
    verdicts = list(verdicts)
    return _ratio(sum(v.quotes_found for v in verdicts), sum(v.quotes for v in verdicts))


def unsupported_sentence_rate(verdicts: Iterable[Verdict]) -> float | None:
    """Share of all sentences that fail the checker: unsupported, uncited-factual or citing
    a number outside the evidence list (rhetorical sentences count in the denominator)."""
    verdicts = list(verdicts)
    bad = sum(
        v.status in ("unsupported", "uncited-factual", "fabricated-citation") for v in verdicts
    )
    return _ratio(bad, len(verdicts))


def summarise(verdicts: Iterable[Verdict]) -> dict[str, float | None]:
    """All metrics for a set of verdicts (for example every reply of a suite)."""
    verdicts = list(verdicts)
    return {
        "citation_recall": citation_recall(verdicts),
        "citation_precision": citation_precision(verdicts),
        "fabricated_citation_rate": fabricated_citation_rate(verdicts),
        "quote_exactness": quote_exactness(verdicts),
        "unsupported_sentence_rate": unsupported_sentence_rate(verdicts),
    }
