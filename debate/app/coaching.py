"""Coaching in the sparring room: the student's evidence checked after each turn, the flow
sheet beside the chat, the ballot at the end of a round, and the coach's view of past rounds.

Three parts, as in the rest of debate/app:
- handlers (plain functions over a tab's handlers.TabState, no Gradio): `feedback_html`,
  `check_turns`, `flow_view`, `ballot_view`, `past_rounds`, `open_round`;
- `panel` / `past_rounds_panel`: the components (layout.py calls them);
- `wire`: the events. A turn's evidence check (debate.coach.feedback.review_turn, seconds to
  tens of seconds on a busy machine) never delays the bot's reply: events.py hands over the
  send events (`ui.turn_events`) and the check runs in a `.then()` after the reply is on
  screen, behind a "checking your evidence…" placeholder, at most CHECKS_AT_ONCE at a time
  across the server. Events that start a new round (`ui.round_events`) clear the panels.

Each student turn is reviewed once: its TurnFeedback is kept in a small process-wide cache
keyed by (session id, turn index, text), so the ballot reuses them. A turn's feedback only
depends on the turns before it, so it never goes stale.

The coach's past rounds are refused by the server without the coach password
(handlers.require_coach, the check every coach action uses); a round is opened only by a
key that `list_rounds` itself produced, never by a path from the client.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from debate.app import coaching_render as R
from debate.app import handlers as h
from debate.app import render
from debate.app.access import COACH, PLUMBING
from debate.app.runtime import Runtime
from debate.coach import flow
from debate.coach.ballot import Ballot, Score, chart_data, score_round
from debate.coach.feedback import (
    Reviewer,
    RoundFeedback,
    TurnFeedback,
    list_rounds,
    review_round,
    save_ballot,
)
from debate.coach.flow import build_from_turns
from debate.core.cache import LRUCache
from debate.core.errors import DebateError
from debate.spar import transcript

log = logging.getLogger(__name__)

CHECKS_AT_ONCE = 2  # evidence checks are CPU-bound: no more than the cores we plan for
CACHE_SIZE = 4096
CHECKS = {"concurrency_limit": CHECKS_AT_ONCE, "concurrency_id": "coaching"}

_cache: LRUCache[tuple, TurnFeedback | str] = LRUCache(CACHE_SIZE)


# ---------------------------------------------------------------- per-turn feedback


def _key(session, index: int) -> tuple:
    return (session.id, index, session.turns[index].text)


def _cached(session, index: int) -> TurnFeedback | str | None:
    return _cache.get(_key(session, index))


def _remember(key: tuple, value: TurnFeedback | str) -> None:
    _cache.put(key, value)


def student_turns(session) -> list[int]:
    return [i for i, t in enumerate(session.turns) if t.speaker == "student"]


def review(session, index: int) -> TurnFeedback | str:
    """The feedback on student turn `index` (cached), or a one-line reason it failed."""
    found = _cached(session, index)
    if found is not None:
        return found
    turns = list(session.turns[: index + 1])
    key = _key(session, index)
    try:
        result: TurnFeedback | str = Reviewer(session.motion, session.settings).review(turns, index)
    except DebateError as exc:
        result = str(exc)
    except Exception as exc:  # the check must never break the debate
        log.exception("the evidence check of turn %d failed", index)
        result = h.failure_text(exc)
    _remember(key, result)
    return result


def _card(index: int, found: TurnFeedback | str | None) -> str:
    if found is None:
        return R.pending_html(index + 1)
    if isinstance(found, str):
        return R.failed_html(index + 1, found)
    return R.turn_feedback_html(found.to_dict(), index + 1)


def feedback_html(state: h.TabState | None) -> str:
    """The feedback panel as it is now: checked turns, and a placeholder for the others."""
    if state is None:
        return R.feedback_panel([])
    session = state.session
    return R.feedback_panel([_card(i, _cached(session, i)) for i in student_turns(session)])


def check_turns(state: h.TabState) -> str:
    """Check every student turn not checked yet; the panel afterwards."""
    session = state.session
    for i in student_turns(session):
        review(session, i)
    return feedback_html(state)


# ---------------------------------------------------------------- flow and ballot


def flow_view(state: h.TabState | None) -> str:
    if state is None or not state.session.turns:
        return R.flow_html(None)
    session = state.session
    try:
        flow = build_from_turns(list(session.turns), session.motion, session.settings)
    except Exception as exc:  # the flow sheet must not break the page
        log.exception("the flow sheet failed")
        return render.status_html(f"No flow sheet: {h.failure_text(exc)}", "error")
    return R.flow_html(flow.to_dict())


def round_feedback(state: h.TabState) -> RoundFeedback:
    """debate.coach.feedback.review_round for the live round, reusing the checked turns."""
    session = state.session
    turns = list(session.turns)
    feedback = []
    for i, t in enumerate(turns):
        if t.speaker == "student":
            found = review(session, i)
            if isinstance(found, str):
                raise DebateError(f"the evidence check of turn {i + 1} failed: {found}")
            feedback.append(found)
    flow = build_from_turns(turns, session.motion, session.settings)
    ballot = score_round(feedback, flow, turns, session.settings)
    return RoundFeedback(session.motion.id, feedback, flow, ballot, chart_data(feedback, turns))


def round_over(state: h.TabState | None) -> bool:
    """The bot has given its closing speech."""
    if state is None or not state.session.turns:
        return False
    last = state.session.turns[-1]
    return last.speaker == "bot" and last.phase == "closing"


def ballot_view(state: h.TabState, save: bool = True) -> str:
    """The ballot of the round so far (kept next to the saved transcript when `save`)."""
    session = state.session
    if not student_turns(session):
        return render.status_html(
            "No ballot yet: make at least one argument first.", "error"
        ) + R.ballot_html(None)
    result = round_feedback(state)
    if save:
        path = transcript.path_for(session)
        if path.is_file():
            try:
                save_ballot(path, result)
            except OSError as exc:
                log.warning("could not save the ballot next to %s: %s", path, exc)
    return R.ballot_html(result.ballot.to_dict(), result.chart)


# ---------------------------------------------------------------- past rounds (coach)


def _rounds(settings) -> list[dict]:
    base = settings.transcripts_dir
    out = []
    for r in list_rounds(settings):
        path = Path(r["path"])
        r = dict(r, key=path.relative_to(base).as_posix())
        out.append(r)
    return out


def round_choices(rounds: list[dict]) -> list[tuple[str, str]]:
    return [
        (
            f"{r['date']} · {r['motion']} · {r['turns']} turns · {r['ballot'] or 'no ballot yet'}",
            r["key"],
        )
        for r in rounds
    ]


def past_rounds(state: h.TabState, runtime: Runtime) -> tuple[str, list[tuple[str, str]]]:
    """The saved rounds (coach only): (table HTML, dropdown choices)."""
    h.require_coach(state, runtime)
    rounds = _rounds(runtime.settings)
    return R.rounds_html(rounds), round_choices(rounds)


def _saved_feedback(path: Path) -> dict | None:
    """The feedback saved next to a transcript by save_ballot, if it is complete."""
    target = path.with_suffix(".ballot.json")
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and all(k in data for k in ("turns", "flow", "ballot")):
        return data
    return None


def _ballot_markdown(ballot: dict) -> str:
    try:
        scores = [Score(**s) for s in ballot.get("scores", [])]
        return Ballot(scores, list(ballot.get("improvements", []))).to_markdown()
    except (TypeError, AttributeError):
        return ""


def open_round(state: h.TabState, runtime: Runtime, key: str) -> tuple[str, str]:
    """A past round for the coach (coach only): (HTML with ballot, flow and feedback, path
    of its Markdown transcript with the flow and the ballot, for download)."""
    h.require_coach(state, runtime)
    found = next((r for r in _rounds(runtime.settings) if r["key"] == key), None)
    if found is None:
        raise DebateError("No such saved round: list the rounds again and pick one.")
    path = Path(found["path"])
    settings = replace(runtime.settings, llm="")
    data = json.loads(path.read_text(encoding="utf-8"))
    feedback = _saved_feedback(path)
    if feedback is None:
        result = review_round(data, settings)
        try:
            save_ballot(path, result)
        except OSError as exc:
            log.warning("could not save the ballot next to %s: %s", path, exc)
        feedback = {"summary": result.ballot.summary(), **result.to_dict()}
    motion = runtime.motion(found["motion"])
    page = R.round_view_html(motion.title, found["date"], feedback, data.get("turns", []))
    # The download: the transcript as Markdown (with its flow), then the ballot.
    from debate.spar.session import Session

    session = Session.from_dict(data, settings, motion=motion)
    session.autosave = False
    text = flow.round_markdown(session)
    ballot = _ballot_markdown(feedback.get("ballot") or {})
    if ballot:
        text = text.rstrip() + "\n\n## Ballot\n\n" + ballot + "\n"
    folder = state.export_dir
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("round-*.md"):
        old.unlink(missing_ok=True)
    out = folder / f"round-{path.stem}.md"
    out.write_text(text, encoding="utf-8")
    return page, str(out)


# ---------------------------------------------------------------- components


def panel(ui: SimpleNamespace) -> None:
    """Beside the chat: the feedback on the student's turns, the flow, the ballot."""
    with gr.Accordion("Your evidence, checked", open=True, elem_id="coaching-feedback"):
        ui.cf_feedback = gr.HTML(R.feedback_panel([]), elem_id="turn-feedback")
    with gr.Accordion("Flow", open=True, elem_id="coaching-flow"):
        ui.cf_flow = gr.HTML(R.flow_html(None), elem_id="flow-sheet")
    with gr.Accordion("Ballot", open=True, elem_id="coaching-ballot"):
        ui.cf_end = gr.Button("End round and show ballot", elem_id="end-round", size="sm")
        ui.cf_ballot = gr.HTML(R.ballot_html(None), elem_id="ballot")


