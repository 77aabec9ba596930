"""Hostile and odd student messages: through the session (hypothesis, 1,000+ generated
messages), through the running app's API (gradio_client against `debate serve`, 200+), and
in a real browser (a <script> or <img onerror> in a message or an uploaded source never
runs). No exception escapes but a DebateError with a message, every reply's citations
resolve to its evidence list, nothing takes longer than 30 s.

Everything runs on the real model: a warm offline turn is cheap enough for a thousand of
them to fit in CI (about 3 minutes on two shared cores).
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from debate.check.citations import parse_citations
from debate.core.errors import DebateError, QueryError
from tests.apps import (
    MOTION,
    fn_index,
    raw_call,
    status_text,
    write_corpus,
)
from tests.served import launch_chromium

LIMIT_S = 30.0
FAKE_PASSAGE = (
    '"Serbia signed a mutual defence treaty with Russia in 2024, binding both armies" [1] '
    "as the passage above clearly says."
)
EDGE_CASES = [
    "",
    " ",
    "\t\n  \r\n",
    "\u200b\u200b",
    "\ufeff",
    "x" * 100_000,
    ("Cats are cheaper than dogs. " * 4000)[:100_000],
    ("word " * 210_000)[:1_000_000],
    "Cats\x00are\x00cheaper\x01\x02\x1b[31m than dogs",
    "Serbia \ud800 buys gas",
    "\udfff\ud800 cats dogs \udc00",
    "Кошки лучше собак, 猫比狗好, القطط أفضل من الكلاب",
    "\u202eevil reversed text\u202c cats are cheap",
    "שלום cats עולם dogs",
    "🐈🐕🐈‍⬛ cats 🐶 are 💯 better 👍🏽",
    "Z̷̢̛a̵̡͝l̸̨̛g̴̢̕o̶̧͝ cats are cheaper than dogs",
    "# Title\n\n**bold** _it_ [link](javascript:alert(1)) `code`\n\n> quote",
    "<script>window.__pwned = 1</script> cats are cheaper",
    '<img src=x onerror="window.__pwned=1"> dogs are loyal',
    "Cats are cheaper [99] and dogs cost more [1,2,3,4,5] [0] [-1] [1000000000000]",
    FAKE_PASSAGE,
    "[1][2][3][4][5][6][7][8][9][10]",
    "?" * 500,
    "Why are cats cheaper?",
    "ok",
    "a" * 5 + " " + "\u0301" * 5000,
]

FRAGMENTS = [
    "cats are cheaper",
    "dogs are loyal",
    "guide dogs help blind people",
    "[99]",
    "[1,2,3,4,5]",
    "[2]",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "**markdown**",
    "| a | b |\n|---|---|",
    "\x00",
    "\x07",
    "\ud800",
    "\u200b",
    "\u202e",
    "مرحبا",
    "こんにちは",
    "🐈",
    "e\u0301\u0301",
    '"a quoted fake passage that no source contains"',
    "\n\n",
    "1,200 pet owners",
    "40 percent",
]

messages = st.one_of(
    st.sampled_from(EDGE_CASES),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map(" ".join),
    st.tuples(
        st.lists(st.sampled_from(FRAGMENTS), max_size=4).map(" ".join),
        st.text(st.characters(codec=None, exclude_categories=()), max_size=80),
    ).map(" ".join),
)


def check_reply_citations(reply) -> None:
    for c in parse_citations(reply.text):
        for n in c.numbers:
            assert reply.evidence.get(n) is not None, (n, reply.text[:300])


def check_transcript(session) -> None:
    """The autosaved form is valid JSON in UTF-8 (no lone surrogate survives)."""
    json.dumps(session.to_dict(), ensure_ascii=False).encode("utf-8")


# What Session.respond may refuse, always with a one-line QueryError: a blank message ("say
# something first", before any engine runs), and a message with nothing to search for once
# its [n]-like markers are set aside, such as "[0-0]× × ×" (retrieval's "empty query").
# Everything else gets a reply: a short prompt to make an argument, or a speech.
BLANK_REFUSAL = "say something first"
NOTHING_TO_SEARCH = "empty query"
MARKERS = re.compile(r"\[[^\]]*\]")
# A message holding one of these (as the fuzzer's fragments and the edge cases do) argues a
# point about the motion: it must get a speech that cites the evidence.
ORDINARY = ("cats are cheaper", "dogs are loyal", "guide dogs help blind people")


def ordinary(text: str) -> bool:
    flat = " ".join(text.lower().split())
    return any(phrase in flat for phrase in ORDINARY)


def run_turn(session, text: str) -> str:
    """One turn, checked. Refused only as the session documents (above); otherwise a
    non-empty reply whose citations resolve, and for an ordinary message (ORDINARY) a
    speech citing at least one passage of its evidence. Returns what happened: "refused",
    "prompt" (engine "prompt": the short request for an argument) or "speech"."""
    started = time.monotonic()
    try:
        reply = session.respond(text)
    except DebateError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, message
        assert isinstance(exc, QueryError), (type(exc), message)
        assert not ordinary(text), f"refused an ordinary message {text[:80]!r}: {message}"
        if message.startswith(BLANK_REFUSAL):
            assert not text.strip(), f"refused as blank: {text[:80]!r}"
        else:
            assert message.startswith(NOTHING_TO_SEARCH), message
            assert not any(c.isalnum() for c in MARKERS.sub(" ", text)), text[:80]
        outcome = "refused"
    else:
        assert text.strip(), f"a blank message was not refused: {text!r}"
        assert reply.text.strip(), f"an empty reply to {text[:80]!r}"
        check_reply_citations(reply)
        for turn in session.turns:
            if turn.speaker == "bot" and turn.evidence is not None:
                for c in parse_citations(turn.text):
                    assert all(turn.evidence.get(n) is not None for n in c.numbers)
        outcome = "prompt" if reply.engine == "prompt" else "speech"
        if ordinary(text):
            assert outcome == "speech", f"no speech for {text[:80]!r}: {reply.text[:200]}"
        if outcome == "speech":
            assert reply.cited_passages(), f"a speech without a citation: {reply.text[:300]}"
    assert time.monotonic() - started < LIMIT_S
    check_transcript(session)
    return outcome


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder):
    from debate.core.config import load_settings
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion

    base = tmp_path_factory.mktemp("hostile")
    corpus = write_corpus(base)
    s = load_settings(environ={}, corpus_dir=corpus, data_dir=base / "data")
    motion = load_motion(MOTION, corpus)
    ingest_motion(motion, s)
    return motion, s


def new_session(small_index, **kw):
    from debate.spar.session import Session

    motion, s = small_index
    session = Session(motion, s, **kw)
    session.autosave = False
    return session


@pytest.mark.slow
def test_the_session_survives_1000_generated_messages(small_index):
    from debate.app.handlers import clean_input

    outcomes = dict.fromkeys(("refused", "prompt", "speech"), 0)
    ordinary_messages = [0]

    @settings(
        max_examples=1000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=True,
    )
    @given(text=messages, side=st.sampled_from(["defend", "attack"]))
    def turn(text, side):
        session = new_session(small_index, bot_side=side)
        # The app cleans pasted text first (handlers.send); the library is fuzzed as given too.
        cleaned = clean_input(text)
        outcomes[run_turn(session, cleaned)] += 1
        ordinary_messages[0] += ordinary(cleaned)

    turn()
    total = sum(outcomes.values())
    print(dict(outcomes), "ordinary:", ordinary_messages[0])
    assert total == 1000, outcomes
    # Most generated messages argue something and get a speech; refusals stay rare.
    assert outcomes["refused"] <= 0.06 * total, outcomes
    assert outcomes["speech"] >= 0.5 * total, outcomes
    assert ordinary_messages[0] >= 0.2 * total, (ordinary_messages[0], outcomes)


@pytest.mark.slow
def test_the_session_takes_raw_lone_surrogates_without_a_crash(small_index):
    """The library itself (CLI, other callers) must cope with a lone surrogate, not only
    the app, which cleans input before the session sees it."""
    session = new_session(small_index)
    run_turn(session, "Serbia \ud800 buys gas and cats are cheaper than dogs")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(EDGE_CASES)))
def test_edge_cases_through_the_real_model(small_index, index):
    from debate.app.handlers import clean_input

    run_turn(new_session(small_index), clean_input(EDGE_CASES[index]))


# ---------------------------------------------------------------- through the app's API


class Counter:
    sent = 0


@pytest.mark.slow
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=True,
)
@given(text=messages)
def test_200_generated_messages_through_the_app_api(app, text):
    started = time.monotonic()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # gradio_client cannot encode a lone surrogate; a script sends it as a JSON escape
        # ("\ud800"), which is what json.dumps does: raw HTTP on the queue, as the page does.
        session = uuid.uuid4().hex[:10]
        raw_call(app, session, fn_index(app, "load"), [])
        out = raw_call(app, session, fn_index(app, "send"), [None, text])
    else:
        out = _api_client(app).predict(text, api_name="/send")
    assert time.monotonic() - started < LIMIT_S
    Counter.sent += 1
    notice, status, chat = out[1], out[2], out[3]
    shown = status_text(notice)
    assert "Traceback" not in shown and "AppError" not in shown
    assert "something went wrong" not in shown, shown
    dumped = json.dumps(chat, ensure_ascii=False)
    assert "<script" not in dumped and "<img" not in dumped  # escaped, never raw
    assert status_text(status) in ("Ready.", "")  # "" : left as it was (an empty message)


_clients: dict = {}


def _api_client(app):
    """One tab per 25 messages (a long debate, then a fresh one)."""
    key = Counter.sent // 25
    if key not in _clients:
        _clients.clear()
        _clients[key] = app.client()
    return _clients[key]


@pytest.mark.slow
def test_every_reply_from_the_api_run_cites_only_its_evidence(app):
    """Reads the autosaved transcripts of the API run: each bot turn's [n] is in its list."""
    from debate.spar.transcript import Turn

    folder = app.data / "transcripts"
    files = list(folder.rglob("*.json"))
    assert files, "the API run saved no transcript"
    bot_turns = 0
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for raw in data["turns"]:
            turn = Turn.from_dict(raw)
            if turn.speaker != "bot":
                continue
            bot_turns += 1
            for c in parse_citations(turn.text):
                assert all(turn.evidence and turn.evidence.get(n) for n in c.numbers), path
    assert bot_turns >= 50


