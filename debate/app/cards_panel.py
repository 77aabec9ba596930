"""The "My cards" and "Prep" panels: their components (layout.py calls `panel`,
`cut_button`, `prep_panel` and `bridge`) and their events (`wire`), each callback calling a
plain function of debate.app.cards.

A click on "Save as card" in the evidence panel, and a selection of a passage's words,
reach the server through the hidden #card-target box (app.js writes a small JSON request
there); "Cut the selected words as a card" sends the last selection. Every card action is
page plumbing (private): it only changes this tab's own round.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr

from debate.app import cards as C
from debate.app import handlers as h
from debate.app import render
from debate.app.access import PLUMBING
from debate.core.errors import DebateError
from debate.corpus.motions import ROLE, other_side

log = logging.getLogger(__name__)
PREP = {"api_visibility": "private", "concurrency_limit": 1, "concurrency_id": "prep"}


def cut_button(ui: SimpleNamespace) -> None:
    """Under the evidence panel: cut the words selected in a passage."""
    ui.cut_btn = gr.Button(
        "✂ Cut the selected words as a card", size="sm", elem_id="cut-card", interactive=True
    )


def panel(ui: SimpleNamespace) -> None:
    with gr.Accordion("My cards", open=True, elem_id="my-cards"):
        ui.card_status = gr.HTML(elem_id="card-status")
        ui.cards_list = gr.HTML(render.my_cards_html([]), elem_id="cards-list")
        ui.card_pick = gr.Dropdown(label="Card", choices=[], elem_id="card-pick")
        ui.card_tag = gr.Textbox(
            label="Tag (the claim the card proves, in your words)",
            max_length=C.MAX_TAG_CHARS,
            elem_id="card-tag",
        )
        with gr.Row():
            ui.retag_btn = gr.Button("Save tag", size="sm", elem_id="card-retag")
            ui.insert_btn = gr.Button("Insert into my speech", size="sm", elem_id="card-insert")
            ui.remove_btn = gr.Button("Remove", size="sm", variant="stop", elem_id="card-remove")


def prep_panel(ui: SimpleNamespace) -> None:
    with gr.Accordion("Prep: case file", open=False, elem_id="prep"):
        gr.Markdown(
            "A case file for one side of this motion: its contentions with their best two "
            "cards, and blocks answering each contention of the other side. Word (.docx, "
            "Verbatim headings) and Markdown."
        )
        ui.prep_side = gr.Radio(
            [("Defend the thesis", "defend"), ("Attack the thesis", "attack")],
            value="defend",
            label="Side",
            elem_id="prep-side",
        )
        ui.prep_btn = gr.Button("Build case file", elem_id="prep-build")
        ui.prep_status = gr.HTML(elem_id="prep-status")
        with gr.Row():
            ui.prep_docx = gr.DownloadButton(
                "Download .docx", value=None, visible=False, size="sm", elem_id="prep-docx"
            )
            ui.prep_md = gr.DownloadButton(
                "Download .md", value=None, visible=False, size="sm", elem_id="prep-md"
            )


def bridge(ui: SimpleNamespace) -> None:
    """Hidden: app.js writes card requests here (see cards.card_action)."""
    ui.card_target = gr.Textbox(visible="hidden", elem_id="card-target")
    ui.card_go = gr.Button("card", visible="hidden", elem_id="card-go")


# ---------------------------------------------------------------- events


def _cards_view(st, chosen: int | None = None) -> tuple:
    """(list html, picker, tag box) for the tab's cards, `chosen` picked."""
    cards = st.session.cards if st is not None else []
    choices = C.card_choices(st)
    if chosen is None or not 0 <= chosen < len(cards):
        chosen = len(cards) - 1 if cards else None
    value = str(chosen) if chosen is not None else None
    tag = cards[chosen].tag if chosen is not None else ""
    return render.my_cards_html(cards), gr.update(choices=choices, value=value), tag


def _fail(exc: Exception) -> str:
    return render.status_html(str(exc), "error")


def wire(ui: SimpleNamespace) -> None:
    _wire_cards(ui)
    _wire_edits(ui)
    _wire_prep(ui)


