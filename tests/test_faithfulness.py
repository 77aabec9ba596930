"""The citation checker on hand-made evidence: each layer, its reasons, and the metrics."""

from __future__ import annotations

import pytest

from debate.check.citations import EvidenceList, Reply, parse_citations
from debate.check.faithfulness import badge, check_reply
from debate.check.metrics import (
    citation_precision,
    citation_recall,
    fabricated_citation_rate,
    quote_exactness,
    unsupported_sentence_rate,
)
from debate.core.text import normalise_quote, quote_found
from debate.core.text import sentence_spans as split_sentences
from debate.corpus.passages import Passage

AMMO = (
    "On 22 June 2024 the Financial Times reported estimates that about €800 million (roughly "
    "$855 million) of Serbian ammunition had reached Ukraine through third parties since "
    "Russia's full-scale invasion in 2022. Serbian President Aleksandar Vučić, shown the figure "
    'by the newspaper, called it broadly accurate, though he said it covered "maybe two or '
    'three years" rather than a single year.'
)
SANCTIONS = (
    "Serbia has not imposed any sanctions on Russia since the full-scale invasion of Ukraine "
    "began in February 2022. In his address to the nation after the invasion, President "
    "Aleksandar Vučić said Serbia backed Ukraine's territorial integrity but would not join "
    "sanctions against Moscow, according to TASS."
)
GAS = (
    "The European Union largely paid for the interconnector. The European Commission gave a "
    "€49.6 million grant, the European Investment Bank lent €25 million on favourable terms, "
    "and Serbia put in €15 million plus €7.5 million for preparatory work and design."
)


def passage(text: str, source: str, title: str = "A source", publisher: str = "A publisher"):
    return Passage(
        id=source,
        motion="m",
        source_id=source,
        text=text,
        start=0,
        end=len(text),
        paragraph=1,
        title=title,
        publisher=publisher,
        date="2024-06-22",
    )


@pytest.fixture
def evidence():
    return EvidenceList(
        [
            passage(AMMO, "ammo", publisher="The Kyiv Independent"),
            passage(SANCTIONS, "sanctions"),
            passage(GAS, "gas"),
        ]
    )


def verdicts_for(text: str, evidence: EvidenceList, settings):
    return check_reply(Reply(text, evidence), settings)


def test_sentences_keep_a_citation_written_after_the_full_stop():
    text = "Serbia voted yes. [1] Vučić said so [2]. Is it true?\n- A bullet [3]"
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["Serbia voted yes. [1]", "Vučić said so [2].", "Is it true?", "A bullet [3]"]


def test_quotes_match_after_normalising_marks_dashes_case_and_spaces():
    assert normalise_quote("“Maybe  Two–three”") == "'maybe two-three'"
    assert quote_found("MAYBE two   or three years", AMMO)
    assert quote_found("maybe two ... three years", AMMO)  # an ellipsis skips words
    assert not quote_found("maybe four years", AMMO)


def test_faithful_paraphrase_and_exact_quote_are_supported(evidence, settings):
    text = (
        "The Kyiv Independent says about €800 million of Serbian ammunition reached "
        "Ukraine via third parties since 2022 [1]. Vučić said the figure covered "
        "“maybe two or three years” [1]."
    )
    verdicts = verdicts_for(text, evidence, settings)
    assert [v.status for v in verdicts] == ["supported", "supported"]
    assert verdicts[1].quotes == verdicts[1].quotes_found == 1


def test_each_unfaithful_variant_fails_with_a_reason_a_person_can_read(evidence, settings):
    cases = {
        "About €900 million of Serbian ammunition reached Ukraine [1].": "number 900 not in [1]",
        "The Financial Times reported in July 2024 on Serbian ammunition for Ukraine [1].": "date July not in [1]",
        'Vučić said it covered "one single year" [1].': 'quote "one single year" not found in [1]',
        "Serbia has imposed sanctions on Russia since the invasion began in February 2022 [2].": "negation",
        "Croatia has not imposed any sanctions on Russia since February 2022 [2].": 'name "croatia" not in [2]',
        "Serbia has not imposed any sanctions on Russia since February 2022 [7].": "citation [7] is not in the evidence list (1-3)",
    }
    for sentence, reason in cases.items():
        (v,) = verdicts_for(sentence, evidence, settings)
        assert v.status != "supported", sentence
        assert reason in v.reason, (sentence, v.reason)
    (v,) = verdicts_for("Serbia has not imposed sanctions on Russia [7].", evidence, settings)
    assert v.status == "fabricated-citation" and v.fabricated == (7,)


def test_claim_cited_to_a_passage_that_does_not_say_it_has_low_support(evidence, settings):
    (v,) = verdicts_for("Serbia has not imposed any sanctions on Russia [3].", evidence, settings)
    assert v.status == "unsupported"
    assert v.reason.startswith(("low support", "name", "negation"))


def test_uncited_facts_are_flagged_and_rhetoric_is_not(evidence, settings):
    text = (
        "Serbia paid €15 million for the pipeline. My opponent has it backwards. "
        "You said Serbia joined NATO in 2020. Why would anyone believe that?"
    )
    assert [v.status for v in verdicts_for(text, evidence, settings)] == [
        "uncited-factual",
        "not-factual",
        "not-factual",
        "not-factual",
    ]


def test_alce_precision_counts_an_irrelevant_extra_citation(evidence, settings):
    # [2] neither supports the sentence alone nor is needed next to [1]: irrelevant (ALCE).
    text = (
        "Serbia's ammunition worth about €800 million reached Ukraine through third parties [1, 2]."
    )
    verdicts = verdicts_for(text, evidence, settings)
    assert verdicts[0].status == "supported" and verdicts[0].supported_by == (1,)
    assert citation_recall(verdicts) == 1.0
    assert citation_precision(verdicts) == 0.5
    assert badge(verdicts) == "1/2 citations verified"


def test_metrics_over_a_mixed_reply(evidence, settings):
    text = (
        'Vučić said it covered "maybe two or three years" [1]. '
        "Serbia put in €15 million [3]. Serbia put in €99 million [3]. "
        "Poland bought all of it [9]. That is my case."
    )
    verdicts = verdicts_for(text, evidence, settings)
    assert [v.status for v in verdicts] == [
        "supported",
        "supported",
        "unsupported",
        "fabricated-citation",
        "not-factual",
    ]
    assert citation_recall(verdicts) == 0.5  # 2 of 4 factual sentences supported
    assert citation_precision(verdicts) == 0.5  # 2 of 4 citations support their sentence
    assert fabricated_citation_rate(verdicts) == 0.25
    assert quote_exactness(verdicts) == 1.0
    assert unsupported_sentence_rate(verdicts) == 0.4
    assert badge(verdicts) == "2/4 citations verified, 1 fabricated"
    assert len(parse_citations(text)) == 4
