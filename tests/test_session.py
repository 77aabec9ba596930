"""A debate session: sides over time, phases, who opens, streaming, transcripts."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from debate.check.citations import parse_citations
from debate.core.errors import DebateError
from debate.spar import transcript
from debate.spar.session import PHASES, Session
from debate.spar.transcript import Turn


def test_side_switch_takes_effect_from_the_next_speech_and_is_announced(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="attack")
    first = session.respond("Serbia voted at the UN to condemn Russia's invasion of Ukraine.")
    assert first.side == "attack"
    line = session.switch_side("defend")
    assert "\n" not in line and "proposition" in line and "Serbia is not a Russian ally" in line
    assert session.turns[-1].speaker == "system" and session.turns[-1].text == line
    second = session.respond("Serbia refuses to impose sanctions on Russia.")
    assert second.side == "defend" and session.turns[-1].side == "defend"
    assert line in second.notices
    assert "Serbia is not a Russian ally" in second.text
    assert not any(
        c.claim.rstrip(".") in second.text for c in default_motion.contentions_for("attack")
    )
    assert session.side_history == [(0, "attack"), (2, "defend")]
    third = session.respond("Most Serbs see Russia as their friend.")
    assert line not in third.notices  # announced once
    assert session.switch_side("defend").startswith("I already argue")


def test_phases_advance_from_opening_and_a_question_returns_to_the_debate(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="defend")
    assert session.phase == "opening"
    session.respond("Serbia depends on Russian gas.")
    assert session.turns[-1].phase == "opening" and session.phase == "rebuttal"
    session.set_phase("question")
    answer = session.respond("Does Serbia buy weapons from the West?")
    assert answer.phase == "question" and session.phase == "rebuttal"
    assert session.next_phase() == "closing" and session.next_phase() == "closing"
    with pytest.raises(DebateError, match="unknown phase 'cross-examination'"):
        session.set_phase("cross-examination")
    assert set(PHASES) == {"opening", "rebuttal", "closing", "question"}


def test_bot_can_open_the_debate(default_settings, default_motion):
    session = Session(default_motion, default_settings, bot_side="attack", opener="bot")
    speech = session.open_round()
    assert [t.speaker for t in session.turns] == ["bot"]
    assert speech.phase == "opening" and speech.cited_numbers()
    assert "Serbia is, in substance, a Russian ally" in speech.text
    assert session.phase == "rebuttal"
    with pytest.raises(DebateError, match="unknown opener"):
        Session(default_motion, default_settings, opener="coach")


def test_stream_yields_growing_text_and_ends_with_the_recorded_reply(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="attack")
    chunks = list(session.stream("Serbia signed a lithium deal with the European Union."))
    assert len(chunks) > 2
    assert all(b.startswith(a) for a, b in zip(chunks, chunks[1:], strict=False))
    assert session.last_reply is not None and chunks[-1] == session.last_reply.text
    assert session.turns[-1].text == chunks[-1] and session.turns[-1].evidence is not None


def test_transcript_round_trips_through_json_and_exports_a_numbered_bibliography(
    default_settings, default_motion
):
    session = Session(default_motion, default_settings, bot_side="attack")
    session.respond("Serbia voted at the UN to condemn Russia.")
    session.switch_side("defend")
    session.respond("Serbia gets its gas from Russia.")

    restored = Session.from_dict(json.loads(json.dumps(session.to_dict())), default_settings)
    assert restored.bot_side == "defend" and restored.side_history == session.side_history
    assert [(t.speaker, t.text, t.side, t.phase) for t in restored.turns] == [
        (t.speaker, t.text, t.side, t.phase) for t in session.turns
    ]
    assert restored.turns[1].evidence.passages == session.turns[1].evidence.passages
    # Every field of every turn survives, the verdicts included.
    assert [t.to_dict() for t in restored.turns] == [t.to_dict() for t in session.turns]
    assert restored.turns == session.turns
    assert set(session.turns[1].to_dict()) == {f.name for f in dataclasses.fields(Turn)}

    md = transcript.markdown(session)
    assert default_motion.thesis in md and "Switching sides" in md
    assert "opposition (Serbia is, in substance, a Russian ally) from turn 1" in md
    bibliography = dict(re.findall(r"^(\d+)\. .*?(https?://\S+)$", md, flags=re.MULTILINE))
    assert bibliography
    speeches = md.split("## Sources")[0]
    cited = {n for c in parse_citations(speeches) for n in c.numbers}
    assert cited and cited <= {int(n) for n in bibliography}  # every [n] is a listed source
    urls = {p.url for t in session.turns if t.evidence for _, p in t.evidence.numbered()}
    assert set(bibliography.values()) <= urls


def test_every_turn_is_autosaved_and_the_saved_transcript_reloads(default_settings, default_motion):
    session = Session(default_motion, default_settings, bot_side="attack")
    session.respond("Serbia voted at the UN to condemn Russia.")
    path = session.transcript_path
    assert json.loads(path.read_text())["turns"][-1]["speaker"] == "bot"
    session.switch_side("defend")
    session.respond("Serbia gets its gas from Russia.")
    saved = json.loads(path.read_text())
    assert len(saved["turns"]) == len(session.turns) == 5
    restored = Session.from_dict(saved, default_settings)
    assert restored.id == session.id and restored.bot_side == "defend"
    assert not list(path.parent.glob("*.tmp"))


def test_a_transcript_that_cannot_be_saved_does_not_stop_the_debate(
    tmp_path, default_settings, default_motion, caplog
):
    import dataclasses
    import shutil

    data = tmp_path / "data"
    shutil.copytree(default_settings.data_dir, data, ignore=shutil.ignore_patterns("transcripts"))
    (data / "transcripts").write_text("a file where the folder should be")
    settings = dataclasses.replace(default_settings, data_dir=data)
    session = Session(default_motion, settings, bot_side="defend")
    reply = session.respond("Serbia refuses to sanction Russia.")
    assert reply.text and len(session.turns) == 2
    assert "could not save the transcript" in caplog.text
