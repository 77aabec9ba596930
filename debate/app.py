"""The sparring room: a Gradio page where a student debates the bot and a coach steers it.

Layout and wiring only; behaviour lives in debate.app_handlers (plain functions over a
per-tab TabState kept in gr.State) and HTML in debate.app_render.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from debate import app_handlers as h
from debate import app_render as render
from debate.config import Settings
from debate.errors import DebateError

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
UPLOAD_TYPES = [".pdf", ".html", ".htm", ".md", ".txt"]
PHASE_NAMES = ("opening", "rebuttal", "closing", "question")


def page_assets() -> tuple[str, str]:
    """(css, head) for Blocks.launch: Gradio 6 takes them at launch, not in Blocks()."""
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    head = f"<script>{(STATIC / 'app.js').read_text(encoding='utf-8')}</script>"
    return css, head


def build_app(settings: Settings, runtime: h.Runtime | None = None) -> gr.Blocks:
    runtime = (runtime or h.Runtime(settings)).start()
    locked = runtime.coach_locked()
    loading_text, loading_kind = runtime.status()

    with gr.Blocks(title="Debate sparring room", fill_width=False) as demo:
        state = gr.State(None)
        with gr.Row(elem_id="app-header"):
            gr.HTML(
                "<h1>Debate sparring room</h1><div>Argue a motion against a bot that "
                "speaks only from cited evidence.</div>"
            )
            status = gr.HTML(render.status_html(loading_text, loading_kind), elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                motion_pick = gr.Dropdown(
                    label="Motion", choices=[], interactive=True, elem_id="motion-pick"
                )
                motion_card = gr.HTML(elem_id="motion-card")
                banner = gr.HTML(elem_id="side-banner-box")
                with gr.Row(equal_height=False, elem_classes="tight-row"):
                    phases = gr.HTML(elem_id="phase-box")
                    next_btn = gr.Button(
                        "Next phase ▸", size="sm", elem_id="next-phase", scale=0, min_width=120
                    )
                with gr.Row(equal_height=False, elem_classes="tight-row"):
                    timer = gr.HTML(elem_id="timer-box")
                    t_start = gr.Button(
                        "Start", size="sm", scale=0, min_width=70, elem_id="timer-start"
                    )
                    t_pause = gr.Button("Pause", size="sm", scale=0, min_width=70)
                    t_reset = gr.Button("Reset", size="sm", scale=0, min_width=70)
                chatbot = gr.Chatbot(
                    label="Debate",
                    elem_id="chat",
                    height=520,
                    sanitize_html=False,
                    render_markdown=False,
                    feedback_options=None,
                    buttons=["copy"],
                    autoscroll=True,
                    placeholder="Make your first argument below.",
                )
                with gr.Row(equal_height=True):
                    msg = gr.Textbox(
                        label="Your argument",
                        lines=1,
                        max_lines=8,
                        scale=5,
                        placeholder="Type your argument and press Enter",
                        elem_id="student-input",
                    )
                    send_btn = gr.Button(
                        "Send", variant="primary", scale=1, min_width=80, elem_id="send"
                    )
                notice = gr.HTML(elem_id="notice")
                download = gr.DownloadButton(
                    "Download transcript (.md)",
                    value=None,
                    elem_id="download-transcript",
                    size="sm",
                )
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### Evidence")
                evidence = gr.HTML(render.evidence_panel(None, "", None), elem_id="evidence-panel")
                with gr.Accordion("Speech timer lengths (minutes)", open=False):
                    with gr.Row():
                        minutes = [
                            gr.Number(
                                h.DEFAULT_PHASE_SECONDS[p] / 60,
                                label=p.title(),
                                minimum=0,
                                maximum=60,
                                step=0.5,
                                min_width=80,
                            )
                            for p in PHASE_NAMES
                        ]
                with gr.Accordion("Coach", open=True, elem_id="coach"):
                    coach_note = gr.HTML(
                        f'<div class="coach-note" id="coach-note">'
                        f"{'Coach controls are locked: enter the coach password.' if locked else 'Single-user mode: no coach password is set (DEBATE_COACH_PASSWORD), so anyone using this page can use the coach controls.'}"
                        "</div>"
                    )
                    with gr.Row(visible=locked) as pw_row:
                        password = gr.Textbox(
                            label="Coach password",
                            type="password",
                            elem_id="coach-password",
                            scale=3,
                        )
                        unlock_btn = gr.Button("Unlock", scale=1, elem_id="coach-unlock")
                    coach_status = gr.HTML(elem_id="coach-status")
                    with gr.Group(visible=not locked, elem_id="coach-controls") as controls:
                        switch_btn = gr.Button("Switch the bot's side", elem_id="switch-side")
                        opener = gr.Radio(
                            [("Student opens", "student"), ("Bot opens", "bot")],
                            value="student",
                            label="Who opens (on restart)",
                        )
                        engine = gr.Dropdown(
                            runtime.engine_choices(),
                            value=h.OFFLINE,
                            label="Engine (on restart)",
                            interactive=True,
                        )
                        restart_btn = gr.Button(
                            "Restart the round", variant="stop", elem_id="restart"
                        )
                        with gr.Accordion("Add a source", open=False, elem_id="sources"):
                            src_motion = gr.Dropdown(label="Motion", choices=[])
                            src_file = gr.File(
                                label="Source file (.pdf .html .md .txt, "
                                f"up to {settings.upload_max_mb:g} MB)",
                                file_types=UPLOAD_TYPES,
                                type="filepath",
                                elem_id="source-file",
                            )
                            gr.Markdown(
                                "Metadata (needed for .pdf/.html and for .md/.txt "
                                "without front matter):"
                            )
                            s_title = gr.Textbox(label="Title", elem_id="src-title")
                            with gr.Row():
                                s_pub = gr.Textbox(label="Publisher", elem_id="src-publisher")
                                s_author = gr.Textbox(label="Author (optional)")
                            with gr.Row():
                                s_date = gr.Textbox(label="Date (YYYY-MM-DD)", elem_id="src-date")
                                s_stance = gr.Dropdown(
                                    [
                                        ("supports the thesis", "supports"),
                                        ("opposes the thesis", "opposes"),
                                        ("mixed", "mixed"),
                                    ],
                                    label="Stance",
                                    value="mixed",
                                    elem_id="src-stance",
                                )
                            s_url = gr.Textbox(label="URL", elem_id="src-url")
                            add_btn = gr.Button("Add and index source", elem_id="add-source")
                            src_status = gr.HTML(elem_id="source-status")
                        with gr.Accordion("New motion", open=False, elem_id="new-motion"):
                            m_title = gr.Textbox(label="Title")
                            m_thesis = gr.Textbox(label="Thesis (one sentence)")
                            m_def = gr.Textbox(
                                label="Defend side: contentions, one per line", lines=3
                            )
                            m_att = gr.Textbox(
                                label="Attack side: contentions, one per line", lines=3
                            )
                            create_btn = gr.Button("Create motion")
                            motion_status = gr.HTML()
        cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")
        cite_go = gr.Button("show", visible="hidden", elem_id="cite-go")

        view = [chatbot, evidence, motion_card, banner, phases, timer, download]

        def render_view(st: h.TabState) -> tuple:
            motion = st.session.motion
            return (
                h.chat_messages(st),
                h.evidence_html(st),
                render.motion_card(motion),
                render.side_banner(motion, st.session.bot_side),
                h.phase_html(st),
                h.timer_html(st),
                h.transcript_file(st),
            )

        def ready_status() -> str:
            return render.status_html(*runtime.status())

        def fail(exc: Exception) -> str:
            return render.status_html(str(exc), "error")

        # -- page load: report loading honestly, then give this tab its own debate
        def on_load():
            while not runtime.ready.wait(0.5):
                yield (gr.skip(), render.status_html(*runtime.status()), *[gr.skip()] * 9)
            try:
                st = h.new_tab(runtime)
            except DebateError as exc:
                yield (None, fail(exc), *[gr.skip()] * 9)
                return
            choices = h.motion_choices(runtime)
            yield (
                st,
                ready_status(),
                gr.update(choices=choices, value=st.session.motion.id),
                gr.update(choices=choices, value=st.session.motion.id),
                *render_view(st),
            )

        demo.load(on_load, None, [state, status, motion_pick, src_motion, *view])

        # -- student
        def on_send(st, text):
            if st is None:
                yield (
                    st,
                    text,
                    fail(DebateError("Still loading; try again in a moment.")),
                    *[gr.skip()] * len(view),
                )
                return
            try:
                for messages in h.send(st, text, runtime):
                    yield (st, "", "", messages, *[gr.skip()] * (len(view) - 1))
            except DebateError as exc:
                yield (st, text, fail(exc), *[gr.skip()] * len(view))
                return
            # The reply's notices (truncation, side switch) are shown inside its message.
            yield (st, "", "", *render_view(st))

        send_io = dict(inputs=[state, msg], outputs=[state, msg, notice, *view])
        msg.submit(on_send, **send_io)
        send_btn.click(on_send, **send_io)

        def on_next_phase(st):
            if st is None:
                return (st, *[gr.skip()] * len(view))
            h.next_phase(st)
            return (st, *render_view(st))

        next_btn.click(on_next_phase, [state], [state, *view])

        def on_minutes(st, *values):
            if st is None:
                return gr.skip()
            h.set_phase_minutes(st, dict(zip(PHASE_NAMES, values, strict=True)))
            return h.timer_html(st)

        for box in minutes:
            box.change(on_minutes, [state, *minutes], [timer])
        t_start.click(None, js="() => window.debateTimer && window.debateTimer.start()")
        t_pause.click(None, js="() => window.debateTimer && window.debateTimer.pause()")
        t_reset.click(None, js="() => window.debateTimer && window.debateTimer.reset()")

        def on_cite(st, target):
            if st is None:
                return gr.skip()
            h.select_citation(st, target)
            return h.evidence_html(st)

        cite_go.click(on_cite, [state, cite_target], [evidence]).then(
            None,
            js="() => setTimeout(() => { const c = document.querySelector('#evidence-panel .ev-card.focused')"
            " || document.querySelector('#evidence-panel');"
            " if (c) c.scrollIntoView({behavior: 'smooth', block: 'nearest'}); }, 100)",
        )

        def on_motion(st, motion_id):
            if st is None or not motion_id or motion_id == st.session.motion.id:
                return (st, gr.skip(), gr.skip(), *[gr.skip()] * len(view))
            try:
                st = h.restart(st, runtime, motion_id=motion_id)
            except DebateError as exc:  # e.g. a new motion without sources yet: stay put
                return (st, fail(exc), st.session.motion.id, *[gr.skip()] * len(view))
            return (st, "", gr.skip(), *render_view(st))

        motion_pick.input(on_motion, [state, motion_pick], [state, notice, motion_pick, *view])

        # -- coach
        def on_unlock(st, pw):
            if st is None:
                return st, fail(DebateError("Still loading.")), gr.skip(), "", gr.skip(), gr.skip()
            ok, text = h.unlock_coach(st, runtime, pw)
            return (
                st,
                render.status_html(text, "ok" if ok else "error"),
                gr.update(visible=ok),
                "",
                gr.update(visible=not ok),
                '<div class="coach-note" id="coach-note">Coach controls unlocked for this '
                "tab.</div>"
                if ok
                else gr.skip(),
            )

        unlock_io = dict(
            inputs=[state, password],
            outputs=[state, coach_status, controls, password, pw_row, coach_note],
        )
        unlock_btn.click(on_unlock, **unlock_io)
        password.submit(on_unlock, **unlock_io)

        def coach_action(action):
            def run(st, *args):
                if st is None:
                    return (st, fail(DebateError("Still loading.")), *[gr.skip()] * len(view))
                try:
                    st, text = action(st, *args)
                except DebateError as exc:
                    return (st, fail(exc), *[gr.skip()] * len(view))
                return (st, render.status_html(text), *render_view(st))

            return run

        def do_switch(st):
            return st, h.switch_side(st, runtime)

        def do_restart(st, who, eng):
            st = h.coach_restart(st, runtime, who, eng)
            return st, "New round started."

        switch_btn.click(coach_action(do_switch), [state], [state, coach_status, *view])
        restart_btn.click(
            coach_action(do_restart), [state, opener, engine], [state, coach_status, *view]
        )

        def on_add(
            st, motion_id, path, title, pub, author, date, stance, url, progress=gr.Progress()
        ):
            if st is None:
                return st, fail(DebateError("Still loading.")), *[gr.skip()] * len(view)

            def report(done: int, total: int) -> None:
                progress(done / total if total else 1.0, desc=f"Embedding passages {done}/{total}")

            form = {
                "title": title,
                "publisher": pub,
                "author": author,
                "date": date,
                "stance": stance,
                "url": url,
            }
            try:
                progress(0.0, desc="Checking the file")
                text = h.add_source(st, runtime, motion_id, path, form, progress=report)
            except DebateError as exc:
                return st, fail(exc), *[gr.skip()] * len(view)
            return st, render.status_html(text), *render_view(st)

        add_btn.click(
            on_add,
            [state, src_motion, src_file, s_title, s_pub, s_author, s_date, s_stance, s_url],
            [state, src_status, *view],
        )

        def on_create(st, title, thesis, defend, attack):
            if st is None:
                return st, fail(DebateError("Still loading.")), gr.skip(), gr.skip()
            try:
                motion = h.create_motion(
                    st,
                    runtime,
                    title=title,
                    thesis=thesis,
                    defend_claims=defend,
                    attack_claims=attack,
                )
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

        create_btn.click(
            on_create,
            [state, m_title, m_thesis, m_def, m_att],
            [state, motion_status, motion_pick, src_motion],
        )
    return demo


def launch(settings: Settings) -> None:
    """Start the server (called by `debate serve`); blocks until stopped."""
    demo = build_app(settings)
    css, head = page_assets()
    demo.queue(default_concurrency_limit=4).launch(
        server_name=settings.host,
        server_port=settings.port,
        css=css,
        head=head,
        show_error=True,
        max_file_size=f"{int(settings.upload_max_mb) + 1}mb",
        footer_links=[],
        # Gradio's run history would keep every input in the browser, the coach password too.
        run_history=False,
    )
