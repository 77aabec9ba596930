"""The checker's negation and name layers (debate.check.claims), rule by rule: a negation
reaches only to the end of its clause, a passage's negation must be kept when the sentence
states what it denies, other renderings of a negation count, and capitalised words that
only start a sentence or number a model are not names. Every case is a pair: the faithful
sentence passes and its unfaithful twin is still caught."""

from __future__ import annotations

import pytest

from debate.check.claims import entities_in, negation_flip

PASSAGE = (
    "At the summit Vučić said Serbia was the only country that had not sanctioned Russia, "
    "and justified this by recalling the 1999 bombing."
)


def test_a_negation_ends_with_its_clause():
    # The sentence repeats the second clause only: the first clause's "not" is not dropped.
    assert negation_flip("Vučić justified it by recalling the 1999 bombing.", [PASSAGE]) is None
    # ...but a sentence that states the negated clause without its "not" is caught.
    flipped = negation_flip("Vučić said Serbia had sanctioned Russia.", [PASSAGE])
    assert flipped and "drops the negation" in flipped


def test_a_sentence_that_states_a_negated_clause_must_keep_the_negation():
    window = ["Serbia's government has never granted the diplomatic status Moscow wanted."]
    assert negation_flip("Serbia has never granted the diplomatic status.", window) is None
    assert negation_flip("Serbia has given the centre the diplomatic status.", window)


def test_neither_nor_is_one_negation():
    window = ["He said Serbia could not sell directly to Ukraine or Russia."]
    kept = "He said Serbia could sell neither to Ukraine nor to Russia directly."
    assert negation_flip(kept, window) is None
    assert negation_flip("He said Serbia could sell directly to Ukraine or Russia.", window)


def test_rather_than_denies_what_follows():
    window = ['He said membership was impossible "not because of Serbia, but because of the veto".']
    kept = "He said membership was impossible because of the veto rather than because of Serbia."
    assert negation_flip(kept, window) is None
    assert negation_flip("He said membership was impossible because of Serbia.", window)


@pytest.mark.parametrize(
    "claim, window",
    [
        (
            "Cards no longer worked at the stations.",
            "Visa and Mastercard cards stopped working at the stations.",
        ),
        (
            "Vučić said Serbia could not accept the seizure and rejected a forced takeover.",
            "Vučić said Serbia could not accept the seizure, rejecting a forced takeover.",
        ),
    ],
)
def test_a_negation_in_other_words_licenses_the_claims(claim, window):
    assert negation_flip(claim, [window]) is None


def test_a_cessation_word_licenses_no_longer_but_not_a_plain_not():
    window = ["Serbia suspended all ammunition exports and would send its output to its own army."]
    claim = "Serbia suspended the exports so that the output would not go to its own army."
    assert negation_flip(claim, window)


def test_a_claim_negation_about_words_the_passage_lacks_is_still_aligned():
    window = ["The agency put the total at hundreds of thousands of shells and named the exporter."]
    claim = (
        "The agency said hundreds of thousands of shells had not been sent, and named the exporter."
    )
    assert negation_flip(claim, window)


def test_sentence_initial_function_words_and_model_numbers_are_not_names():
    names = entities_in("Once the sanctions bit, MiG-29s escorted Putin's plane to Belgrade.")
    assert "once" not in names and "29s" not in names
    assert {"mig", "putin", "belgrade"} <= set(names)
    # A capitalised first word that is a name stays one.
    assert "vulin" in entities_in("Vulin met Putin in Vladivostok.")
