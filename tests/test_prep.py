"""Prep (issue 20): case files built by the real evidence engine on real ingested motions,
the coach's blocks in motion.yaml (validated, kept through the ruamel round trip, matched
to the student's point by debate.spar.blocks), and the page's card actions
(debate.app.cards) on a real round, saved with its transcript."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from debate.app import cards as page_cards
from debate.app import render
from debate.app.handlers import TabState, evidence_html
from debate.cards.card import Card, CardError, validate
from debate.coach import prep
from debate.core.errors import MotionError
from debate.core.text import quotes_in
from debate.corpus import motions
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import load_motion
from debate.search.retrieval import get_retriever
from debate.spar import blocks
from debate.spar.plan import SpeechRequest
from debate.spar.session import Session

DEBATE = str(Path(sys.executable).parent / "debate")

# The small test pack (tests/conftest.py) with a coach's block on the attack side's only
# contention, a comment and the keys in the coach's own order.
BLOCKED = """\
# A practice motion; the block below is the coach's.
id: cats-dogs
title: Test motion
thesis: Cats are better than dogs
sides:
  defend: Cats are better than dogs
  attack: Dogs are better than cats
contentions:
  defend:
    - Cats need less care.
  attack:
    - Dogs are loyal companions.
blocks:
  - answers: Dogs are loyal companions.  # or: attack-1
    responses:
      - tag: Cats cost far less to keep
        source: cats
        quote: cats cost 40 percent less per year than dogs
      - tag: Loyalty is not care
        analysis: A loyal pet that costs more and needs more care is still the worse pet.
sources:
  - sources
