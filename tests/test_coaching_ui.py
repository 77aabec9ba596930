"""The coaching panels of the web page, at the handler level (no browser): what the events of
debate/app/coaching.py put on screen for the test transcripts of tests/data/transcripts, and
the coach's past rounds refused by the server without the coach password."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from debate.app import coaching
from debate.app import coaching_render as R
from debate.app import handlers as h
from debate.app.runtime import Runtime
from debate.core.errors import DebateError
from debate.spar.session import Session

TRANSCRIPTS = Path(__file__).parent / "data" / "transcripts"
PASSWORD = "coach-pw-ui"
MISQUOTE_KEY = "serbia-russia/20250101-000000-misquote.json"


@pytest.fixture(scope="module")
def app_settings(default_settings, tmp_path_factory):
    """The session's index copied (the coach view writes ballots next to transcripts), a
    coach password set, and the five test transcripts saved as past rounds."""
    data = tmp_path_factory.mktemp("coaching-ui") / "data"
    shutil.copytree(default_settings.data_dir, data)
    settings = replace(default_settings, data_dir=data, coach_password=PASSWORD)
    folder = settings.transcripts_dir / "serbia-russia"
    folder.mkdir(parents=True, exist_ok=True)
    for path in TRANSCRIPTS.glob("*.json"):
        shutil.copy(path, folder / f"20250101-000000-{path.stem}.json")
    return settings


@pytest.fixture(scope="module")
def runtime(app_settings):
    return Runtime(app_settings).start()


def tab(name: str, runtime: Runtime) -> h.TabState:
    data = json.loads((TRANSCRIPTS / f"{name}.json").read_text(encoding="utf-8"))
    session = Session.from_dict(data, runtime.settings, motion=runtime.motion(data["motion"]))
    session.autosave = False
    return h.TabState(session=session)


def squash(html: str) -> str:
    return " ".join(html.split())


# ---------------------------------------------------------------- per-turn feedback


def test_misquote_is_shown_with_the_real_passage_and_the_differing_word(runtime):
    st = tab("misquote", runtime)
    before = coaching.feedback_html(st)
    assert "Checking your evidence" in before and 'data-turn="1"' in before
    html = coaching.check_turns(st)
    assert "Checking your evidence" not in html
    (card,) = re.findall(r'<div class="cf-quote cf-misquote".*?</details></div></div>', html, re.S)
    assert (
        'You said <strong class="cf-yours">ten times</strong>; the source says '
        '<strong class="cf-theirs">four times</strong>.' in card
    )
    # the real sentence, the differing word marked, and the whole passage around it
    says = re.search(r'<div class="cf-source-says">(.*?)</div>', card, re.S).group(1)
    assert '<mark class="cf-diff">four</mark>' in says
    assert "in the UN General Assembly at least" in says
    assert "The National Interest" in card
    passage = re.search(r'<blockquote class="cf-passage-text">(.*?)</blockquote>', card, re.S)
    before, _, marked = passage.group(1).partition('<mark class="cf-sentence">')
    assert "Even then, the Serbian president sided with Ukraine" in before
    sentence = re.sub(r'<mark class="cf-diff">(.*?)</mark>', r"\1", marked).split("</mark>")[0]
    assert "at least four times, with Belgrade voting to condemn the Russian invasion" in sentence
    # one problem flagged, the misquote; the correct quote of the same turn is found
    assert html.count('class="cf-problem"') == 1 and 'data-kind="misquote"' in html
    assert "the reality is that Serbia abides by EU sanctions against Russia" in html
    assert html.count("cf-misquote") == 1


def test_correct_student_gets_no_false_alarm(runtime):
    html = coaching.check_turns(tab("correct", runtime))
    assert "No evidence problems found in this turn." in html
    assert "cf-misquote" not in html and 'class="cf-problem"' not in html
    assert html.count("cf-verdict-backed") == 4


def test_ignored_points_are_listed_and_the_flow_marks_them_dropped(runtime):
    st = tab("ignores", runtime)
    html = coaching.check_turns(st)
    assert 'data-kind="no-clash"' in html
    assert html.count('class="cf-ignored"') == 3 and "cf-answered" not in html
    flow = coaching.flow_view(st)
    bot_dropped = re.findall(r'<tr class="cf-flow-row dropped bot" data-id="(B\d+)"', flow)
    assert bot_dropped[:3] == ["B1", "B2", "B3"]
    assert "You have not answered" in flow and "DROPPED" in flow


def test_ballot_scores_reasons_improvements_and_chart(runtime):
    st = tab("misquote", runtime)
    html = coaching.ballot_view(st, save=False)
    criteria = re.findall(r'<tr class="cf-score" data-criterion="([^"]+)"', html)
    assert criteria == ["claim clarity", "evidence", "clash", "rebuttal"]
    evidence = re.search(r'data-criterion="evidence">(.*?)</tr>', html, re.S).group(1)
    assert "3/5" in evidence and "you said ten times; the source says four times" in evidence
    assert len(re.findall(r"<li>", html.split('class="cf-better"')[1])) == 2
    assert "<svg" in html and "<rect" in html
    correct = coaching.ballot_view(tab("correct", runtime), save=False)
    score = re.compile(r'data-criterion="evidence">.*?cf-num">(\d)/5', re.S)
    assert int(score.search(correct).group(1)) > int(score.search(html).group(1))


def test_round_over_only_after_the_bots_closing_speech(runtime):
    st = tab("misquote", runtime)
    assert not coaching.round_over(st)
    st.session.turns[-1].phase = "closing"
    assert coaching.round_over(st)


# ---------------------------------------------------------------- escaping


HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_every_text_is_escaped_in_feedback_flow_and_ballot():
    source = {
        "passage": f"Before. {HOSTILE} four times. After.",
        "sentence": f"{HOSTILE} four times.",
        "start": 8,
        "end": 8 + len(HOSTILE) + 12,
        "publisher": HOSTILE,
        "title": HOSTILE,
        "date": HOSTILE,
        "url": 'javascript:alert(3)"',
    }
    fb = {
        "text": HOSTILE,
        "problems": [{"kind": HOSTILE, "message": HOSTILE}],
        "quotes": [
            {
                "kind": "statistic",
                "text": HOSTILE,
                "message": HOSTILE,
                "differences": [[HOSTILE, f"four {HOSTILE}"]],
                "misquoted": True,
                "source": source,
            }
        ],
        "claims": [{"sentence": HOSTILE, "verdict": "backed", "reason": HOSTILE, "source": source}],
        "answered": [[HOSTILE, HOSTILE]],
        "ignored": [HOSTILE],
        "notes": [HOSTILE],
    }
    flow = {
        "arguments": [
            {
                "id": HOSTILE,
                "speaker": "bot",
                "side": "attack",
                "turn": 0,
                "text": HOSTILE,
                "responses": [{"turn": 1, "text": HOSTILE}],
                "dropped": False,
            },
            {
                "id": "B2",
                "speaker": "bot",
                "side": "attack",
                "turn": "<b>",
                "text": HOSTILE,
                "responses": [],
                "dropped": True,
            },
        ]
    }
    ballot = {
        "scores": [{"criterion": HOSTILE, "score": "<b>", "reason": HOSTILE}],
        "improvements": [HOSTILE, HOSTILE],
        "summary": HOSTILE,
        "reasons_by": HOSTILE,
    }
    chart = {"metric": HOSTILE, "points": [{"turn": HOSTILE, "speaker": HOSTILE, "value": HOSTILE}]}
    rounds = [
        {"key": HOSTILE, "date": HOSTILE, "motion": HOSTILE, "sides": [HOSTILE], "ballot": HOSTILE}
    ]
    pages = [
        R.turn_feedback_html(fb, 2),
        R.flow_html(flow),
        R.ballot_html(ballot, chart),
        R.rounds_html(rounds),
        R.round_view_html(
            HOSTILE,
            HOSTILE,
            {"turns": [dict(fb, turn=0)], "flow": flow, "ballot": ballot, "chart": chart},
            [{"speaker": "student", "text": HOSTILE, "phase": HOSTILE}],
        ),
    ]
    for page in pages:
        assert "<script" not in page and "<img" not in page, page
        assert "javascript:" not in page
    assert "&lt;script&gt;" in pages[0] and '<mark class="cf-diff">four</mark>' in pages[0]


# ---------------------------------------------------------------- coach view of past rounds


def wired(runtime, api_name: str):
    """The function the page's event calls for this endpoint (the Gradio Blocks built by
    layout.build_app), so the test goes through the same code as a request."""
    from debate.app.layout import build_app

    demo = build_app(runtime.settings, runtime)
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    return next(f.fn for f in fns if f.api_name == api_name)


def test_past_rounds_are_refused_without_the_coach_password(runtime):
    st = h.new_tab(runtime)
    assert not st.coach_ok
    with pytest.raises(DebateError, match="locked"):
        coaching.past_rounds(st, runtime)
    with pytest.raises(DebateError, match="locked"):
        coaching.open_round(st, runtime, MISQUOTE_KEY)
    listed, picks = wired(runtime, "list_rounds")(st)
    assert "Coach controls are locked" in listed and "misquote" not in listed
    status, page, download = wired(runtime, "open_round")(st, MISQUOTE_KEY)
    assert "Coach controls are locked" in status and page == "" and download is None
    assert not list(st.export_dir.glob("round-*.md"))
    ok, _ = h.unlock_coach(st, runtime, "wrong", "127.0.0.1")
    assert not ok
    with pytest.raises(DebateError):
        coaching.past_rounds(st, runtime)


def test_coach_lists_opens_and_downloads_a_past_round(runtime):
    st = h.new_tab(runtime)
    ok, _ = h.unlock_coach(st, runtime, PASSWORD, "127.0.0.1")
    assert ok
    table, choices = coaching.past_rounds(st, runtime)
    keys = [key for _, key in choices]
    assert MISQUOTE_KEY in keys
    assert table.count("<tr data-key=") == len(keys) >= 5
    # only a key list_rounds produced opens a round: no path from the client
    for bad in ("../../../etc/passwd", "/etc/passwd", "serbia-russia/../x.json", ""):
        with pytest.raises(DebateError, match="No such saved round"):
            coaching.open_round(st, runtime, bad)
    page, path = coaching.open_round(st, runtime, MISQUOTE_KEY)
    assert "You said" in page and "ten times" in page and "four times" in page
    assert 'id="ballot-card"' in page and "cf-flow-table" in page
    text = Path(path).read_text(encoding="utf-8")
    assert Path(path).parent == st.export_dir
    assert "## Flow" in text and "## Ballot" in text and "ten times" in text
    assert "| evidence | 3/5 |" in text
    # the ballot is kept next to the transcript: the list shows its summary now
    table, _ = coaching.past_rounds(st, runtime)
    assert "evidence 3" in table
