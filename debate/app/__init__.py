"""The sparring room: a Gradio page where a student debates the bot and a coach steers it.

layout.py    the page, one function per panel, and `build_app` / `launch`
events.py    Gradio callbacks: handler results onto components, one wire_* per panel
handlers.py  what the page does, as plain functions over one tab's TabState (no Gradio)
runtime.py   what is loaded once per process (models, indexes, motion packs)
render.py    HTML for chat messages, the evidence panel, badges and banners
coaching.py  the student's evidence checked, the flow, the ballot, past rounds (coach);
             coaching_render.py is their HTML, static/coaching.css their style
static/      app.css and app.js (citation clicks, the speech timer)
"""

from debate.app.layout import build_app, launch

__all__ = ["build_app", "launch"]
