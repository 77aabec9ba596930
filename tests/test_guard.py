"""The guard around LLM replies: regenerate once with reasons, then remove, and never
show a fabricated citation as real. Also the LLM judge, over real HTTP to the loopback replay
server (tests/replay.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from debate.check.citations import EvidenceList, Reply, cited_numbers
from debate.check.faithfulness import FAILING, check_reply
from debate.check.guard import NOTHING_LEFT, check, guard_reply, guard_stream
from tests.replay import tokens
from tests.test_faithfulness import AMMO, GAS, SANCTIONS, passage

GOOD = "Serbia has not imposed any sanctions on Russia since February 2022 [2]."
GOOD_2 = "The European Commission gave a €49.6 million grant for the interconnector [3]."
BAD_NUMBER = "The European Commission gave a €90 million grant for the interconnector [3]."
FABRICATED = "Poland bought every Serbian shell [6]."


@pytest.fixture
def settings(settings):
    """These tests are about the guard's mechanics on paraphrased replies (the paraphrase
    mode); card-bound speeches, the default, are tested in tests/test_speech_rules.py."""
    return replace(settings, llm_mode="paraphrase")


@pytest.fixture
def evidence():
    return EvidenceList(
        [passage(AMMO, "ammo"), passage(SANCTIONS, "sanctions"), passage(GAS, "gas")]
    )


def test_supported_reply_passes_untouched_without_regeneration(evidence, settings):
    calls = []
    reply = Reply(f"{GOOD} {GOOD_2} That settles it.", evidence, engine="llm")
    out = guard_reply(reply, settings, regenerate=lambda fb: calls.append(fb))
    assert out.text == reply.text and not calls
    assert [v.status for v in out.verdicts] == ["supported", "supported", "not-factual"]


def test_failing_reply_regenerates_once_with_the_checkers_reasons(evidence, settings):
    feedback = []

    def regenerate(text: str) -> Reply:
        feedback.append(text)
        return Reply(f"{GOOD} {GOOD_2}", evidence, engine="llm")

    out = guard_reply(
        Reply(f"{GOOD} {BAD_NUMBER} {FABRICATED}", evidence, engine="llm"),
        settings,
        regenerate=regenerate,
    )
    assert len(feedback) == 1
    assert "number 90 not in [3]" in feedback[0]
    assert "citation [6] is not in the evidence list (1-3)" in feedback[0]
    assert out.text == f"{GOOD} {GOOD_2}"
    assert all(v.status == "supported" for v in out.verdicts)


def test_what_still_fails_after_regeneration_is_removed_with_a_notice(evidence, settings):
    calls = []

    def regenerate(text: str) -> Reply:
        calls.append(text)
        return Reply(f"{GOOD}\n\n{BAD_NUMBER} {FABRICATED}", evidence, engine="llm")

    out = guard_reply(
        Reply(f"{BAD_NUMBER} {FABRICATED}", evidence, engine="llm"), settings, regenerate=regenerate
    )
    assert len(calls) == 1  # one regeneration, never a loop
    assert out.text == GOOD
    assert cited_numbers(out.text) == [2]
    assert any("number 90 not in [3]" in n for n in out.notices)
    # the removed fabricated citation is named in the notice, but not as a real [n]
    assert any("[6?]" in n for n in out.notices)
    assert not any(v.status in FAILING for v in out.verdicts)


def test_reply_with_nothing_supported_says_so_instead_of_going_blank(evidence, settings):
    out = guard_reply(Reply(FABRICATED, evidence, engine="llm"), settings)
    assert out.text == NOTHING_LEFT
    assert out.notices


def test_regeneration_that_is_worse_does_not_replace_the_first_draft(evidence, settings):
    first = Reply(f"{GOOD} {BAD_NUMBER}", evidence, engine="llm")
    out = guard_reply(
        first,
        settings,
        regenerate=lambda fb: Reply(
            f"{FABRICATED} {BAD_NUMBER} Serbia joined NATO in 2020 [2].", evidence, engine="llm"
        ),
    )
    assert out.text == GOOD


def test_verdicts_describe_the_final_text(evidence, settings):
    out = guard_reply(Reply(f"{BAD_NUMBER} {GOOD} {GOOD_2}", evidence, engine="llm"), settings)
    for v in out.verdicts:
        assert out.text[v.start : v.end] == v.sentence
    assert check_reply(out, settings) == out.verdicts


def drain(gen) -> tuple[list[str], Reply]:
    chunks = []
    while True:
        try:
            chunks.append(next(gen))
        except StopIteration as stop:
            return chunks, stop.value


def test_stream_releases_only_checked_sentences_and_names_no_fake_citation(evidence, settings):
    streamed = tokens(f"{GOOD} {FABRICATED} {BAD_NUMBER} {GOOD_2}")  # "[", "6", "]", "."
    chunks, out = drain(guard_stream(streamed, evidence, settings, engine="llm"))
    assert chunks[0] == GOOD  # released as soon as it was complete and checked
    assert all(b.startswith(a) for a, b in zip(chunks, chunks[1:], strict=False))
    assert chunks[-1] == out.text == f"{GOOD} {GOOD_2}"
    for chunk in chunks:
        assert "Poland" not in chunk and "€90" not in chunk
    assert [v.status for v in out.verdicts] == ["supported", "supported"]
    # both removals are explained; the fabricated number only as [6?], never as [6]
    assert len(out.notices) == 2 and "number 90 not in [3]" in out.notices[1]
    assert "[6?]" in out.notices[0] and 6 not in cited_numbers(" ".join(out.notices))


@pytest.mark.parametrize(
    "text",
    [
        f"{GOOD} {FABRICATED} That settles it.\n\n{GOOD_2}",  # a paragraph break kept
        f"{GOOD_2} Mr. Vučić said so. {BAD_NUMBER} {GOOD}",  # "Mr." is no sentence end
    ],
)
def test_stream_verdicts_are_those_a_fresh_check_of_the_final_text_gives(evidence, settings, text):
    """The stream keeps the verdicts of the sentences it released instead of checking them
    all again: they must be exactly what checking the final text anew gives."""
    _, out = drain(guard_stream(tokens(text), evidence, settings, engine="llm"))
    assert out.verdicts == check_reply(out, replace(settings, llm=""))
    for v in out.verdicts:
        assert out.text[v.start : v.end] == v.sentence


def test_moved_verdicts_refuse_a_text_whose_sentences_differ(evidence, settings):
    from debate.check.guard import _moved

    reply = Reply(f"{GOOD} {GOOD_2}", evidence, engine="llm")
    verdicts = check_reply(reply, settings)
    assert _moved(verdicts, reply.text) == verdicts
    assert _moved(verdicts, f"{GOOD} {GOOD_2} More.") is None  # one sentence more
    assert _moved(verdicts, f"{GOOD} {GOOD_2.replace('[3]', '[1]')}") is None  # other citation
    assert _moved([], "") is None


@pytest.mark.parametrize(
    "answer,status",
    [
        ("UNSUPPORTED: the passage does not say the grant was European", "unsupported"),
        ("SUPPORTED", "supported"),
    ],
)
def test_llm_judge_over_http_can_veto_but_not_rescue(evidence, settings, replay, answer, status):
    server = replay(judge=answer)
    judged = replace(
        settings, llm="openai:judge-model", llm_base_url=server.openai_url, llm_timeout=10.0
    )
    verdicts = check(Reply(f"{GOOD_2} {FABRICATED}", evidence), judged)
    assert [v.status for v in verdicts] == [status, "fabricated-citation"]
    # only the sentence the cheap layers accepted went to the judge, with its passage
    assert server.requests == []
    assert len(server.judged) == 1 and "€49.6 million grant" in server.judged[0].prompt
    if status == "unsupported":
        assert verdicts[0].reason.startswith("LLM judge: the passage does not say")
