"""Round formats: the files, their validation, and rounds of each format driven through the
Session with the real model and the real index (speech order, who speaks, word budgets,
questioning answered from evidence, the bot's questions), `debate formats`, and the
judge paradigms of the ballot."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debate.cli import app
from debate.coach.ballot import JUDGES, LAY_LEADS, score_round
from debate.coach.feedback import review_round
from debate.coach.flow import build_from_turns
from debate.coach.questions import next_question
from debate.core.errors import MotionError
from debate.core.text import quote_found, quotes_in
from debate.corpus.formats import (
    FORMATS_DIR,
    FormatError,
    format_of,
    list_formats,
    load_format,
    load_format_file,
)
from debate.corpus.motions import load_motion, load_motion_file
from debate.spar.engines.evidence import lower_first
from debate.spar.session import Session
from debate.spar.speech_order import budget, fit_budget, word_count

# The student's lines: each speech of their side gets the next claim; in a questioning
# period they answer the bot's question, then ask one of their own.
CLAIMS = [
    "Serbia voted at the UN to condemn Russia's invasion of Ukraine. "
    "Serbia buys 80 percent of its weapons from France.",
    "Serbia refuses sanctions only to keep its gas flowing.",
    "Serbia is moving West: EU accession talks and a lithium deal with the European Union.",
    "On balance Serbia is neutral, not an ally of Russia.",
]
QUESTIONS = [
    "Where does Serbia buy its gas?",
    "Does Russia have a military base in Serbia?",
    "Why does Serbia refuse sanctions?",
]
ANSWER = "I have answered that already: the sources I read say otherwise."


def play(fmt_id: str, bot_side: str, settings, motion) -> Session:
    """A whole round of the format with scripted student turns; returns the session."""
    session = Session(motion, settings, bot_side=bot_side, fmt=load_format(fmt_id))
    session.autosave = False
    session.questioner = next_question
    claims, questions = iter(CLAIMS * 2), iter(QUESTIONS * 3)
    while (period := session.current_period) is not None:
        if period.is_speech:
            if session.next_speaker == "bot":
                session.bot_speech()
            else:
                session.respond(next(claims))
            continue
        if period.asked_by(bot_side) and session.ask() is not None:
            session.respond(ANSWER)  # the student's answer; the bot may ask again
        if period.asked_by("attack" if bot_side == "defend" else "defend"):
            session.respond(next(questions))
        session.advance()
    return session


ROUNDS = [("pf", "attack"), ("ld", "defend"), ("policy", "attack"), ("parli", "defend")]


@pytest.fixture(scope="module")
def rounds(default_settings) -> dict[str, Session]:
    motion = load_motion("serbia-russia", default_settings.corpus_dir)
    return {f: play(f, side, default_settings, motion) for f, side in ROUNDS}


def speech_turns(session: Session) -> list:
    names = {p.name for p in session.format.speeches}
    return [t for t in session.turns if t.speech in names and t.engine != "questions"]


# ------------------------------------------------------------------------------ files
def test_the_formats_follow_the_real_speech_orders_and_times():
    assert [f.id for f in list_formats()] == ["practice", "ld", "parli", "pf", "policy"]
    pf = load_format("pf")
    assert [(p.name, p.minutes) for p in pf.round] == [
        ("Pro Constructive", 4),
        ("Con Constructive", 4),
        ("First Crossfire", 3),
        ("Pro Rebuttal", 4),
        ("Con Rebuttal", 4),
        ("Second Crossfire", 3),
        ("Pro Summary", 3),
        ("Con Summary", 3),
        ("Grand Crossfire", 3),
        ("Pro Final Focus", 2),
        ("Con Final Focus", 2),
    ]
    assert pf.prep_minutes == 3 and not pf.points_of_information
    ld = load_format("ld")
    assert [(p.id, p.minutes) for p in ld.round] == [
        ("ac", 6), ("cx-neg", 3), ("nc", 7), ("cx-aff", 3), ("1ar", 4), ("nr", 6), ("2ar", 3)
    ]  # fmt: skip
    assert ld.round[1].asks == "attack" and ld.round[3].asks == "defend" and ld.prep_minutes == 4
    assert load_format("parli").points_of_information
    assert not any(not p.is_speech for p in load_format("parli").round)
    assert load_format("practice").turns == "free"


BAD = [
    ("minutes: 4, purpose: constructive}", "minutes: four, purpose: constructive}", "round[0].minutes"),
    ("side: attack, speaker: first, minutes: 4", "side: con, speaker: first, minutes: 4", "round[1].side"),
    ("asks: both, minutes: 3}\n  - {id: pro-rebuttal", "asks: judge, minutes: 3}\n  - {id: pro-rebuttal", "round[2].asks"),
    ("purpose: final-focus}\n", "purpose: weighing}\n", "round[9].purpose"),
    ("prep_minutes: 3\n", "", "prep_minutes"),
    ("id: crossfire-2,", "id: crossfire-1,", "round[5].id"),
]  # fmt: skip


@pytest.mark.parametrize("old,new,field", BAD, ids=[b[2] for b in BAD])
def test_a_bad_format_file_is_refused_naming_the_file_and_the_field(tmp_path, old, new, field):
    text = (FORMATS_DIR / "pf.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "pf.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        load_format_file(path)
    assert str(path) in str(caught.value) and f"'{field}" in str(caught.value)
    with pytest.raises(FormatError, match="unknown format 'worlds': use one of practice, ld"):
        load_format("worlds")


def test_a_motion_names_its_default_format_and_an_unknown_one_is_refused(make_pack):
    folder = make_pack()
    yaml_path = folder / "motion.yaml"
    motion = load_motion_file(yaml_path)
    assert motion.format == "" and format_of(motion).id == "practice"
    yaml_path.write_text(yaml_path.read_text() + "format: ld\n")
    motion = load_motion_file(yaml_path)
    assert format_of(motion).id == "ld" and format_of(motion, chosen="pf").id == "pf"
    with pytest.raises(FormatError, match=r"motion\.yaml: field 'format': unknown format 'bp'"):
        format_of(dataclasses.replace(motion, format="bp"))
    yaml_path.write_text(yaml_path.read_text().replace("format: ld", "format: [ld]"))
    with pytest.raises(MotionError, match="field 'format' must be text"):
        load_motion_file(yaml_path)


def test_debate_formats_lists_each_format_with_its_speech_order():
    result = CliRunner().invoke(app, ["formats"])
    assert result.exit_code == 0, result.output
    out = result.output
    for f in list_formats():
        assert f"{f.id}  {f.name}" in out
    pf = out.split("pf  Public Forum")[1].split("policy  ")[0]
    assert "1. Pro Constructive (defend, constructive, 4 min)" in pf
    assert "9. Grand Crossfire (crossfire, both ask, 3 min)" in pf
    assert "11. Con Final Focus (attack, final-focus, 2 min)" in pf
    assert "points of information" in out.split("parli  ")[1].split("\n\n")[0]


# ------------------------------------------------------------------------------ rounds
@pytest.mark.parametrize("fmt_id,bot_side", ROUNDS)
def test_the_round_follows_the_formats_speech_order_and_sides(rounds, fmt_id, bot_side):
    session = rounds[fmt_id]
    turns = speech_turns(session)
    speeches = session.format.speeches
    assert [t.speech for t in turns] == [p.name for p in speeches]
    for turn, period in zip(turns, speeches, strict=True):
        assert turn.speaker == ("bot" if period.side == bot_side else "student"), period.name
    assert session.current_period is None and session.next_speaker == ""


@pytest.mark.parametrize("fmt_id,bot_side", ROUNDS)
def test_each_bot_speech_is_within_its_word_budget_and_written_for_its_purpose(
    rounds, fmt_id, bot_side
):
    session = rounds[fmt_id]
    periods = {p.name: p for p in session.format.round}
    bot = [t for t in session.turns if t.speaker == "bot"]
    assert bot
    for turn in bot:
        period = periods[turn.speech]
        limit = budget(period, session.settings.speaking_rate)
        assert 0 < word_count(turn.text) <= limit, (turn.speech, word_count(turn.text), limit)
        expected = {"constructive": "opening", "rebuttal": "rebuttal"}.get(period.purpose)
        if period.is_speech:
            assert turn.phase == (expected or "closing"), turn.speech
        else:
            assert turn.phase == "question"


def resolved(turn) -> bool:
    """Every [n] of the turn is in its evidence list and every quote is in a cited passage."""
    cited = {n for v in turn.verdicts for n in v.citations}
    if not cited or not all(turn.evidence.get(n) is not None for n in cited):
        return False
    texts = [turn.evidence.get(n).text for n in cited]
    return all(any(quote_found(q.text, t) for t in texts) for q in quotes_in(turn.text))


@pytest.mark.parametrize("fmt_id", ["pf", "ld", "policy"])
def test_questioning_is_answered_briefly_from_evidence_with_citations_that_resolve(rounds, fmt_id):
    session = rounds[fmt_id]
    questioning = {p.name for p in session.format.round if not p.is_speech}
    answers = [
        t for t in session.turns
        if t.speaker == "bot" and t.speech in questioning and t.engine != "questions"
    ]  # fmt: skip
    student = "attack" if session.bot_side == "defend" else "defend"
    periods = {p.name: p for p in session.format.round}
    asked = [p for p in session.format.round if not p.is_speech and p.asked_by(student)]
    assert asked and len(answers) == len(asked)
    for answer in answers:
        assert resolved(answer), answer.text
        limit = budget(periods[answer.speech], session.settings.speaking_rate)
        assert word_count(answer.text) <= limit == 75


def test_the_bots_questions_name_a_dropped_contention_or_the_students_figure(
    rounds, default_motion
):
    session = rounds["pf"]
    questions = [t for t in session.turns if t.engine == "questions"]
    assert len(questions) >= 3 and len({q.text for q in questions}) == len(questions)
    # First: the student's 80 percent, which the sources do not give for French weapons.
    assert "figure of 80 percent" in questions[0].text and "which source" in questions[0].text
    bot_claims = [c.claim.rstrip(".") for c in default_motion.contentions_for("attack")]
    pressed = 0
    for q in questions[1:]:
        index = session.turns.index(q)
        named = [c for c in bot_claims if lower_first(c) in q.text]
        if not named:  # else it asks for the evidence behind one of the student's claims
            said = [t.text for t in session.turns[:index] if t.speaker == "student"]
            claim = q.text.removeprefix("You claim that ").split(". What evidence")[0]
            assert q.text.startswith("You claim that ")
            assert any(claim.lower() in t.lower() for t in said), claim
            continue
        flow = build_from_turns(session.turns[:index], default_motion, session.settings)
        dropped = {a.text.rstrip(".") for a in flow.dropped("bot")}
        assert named[0] in dropped, (named[0], dropped)
        pressed += 1
    assert pressed >= 2


def test_the_transcript_and_flow_name_speeches_by_the_format(rounds):
    from debate.coach.flow import round_markdown

    session = rounds["pf"]
    md = round_markdown(session)
    assert "Bot (opposition), Con Constructive" in md and "Student, Pro Summary" in md
    assert re.search(r"\| B1 \| Bot \(opposition\), turn \d+, Con Constructive \|", md)
    restored = Session.from_dict(session.to_dict(), session.settings)
    assert restored.format.id == "pf" and restored.current_period is None
    assert [t.speech for t in restored.turns] == [t.speech for t in session.turns]


def test_the_practice_round_keeps_its_phases_and_the_budget_trims_at_sentences(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, fmt=load_format("practice"))
    session.autosave = False
    reply = session.respond("Does Serbia buy weapons from the West?")
    assert reply.phase == "question" and session.phase == "opening"  # returns, as before
    assert session.turns[-1].speech == "Questions"
    assert 0 < word_count(reply.text) <= 75 and resolved(session.turns[-1])
    opening = session.respond("Serbia depends on Russian gas.")
    assert session.turns[-1].speech == "Opening" and session.phase == "rebuttal"
    cut = fit_budget(opening, 120)
    assert word_count(cut.text) <= 120 < word_count(opening.text)
    originals = [opening.text[v.start : v.end] for v in opening.verdicts]
    assert cut.verdicts and all(cut.text[v.start : v.end] in originals for v in cut.verdicts)
    for q in quotes_in(cut.text):  # no quote was cut: each is whole in a cited passage
        assert any(quote_found(q.text, p.text) for p in opening.evidence.passages), q.text


# ------------------------------------------------------------------------------ judges
def test_the_judge_paradigms_weigh_and_word_the_same_round_differently(rounds):
    session = rounds["pf"]
    flow_result = review_round(session, session.settings, judge="flow")
    lay = score_round(
        flow_result.turns, flow_result.flow, session.turns, session.settings, judge="lay"
    )
    flow_ballot = flow_result.ballot
    assert flow_ballot.weights == JUDGES["flow"] != lay.weights == JUDGES["lay"]
    assert flow_ballot.weights["clash"] > flow_ballot.weights["claim clarity"]
    assert lay.weights["claim clarity"] > lay.weights["clash"]
    assert [s.score for s in lay.scores] == [s.score for s in flow_ballot.scores]
    for f, lay_score in zip(flow_ballot.scores, lay.scores, strict=True):
        assert lay_score.reason.startswith(LAY_LEADS[f.criterion]) and lay_score.reason != f.reason
    clash = lay.scores[2].reason
    assert "argument" not in clash and "point" in clash
    assert "argument" in flow_ballot.scores[2].reason
    assert "**Judge:** lay" in lay.to_markdown() and lay.to_dict()["judge"] == "lay"
    expected = sum(JUDGES["lay"][s.criterion] * s.score for s in lay.scores)
    assert lay.weighted() == pytest.approx(expected, abs=0.01)


def test_debate_feedback_takes_the_judge(tmp_path, rounds):
    import json

    path = Path(tmp_path) / "round.json"
    path.write_text(json.dumps(rounds["ld"].to_dict()), encoding="utf-8")
    data_dir = str(rounds["ld"].settings.data_dir)
    result = CliRunner().invoke(
        app, ["feedback", str(path), "--judge", "lay", "--json", "--data-dir", data_dir]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ballot"]["judge"] == "lay"
    bad = CliRunner().invoke(
        app, ["feedback", str(path), "--judge", "hakim", "--data-dir", data_dir]
    )
    assert bad.exit_code != 0 and "unknown judge 'hakim'" in bad.output


def test_a_short_answer_to_the_bots_question_is_an_answer_not_a_missing_argument(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="defend", fmt=load_format("pf"))
    session.autosave = False
    session.questioner = next_question
    assert session.next_speaker == "bot"  # Pro speaks first
    opening = session.bot_speech()
    assert session.turns[-1].speech == "Pro Constructive" and opening.cited_numbers()
    note = session.respond(CLAIMS[0])  # the student's Con Constructive; crossfire is next
    assert note.engine == "format" and "First Crossfire" in note.text
    assert session.ask() is not None
    session.respond("No.")
    student = [t for t in session.turns if t.speaker == "student"]
    assert student[-1].text == "No." and student[-1].speech == "First Crossfire"
    assert all(t.engine != "prompt" for t in session.turns)
    answer = session.respond(QUESTIONS[0])  # the student's question, answered from evidence
    assert answer.engine == "evidence" and resolved(session.turns[-1])
    before = len(session.turns)
    prompt = session.respond("ok")  # no question of the bot's open now: make a point
    assert prompt.engine == "prompt" and len(session.turns) == before + 2


def test_the_pages_speech_timer_follows_the_format(default_settings, default_motion):
    from debate.app import handlers as h

    session = Session(default_motion, default_settings, bot_side="attack", fmt=load_format("ld"))
    session.autosave = False
    state = h.TabState(session=session)
    assert 'data-seconds="360"' in h.timer_html(
        state
    ) and "Affirmative Constructive" in h.timer_html(state)
    session.advance()  # the cross-examination of the affirmative: 3 minutes
    assert 'data-seconds="180"' in h.timer_html(state) and "Cross-Examination" in h.timer_html(
        state
    )
    session.advance()
    assert 'data-seconds="420"' in h.timer_html(state)  # the NC, 7 minutes
    plain = h.TabState(session=Session(default_motion, default_settings))
    assert 'data-seconds="240"' in h.timer_html(plain)  # no format: the coach's phase lengths
