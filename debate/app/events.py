"""Gradio events: each callback calls a handler and maps its result onto components.

One `wire_*` function per panel. A callback gets the tab's TabState from gr.State (None
until the page has loaded) and returns it first; `gr.skip()` leaves a component as it is.
A DebateError becomes a one-line status message; the debate goes on.

The API: the student's actions (load, send, next_phase, pick_motion) are public; the coach's
(unlock, switch_side, restart, add_source, upload_status, cancel_upload, create_motion) are
callable but undocumented, because the page itself calls them, and each one is refused by
the server (handlers.require_coach) until this tab has unlocked; page plumbing (citation clicks, timer lengths)
is private. Queue: turns run a few at a time (turn_limit); coach and page
actions have no limit so they are never stuck behind turns; an upload's event only checks
and copies the file (one at a time), its embedding runs in a background job (debate.corpus.jobs).
"""

from __future__ import annotations

import logging
import os
from types import SimpleNamespace

import gradio as gr
from gradio.utils import get_upload_folder

from debate.app import cards_panel, coaching, render
from debate.app import handlers as h
from debate.app.access import COACH, PLUMBING
from debate.app.runtime import Runtime
from debate.core.errors import DebateError, QueryError

log = logging.getLogger(__name__)
LOADING = DebateError("Still loading; try again in a moment.")


def turn_limit(settings) -> int:
    """How many turns run at once (in Gradio's worker threads). An offline turn is
    CPU-bound (the model runs one thread per call, debate.app.runtime.MODEL_THREADS), so
    one per core, and at least two so that one slow turn never holds the others: on 2
    cores, 20 sessions × 10 turns gave p95 2.65 s with 2 at once against 2.94 s with 4
    (means of 5 and 7 runs of `debate.tools.loadtest`, 2026-11-27). With an LLM configured a turn
    mostly waits for the model, so more run at once."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(8, 2 * cores) if settings.llm else max(2, cores)


def client_address(request: gr.Request | None) -> str:
    client = getattr(request, "client", None)
    return str(getattr(client, "host", "") or "")


def wire(demo: gr.Blocks, ui: SimpleNamespace, runtime: Runtime) -> None:
    # Everything that shows one tab's debate; refreshed together after most actions.
    ui.view = [ui.chatbot, ui.evidence, ui.motion_card, ui.banner, ui.phases, ui.timer]
    # Events coaching.wire chains onto: a turn shown, a new round on screen.
    ui.turn_events, ui.round_events = [], []
    wire_load(demo, ui, runtime)
    wire_chat(ui, runtime)
    wire_round(ui, runtime)
    wire_evidence(ui)
    wire_download(ui)
    wire_coach(ui, runtime)
    wire_sources(ui, runtime)
    wire_new_motion(ui, runtime)
    coaching.wire(ui, runtime)
    cards_panel.wire(ui)


def render_view(st: h.TabState) -> tuple:
    """Values for ui.view, in its order."""
    return (h.chat_messages(st), *view_beside_chat(st))


def view_beside_chat(st: h.TabState) -> tuple:
    """Values for ui.view after the chat, in its order."""
    motion = st.session.motion
    return (
        h.evidence_html(st),
        render.motion_card(motion),
        render.side_banner(motion, st.session.bot_side),
        h.phase_html(st),
        h.timer_html(st),
    )


def fail(exc: Exception) -> str:
    return render.status_html(str(exc), "error")


def skips(n: int) -> list:
    return [gr.skip()] * n


def wire_load(demo: gr.Blocks, ui: SimpleNamespace, runtime: Runtime) -> None:
    """Page load: report loading honestly, then give this tab its own debate."""
    outputs = [ui.state, ui.status, ui.motion_pick, ui.src_motion, *ui.view]
    rest = len(outputs) - 2

    def on_load():
        while not runtime.ready.wait(0.5):
            yield (gr.skip(), render.status_html(*runtime.status()), *skips(rest))
        try:
            st = h.new_tab(runtime)
        except DebateError as exc:
            yield (None, fail(exc), *skips(rest))
            return
        choices = h.motion_choices(runtime)
        yield (
            st,
            render.status_html(*runtime.status()),
            gr.update(choices=choices, value=st.session.motion.id),
            gr.update(choices=choices, value=st.session.motion.id),
            *render_view(st),
        )

    loaded = demo.load(on_load, None, outputs, api_name="load", concurrency_limit=None)
    ui.round_events.append(loaded)
    ui.load_event = loaded


def wire_chat(ui: SimpleNamespace, runtime: Runtime) -> None:
    """The student's message, streamed reply, then the whole view."""
    n = len(ui.view)

    def on_send(st, text):
        if st is None:
            yield (st, text, fail(LOADING), gr.skip(), *skips(n))
            return
        try:
            # The box is cleared once, as the turn starts: what the student types while the
            # reply streams is theirs and must not be wiped by a later update.
            # While the reply streams the rest of the view is re-sent unchanged rather than
            # skipped: Gradio builds a new component for every skipped output of every
            # update, which cost more than the turn's search under load.
            cleared, beside = "", None
            for messages in h.send(st, text, runtime):
                if beside is None:
                    status = render.status_html(*runtime.status())
                    beside = view_beside_chat(st)
                yield (st, cleared, "", status, messages, *beside)
                cleared = gr.skip()
        except QueryError as exc:  # the student's message: say what to do, nothing broke
            yield (st, text, fail(exc), gr.skip(), *skips(n))
            return
        except Exception as exc:  # e.g. the Chroma server went away: say so in the status
            if not isinstance(exc, DebateError):
                log.exception("a turn failed")
            runtime.turn_error = h.failure_text(exc)
            status = render.status_html(*runtime.status())
            yield (st, text, fail(runtime.turn_error), status, *render_view(st))
            return
        runtime.turn_error = ""
        # The reply's notices (truncation, side switch) are shown inside its message.
        status = render.status_html(*runtime.status())
        yield (st, gr.skip(), "", status, *render_view(st))

    io = {
        "inputs": [ui.state, ui.msg],
        "outputs": [ui.state, ui.msg, ui.notice, ui.status, *ui.view],
        "concurrency_limit": turn_limit(runtime.settings),
        "concurrency_id": "turn",
    }
    # The evidence check chained after a turn can take seconds; a message sent meanwhile
    # must wait its turn, not be dropped (Gradio's default "once" ignores it).
    io["trigger_mode"] = "always_last"
    ui.turn_events.append(ui.msg.submit(on_send, **io, api_name="send"))
    ui.turn_events.append(ui.send_btn.click(on_send, **io, api_visibility="private"))