"""


def passages_by_id(motion, settings) -> dict:
    return {p.id: p for p in get_retriever(motion, settings).all_passages()}


def assert_verbatim(card: Card, passages: dict) -> None:
    passage = passages[card.passage_id]
    validate(card, passage)  # offsets exact, body the source's words there
    assert card.body in passage.text


# ---------------------------------------------------------------- case files (real engine)


@pytest.fixture(scope="module")
def defend_prep(default_settings):
    motion = load_motion("serbia-russia", default_settings.corpus_dir)
    seen = []
    result = prep.prepare(motion, "defend", default_settings, lambda d, t: seen.append((d, t)))
    return motion, result, seen


def test_each_contention_gets_its_two_best_cards_verbatim_from_its_passages(
    defend_prep, default_settings
):
    motion, result, seen = defend_prep
    claims = [c.claim for c in motion.contentions_for("defend")]
    assert [cp.claim for cp in result.contentions] == claims
    passages = passages_by_id(motion, default_settings)
    bodies = []
    for cp in result.contentions:
        assert len(cp.cards) == prep.PREP_CARDS, cp.claim
        for card in cp.cards:
            assert_verbatim(card, passages)
            assert card.motion == "serbia-russia"
            assert " ".join(card.body.split()).startswith(card.tag.rstrip("…"))
            bodies.append(card.body)
    assert len(set(bodies)) == len(bodies)  # no card twice in the file
    total = len(claims) + len(motion.contentions_for("attack"))
    assert seen[-1] == (total, total) and len(seen) == total


def test_a_block_answers_every_contention_of_the_other_side_with_verbatim_cards(
    defend_prep, default_settings
):
    motion, result, _ = defend_prep
    theirs = [c.claim for c in motion.contentions_for("attack")]
    assert [b.answers for b in result.blocks] == theirs
    passages = passages_by_id(motion, default_settings)
    for b in result.blocks:
        cards = [a.card for a in b.responses if a.card]
        assert cards, b.answers  # the clash machinery finds an answer to each of them
        for card in cards:
            assert_verbatim(card, passages)
            kind, _, lead = card.tag.partition(": ")
            assert kind in ("Deny", "Mitigate", "Turn")
            assert " ".join(card.body.split()).startswith(lead.rstrip("…"))
    case = prep.case_file(result)
    assert case.title().startswith("Serbia and Russia: Proposition")
    headings = [(s.level, s.heading) for s in case.sections]
    assert headings[0] == (2, "Contentions") and (3, f"AT: {theirs[0]}") in headings
    assert len(case.cards()) == len(result.cards())


def test_debate_prep_writes_word_and_markdown_and_prints_markdown_without_files(
    default_settings, tmp_path
):
    env = {**os.environ, "DEBATE_DATA_DIR": str(default_settings.data_dir), "COLUMNS": "200"}
    docx, md = tmp_path / "case.docx", tmp_path / "case.md"
    run = [DEBATE, "prep", "serbia-russia", "--side", "attack", "--docx", str(docx)]
    out = subprocess.run([*run, "--md", str(md)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert f"wrote {docx}" in " ".join(out.stdout.split())
    from docx import Document

    document = Document(str(docx))
    styled = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name in ("Pocket", "Hat", "Block", "Tag")
    ]
    motion = load_motion("serbia-russia", default_settings.corpus_dir)
    for c in motion.contentions_for("attack"):
        assert ("Block", c.claim) in styled
    for c in motion.contentions_for("defend"):
        assert ("Block", f"AT: {c.claim}") in styled
    text = md.read_text(encoding="utf-8")
    assert motion.contentions_for("attack")[0].claim in text
    bad = subprocess.run(
        [DEBATE, "prep", "serbia-russia", "--side", "sideways"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 1 and "use --side defend or --side attack" in bad.stderr
    assert "Traceback" not in bad.stderr


# ---------------------------------------------------------------- blocks in motion.yaml


@pytest.fixture
def blocked_pack(make_pack):
    folder = make_pack()
    (folder / "motion.yaml").write_text(BLOCKED, encoding="utf-8")
    return folder


@pytest.fixture
def blocked(blocked_pack, settings):
    """The blocked pack, ingested (real model, embedded Chroma)."""
    from dataclasses import replace

    settings = replace(settings, corpus_dir=blocked_pack.parent)
    motion = load_motion("cats-dogs", settings.corpus_dir)
    ingest_motion(motion, settings)
    return motion, settings


def test_motion_yaml_blocks_load_with_their_responses(blocked_pack):
    motion = load_motion(blocked_pack, blocked_pack.parent)
    (block,) = motion.blocks
    assert block.side == "attack" and block.answers == "Dogs are loyal companions."
    assert [r.tag for r in block.responses] == ["Cats cost far less to keep", "Loyalty is not care"]
    assert block.responses[0].source == "cats" and block.responses[1].analysis.startswith("A loyal")
    assert motion.blocks_against("attack") == [block] and motion.blocks_against("defend") == []
    by_id = BLOCKED.replace("answers: Dogs are loyal companions.", "answers: attack-1")
    (blocked_pack / "motion.yaml").write_text(by_id, encoding="utf-8")
    assert load_motion(blocked_pack, blocked_pack.parent).blocks[0].answers == block.answers


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("answers: Dogs are loyal companions.", "answers: Dogs can fly.", "blocks[1].answers"),
        (
            "      - tag: Cats cost far less to keep\n",
            "      - tag: ''\n",
            "blocks[1].responses[1].tag",
        ),
        ("source: cats\n", "source: hamsters\n", "blocks[1].responses[1].source"),
        (
            "        quote: cats cost 40 percent less per year than dogs\n",
            "",
            "blocks[1].responses[1]",
        ),
        ("        analysis: A loyal", "        note: A loyal", "blocks[1].responses[2]"),
        ("    responses:", "    responses: []\n    old:", "blocks[1].responses"),
        ("blocks:\n  - answers", "blocks: oops\nx:\n  - answers", "blocks"),
    ],
)
def test_a_bad_block_is_refused_with_the_file_and_the_field(blocked_pack, old, new, field):
    path = blocked_pack / "motion.yaml"
    assert old in BLOCKED
    path.write_text(BLOCKED.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MotionError) as info:
        load_motion(blocked_pack, blocked_pack.parent)
    message = str(info.value)
    assert str(path) in message and f"field '{field}" in message, message


def test_blocks_are_kept_through_the_ruamel_round_trip_of_a_pack_edit(blocked_pack, tmp_path):
    page = tmp_path / "lonely.md"
    page.write_text("Dogs reduce loneliness in older owners, a 2021 study of 2,500 people found.\n")
    meta = {"title": "Dogs and loneliness", "publisher": "Aging Today", "date": "2021-04-05"}
    edit = motions.add_source(
        load_motion(blocked_pack, blocked_pack.parent), page, meta={**meta, "url": "https://x.org"}
    )
    after = (blocked_pack / "motion.yaml").read_text(encoding="utf-8")
    assert after.startswith(BLOCKED)  # every line of the coach's, comments included
    assert edit.motion.blocks == load_motion(blocked_pack, blocked_pack.parent).blocks
    assert (
        edit.motion.blocks[0].responses[0].quote == "cats cost 40 percent less per year than dogs"
    )


def test_the_block_answers_a_paraphrase_of_its_contention_and_not_an_unrelated_point(blocked):
    motion, settings = blocked
    request = SpeechRequest(motion, settings, "defend", "rebuttal")
    answers = blocks.block_answers(request, "A dog is the most loyal companion you can have.")
    assert [a.tag for a in answers] == ["Cats cost far less to keep", "Loyalty is not care"]
    quoted = answers[0]
    assert quoted.quote == "cats cost 40 percent less per year than dogs"
    assert quoted.passage.text[quoted.passage.text.index(quoted.quote) :].startswith(quoted.quote)
    card = quoted.card()
    assert_verbatim(card, passages_by_id(motion, settings))
    assert answers[1].card() is None and answers[1].analysis.startswith("A loyal pet")
    assert blocks.block_answers(request, "Cats cost less than dogs to keep every year.") == []
    assert blocks.block_answers(request, "") == []
    # The bot's own side's contention is never "blocked" against it.
    attack = SpeechRequest(motion, settings, "attack", "rebuttal")
    assert blocks.block_answers(attack, "A dog is the most loyal companion you can have.") == []


def test_the_bots_rebuttal_reads_the_coachs_block_first_in_both_engines(blocked):
    from debate.spar.engines.evidence import EvidenceEngine
    from debate.spar.plan import plan_turn
    from debate.spar.session import Session

    motion, settings = blocked
    point = "A dog is the most loyal companion you can have."
    session = Session(motion, settings, bot_side="defend", opener="student")
    session.autosave = False
    session.set_phase("rebuttal")
    reply = session.respond(point)
    first = reply.text.index('"')  # the first quotation of the speech is the coach's card
    assert reply.text[first + 1 :].startswith("cats cost 40 percent less per year than dogs")
    # The LLM engine's prompt carries the same card first.
    request = SpeechRequest(motion, settings, "defend", "rebuttal", student_text=point)
    cards = EvidenceEngine(settings).clash_cards(request, plan_turn(request))
    assert cards[0][0].quote == "cats cost 40 percent less per year than dogs"


def test_a_block_quote_that_is_not_in_its_source_is_refused_with_the_file_and_field(
    blocked_pack, settings
):
    from dataclasses import replace

    text = BLOCKED.replace("40 percent less per year", "90 percent less per year")
    (blocked_pack / "motion.yaml").write_text(text, encoding="utf-8")
    settings = replace(settings, corpus_dir=blocked_pack.parent)
    motion = load_motion("cats-dogs", settings.corpus_dir)
    ingest_motion(motion, settings)
    with pytest.raises(MotionError) as info:
        blocks.check_blocks(motion, settings)
    message = str(info.value)
    assert str(blocked_pack / "motion.yaml") in message
    assert "field 'blocks[1].responses[1].quote'" in message and "source 'cats'" in message


def test_the_coach_block_comes_first_in_the_case_file(blocked):
    motion, settings = blocked
    result = prep.prepare(motion, "defend", settings)
    (block,) = result.blocks
    assert block.answers == "Dogs are loyal companions."
    first, second = block.responses[:2]
    assert first.card.tag == "Cats cost far less to keep"
    assert first.card.body == "cats cost 40 percent less per year than dogs"
    assert second.card is None and second.analysis.startswith("A loyal pet")
    section = prep.case_file(result).sections[-1]
    assert section.heading == "AT: Dogs are loyal companions." and section.notes == [
        second.analysis
    ]


# ---------------------------------------------------------------- the page's card actions


@pytest.fixture
def round_with_speech(blocked):
    motion, settings = blocked
    session = Session(motion, settings, bot_side="attack")
    session.respond("Cats need less care: they groom themselves and sleep most of the day.")
    return TabState(session=session)


def cited(state: TabState) -> tuple[int, int]:
    turn = max(i for i, t in enumerate(state.session.turns) if t.speaker == "bot")
    text = state.session.turns[turn].text
    from debate.check.citations import cited_numbers

    return turn, cited_numbers(text)[0]


def test_saving_a_cited_passage_keeps_the_quoted_words_and_the_citing_sentence_as_tag(
    round_with_speech,
):
    state = round_with_speech
    turn, n = cited(state)
    card = page_cards.save_cited(state, turn, n)
    passage = state.session.turns[turn].evidence.get(n)
    validate(card, passage)
    quoted = [q.text for q in quotes_in(state.session.turns[turn].text)]
    assert (
        any(card.body in q or q.startswith(card.body) for q in quoted) or card.body == passage.text
    )
    assert card.tag and "[" not in card.tag
    assert state.session.cards == [card]
    with pytest.raises(CardError, match="not in that speech's evidence"):
        page_cards.save_cited(state, turn, 99)
    with pytest.raises(CardError, match="not in this round"):
        page_cards.save_cited(state, 500, n)


def test_a_cut_selection_has_exact_offsets_and_a_mismatch_is_refused(round_with_speech):
    state = round_with_speech
    turn, n = cited(state)
    passage = state.session.turns[turn].evidence.get(n)
    start = passage.text.index(" ", 3) + 1  # whole words, as a student selects them
    end = passage.text.rindex(" ", start, start + 40)
    target = {"action": "cut", "turn": turn, "n": n, "start": start, "end": end}
    card = page_cards.card_action(state, json.dumps({**target, "text": passage.text[start:end]}))
    assert card.body == passage.text[start:end]
    assert card.start == passage.start + start and card.end == passage.start + end
    assert card.highlighted == ((0, end - start),)
    state.focus_turn, state.focus_n = turn, n  # the evidence panel marks the cut
    mark = f'<mark class="my-card">{render.esc(passage.text[start:end])}</mark>'
    assert mark in evidence_html(state)
    for bad in (
        {**target, "text": "words the passage never had"},
        {**target, "end": len(passage.text) + 50, "text": passage.text[start:]},
        {**target, "start": "4", "text": passage.text[start:end]},
    ):
        with pytest.raises(CardError):
            page_cards.card_action(state, json.dumps(bad))
    for junk in ("not json", "[1, 2]", json.dumps({"action": "steal"}), "x" * 30_000, None):
        with pytest.raises(CardError):
            page_cards.card_action(state, junk)
    assert len(state.session.cards) == 1


def test_tags_are_cleaned_and_bounded_and_cards_travel_in_the_transcript(round_with_speech):
    state = round_with_speech
    turn, n = cited(state)
    page_cards.save_cited(state, turn, n)
    hostile = "Cats\x00 win\u200b <script>alert(1)</script>\ud800 " + "x" * 900
    card = page_cards.retag(state, 0, hostile)
    assert "\x00" not in card.tag and "\u200b" not in card.tag and "\ud800" not in card.tag
    assert len(card.tag) <= 500 and card.tag.startswith("Cats win <script>")
    with pytest.raises(CardError, match="needs a tag"):
        page_cards.retag(state, 0, " \u200b ")
    line = page_cards.insertion(state, 0, "My point stands.")
    assert (
        line.startswith("My point stands. According to ")
        and f'"{" ".join(card.body.split())}"' in line
    )
    path = state.session.save()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["cards"] == [card.to_dict()]
    again = Session.from_dict(data, state.session.settings, motion=state.session.motion)
    assert again.cards == [card]
    page_cards.remove(state, 0)
    assert state.session.cards == [] and json.loads(path.read_text())["cards"] == []
