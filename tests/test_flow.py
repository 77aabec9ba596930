"""The flow sheet: a bot turn answers an argument only with the content of its reply, the
cited cards; its restatement of the student's point is not an answer.

Turns come from tests/data/transcripts/ (recorded with the offline engine), scored with the
real MiniLM model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from debate.check.citations import CITATION_RE
from debate.check.claims import claim_text
from debate.coach.flow import build_from_turns
from debate.core.text import sentences
from debate.corpus.motions import load_motion
from debate.spar.transcript import Turn

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"
NAMES = ("correct", "ignores", "misquote", "wrong-side", "misattribution")


def recorded(name: str) -> dict:
    return json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def motion():
    from debate.core.config import load_settings

    return load_motion(recorded("correct")["motion"], load_settings(environ={}).corpus_dir)


@pytest.fixture
def pair():
    """The correct student's turn and the first paragraph of the bot's rebuttal: the
    speech's restatement of the student's first point, then the card that answers it."""
    turns = recorded("correct")["turns"]
    student, reply = turns[1], turns[2]
    restatement, card = sentences(reply["text"].split("\n\n")[0])
    assert restatement.startswith("Your point is that") and not CITATION_RE.search(restatement)
    assert CITATION_RE.search(card) and "has not imposed any sanctions" in card
    return student, reply, restatement, card


def first_claim(turns, motion, settings):
    flow = build_from_turns([Turn.from_dict(t) for t in turns], motion, settings)
    return flow.of("student")[0]


def test_a_reply_that_only_restates_the_students_point_does_not_answer_it(pair, motion, settings):
    student, reply, restatement, _ = pair
    point = first_claim([student, {**reply, "text": restatement}], motion, settings)
    assert "abides by EU sanctions" in point.text
    assert point.dropped, [r.text for r in point.responses]


def test_a_reply_that_answers_with_a_cited_card_answers_the_point(pair, motion, settings):
    student, reply, restatement, card = pair
    point = first_claim([student, {**reply, "text": f"{restatement} {card}"}], motion, settings)
    (response,) = point.responses
    assert response.speaker == "bot" and response.text == claim_text(card)


@pytest.mark.parametrize("name", NAMES)
def test_every_answer_of_the_bot_in_a_recorded_round_is_a_cited_sentence(name, motion, settings):
    turns = recorded(name)["turns"]
    flow = build_from_turns([Turn.from_dict(t) for t in turns], motion, settings)
    answers = [r for a in flow.of("student") for r in a.responses]
    for r in answers:
        (sentence,) = [s for s in sentences(turns[r.turn]["text"]) if claim_text(s) == r.text]
        assert CITATION_RE.search(sentence), sentence


def test_a_cited_sentence_answers_by_its_card_or_else_its_own_claim():
    from debate.coach.flow import bot_answers

    text = (
        'You say that X; but does that decide this debate? The data: "Exports fell by a third '
        'in 2023" [1]. Exports fell sharply [2]. The "so-called" recovery never came [3].'
    )
    assert bot_answers(text) == [
        ('The data: "Exports fell by a third in 2023" [1].', "Exports fell by a third in 2023"),
        ("Exports fell sharply [2].", "Exports fell sharply."),
        ('The "so-called" recovery never came [3].', 'The "so-called" recovery never came.'),
    ]