def wire_round(ui: SimpleNamespace, runtime: Runtime) -> None:
    """Next phase, timer lengths, and picking another motion (a new round)."""
    n = len(ui.view)

    def on_next_phase(st):
        if st is None:
            return (st, *skips(n))
        h.next_phase(st)
        return (st, *render_view(st))

    ui.next_btn.click(
        on_next_phase,
        [ui.state],
        [ui.state, *ui.view],
        api_name="next_phase",
        concurrency_limit=None,
    )

    def on_minutes(st, *values):
        if st is None:
            return gr.skip()
        h.set_phase_minutes(st, dict(zip(h.DEFAULT_PHASE_SECONDS, values, strict=True)))
        return h.timer_html(st)

    for box in ui.minutes:
        box.change(on_minutes, [ui.state, *ui.minutes], [ui.timer], **PLUMBING)

    def on_motion(st, motion_id):
        if st is None or not motion_id or motion_id == st.session.motion.id:
            return (st, gr.skip(), gr.skip(), *skips(n))
        try:
            st = h.restart(st, runtime, motion_id=motion_id)
        except DebateError as exc:  # e.g. a new motion without sources yet: stay put
            return (st, fail(exc), st.session.motion.id, *skips(n))
        return (st, "", gr.skip(), *render_view(st))

    outputs = [ui.state, ui.notice, ui.motion_pick, *ui.view]
    picked = ui.motion_pick.input(
        on_motion, [ui.state, ui.motion_pick], outputs, api_name="pick_motion"
    )
    ui.round_events.append(picked)


