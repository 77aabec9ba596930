"""debate.core.text: the one place for sentences, quotes, normalisation and tokens."""

from __future__ import annotations

import pytest

from debate.core.text import (
    find_quote,
    fold_accents,
    normalise_quote,
    quote_key,
    quoted_spans,
    search_words,
    sentence_at,
    sentence_spans,
    stem,
    stems,
    tokenize,
    words,
)


def test_sentence_spans_are_exact_and_skip_bullets_abbreviations_and_keep_late_citations():
    text = "Mr. Vučić met the U.S. envoy. [2] He left.\n- Serbia voted yes [3].\n# Heading"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Mr. Vučić met the U.S. envoy. [2]",
        "He left.",
        "Serbia voted yes [3].",
        "Heading",
    ]


def test_sentence_at_finds_the_sentence_around_an_offset():
    text = "First one. Second one [1]. Third."
    s, e = sentence_at(text, text.index("[1]"))
    assert text[s:e] == "Second one [1]."


@pytest.mark.parametrize(
    "quote",
    [
        "shared future",  # plain
        "SHARED   future",  # case and spacing
        "shared\u2011future".replace("\u2011", " "),  # sanity: a space is a space
    ],
)
def test_find_quote_returns_the_span_in_the_original_text(quote):
    text = "They signed a “community with a shared future in the new era”."
    s, e = find_quote(quote, text)
    assert text[s:e].lower().split() == ["shared", "future"]


def test_every_dash_and_quote_mark_compares_equal_so_checker_and_page_agree():
    text = "Vučić called it a \u201cnon\u2011negotiable\u201d red line \u2014 for now."
    for quote in ("«non-negotiable» red line - for now", "'non–negotiable' red line — for now"):
        assert find_quote(quote, text) is not None
    assert normalise_quote("«A»") == normalise_quote('"a"')


def test_an_ellipsis_skips_text_but_pieces_must_come_in_order():
    text = "Serbia will never recognise Kosovo, the president said on Tuesday."
    assert find_quote("Serbia will never … on Tuesday", text) is not None
    assert find_quote("on Tuesday ... Serbia will never", text) is None
    assert find_quote("Serbia will always recognise", text) is None


def test_quoted_spans_reads_every_kind_of_quotation_mark():
    text = "He said \"first one\", then “second”, then «third» and 'fourth'."
    assert quoted_spans(text) == ["first one", "second", "third", "fourth"]


def test_tokens_fold_accents_drop_stopwords_and_keep_numbers_whole():
    assert fold_accents("Vučić Đilas") == "Vucic Dilas"
    assert tokenize("The Vučić government paid €1.15 billion, 80,000 tonnes") == [
        "vucic",
        "government",
        "paid",
        "1.15",
        "billion",
        "80,000",
        "tonnes",
    ]


def test_snowball_stems_meet_across_inflections():
    assert stem("imposed") == stem("imposing") == stem("imposes")
    assert quote_key("Shared, future!") == quote_key("shared future")


# ---------------------------------------------------------------- acronyms
def test_an_acronym_in_capitals_is_another_word_than_the_same_letters_in_lower_case():
    # an oil company's acronym and a city written with a diacritic fold to the same letters
    assert tokenize("NIS") == ["NIS"] and tokenize("Niš") == ["nis"]
    assert search_words("the NIS refinery") == ["the", "NIS", "refinery"]
    assert words("the NIS refinery") == ["the", "nis", "refinery"]  # the checker's words fold
    assert stem("NIS") == "NIS" and stems("refineries") == [stem("refineries")]
    assert not set(tokenize("NIS sold fuel")) & set(tokenize("Niš, a city in the south"))
    assert tokenize("EU's budget") == ["EU", "s", "budget"]
    assert tokenize("the US and us") == ["US", "us"]


def test_a_word_with_diacritics_still_matches_its_plain_spelling_in_any_case():
    assert tokenize("Niš") == tokenize("Nis") == tokenize("nis") == tokenize("NIŠ")
    assert words("Vučić") == words("Vucic") == words("vucic")
    assert stems("Đilas said") == stems("Dilas said")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I do NOT agree", ["i", "do", "not", "agree"]),  # a stopword in capitals
        ("NONE of it", ["none", "of", "it"]),  # a negation in capitals
        ("SERBIA TO BUY GAS from NIS", ["serbia", "to", "buy", "gas", "from", "NIS"]),  # a run
        ("METHODS AND RESULTS: the EU said", ["methods", "and", "results", "the", "EU", "said"]),
        ("OK THANKS", ["ok", "thanks"]),  # a message in capitals
        ("NATO-led KFOR", ["NATO", "led", "KFOR"]),
        ("COVID19 and F16", ["covid19", "and", "f16"]),  # letters and digits: a word
        ("Reuters TV", ["reuters", "TV"]),
    ],
)
def test_capitals_make_an_acronym_only_in_mixed_case_text(text, expected):
    assert search_words(text) == expected
