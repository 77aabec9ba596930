"""No unchecked text on screen in the web app (issue 10): `debate serve` in a subprocess, its
LLM the loopback replay server streaming, token by token, a reply with a fabricated citation
and an unsupported claim. A MutationObserver records the chat's text on every DOM change;
no recorded state may show either bad sentence.

Only stable element ids (`#student-input`, Enter sends; `#chat`; `#restart`) and accessible
names are used: a tab starts on the offline engine, so the test picks the LLM in the coach's
"Engine (on restart)" menu and restarts the round, as a coach would.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

from tests.replay import faithful_quote, tokens
from tests.served import ServedApp, launch_chromium, require_chromium
from tests.test_stream_guard_spar import BAD_WORDS, CLOSING, STUDENT, mixed_reply

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WAIT = 120_000  # ms; the first reply loads models on 2 busy cores
# The chat's text after every batch of DOM mutations (a batch is delivered before the next
# paint, so every state the student could have seen is recorded). The observer watches the
# whole body, so a re-rendered #chat is still seen.
OBSERVE = """() => {
  window.__seen = [];
  const record = () => {
    const chat = document.querySelector('#chat');
    if (chat) window.__seen.push(chat.textContent);
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true,
  });
  record();
}"""
REMOVAL_NOTE = re.compile(r"Removed a sentence the evidence does not support \(.*?\): [^.]*\.")


@pytest.fixture
def served(default_settings, replay, tmp_path):
    """`debate serve --no-ingest` on a copy of the session's index, its LLM the replay
    server; yields (url, replay server, log path)."""
    require_chromium()
    server = replay([mixed_reply], split=tokens, chunk_delay=0.02)
    shutil.copytree(default_settings.data_dir, tmp_path / "data")  # the app writes exports
    app = ServedApp(
        tmp_path,
        {
            "DEBATE_DATA_DIR": str(tmp_path / "data"),
            "DEBATE_LLM": "openai:replay",
            "DEBATE_LLM_BASE_URL": server.openai_url,
            "DEBATE_LLM_TIMEOUT": "60",
        },
    )
    with app:
        yield app.url, server, app.log_path


def test_browser_never_shows_a_fabricated_citation_or_unsupported_sentence(served):
    from playwright.sync_api import TimeoutError as PageTimeout
    from playwright.sync_api import sync_playwright

    url, server, log_path = served
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        page.set_default_timeout(WAIT)
        page.goto(url)
        page.wait_for_selector("#chat")
        # the app warms up in the background; its status line says when it is ready
        page.wait_for_function(
            "() => !document.querySelector('#status')"
            " || document.querySelector('#status').textContent.includes('Ready')"
        )
        # a tab starts on the offline engine; the coach picks the configured LLM (by the
        # controls' accessible names) and restarts the round
        page.get_by_role("combobox", name="Engine (on restart)").click()
        page.get_by_role("option", name="LLM: openai:replay").click()
        page.locator("#restart").click()
        page.get_by_text("New round started.").wait_for()
        page.evaluate(OBSERVE)
        box = page.locator("#student-input textarea, #student-input input").first
        box.fill(STUDENT)
        box.press("Enter")
        # the final render names the two removed sentences below the speech
        try:
            page.wait_for_function(
                "() => (document.querySelector('#chat').textContent"
                ".match(/Removed a sentence/g) || []).length >= 2"
            )
        except PageTimeout:
            pytest.fail(
                f"no final reply; chat: {page.locator('#chat').text_content()!r}\n"
                f"server log:\n{log_path.read_text()[-3000:]}"
            )
        time.sleep(1.0)  # any mutation still queued after the final render
        seen: list[str] = page.evaluate("window.__seen")
        final = page.locator("#chat").text_content()
        browser.close()

    [turn] = server.requests
    assert turn.body["stream"] is True
    good = faithful_quote(turn.body)
    assert good in final and CLOSING in final
    # the speech appeared while it streamed, before the final render
    assert any(good in s and "Removed a sentence" not in s for s in seen)
    assert len(seen) > 3
    for snapshot in seen:
        shown = REMOVAL_NOTE.sub("", snapshot)
        for word in BAD_WORDS:
            assert word not in shown, f"{word!r} was on screen:\n{snapshot}"
        assert "[9]" not in snapshot  # not even in a notice
