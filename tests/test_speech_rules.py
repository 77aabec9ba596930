"""The speech rules the guard applies to LLM replies (debate.check.speech_rules): prompt
scaffolding never shown, a sentence said twice dropped, framed claims checked as claims,
card-bound speeches (facts only as quoted cards, the default), and sentences on the other
side's case held back. Through guard.check and the streamed guard, the paths students see."""

from __future__ import annotations

from dataclasses import replace

import pytest

from debate.check.citations import EvidenceList, Reply
from debate.check.claims import claim_text
from debate.check.guard import check, guard_stream
from debate.core.config import load_settings
from debate.core.errors import DebateError
from debate.corpus.passages import Passage
from tests.replay import tokens

SANCTIONS = (
    "Serbia has not imposed any sanctions on Russia since the full-scale invasion of Ukraine "
    "began in February 2022. President Aleksandar Vučić said Serbia backed Ukraine's "
    "territorial integrity but would not join sanctions against Moscow."
)
QUOTED = 'Serbia "has not imposed any sanctions on Russia since the full-scale invasion" [1].'
PARAPHRASED = "Serbia has not imposed any sanctions on Russia since February 2022 [1]."


@pytest.fixture
def evidence():
    p = Passage(
        id="sanctions",
        motion="serbia-russia",  # a real motion pack: its names and contentions are read
        source_id="sanctions",
        text=SANCTIONS,
        start=0,
        end=len(SANCTIONS),
        paragraph=1,
        title="Sanctions",
        publisher="A publisher",
        date="2024-02-01",
    )
    return EvidenceList([p])


def statuses(text: str, evidence, settings, side: str = "attack") -> list[tuple[str, str]]:
    reply = Reply(text, evidence, side=side, phase="rebuttal", engine="llm")
    return [(v.status, v.sentence) for v in check(reply, settings)]


def streamed(text: str, evidence, settings, side: str = "attack") -> Reply:
    stream = guard_stream(tokens(text), evidence, settings, side=side, engine="llm")
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value


def test_card_bound_is_the_default_and_a_bad_mode_is_refused():
    assert load_settings(environ={}).llm_mode == "cards"
    with pytest.raises(DebateError, match="DEBATE_LLM_MODE='quotes'"):
        load_settings(environ={"DEBATE_LLM_MODE": "quotes"})


def test_in_card_bound_speeches_a_fact_must_quote_its_card(evidence, settings):
    text = f"{QUOTED} {PARAPHRASED} That is not how an ally behaves."
    got = statuses(text, evidence, settings)
    assert [s for s, _ in got] == ["supported", "unsupported", "not-factual"]
    # The same paraphrase passes the checker when paraphrase mode is chosen.
    loose = statuses(PARAPHRASED, evidence, replace(settings, llm_mode="paraphrase"))
    assert loose[0][0] == "supported"


def test_an_uncited_sentence_may_argue_but_not_name_what_the_motion_does_not(evidence, settings):
    text = (
        "Serbia is not a Russian ally. "  # the motion's own names: analysis
        "Serbia also backs the Balochi separatist movement."  # a new name, no card
    )
    got = statuses(text, evidence, settings, side="defend")
    assert got[0][0] == "not-factual"
    assert got[1][0] == "uncited-factual"


def test_a_framed_claim_is_checked_as_the_claim_it_frames(evidence, settings):
    framed = "In this talk, I will argue that Serbia imposed sanctions on Russia in 2019."
    assert claim_text(framed) == "Serbia imposed sanctions on Russia in 2019."
    assert statuses(framed, evidence, settings)[0][0] == "uncited-factual"
    cited = "The evidence shows that Serbia imposed sanctions on Russia in 2019 [1]."
    assert (
        statuses(cited, evidence, replace(settings, llm_mode="paraphrase"))[0][0] == "unsupported"
    )


@pytest.mark.parametrize(
    "scaffold",
    [
        "<student_message> Serbia sold ammunition to Ukraine. </student_message>",
        "Assistant: here is my rebuttal.",
        "<|im_start|>assistant",
    ],
)
def test_prompt_scaffolding_is_never_shown_not_even_in_the_notice(scaffold, evidence, settings):
    # Models put echoed tags and role lines on lines of their own; a sentence that carries
    # scaffolding is dropped whole, the sentences around it are checked as usual.
    text = f"{QUOTED}\n{scaffold}\nThat is not how an ally behaves."
    reply = streamed(text, evidence, settings)
    assert "student_message" not in reply.text and "Assistant:" not in reply.text
    assert "im_start" not in reply.text
    assert QUOTED in reply.text and "That is not how an ally behaves." in reply.text
    notices = " ".join(reply.notices)
    assert "not part of a speech" in notices and "student_message" not in notices


def test_an_echoed_instruction_of_the_prompt_is_scaffolding(evidence, settings):
    line = next(
        ln.strip()
        for ln in (settings.prompts_dir / "system.txt").read_text(encoding="utf-8").splitlines()
        if len(ln.split()) >= 10 and "{" not in ln
    )
    got = statuses(f"{QUOTED} {line}", evidence, settings)
    assert got[-1][0] == "scaffolding"


def test_a_sentence_said_twice_is_shown_once(evidence, settings):
    again = "That is not how an ally behaves."
    reply = streamed(f"{again} {QUOTED} {again}", evidence, settings)
    assert reply.text.count(again) == 1
    assert any("repeats an earlier sentence" in n for n in reply.notices)


def test_a_sentence_on_the_other_sides_case_is_held_back(evidence, settings):
    # The bot defends "Serbia is not a Russian ally"; this sentence argues the attack's
    # contention that Serbia refuses sanctions because it stands with Moscow.
    off = "Serbia refuses to sanction Russia because it stands with Moscow."
    got = statuses(f"{QUOTED} {off}", evidence, replace(settings, llm_mode="paraphrase"), "defend")
    assert got[-1][0] == "off-side"
    # The same sentence from the attacking bot is its own case.
    mine = statuses(off, evidence, replace(settings, llm_mode="paraphrase"), "attack")
    assert mine[0][0] != "off-side"


def test_the_offline_engine_is_not_subject_to_the_speech_rules(evidence, settings):
    text = f"{PARAPHRASED} {PARAPHRASED}"
    reply = Reply(text, evidence, side="attack", phase="rebuttal", engine="evidence")
    assert [v.status for v in check(reply, settings)] == ["supported", "supported"]


def test_the_rules_apply_to_a_configured_model_too(evidence, settings):
    # A configured engine is named llm:<spec>; the rules apply to every LLM engine.
    reply = Reply("<transcript>", evidence, side="attack", engine="llm:openai:some-model")
    assert [v.status for v in check(reply, settings)] == ["scaffolding"]


def test_lines_about_the_prompt_and_cut_off_sentences_are_named_not_shown(evidence, settings):
    text = (
        f"Your message is as follows: you say Serbia is an ally.\n{QUOTED}\n"
        "The student claims that Serbia is an ally.\nThat is not how an ally"
    )
    reply = streamed(text, evidence, settings)
    assert reply.text == QUOTED
    notices = " ".join(reply.notices)
    assert "a line about the prompt" in notices and "Your message is as follows" in notices
    assert "the sentence is cut off" in notices


def test_an_uncited_dated_event_needs_a_card(evidence, settings):
    got = statuses("This week Serbia changed its mind about the war.", evidence, settings)
    assert got[0][0] == "uncited-factual"