# ---------------------------------------------------------------- in the browser

PAYLOADS = [
    "<script>window.__pwned = 'message-script'</script> cats are cheaper than dogs",
    "<img src=x onerror=\"window.__pwned='message-img'\"> dogs are loyal companions",
]
PLANTED = """\
---
title: Planted scripts
publisher: Mischief Weekly
date: 2024-02-02
url: https://example.org/planted
stance: mixed
---
Cats are cheaper than dogs <script>window.__pwned = 'source-script'</script> according to owners who keep both animals at home.

Dogs are loyal <img src=x onerror="window.__pwned='source-img'"> companions and owners of cats spend less time on care every day.
"""


@pytest.mark.slow
@pytest.mark.browser
def test_scripts_in_messages_and_uploaded_sources_never_run_in_the_browser(app, tmp_path):
    from gradio_client import handle_file
    from playwright.sync_api import sync_playwright

    coach = app.client()
    coach.predict(app.password, api_name="/unlock")
    planted = tmp_path / "planted.md"
    planted.write_text(PLANTED, encoding="utf-8")
    out = coach.predict(
        MOTION, handle_file(str(planted)), "", "", "", "", "mixed", "", api_name="/add_source"
    )
    assert "added" in status_text(out[0]).lower(), out[0]
    # The source is indexed in the background: the bot can quote it once the job is done.
    deadline = time.monotonic() + 600  # only stops a hung server
    job = ""
    while 'data-state="done"' not in job:
        assert time.monotonic() < deadline, f"the upload never finished: {job}"
        job = coach.predict(MOTION, api_name="/upload_status")[0]
        assert 'data-state="failed"' not in job and 'data-state="cancelled"' not in job, job
        time.sleep(0.5)

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        page.goto(app.url)
        page.wait_for_selector("#status .status-ok", timeout=120_000)
        box = page.locator("#student-input textarea")
        for i, payload in enumerate(PAYLOADS):
            box.fill(payload)
            box.press("Enter")
            try:
                page.wait_for_function(
                    f"document.querySelectorAll('#chat .bot-msg:not(.streaming)').length > {i}",
                    timeout=90_000,
                )
            except Exception:
                page.screenshot(path=str(tmp_path / "xss-timeout.png"), full_page=True)
                print(
                    "SHOT",
                    tmp_path / "xss-timeout.png",
                    page.inner_text("#chat")[:500],
                    page.inner_text("#notice"),
                    page.inner_text("#status"),
                )
                raise
        page.wait_for_timeout(500)
        assert page.evaluate("window.__pwned") is None
        chat = page.locator("#chat").inner_html()
        evidence = page.locator("#evidence-panel").inner_html()
        for html in (chat, evidence):
            assert "<script" not in html and "<img" not in html
        assert page.locator("#chat img, #evidence-panel img").count() == 0
        assert page.locator("#chat script, #evidence-panel script").count() == 0
        assert "&lt;script&gt;" in chat  # shown as text, escaped
        browser.close()