def past_rounds_panel(ui: SimpleNamespace) -> None:
    """Inside the coach controls: saved rounds to open, read and download."""
    with gr.Accordion("Past rounds", open=False, elem_id="past-rounds"):
        ui.cf_list = gr.Button("List saved rounds", size="sm", elem_id="list-rounds")
        ui.cf_rounds = gr.HTML(elem_id="rounds-list")
        with gr.Row(equal_height=True):
            ui.cf_pick = gr.Dropdown(
                label="Round",
                choices=[],
                scale=3,
                elem_id="round-pick",
                allow_custom_value=True,  # checked by open_round against list_rounds
            )
            ui.cf_open = gr.Button("Open", scale=1, min_width=80, elem_id="open-round")
        ui.cf_round_status = gr.HTML(elem_id="round-status")
        ui.cf_round = gr.HTML(elem_id="round-view")
        ui.cf_download = gr.DownloadButton(
            "Download this round (.md)", value=None, size="sm", elem_id="round-download"
        )


# ---------------------------------------------------------------- events


def wire(ui: SimpleNamespace, runtime: Runtime) -> None:
    """The coaching events: after each turn, on a new round, the ballot, past rounds."""
    _wire_turns(ui)
    _wire_ballot(ui)
    _wire_past_rounds(ui, runtime)