def wire_evidence(ui: SimpleNamespace) -> None:
    """A clicked [n] or 'evidence' link (app.js fills ui.cite_target and clicks cite_go)."""

    def on_cite(st, target):
        if st is None:
            return gr.skip()
        h.select_citation(st, target)
        return h.evidence_html(st)

    ui.cite_go.click(on_cite, [ui.state, ui.cite_target], [ui.evidence], **PLUMBING)


# Click the hidden download button once its value is the file just written.
_CLICK_DOWNLOAD = """() => {
  const el = document.querySelector('#transcript-file');
  const button = el && (el.tagName === 'BUTTON' ? el : el.querySelector('button'));
  if (button) button.click();
}"""


def wire_download(ui: SimpleNamespace) -> None:
    """'Download transcript': written on request (rebuilding it after every turn cost more
    CPU than the turn itself once a round was long), then handed to the browser."""

    def on_download(st):
        # On failure the file button is emptied, so the page's click downloads nothing.
        if st is None:
            return None, fail(LOADING)
        try:
            return h.transcript_file(st), ""
        except OSError as exc:
            log.warning("could not write the transcript download: %s", exc)
            return None, fail(DebateError("The transcript could not be written; try again."))

    ui.download.click(on_download, [ui.state], [ui.transcript, ui.notice], **PLUMBING).then(
        None, None, None, js=_CLICK_DOWNLOAD, **PLUMBING
    )


def wire_coach(ui: SimpleNamespace, runtime: Runtime) -> None:
    """Unlock with the coach password; switch the bot's side; restart the round."""
    n = len(ui.view)

    def on_unlock(st, password, request: gr.Request):
        if st is None:
            return st, fail(LOADING), gr.skip(), "", gr.skip(), gr.skip()
        ok, text = h.unlock_coach(st, runtime, password, client_address(request))
        note = render.coach_note(runtime.coach_locked(), unlocked=True) if ok else gr.skip()
        status = render.status_html(text, "ok" if ok else "error")
        return st, status, gr.update(visible=ok), "", gr.update(visible=not ok), note

    unlock_io = {
        "inputs": [ui.state, ui.password],
        "outputs": [ui.state, ui.coach_status, ui.controls, ui.password, ui.pw_row, ui.coach_note],
    }
    ui.unlock_btn.click(on_unlock, **unlock_io, api_name="unlock", **COACH)
    ui.password.submit(on_unlock, **unlock_io, api_visibility="private", concurrency_limit=None)

    def on_switch(st):
        if st is None:
            return (st, fail(LOADING), *skips(n))
        try:
            text = h.switch_side(st, runtime)
        except DebateError as exc:
            return (st, fail(exc), *skips(n))
        return (st, render.status_html(text), *render_view(st))

    def on_restart(st, opener, engine):
        if st is None:
            return (st, fail(LOADING), *skips(n))
        try:
            st = h.coach_restart(st, runtime, opener, engine)
        except DebateError as exc:
            return (st, fail(exc), *skips(n))
        return (st, render.status_html("New round started."), *render_view(st))

    outputs = [ui.state, ui.coach_status, *ui.view]
    ui.switch_btn.click(on_switch, [ui.state], outputs, api_name="switch_side", **COACH)
    restarted = ui.restart_btn.click(
        on_restart, [ui.state, ui.opener, ui.engine], outputs, api_name="restart", **COACH
    )
    ui.round_events.append(restarted)


def upload_updates(st, runtime: Runtime, motion_id: str) -> tuple:
    """(job html, cancel button, poll timer) for a motion's upload job: the timer ticks
    while the job is live and stops once it has finished."""
    try:
        job = h.upload_view(st, runtime, motion_id)
    except DebateError as exc:
        return fail(exc), gr.update(visible=False), gr.Timer(active=False)
    live = job is not None and job.live
    html = render.upload_job_html(job, h.other_uploads(runtime, motion_id))
    return html, gr.update(visible=live and not job.cancelling), gr.Timer(active=live)


