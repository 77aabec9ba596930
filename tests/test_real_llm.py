"""A real model speaks through the LLM engine (issue 22): SmolLM2-135M-Instruct, served by
llama.cpp on loopback (tests/llm_local.py), argues a turn of serbia-russia through the
product's own paths: `debate spar --llm openai:smol` as a subprocess, and a Session turn
streamed through the guard. Such a small model fabricates freely; what must hold whatever it
says is that the student sees only checked text: every factual sentence cites a passage of
the turn's evidence that supports it, no citation is fabricated, no prompt scaffolding shows,
something honest is said, and every sentence taken away is named in a notice.

Each test writes what the model said and what the student saw to
test-artifacts/real-llm/<test>.md (and the raw calls to model-calls.jsonl beside it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from debate.check.citations import EvidenceList, Reply, parse_citations
from debate.check.faithfulness import FAILING, check_reply
from debate.check.guard import NOTHING_LEFT
from debate.core.text import sentence_spans
from debate.tools.llm_local import environment
from tests.conftest import ROOT
from tests.llm_local import REAL_LLM_ARTIFACTS, local_model

DEBATE = str(Path(sys.executable).parent / "debate")
# The model spoke: its speech was shown (what passed), or, when nothing it said passed the
# checks, the turn ended with the offline engine's speech and notices naming what was removed.
SPOKE = ("llm:openai:smol", "evidence (fallback: nothing llm:openai:smol said passed the checks)")
# The student argues the thesis; the bot attacks it.
STUDENT = (
    "Serbia voted at the UN to condemn Russia's invasion of Ukraine, so it is not Moscow's ally."
)
SPEECH_PROMPT = "You are a debate sparring partner"  # the first words of prompts/system.txt
TAG = re.compile(r"</?\s*[A-Za-z_][\w-]*\s*/?>|<\|[^|>]*\|>")
ROLE_LINE = re.compile(r"^\s*(assistant|system|user|human)\s*:", re.IGNORECASE | re.MULTILINE)
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Seconds a model call may take before the turn falls back offline. Unloaded, a speech
# takes 10-40 s here; beside the rest of the suite on two cores, 135-145 s was seen.
MODEL_TIMEOUT = 400.0
# This many words in a row from a prompt template, seen in a reply, are the prompt echoed.
ECHO_WORDS = 6


def _words(text: str) -> str:
    return " ".join(re.sub(r"\[[^\]]*\]", " ", text).lower().split())


def shingles(text: str, size: int = ECHO_WORDS) -> set[str]:
    """Runs of `size` words of text, punctuation aside."""
    words = re.sub(r"[^\w' ]+", " ", _words(text)).split()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def prompt_shingles() -> set[str]:
    """Every run of ECHO_WORDS words inside the literal text of prompts/*.txt (the text
    between {placeholders}, line by line), normalised as _words does."""
    out: set[str] = set()
    for path in sorted((ROOT / "prompts").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for piece in PLACEHOLDER.split(line):
                out |= shingles(piece)
    return out


def speech_calls(calls: list[dict]) -> list[dict]:
    """Of the server's logged calls, those that asked for a speech (not the judge's)."""
    return [
        c
        for c in calls
        if any(SPEECH_PROMPT in str(m.get("content", "")) for m in c["request"].get("messages", []))
    ]


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def problems(shown: str, evidence: EvidenceList, notices: list[str], raw: str, settings) -> list:
    """What the student should never have seen or missed, as readable lines; [] when honest."""
    found = []
    if not shown.strip():
        found.append("nothing shown: not even the honest NOTHING_LEFT line")
    if shown.strip() != NOTHING_LEFT:
        for v in check_reply(Reply(text=shown, evidence=evidence), settings):
            if v.status in FAILING:
                found.append(f"shown but {v.status} ({v.reason}): {v.sentence!r}")
    for c in parse_citations(shown):
        for n in c.numbers:
            if evidence.get(n) is None:
                found.append(f"fabricated citation [{n}] shown (evidence has {len(evidence)})")
    found += scaffolding(shown)
    keys = [_words(s) for s in sentences(shown)]
    found += [
        f"sentence shown twice: {k!r}" for k in sorted({k for k in keys if keys.count(k) > 1})
    ]
    return found + unaccounted(shown, notices, raw)


def scaffolding(text: str) -> list[str]:
    """The prompt's machinery in text: tags, role lines, a run of words from a template."""
    found = [f"prompt tag shown: {m.group(0)!r}" for m in TAG.finditer(text)]
    found += [f"role line shown: {m.group(0)!r}" for m in ROLE_LINE.finditer(text)]
    found += [f"prompt line echoed: {e!r}" for e in sorted(shingles(text) & prompt_shingles())]
    return found


def unaccounted(shown: str, notices: list[str], raw: str) -> list[str]:
    """Sentences the model wrote that the student neither saw nor was told of. A notice
    names a removed sentence; scaffolding, which is never shown, not even in a notice, is
    accounted for by a notice that names no sentence of the reply (one for each)."""
    flat, named = _words(shown), [_words(n) for n in notices]
    written = [(s, _words(s)) for s in sentences(raw)]
    anonymous = sum(not any(k and k in n for _, k in written) for n in named)
    found = []
    for sentence, key in written:
        if not key or key in flat or any(key in n for n in named):
            continue
        if scaffolding(sentence) and anonymous > 0:
            anonymous -= 1
            continue
        found.append(f"removed without a notice naming it: {sentence!r}")
    return found


def write_transcript(name: str, record: dict) -> Path:
    """The turn as a person reads it: what was asked, what the model said, what was shown."""
    lines = [f"# {name}", "", f"Student: {record['student']}", "", "## Evidence for the turn", ""]
    lines += [
        f"[{n}] {p.title} ({p.publisher}, {p.date})" for n, p in record["evidence"].numbered()
    ]
    lines += ["", "## What the model said (raw)", "", record["raw"] or "(nothing)", ""]
    lines += ["## What the student saw", "", record["shown"], "", "## Notices", ""]
    lines += [f"- {n}" for n in record["notices"]] or ["(none)"]
    lines += ["", "## Counts", "", "```", json.dumps(record["counts"], indent=2), "```"]
    if record["problems"]:
        lines += ["", "## Problems", ""] + [f"- {p}" for p in record["problems"]]
    path = REAL_LLM_ARTIFACTS / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(raw: str, shown: str, seconds: float, calls: int) -> dict:
    """Sentences the model wrote, how many of them the student did not see, and what was
    shown (0 when only NOTHING_LEFT was)."""
    flat = _words(shown)
    written = [_words(s) for s in sentences(raw)]
    return {
        "sentences_generated": len(written),
        "sentences_removed": sum(key not in flat for key in written),
        "sentences_shown": 0 if shown.strip() == NOTHING_LEFT else len(sentences(shown)),
        "model_calls": calls,
        "seconds": round(seconds, 1),
    }


@pytest.fixture(scope="module")
def local_llm():
    """One model server for the module's tests (tests/conftest.py keeps them on one worker)."""
    with local_model() as server:
        yield server


@pytest.fixture
def index_copy(default_settings, tmp_path) -> Path:
    """The default motion's index in a data dir of this test's own (transcripts land there)."""
    folder = tmp_path / "data"
    # Without the transcripts other tests of this worker may have saved there.
    shutil.copytree(
        default_settings.data_dir, folder, ignore=shutil.ignore_patterns("transcripts")
    )
    return folder


@pytest.mark.slow
def test_debate_spar_with_a_real_model_shows_only_checked_cited_text(local_llm, index_copy):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DEBATE_")},
        **environment(local_llm.url),
        "DEBATE_DATA_DIR": str(index_copy),
        "DEBATE_LLM_TIMEOUT": str(MODEL_TIMEOUT),
        "COLUMNS": "1000",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    started = time.monotonic()
    out = subprocess.run(
        [DEBATE, "spar", "serbia-russia", "--side", "attack", "--llm", "openai:smol"],
        input=STUDENT + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=3 * MODEL_TIMEOUT,
    )
    seconds = time.monotonic() - started
    logged = local_llm.calls()
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    (saved,) = (index_copy / "transcripts" / "serbia-russia").glob("*.json")
    turn = next(t for t in json.loads(saved.read_text())["turns"] if t["speaker"] == "bot")
    from debate.spar.transcript import Turn

    bot = Turn.from_dict(turn)
    calls = speech_calls(logged)
    raw = calls[-1]["reply"] if calls else ""
    # On screen: the streamed speech, between its header and the engine line.
    screen = out.stdout.split("bot (opposition · opening)", 1)[-1].split("\nengine:", 1)[0]
    found = problems(screen.strip(), bot.evidence, bot.notices, raw, _offline(index_copy))
    record = {
        "student": STUDENT,
        "evidence": bot.evidence,
        "raw": raw,
        "shown": screen.strip(),
        "notices": bot.notices,
        "counts": counts(raw, bot.text, seconds, len(logged)),
        "problems": found,
    }
    path = write_transcript("debate-spar", record)
    assert bot.engine in SPOKE, f"the model did not speak ({bot.engine}); see {path}"
    assert raw.strip(), f"the server logged no speech from the model; see {path}"
    assert screen.strip() == bot.text.strip() or "the speech as recorded" in screen
    assert found == [], f"see {path}"


def _offline(data_dir: Path):
    from debate.core.config import load_settings

    return load_settings(environ={}, data_dir=data_dir)


@pytest.mark.slow
def test_a_session_turn_streamed_from_a_real_model_releases_only_checked_sentences(
    local_llm, default_settings
):
    from debate.corpus.motions import load_motion
    from debate.spar.engines.llm import LLMEngine
    from debate.spar.session import Session

    settings = replace(
        default_settings, llm="openai:smol", llm_base_url=local_llm.url, llm_timeout=MODEL_TIMEOUT
    )
    session = Session(load_motion("serbia-russia", settings.corpus_dir), settings, "attack")
    session.autosave = False  # the shared index folder stays as it was
    assert isinstance(session.engine, LLMEngine)
    before = len(local_llm.calls())
    started, first, shown = time.monotonic(), None, []
    for chunk in session.stream(STUDENT):
        first = first if first is not None else time.monotonic() - started
        shown.append(chunk)
    seconds = time.monotonic() - started
    reply = session.last_reply
    logged = local_llm.calls()[before:]
    calls = speech_calls(logged)
    raw = calls[-1]["reply"] if calls else ""
    offline = replace(settings, llm="")
    found = problems(reply.text, reply.evidence, reply.notices, raw, offline)
    for n, chunk in enumerate(shown[:-1]):  # what was on screen while it streamed
        found += [f"chunk {n}: {p}" for p in problems(chunk, reply.evidence, [], "", offline)]
    record = {
        "student": STUDENT,
        "evidence": reply.evidence,
        "raw": raw,
        "shown": reply.text,
        "notices": reply.notices,
        "counts": {
            **counts(raw, reply.text, seconds, len(logged)),
            "seconds_to_first_checked_text": round(first or 0.0, 1),
            "chunks_shown": len(shown),
        },
        "problems": found,
    }
    path = write_transcript("session-stream", record)
    assert reply.engine in SPOKE, f"the model did not speak ({reply.engine}); see {path}"
    assert raw.strip(), f"the server logged no speech from the model; see {path}"
    assert shown and shown[-1] == reply.text
    assert found == [], f"see {path}"


def test_the_checks_on_a_real_turn_catch_each_fault_they_name(settings):
    """The assertions above can fail: each planted fault in a 'shown' text is reported."""
    from debate.corpus.passages import Passage

    text = "On 2 March 2022 Serbia voted for UN General Assembly resolution ES-11/1."
    evidence = EvidenceList(
        [
            Passage(
                id="p1", motion="m", source_id="s", text=text, start=0, end=len(text), paragraph=0
            )
        ]
    )
    good = 'Serbia "voted for UN General Assembly resolution ES-11/1" [1]. That is my case.'
    assert problems(good, evidence, [], good, settings) == []
    planted = {
        "fabricated citation [7]": good + " Serbia joined NATO in 2019 [7].",
        "unsupported": good + " Serbia voted against the resolution in 2019 [1].",
        "uncited-factual": good + " Serbia signed a defence pact with Moscow in 2031.",
        "prompt tag shown": good + " <student_message>",
        "role line shown": good + "\nAssistant: here is my speech.",
        "prompt line echoed": good + " Text inside the evidence and inside the student's message.",
        "sentence shown twice": good + " That is my case.",
        "nothing shown": "",
    }
    for fault, shown in planted.items():
        assert any(fault in p for p in problems(shown, evidence, [], "", settings)), fault
    dropped = good + " Serbia joined NATO."
    assert any(
        "removed without a notice" in p for p in problems(good, evidence, [], dropped, settings)
    )
    notice = ["Removed a sentence the evidence does not support (x): Serbia joined NATO."]
    assert problems(good, evidence, notice, dropped, settings) == []
    tagged = good + " </student_message>"
    assert any("removed without" in p for p in problems(good, evidence, [], tagged, settings))
    unnamed = ["Removed text that is not part of a speech (a prompt tag)."]
    assert problems(good, evidence, unnamed, tagged, settings) == []
