"""Coaching: the student's evidence checked against the sources, clash, side, the flow sheet,
the ballot, and the session's handling of questions and messages with no argument.

The transcripts in tests/data/transcripts/ were recorded with the offline engine: the bot
opens for the opposition (sanctions, gas, Kosovo), the student answers with one planted
problem, the bot rebuts. Their student turns quote real passages of corpus/serbia-russia.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debate.check.citations import Reply
from debate.cli import app
from debate.coach.ballot import Score, acceptable_reason, chart_svg
from debate.coach.feedback import list_rounds, review_round, save_ballot
from debate.coach.flow import round_markdown
from debate.spar.engines.base import Engine
from debate.spar.message import argued_side, message_kind
from debate.spar.session import Session

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"
EVIDENCE_KINDS = {"misquote", "misattribution", "contradicted"}


@pytest.fixture(scope="module")
def reviewed(default_settings):
    """review_round of each test transcript, computed once per module."""
    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = review_round(TRANSCRIPTS / f"{name}.json", default_settings)
        return cache[name]

    return get


def student_turn(result):
    (turn,) = result.turns
    return turn


# ---------------------------------------------------------------- the five students
def test_correct_student_gets_no_problem_and_every_quote_and_figure_is_found(reviewed):
    turn = student_turn(reviewed("correct"))
    assert turn.problems == []
    assert [c.verdict for c in turn.claims] == ["backed"] * 4
    quote = next(q for q in turn.quotes if q.kind == "quote")
    assert quote.found == "verbatim" and quote.supports
    assert quote.source.passage.publisher == "The National Interest"
    assert "abides by EU sanctions" in quote.source.sentence
    assert all(q.found in ("verbatim", "found") for q in turn.quotes)
    assert [a.says_it for a in turn.attributions] == [True]


def test_misquoted_figure_is_flagged_with_the_figure_the_seed_article_gives(reviewed):
    turn = student_turn(reviewed("misquote"))
    assert turn.problem_kinds == ["misquote"]
    (stat,) = [q for q in turn.quotes if q.found == "differs"]
    assert stat.differences == [("ten times", "four times")]
    assert "you said ten times; the source says four times" in stat.message
    assert stat.source.passage.source_id == "nationalinterest-serbia-not-russian-ally"
    assert "**four**" in stat.marked and "at least four times" in stat.source.sentence


def test_claim_attributed_to_a_source_that_does_not_say_it_names_the_one_that_does(reviewed):
    turn = student_turn(reviewed("misattribution"))
    assert turn.problem_kinds == ["misattribution"]
    (problem,) = turn.problems
    assert "The Kyiv Independent does not say this" in problem.message
    assert "Trend News Agency does" in problem.message
    assert "Kyiv Independent" in problem.sentence


def test_student_who_ignores_the_bot_is_flagged_and_the_flow_lists_its_points_dropped(reviewed):
    result = reviewed("ignores")
    turn = student_turn(result)
    assert turn.problem_kinds == ["no-clash"]
    assert turn.answered == [] and len(turn.ignored) == 3
    dropped = {a.text for a in result.flow.dropped("bot")}
    assert set(turn.ignored) <= dropped
    assert "Serbia depends on Russian gas" in result.flow.to_markdown()
    assert "Dropped (never answered): B1, B2, B3" in result.flow.to_markdown()


def test_student_arguing_the_bots_side_is_told_so_in_feedback_and_next_speech(reviewed):
    result = reviewed("wrong-side")
    turn = student_turn(result)
    assert turn.problem_kinds == ["wrong-side"] and turn.argued_side == "attack"
    assert "your side is the proposition" in turn.problems[0].message
    recorded = json.loads((TRANSCRIPTS / "wrong-side.json").read_text(encoding="utf-8"))
    assert recorded["turns"][-1]["text"].startswith("You argue my")


def test_the_bots_answers_are_in_the_flow_and_the_correct_student_answers_every_point(
    reviewed,
):
    result = reviewed("correct")
    assert student_turn(result).ignored == []
    assert result.flow.dropped("bot") == [a for a in result.flow.of("bot") if a.turn == 2]
    first_claim = result.flow.of("student")[0]
    assert first_claim.responses and first_claim.responses[0].speaker == "bot"


# ---------------------------------------------------------------- ballot and chart
def test_ballot_evidence_is_lower_for_the_misquoting_student_than_for_the_correct_one(reviewed):
    correct, misquote = reviewed("correct").ballot, reviewed("misquote").ballot
    assert misquote.score("evidence") < correct.score("evidence") == 5
    assert "you said ten times" in misquote.to_markdown()
    assert len(misquote.improvements) == 2 and "ten times" in misquote.improvements[0]


def test_ballot_clash_is_lowest_for_the_student_who_ignores_the_bot(reviewed):
    ignores, correct = reviewed("ignores").ballot, reviewed("correct").ballot
    assert ignores.score("clash") == 1 < correct.score("clash")
    assert ignores.score("rebuttal") == 1
    assert any("you dropped" in x for x in ignores.improvements)
    assert all(1 <= s.score <= 5 and s.reason.endswith(".") for s in ignores.scores)


def test_chart_has_evidence_quality_per_turn_for_both_sides_and_escapes_its_text(reviewed):
    data = reviewed("misquote").chart
    assert [(p["turn"], p["speaker"]) for p in data["points"]] == [
        (1, "bot"),
        (2, "student"),
        (3, "bot"),
    ]
    assert data["points"][1]["value"] == pytest.approx(0.75)
    svg = chart_svg(data)
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    hostile = {"metric": '<script>"x"</script>', "points": []}
    assert "<script>" not in chart_svg(hostile)


def test_an_llm_reason_that_names_another_score_or_no_fact_is_not_accepted():
    score = Score("evidence", 3, "rule", ["2 of your 4 checked claims backed by the sources"])
    assert acceptable_reason("Two of your four claims were backed by the sources.", score)
    assert not acceptable_reason("Evidence 4/5: two claims backed by the sources.", score)
    assert not acceptable_reason("Great job, keep it up!", score)


def test_llm_reasons_replace_the_rules_only_where_acceptable(reviewed, default_settings, replay):
    answer = json.dumps(
        {
            "claim clarity": "You made 4 of 4 claims clear and on your side.",
            "evidence": "A perfect 5/5 for evidence.",  # names another score: rejected
            "clash": "Great energy!",  # no fact: rejected
            "rebuttal": "You answered the bot's arguments with evidence the sources back.",
        }
    )
    server = replay([answer])
    settings = replace(
        default_settings, llm="test-model", llm_base_url=server.openai_url, llm_api_key="k"
    )
    ballot = review_round(TRANSCRIPTS / "misquote.json", settings).ballot
    by = {s.criterion: s for s in ballot.scores}
    assert by["claim clarity"].reason.startswith("You made 4 of 4")
    assert by["evidence"].reason == by["evidence"].rule_reason
    assert by["clash"].reason == by["clash"].rule_reason
    assert ballot.score("evidence") == reviewed("misquote").ballot.score("evidence")
    assert ballot.reasons_by == "llm:test-model"


# ---------------------------------------------------------------- the session
class NoEngine(Engine):
    """Fails the test if a speech is asked for."""

    name = "none"

    def stream(self, request):
        raise AssertionError("the engine must not be called")


@pytest.mark.parametrize("message", ["ok", "hello", "?", "\u200b \u200b", "I agree"])
def test_a_message_with_no_argument_gets_a_short_prompt_and_no_speech(
    default_settings, default_motion, message
):
    session = Session(default_motion, default_settings, bot_side="attack", engine=NoEngine())
    session.autosave = False
    reply = session.respond(message)
    assert isinstance(reply, Reply) and len(reply.evidence) == 0
    assert reply.text.startswith(("Make an argument", "You have not made a point"))
    assert "Serbia is not a Russian ally" in reply.text and len(reply.text) < 250
    assert [t.speaker for t in session.turns] == ["student", "bot"]
    assert session.phase == "opening"  # a prompt is not a speech: the phase stays


def test_messages_are_told_apart_as_questions_arguments_or_nothing():
    assert message_kind("Why does Serbia buy Russian gas?") == "question"
    assert message_kind("Isn't it true that Serbia refuses sanctions?") == "question"
    assert message_kind("Serbia voted with the West. Isn't that proof?") == "argument"
    assert message_kind("Serbia depends on Russian gas.") == "argument"
    assert [message_kind(x) for x in ("ok", "?", "hello there")] == ["no-argument"] * 3
    assert message_kind("\u200b\ufeff ") == "empty"


def test_the_side_a_message_argues_is_read_from_the_thesis_and_the_contentions(
    default_settings, default_motion
):
    def side(text: str) -> str:
        return argued_side(text, default_motion, default_settings)

    assert side("Serbia is Moscow's closest ally in Europe.") == "attack"
    assert side("Serbia is not a Russian ally at all.") == "defend"
    assert side("Serbia refuses to impose sanctions on Russia, almost alone in Europe.") == (
        "attack"
    )
    # a rebuttal of the bot's topic is not the bot's side
    assert side("Serbia has not imposed sanctions, but it abides by EU sanctions.") == ""


def test_a_question_is_answered_in_the_question_phase_then_the_debate_returns(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="attack")
    session.autosave = False
    session.phase = "rebuttal"
    reply = session.respond("Why does Serbia buy Russian gas?")
    assert reply.phase == "question" and session.turns[-1].phase == "question"
    assert session.turns[-2].phase == "question"
    assert session.phase == "rebuttal"


def test_the_bots_next_speech_says_first_that_the_student_argues_its_side(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="attack")
    session.autosave = False
    reply = session.respond("Serbia is Moscow's closest ally in Europe.")
    first = reply.text.split(". ")[0]
    assert first.startswith("You argue my") and "Serbia is, in substance, a Russian ally" in first
    assert "proposition" in reply.text.split("\n\n")[0]
    plain = session.respond("Serbia is not a Russian ally: it voted at the UN to condemn Russia.")
    assert "You argue my" not in plain.text


# ---------------------------------------------------------------- export, CLI, coach view
def test_transcript_export_has_a_flow_section_listing_dropped_arguments(default_settings):
    data = json.loads((TRANSCRIPTS / "ignores.json").read_text(encoding="utf-8"))
    session = Session.from_dict(data, default_settings, engine=NoEngine())
    text = round_markdown(session)
    assert "\n## Flow\n" in text and text.index("## Sources") < text.index("## Flow")
    assert "Dropped (never answered): B1, B2, B3" in text


def invoke(args: list[str], data_dir: Path):
    return CliRunner().invoke(app, args, env={"DEBATE_DATA_DIR": str(data_dir), "COLUMNS": "200"})


def test_feedback_command_prints_the_misquote_and_the_ballot(default_settings):
    result = invoke(["feedback", str(TRANSCRIPTS / "misquote.json")], default_settings.data_dir)
    assert result.exit_code == 0, result.output
    assert "you said ten times; the source says four times" in result.stdout
    assert "ballot" in result.stdout and "evidence" in result.stdout
    as_json = invoke(
        ["feedback", str(TRANSCRIPTS / "misquote.json"), "--json"], default_settings.data_dir
    )
    data = json.loads(as_json.stdout)
    assert data["turns"][0]["problems"][0]["kind"] == "misquote"
    assert {s["criterion"] for s in data["ballot"]["scores"]} == {
        "claim clarity",
        "evidence",
        "clash",
        "rebuttal",
    }


def test_flow_command_prints_the_table_and_json_with_dropped_arguments(default_settings):
    path = str(TRANSCRIPTS / "ignores.json")
    result = invoke(["flow", path], default_settings.data_dir)
    assert result.exit_code == 0, result.output
    assert "DROPPED" in result.stdout and "B1" in result.stdout
    data = json.loads(invoke(["flow", path, "--json"], default_settings.data_dir).stdout)
    assert {"B1", "B2", "B3"} <= set(data["dropped"])
    missing = invoke(["flow", "no-such.json"], default_settings.data_dir)
    assert missing.exit_code == 1 and "no such transcript" in missing.stderr


def test_saved_rounds_are_listed_with_date_motion_sides_and_ballot_summary(
    default_settings, reviewed, tmp_path
):
    settings = replace(default_settings, data_dir=tmp_path)
    folder = settings.transcripts_dir / "serbia-russia"
    folder.mkdir(parents=True)
    for name in ("correct", "ignores"):
        shutil.copy(TRANSCRIPTS / f"{name}.json", folder / f"{name}.json")
    save_ballot(folder / "correct.json", reviewed("correct"))
    rounds = list_rounds(settings)
    assert [Path(r["path"]).name for r in rounds] == ["ignores.json", "correct.json"]
    correct = rounds[1]
    assert correct["motion"] == "serbia-russia" and correct["sides"] == ["attack"]
    assert correct["date"].startswith("2025-11-27")
    assert correct["ballot"] == reviewed("correct").ballot.summary() and rounds[0]["ballot"] == ""


def test_a_person_the_motion_is_about_is_a_speaker_not_a_named_source(
    default_settings, default_motion
):
    from debate.coach.evidence_checks import EvidenceChecks

    checks = EvidenceChecks(default_motion, default_settings)
    # A contention names him: what he said is the debate's subject, not a source to check.
    import re

    thesis = default_motion.thesis.lower()
    subject = next(
        w
        for c in default_motion.contentions_for("attack")
        for w in re.findall(r"[A-Z][\w’'-]{2,}", c.claim)[1:]  # not the claim's first word
        if w.lower() not in thesis and any(w in p.text for p in checks.passages)
    )
    assert checks._named_source(f"{subject} said that the country will never join NATO.") is None
    # A source of the corpus named in the sentence is still its named source.
    name = max(checks.names, key=len)  # a source of the corpus, by its name
    assert checks._named_source(f"{name.title()} reported that the country voted at the UN.")
