"""The page's components, one small function per panel; `build_app` assembles them and
hands them to events.py, which wires them to the handlers.

Each panel function adds its components to `ui` (a plain namespace) under the names
events.py uses. Element ids (elem_id) are what the browser tests and app.js select on.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from debate.app import cards_panel, coaching, events, handlers, render
from debate.app.runtime import OFFLINE, Runtime
from debate.core.config import Settings

STATIC = Path(__file__).resolve().parent / "static"
UPLOAD_TYPES = [".pdf", ".html", ".htm", ".md", ".txt", ".docx"]
STANCE_CHOICES = [
    ("not labelled (each sentence is read)", "unlabelled"),
    ("supports the thesis", "supports"),
    ("opposes the thesis", "opposes"),
    ("mixed", "mixed"),
]


def page_assets() -> tuple[str, str]:
    """(css, head) for Blocks.launch: Gradio 6 takes them at launch, not in Blocks()."""
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    css += "\n" + (STATIC / "coaching.css").read_text(encoding="utf-8")
    head = f"<script>{(STATIC / 'app.js').read_text(encoding='utf-8')}</script>"
    return css, head


def header(ui: SimpleNamespace, runtime: Runtime) -> None:
    with gr.Row(elem_id="app-header"):
        gr.HTML(render.HEADER)
        ui.status = gr.HTML(render.status_html(*runtime.status()), elem_id="status")


def round_panel(ui: SimpleNamespace) -> None:
    """The motion, the bot's side, the phase and the speech timer."""
    ui.motion_pick = gr.Dropdown(
        label="Motion", choices=[], interactive=True, elem_id="motion-pick"
    )
    ui.motion_card = gr.HTML(elem_id="motion-card")
    ui.banner = gr.HTML(elem_id="side-banner-box")
    with gr.Row(equal_height=False, elem_classes="tight-row"):
        ui.phases = gr.HTML(elem_id="phase-box")
        ui.next_btn = gr.Button(
            "Next phase ▸", size="sm", elem_id="next-phase", scale=0, min_width=120
        )
    with gr.Row(equal_height=False, elem_classes="tight-row"):
        ui.timer = gr.HTML(elem_id="timer-box")
        # No server events: app.js runs the countdown (see debateTimer there).
        for label, elem_id in (("Start", "timer-start"), ("Pause", "timer-pause")):
            gr.Button(label, size="sm", scale=0, min_width=70, elem_id=elem_id)
        gr.Button("Reset", size="sm", scale=0, min_width=70, elem_id="timer-reset")


def chat_panel(ui: SimpleNamespace) -> None:
    ui.chatbot = gr.Chatbot(
        label="Debate",
        elem_id="chat",
        height=520,
        sanitize_html=False,  # render.py escapes every piece of text it puts in
        render_markdown=False,
        feedback_options=None,
        buttons=["copy"],
        autoscroll=True,
        placeholder="Make your first argument below.",
    )
    with gr.Row(equal_height=True):
        ui.msg = gr.Textbox(
            label="Your argument",
            lines=1,
            max_lines=8,
            scale=5,
            placeholder="Type your argument and press Enter",
            elem_id="student-input",
        )
        ui.send_btn = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="send")
    ui.notice = gr.HTML(elem_id="notice")
    # The transcript (with its flow of arguments) is written only when asked for: a
    # visible button builds it, fills the hidden download button and clicks it (events.py).
    ui.download = gr.Button("Download transcript (.md)", elem_id="download-transcript", size="sm")
    ui.transcript = gr.DownloadButton(
        "transcript", value=None, elem_id="transcript-file", elem_classes=["offscreen"]
    )


def evidence_panel(ui: SimpleNamespace) -> None:
    gr.Markdown("### Evidence")
    ui.evidence = gr.HTML(render.evidence_panel(None, "", None), elem_id="evidence-panel")


def citation_bridge(ui: SimpleNamespace) -> None:
    """Hidden: a clicked [n] reaches the server through these two (see app.js)."""
    ui.cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")
    ui.cite_go = gr.Button("show", visible="hidden", elem_id="cite-go")


def timer_lengths_panel(ui: SimpleNamespace) -> None:
    with gr.Accordion("Speech timer lengths (minutes)", open=False):
        with gr.Row():
            ui.minutes = [
                gr.Number(
                    handlers.DEFAULT_PHASE_SECONDS[p] / 60,
                    label=p.title(),
                    minimum=0,
                    maximum=60,
                    step=0.5,
                    min_width=80,
                )
                for p in handlers.DEFAULT_PHASE_SECONDS  # the order events.py reads them in
            ]