def _wire_turns(ui: SimpleNamespace) -> None:
    def on_turn_shown(st):
        if st is None:
            return gr.skip(), gr.skip()
        return feedback_html(st), flow_view(st)

    def on_check(st):
        if st is None:
            return gr.skip(), gr.skip()
        panel_html = check_turns(st)
        if not round_over(st):
            return panel_html, gr.skip()
        try:
            return panel_html, ballot_view(st)
        except DebateError as exc:
            return panel_html, render.status_html(str(exc), "error")

    for event in getattr(ui, "turn_events", []):
        event.then(on_turn_shown, [ui.state], [ui.cf_feedback, ui.cf_flow], **PLUMBING).then(
            on_check, [ui.state], [ui.cf_feedback, ui.cf_ballot], api_visibility="private", **CHECKS
        )

    def on_new_round(st):
        if st is None:
            return gr.skip(), gr.skip(), gr.skip()
        return feedback_html(st), flow_view(st), R.ballot_html(None)

    for event in getattr(ui, "round_events", []):
        event.then(on_new_round, [ui.state], [ui.cf_feedback, ui.cf_flow, ui.cf_ballot], **PLUMBING)


def _wire_ballot(ui: SimpleNamespace) -> None:
    def on_end_pending(st):
        if st is None:
            return gr.skip()
        return (
            '<div class="cf-wait" aria-busy="true"><span class="cf-spinner"></span> '
            "Writing the ballot: checking every turn of yours first…</div>"
        )

    def on_end(st):
        if st is None:
            return gr.skip(), gr.skip()
        try:
            ballot = ballot_view(st)
        except DebateError as exc:
            ballot = render.status_html(str(exc), "error")
        return feedback_html(st), ballot

    ui.cf_end.click(on_end_pending, [ui.state], [ui.cf_ballot], **PLUMBING).then(
        on_end, [ui.state], [ui.cf_feedback, ui.cf_ballot], api_name="end_round", **CHECKS
    )


def _wire_past_rounds(ui: SimpleNamespace, runtime: Runtime) -> None:
    def on_list(st):
        if st is None:
            return render.status_html("Still loading; try again in a moment.", "error"), gr.skip()
        try:
            table, choices = past_rounds(st, runtime)
        except DebateError as exc:
            return render.status_html(str(exc), "error"), gr.update(choices=[], value=None)
        value = choices[0][1] if choices else None
        return table, gr.update(choices=choices, value=value)

    ui.cf_list.click(
        on_list, [ui.state], [ui.cf_rounds, ui.cf_pick], api_name="list_rounds", **COACH
    )

    def on_open(st, key):
        if st is None:
            return render.status_html("Still loading.", "error"), gr.skip(), gr.skip()
        try:
            page, path = open_round(st, runtime, key)
        except DebateError as exc:
            return render.status_html(str(exc), "error"), "", None
        except Exception as exc:
            log.exception("opening a past round failed")
            return render.status_html(h.failure_text(exc), "error"), "", None
        return "", page, path

    ui.cf_open.click(
        on_open,
        [ui.state, ui.cf_pick],
        [ui.cf_round_status, ui.cf_round, ui.cf_download],
        api_name="open_round",
        api_visibility="undocumented",
        **CHECKS,
    )