def test_hostile_messages_are_escaped_in_the_rendered_html():
    from debate.app.render import student_message_html

    for payload in PAYLOADS + [FAKE_PASSAGE]:
        html = student_message_html(payload)
        assert "<script" not in html and "<img" not in html


# ---------------------------------------------------------------- the CLI


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        [b"search", b"\xff\xfe", b"gas"],
        [b"search", MOTION.encode(), b"cats \xff\xfe are cheap"],
        [b"reply", MOTION.encode(), b"cats \xff are cheap", b"--side", b"attack"],
        [b"ingest", b"caf\xe9"],
        [
            b"new-motion",
            b"--title",
            b"Caf\xe9 motion",
            b"--thesis",
            b"Caf\xe9s beat tea \xff",
            b"--defend",
            b"a \xfe",
            b"--attack",
            b"b",
        ],
    ],
    ids=["motion", "query", "reply", "ingest", "new-motion"],
)
def test_cli_invalid_utf8_arguments_give_one_line_no_traceback(small_index, tmp_path, argv):
    import os
    import subprocess

    from tests.conftest import ROOT

    _, s = small_index
    env = {
        **os.environ,
        "DEBATE_DATA_DIR": str(s.data_dir),
        "DEBATE_CORPUS_DIR": str(s.corpus_dir),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("DEBATE_LLM", None)
    debate = os.fsencode(str(ROOT / ".venv" / "bin" / "debate"))
    done = subprocess.run([debate, *argv], env=env, capture_output=True, timeout=120)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 2, err
    if done.returncode:
        assert err.startswith("error:"), err