def _wire_cards(ui: SimpleNamespace) -> None:
    def on_card(st, target):
        if st is None:
            return (gr.skip(),) * 6
        try:
            card = C.card_action(st, target)
        except DebateError as exc:
            return (_fail(exc), *(gr.skip(),) * 4, gr.skip())
        note = render.status_html(f"Saved “{card.tag[:80]}” ({card.cite.short()}).")
        return (note, *_cards_view(st), h.evidence_html(st), "")

    outputs = [ui.card_status, ui.cards_list, ui.card_pick, ui.card_tag, ui.evidence]
    io = {"inputs": [ui.state, ui.card_target], "outputs": [*outputs, ui.card_target]}
    ui.card_go.click(on_card, **io, **PLUMBING)
    ui.cut_btn.click(on_card, **io, **PLUMBING)

    def on_new_round(st):
        if st is None:
            return (gr.skip(),) * 4
        return ("", *_cards_view(st))

    for event in getattr(ui, "round_events", []):
        event.then(on_new_round, [ui.state], outputs[:4], **PLUMBING)


def _wire_edits(ui: SimpleNamespace) -> None:
    def on_pick(st, index):
        try:
            return st.session.cards[C.card_index(st, index)].tag
        except (DebateError, AttributeError):
            return gr.skip()

    ui.card_pick.input(on_pick, [ui.state, ui.card_pick], [ui.card_tag], **PLUMBING)

    def on_retag(st, index, tag):
        try:
            C.retag(st, index, tag)
        except (DebateError, AttributeError) as exc:
            return (_fail(exc), *(gr.skip(),) * 4)
        return (render.status_html("Tag saved."), *_cards_view(st, int(index)), h.evidence_html(st))

    def on_remove(st, index):
        try:
            C.remove(st, index)
        except (DebateError, AttributeError) as exc:
            return (_fail(exc), *(gr.skip(),) * 4)
        return (render.status_html("Card removed."), *_cards_view(st), h.evidence_html(st))

    outputs = [ui.card_status, ui.cards_list, ui.card_pick, ui.card_tag, ui.evidence]
    ui.retag_btn.click(on_retag, [ui.state, ui.card_pick, ui.card_tag], outputs, **PLUMBING)
    ui.remove_btn.click(on_remove, [ui.state, ui.card_pick], outputs, **PLUMBING)

    def on_insert(st, index, message):
        try:
            return "", C.insertion(st, index, message)
        except (DebateError, AttributeError) as exc:
            return _fail(exc), gr.skip()

    ui.insert_btn.click(
        on_insert, [ui.state, ui.card_pick, ui.msg], [ui.card_status, ui.msg], **PLUMBING
    )


def _wire_prep(ui: SimpleNamespace) -> None:
    def on_prep(st, side, progress=gr.Progress()):
        hidden = gr.update(visible=False, value=None)
        if st is None:
            return (
                render.status_html("Still loading; try again in a moment.", "error"),
                hidden,
                hidden,
            )

        def step(done: int, total: int) -> None:
            progress(done / max(total, 1), desc=f"{done}/{total} contentions and blocks")

        try:
            docx, md = C.build_case_files(st, side, step)
        except DebateError as exc:
            return _fail(exc), hidden, hidden
        except Exception as exc:  # the page must go on
            log.exception("building a case file failed")
            return _fail(DebateError(h.failure_text(exc))), hidden, hidden
        text = f"Case file ready for the {ROLE[side]} ({st.session.motion.side_label(side)})."
        shown = {"visible": True}
        return (
            render.status_html(text),
            gr.update(value=docx, **shown),
            gr.update(value=md, **shown),
        )

    ui.prep_btn.click(
        on_prep, [ui.state, ui.prep_side], [ui.prep_status, ui.prep_docx, ui.prep_md], **PREP
    )

    def on_round(st):  # the student's own side first
        if st is None:
            return gr.skip()
        return other_side(st.session.bot_side)

    for event in getattr(ui, "round_events", []):
        event.then(on_round, [ui.state], [ui.prep_side], **PLUMBING)