def coach_panel(ui: SimpleNamespace, runtime: Runtime) -> None:
    """Password, side switch, restart; the source and motion forms sit inside it."""
    locked = runtime.coach_locked()
    with gr.Accordion("Coach", open=True, elem_id="coach"):
        ui.coach_note = gr.HTML(render.coach_note(locked))
        with gr.Row(visible=locked) as ui.pw_row:
            ui.password = gr.Textbox(
                label="Coach password", type="password", elem_id="coach-password", scale=3
            )
            ui.unlock_btn = gr.Button("Unlock", scale=1, elem_id="coach-unlock")
        ui.coach_status = gr.HTML(elem_id="coach-status")
        with gr.Group(visible=not locked, elem_id="coach-controls") as ui.controls:
            ui.switch_btn = gr.Button("Switch the bot's side", elem_id="switch-side")
            ui.opener = gr.Radio(
                [("Student opens", "student"), ("Bot opens", "bot")],
                value="student",
                label="Who opens (on restart)",
            )
            ui.engine = gr.Dropdown(
                runtime.engine_choices(),
                value=OFFLINE,
                label="Engine (on restart)",
                interactive=True,
            )
            ui.restart_btn = gr.Button("Restart the round", variant="stop", elem_id="restart")
            sources_panel(ui, runtime.settings)
            new_motion_panel(ui)
            coaching.past_rounds_panel(ui)


def sources_panel(ui: SimpleNamespace, settings: Settings) -> None:
    with gr.Accordion("Add a source", open=False, elem_id="sources"):
        ui.src_motion = gr.Dropdown(label="Motion", choices=[])
        ui.src_file = gr.File(
            label=f"Source file (.pdf .html .md .txt .docx, up to {settings.upload_max_mb:g} MB)",
            file_types=UPLOAD_TYPES,
            type="filepath",
            elem_id="source-file",
        )
        gr.Markdown("Metadata (needed for .pdf/.html/.docx and for .md/.txt without front matter):")
        ui.s_title = gr.Textbox(label="Title", elem_id="src-title")
        with gr.Row():
            ui.s_pub = gr.Textbox(label="Publisher", elem_id="src-publisher")
            ui.s_author = gr.Textbox(label="Author (optional)")
        with gr.Row():
            ui.s_date = gr.Textbox(label="Date (YYYY-MM-DD)", elem_id="src-date")
            ui.s_stance = gr.Dropdown(
                STANCE_CHOICES, label="Stance", value="unlabelled", elem_id="src-stance"
            )
        ui.s_url = gr.Textbox(label="URL", elem_id="src-url")
        ui.add_btn = gr.Button("Add and index source", elem_id="add-source")
        ui.src_status = gr.HTML(elem_id="source-status")
        # Indexing runs in the background: its progress, polled while a job is live.
        ui.upload_job = gr.HTML(elem_id="upload-job")
        ui.cancel_upload = gr.Button(
            "Cancel upload", size="sm", variant="stop", visible=False, elem_id="cancel-upload"
        )
        ui.upload_timer = gr.Timer(1.0, active=False)


def new_motion_panel(ui: SimpleNamespace) -> None:
    with gr.Accordion("New motion", open=False, elem_id="new-motion"):
        ui.m_title = gr.Textbox(label="Title")
        ui.m_thesis = gr.Textbox(label="Thesis (one sentence)")
        ui.m_def = gr.Textbox(label="Defend side: contentions, one per line", lines=3)
        ui.m_att = gr.Textbox(label="Attack side: contentions, one per line", lines=3)
        ui.create_btn = gr.Button("Create motion")
        ui.motion_status = gr.HTML()


def build_app(settings: Settings, runtime: Runtime | None = None) -> gr.Blocks:
    """The sparring room for these settings (warm-up starts in the background)."""
    runtime = (runtime or Runtime(settings)).start()
    handlers.resume_uploads(runtime)  # uploads a stopped server left half-indexed
    ui = SimpleNamespace()
    # Gradio keeps copies of downloads and uploads in its cache: clear those older than a day.
    with gr.Blocks(
        title="Debate sparring room", fill_width=False, delete_cache=(3600, 86400)
    ) as demo:
        ui.state = gr.State(None, delete_callback=handlers.close_tab)
        header(ui, runtime)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                round_panel(ui)
                chat_panel(ui)
            with gr.Column(scale=2, min_width=300):
                evidence_panel(ui)
                cards_panel.cut_button(ui)
                cards_panel.panel(ui)  # My cards
                coaching.panel(ui)  # feedback, flow, ballot
                cards_panel.prep_panel(ui)
                timer_lengths_panel(ui)
                coach_panel(ui, runtime)
        citation_bridge(ui)
        cards_panel.bridge(ui)
        events.wire(demo, ui, runtime)
    return demo


def launch(settings: Settings, fmt=None) -> None:
    """Start the server (called by `debate serve`); blocks until stopped. `fmt`: the
    rounds' format (debate.corpus.formats), else each motion's own."""
    runtime = Runtime(settings)
    runtime.format = fmt
    demo = build_app(settings, runtime)
    css, head = page_assets()
    exports = settings.data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    demo.queue(default_concurrency_limit=4).launch(
        server_name=settings.host,
        server_port=settings.port,
        css=css,
        head=head,
        show_error=True,
        max_file_size=f"{int(settings.upload_max_mb) + 1}mb",
        footer_links=[],
        allowed_paths=[str(exports)],  # transcript downloads (handlers.transcript_file)
        # Gradio's run history would keep every input in the browser, the coach password too.
        run_history=False,
    )
