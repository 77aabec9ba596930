"""`debate spar` and `debate reply`: a scripted five-turn debate through the installed
command (subprocess, stdin piped), and the commands' controls and errors (in process)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debate.cli import app
from debate.corpus.loaders import load_source

DEBATE = str(Path(sys.executable).parent / "debate")
QUOTE_CITED = re.compile(r"\"([^\"]+)\" \[(\d+)\]")

TURNS = {
    "attack": [
        "Serbia voted at the UN to condemn Russia's invasion of Ukraine, so it is not Moscow's ally.",
        "Serbian ammunition worth hundreds of millions of euros reached Ukraine.",
        "Serbia signed a lithium deal with the European Union, not with Russia.",
        "Serbia's army trains far more with NATO than with Russia.",
        "Serbia wants to join the European Union, and that settles it.",
    ],
    "defend": [
        "Serbia refuses to sanction Russia, unlike the rest of Europe, so it is Moscow's ally.",
        "Serbia gets most of its gas from Russia and Gazprom owns its oil company.",
        "Vučić keeps meeting Putin and thanking him for his support on Kosovo.",
        "Most Serbs see Russia as their closest friend.",
        "Serbia buys Russian weapons, so it is on Moscow's side.",
    ],
}


def invoke(args: list[str], data_dir: Path, stdin: str = ""):
    return CliRunner().invoke(
        app, args, input=stdin, env={"DEBATE_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    )


@pytest.mark.slow
@pytest.mark.parametrize("side", ["attack", "defend"])
def test_spar_holds_a_scripted_five_turn_debate_on_its_side(default_settings, side):
    env = {
        **os.environ,
        "DEBATE_DATA_DIR": str(default_settings.data_dir),
        "COLUMNS": "200",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    out = subprocess.run(
        [DEBATE, "spar", "serbia-russia", "--side", side],
        input="\n".join(TURNS[side]) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    role = "opposition" if side == "attack" else "proposition"
    label = (
        "Serbia is, in substance, a Russian ally"
        if side == "attack"
        else "Serbia is not a Russian ally"
    )
    speeches = re.split(r"^bot \(", out.stdout, flags=re.MULTILINE)[1:]
    assert len(speeches) == 5
    for speech, student in zip(speeches, TURNS[side], strict=True):
        assert speech.startswith(role)
        assert label in speech  # it argues its side
        assert " ".join(student.split()[:5]).lower() in speech.lower()  # answers what was said
        assert QUOTE_CITED.search(speech)  # quotes with citations
        body, _, evidence = speech.partition("engine: evidence")
        for n in {int(n) for _, n in QUOTE_CITED.findall(body)}:
            assert re.search(rf"^\[{n}\] .+https?://", evidence, re.MULTILINE)  # shown below
    assert "Traceback" not in out.stderr


def test_reply_json_gives_the_speech_its_citations_and_exact_evidence(
    default_settings, default_motion
):
    result = invoke(
        [
            "reply",
            "serbia-russia",
            "--side",
            "defend",
            "--json",
            "Serbia depends on Russian gas, so it is Moscow's ally.",
        ],
        default_settings.data_dir,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["side"] == "defend" and data["phase"] == "rebuttal" and data["engine"] == "evidence"
    evidence = {e["n"]: e for e in data["evidence"]}
    assert data["citations"] and all(n in evidence for c in data["citations"] for n in c["numbers"])
    for c in data["citations"]:
        assert data["text"][c["start"] : c["end"]] == c["marker"]
    for quote, n in QUOTE_CITED.findall(data["text"]):
        assert quote in evidence[int(n)]["text"]
    paths = {s.id: s.path for s in default_motion.sources}
    for e in evidence.values():  # offsets point at the exact text in the source
        assert load_source(paths[e["source"]]).text[e["start"] : e["end"]] == e["text"]
        assert e["id"] and e["url"].startswith("http")


def test_spar_commands_switch_side_change_phase_show_sources_and_quit(default_settings):
    script = (
        "\n".join(
            [
                "Serbia voted at the UN to condemn Russia.",
                "",
                "/side defend",
                "/phase question",
                "Does Serbia depend on Russian gas?",
                "/sources",
                "/quit",
                "This line comes after quit and must not be answered.",
            ]
        )
        + "\n"
    )
    result = invoke(
        ["spar", "serbia-russia", "--side", "attack"], default_settings.data_dir, script
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "say something first" in out  # the empty line
    assert "Switching sides: from my next speech I argue for the proposition" in out
    headers = re.findall(r"^bot \((\w+) · (\w+)\)", out, flags=re.MULTILINE)
    assert headers == [("opposition", "opening"), ("proposition", "question")]
    after_sources = out.split("you> /sources")[1]
    assert re.search(r"^\[1\] .+https?://", after_sources, re.MULTILINE)
    assert "must not be answered" not in out and out.count("bot (") == 2


def test_spar_bot_can_open(default_settings):
    result = invoke(
        ["spar", "serbia-russia", "--side", "defend", "--opener", "bot"],
        default_settings.data_dir,
        "/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert (
        "I rise for the proposition" in result.stdout
        or "I speak for the proposition" in result.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["reply", "serbia-russia", "--side", "sideways", "hello there"],
            "unknown side 'sideways'",
        ),
        (
            ["reply", "no-such-motion", "--side", "attack", "hello"],
            "unknown motion 'no-such-motion'",
        ),
        (
            ["reply", "serbia-russia", "--side", "attack", "--phase", "lunch", "hi"],
            "unknown phase 'lunch'",
        ),
        (["reply", "serbia-russia", "--side", "attack", "   "], "say something first"),
        (["spar", "serbia-russia", "--side", "neither"], "unknown side 'neither'"),
    ],
)
def test_bad_input_is_a_clear_one_line_error(default_settings, args, message):
    result = invoke(args, default_settings.data_dir)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_reply_before_ingest_says_to_run_ingest(tmp_path, embedder):
    result = invoke(
        ["reply", "serbia-russia", "--side", "attack", "Serbia is neutral."], tmp_path / "empty"
    )
    assert result.exit_code == 1 and "debate ingest serbia-russia" in result.stderr