def wire_sources(ui: SimpleNamespace, runtime: Runtime) -> None:
    """The coach's upload form: checked and copied at once, then indexed in the background
    (handlers.start_upload) while the page stays free (see wire_upload_jobs)."""
    ui.upload_outputs = [ui.upload_job, ui.cancel_upload, ui.upload_timer]

    def on_add(st, motion_id, path, title, publisher, author, date, stance, url):
        if st is None:
            return (st, fail(LOADING), gr.skip(), *skips(3))
        form = {"title": title, "publisher": publisher, "author": author, "date": date}
        form.update(stance=stance, url=url)
        try:
            job = h.start_upload(st, runtime, motion_id, path, form)
        except DebateError as exc:  # the file is gone from the cache: clear the field too
            again = DebateError(f"{exc} (then choose the file again)") if path else exc
            return (st, fail(again), None, *skips(3))
        except Exception as exc:
            log.exception("adding a source failed")
            return (st, fail(h.failure_text(exc)), None, *skips(3))
        finally:
            # Accepted files were copied into the pack; refused ones must not linger.
            h.discard_upload(path, get_upload_folder())
        status = render.status_html(h.upload_text(job))
        return (st, status, None, *upload_updates(st, runtime, motion_id))

    fields = [ui.s_title, ui.s_pub, ui.s_author, ui.s_date, ui.s_stance, ui.s_url]
    ui.add_btn.click(
        on_add,
        [ui.state, ui.src_motion, ui.src_file, *fields],
        [ui.state, ui.src_status, ui.src_file, *ui.upload_outputs],
        api_name="add_source",
        api_visibility="undocumented",
        # Checking and copying is quick; one at a time so that two coaches never edit a
        # pack at once (the job registry also refuses a second upload to a busy motion).
        concurrency_limit=1,
        concurrency_id="upload",
    )
    wire_upload_jobs(ui, runtime)


def wire_upload_jobs(ui: SimpleNamespace, runtime: Runtime) -> None:
    """The upload job of the motion chosen in the form: polled by a timer while it runs
    (a coach action), shown when the page loads or another motion is chosen (silently
    for students, who never see the form), and cancelled by its button."""

    def on_poll(st, motion_id):
        if st is None or not motion_id:
            return (*skips(2), gr.Timer(active=False))
        return upload_updates(st, runtime, motion_id)

    def on_look(st, motion_id):
        try:
            if st is not None:
                h.require_coach(st, runtime)
        except DebateError:
            st = None
        return on_poll(st, motion_id)

    def on_cancel(st, motion_id):
        if st is None:
            return (fail(LOADING), *skips(2))
        try:
            h.cancel_upload(st, runtime, motion_id)
        except DebateError as exc:
            return (fail(exc), gr.update(visible=False), gr.skip())
        return upload_updates(st, runtime, motion_id)

    # Polled every second: no loading overlay over the progress bar.
    watch = {"inputs": [ui.state, ui.src_motion], "outputs": ui.upload_outputs}
    watch["show_progress"] = "hidden"
    ui.upload_timer.tick(on_poll, **watch, api_name="upload_status", **COACH)
    ui.cancel_upload.click(on_cancel, **watch, api_name="cancel_upload", **COACH)
    ui.src_motion.change(on_look, **watch, **PLUMBING)
    ui.load_event.then(on_look, **watch, **PLUMBING)


def wire_new_motion(ui: SimpleNamespace, runtime: Runtime) -> None:
    """The coach's new-motion form; the new motion joins both motion lists."""

    def on_create(st, title, thesis, defend, attack):
        if st is None:
            return st, fail(LOADING), gr.skip(), gr.skip()
        try:
            motion = h.create_motion(st, runtime, title, thesis, defend, attack)
        except DebateError as exc:
            return st, fail(exc), gr.skip(), gr.skip()
        choices = h.motion_choices(runtime)
        text = (
            f"Created motion '{motion.id}'. Add its sources above (choose it under "
            "Motion), then pick it in the motion list to debate it."
        )
        return (
            st,
            render.status_html(text),
            gr.update(choices=choices),
            gr.update(choices=choices, value=motion.id),
        )

    inputs = [ui.state, ui.m_title, ui.m_thesis, ui.m_def, ui.m_att]
    ui.create_btn.click(
        on_create,
        inputs,
        [ui.state, ui.motion_status, ui.motion_pick, ui.src_motion],
        api_name="create_motion",
        api_visibility="undocumented",
        concurrency_limit=1,
        concurrency_id="upload",
    )
