"""Small text rules of the offline speeches: the student's words restated mid-sentence."""

from __future__ import annotations

import pytest

from debate.spar.engines.evidence import lower_first, names_in

TEXTS = [
    "The thesis is that Serbia is not a Russian ally.",
    "In 2024 President Aleksandar Vučić met Putin in Moscow, and the EU said so.",
]


@pytest.mark.parametrize(
    "said, restated",
    [
        ("Kids need an hour of exercise a day", "kids need an hour of exercise a day"),
        ("The EU said so", "the EU said so"),
        ("Putin and Vucic are friends", "Putin and Vucic are friends"),  # names stay
        ("Vucic lies", "Vucic lies"),  # the plain spelling of a name in the texts
        ("NATO bombed Belgrade", "NATO bombed Belgrade"),  # an acronym stays
        ("Serbia refused", "Serbia refused"),
    ],
)
def test_a_restated_point_starts_in_lower_case_unless_it_starts_with_a_name(said, restated):
    assert lower_first(said, names_in(TEXTS)) == restated


def test_names_are_the_words_capitalised_inside_sentences():
    assert {"vucic", "putin", "moscow", "serbia", "aleksandar"} <= names_in(TEXTS)
    assert "the" not in names_in(TEXTS) and "in" not in names_in(TEXTS)
