"""The sparring room in a real browser: Debian's chromium driven by Playwright against
`debate serve` started in a subprocess on a free loopback port.

The server gets its own copy of corpus/ (uploads write into it) and of the session's index.
Screenshots of the main states go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.served import ServedApp, launch_chromium, require_chromium, send

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ARTIFACTS / "screenshots"
PASSWORD = "coach-pw-42"
WAIT = 90_000  # ms; a reply takes a few seconds on 2 cores, the first one longer

HONEY = """\
Serbian beekeepers exported 4,321 tonnes of acacia honey to Russia in 2024, the Serbian
Beekeepers Union said, making Russia the largest buyer of Serbian honey.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, default_settings):
    """`debate serve --no-ingest` over a tmp copy of the corpus and a copy of the session's
    index of it (the same sources: an index of this copy would hold the same passages)."""
    require_chromium()
    base = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "corpus", base / "corpus")
    shutil.copytree(ROOT / "seeds", base / "seeds")  # the default pack points into ../../seeds
    shutil.copytree(default_settings.data_dir, base / "data")

    app = ServedApp(
        base,
        {
            "DEBATE_DATA_DIR": str(base / "data"),
            "DEBATE_CORPUS_DIR": str(base / "corpus"),
            "DEBATE_COACH_PASSWORD": PASSWORD,
        },
    )
    with app:
        yield {"url": app.url, "corpus": base / "corpus", "base": base}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def open_page(browser, server, width=1366, height=900):
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(server["url"])
    page.wait_for_selector("#side-banner")
    page.wait_for_selector("#status .status-ok")
    return context, page


def shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def last_bot(page):
    return page.locator("#chat .bot-msg[data-turn]").last


def unlock(page, password: str) -> None:
    page.locator("#coach-password input").fill(password)
    page.locator("#coach-unlock").click()


def test_page_loads_with_motion_side_phase_and_locked_coach(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(server["url"])
    page.wait_for_selector("#status .status")
    # The first page of a fresh server usually finds the model still loading, and says so.
    shot(page, "00-first-paint")
    page.wait_for_selector("#status .status-ok")
    page.wait_for_selector("#side-banner")
    assert page.inner_text("#status") == "Ready."
    assert "Serbia is not a Russian ally" in page.inner_text("#motion-card")
    assert "The bot is ATTACKING the thesis." in page.inner_text("#side-banner")
    assert page.inner_text("#phase-indicator .current") == "Opening"
    assert "04:00" in page.inner_text("#speech-timer")
    assert "locked" in page.inner_text("#coach-note")
    assert not page.locator("#switch-side").is_visible()
    shot(page, "01-loaded")
    context.close()


def test_student_holds_a_full_round_and_checks_a_citation(browser, server):
    context, page = open_page(browser, server)
    send(page, "Serbia refuses to sanction Russia, so it is obviously Moscow's ally.")
    reply = last_bot(page)
    assert reply.locator("a.cite").count() >= 1
    assert re.search(r"\d+/\d+ citations verified", reply.locator(".badge").inner_text())
    # the whole view (phase, timer, transcript) follows the checked reply in the next update
    page.wait_for_function(
        "() => document.querySelector('#phase-indicator .current')?.innerText === 'Rebuttals'"
    )
    shot(page, "02-bot-reply")

    # Click citations until one whose sentence quotes its passage (some cite a paraphrase).
    highlighted = None
    for i in range(reply.locator("a.cite").count()):
        cite = reply.locator("a.cite").nth(i)
        n = cite.get_attribute("data-cite")
        cite.click()
        card = page.locator(f"#evidence-panel .ev-card.focused#ev-{n}")
        card.wait_for()
        assert card.locator(".ev-link a").get_attribute("href").startswith("http")
        if card.locator("mark.quote").count():
            highlighted = card
            break
    assert highlighted is not None, "no citation showed a highlighted quote"

    def words(text: str) -> str:
        return " ".join(text.split())

    mark = words(highlighted.locator("mark.quote").first.inner_text())
    assert mark in words(highlighted.locator(".ev-text").inner_text())
    assert mark in words(reply.inner_text())  # the quoted words, verbatim
    shot(page, "03-evidence-highlighted")

    send(page, "But Serbia sells ammunition that ends up in Ukraine, which Moscow hates.")
    page.locator("#next-phase").click()
    page.wait_for_function(
        "() => document.querySelector('#phase-indicator .current')?.textContent === 'Closing'"
    )
    assert "02:00" in page.inner_text("#speech-timer")
    page.locator("#timer-start").click()
    page.wait_for_function(
        "() => !document.querySelector('#speech-timer .timer-clock').textContent.includes('02:00')"
    )
    send(page, "In closing: Serbia is balancing, not allied, and its votes at the UN prove it.")
    assert page.locator("#chat .bot-msg[data-turn]").count() == 3
    assert "Closing" in last_bot(page).locator(".msg-where").inner_text()
    shot(page, "04-full-round-closing")

    with page.expect_download() as info:
        page.locator("#download-transcript").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "Serbia refuses to sanction Russia" in text and "## Speeches" in text
    entries = re.findall(r"^(\d+)\. .+ https?://\S+$", text.split("## Sources", 1)[1], re.M)
    assert entries and entries == [str(i) for i in range(1, len(entries) + 1)]
    context.close()


def test_coach_password_then_side_switch_mid_round(browser, server):
    context, page = open_page(browser, server)
    send(page, "Serbia buys Russian gas, so it depends on Moscow.")
    unlock(page, "not-the-password")
    page.wait_for_selector("#coach-status .status-error")
    assert "Wrong coach password" in page.inner_text("#coach-status")
    assert not page.locator("#switch-side").is_visible()
    shot(page, "05-coach-wrong-password")

    unlock(page, PASSWORD)
    page.wait_for_selector("#switch-side", state="visible")
    assert "unlocked" in page.inner_text("#coach-status")
    page.locator("#switch-side").click()
    page.wait_for_function(
        "() => document.querySelector('#side-banner')?.textContent.includes('DEFENDING')"
    )
    assert "Switching sides" in page.inner_text("#chat")
    send(page, "Serbia will never leave Russia's side, whatever the EU offers.")
    assert "bot defends" in last_bot(page).locator(".msg-where").inner_text()
    shot(page, "06-side-switched")
    context.close()


def test_coach_uploads_a_source_and_the_bot_finds_it(browser, server, tmp_path):
    context, page = open_page(browser, server)
    unlock(page, PASSWORD)
    page.wait_for_selector("#switch-side", state="visible")
    page.get_by_text("Add a source").click()

    bare = tmp_path / "honey.md"
    bare.write_text(HONEY, encoding="utf-8")
    page.locator("#source-file input[type=file]").set_input_files(str(bare))
    page.locator("#add-source").click()
    page.wait_for_selector("#source-status .status-error")
    assert "has no front matter, so fill in" in page.inner_text("#source-status")
    assert not (server["corpus"] / "serbia-russia" / "sources" / "honey.md").exists()
    shot(page, "07-upload-rejected")

    page.locator("#src-title textarea, #src-title input").first.fill("Serbian honey exports")
    page.locator("#src-publisher textarea, #src-publisher input").first.fill("Beekeepers Union")
    page.locator("#src-date textarea, #src-date input").first.fill("2025-01-15")
    page.locator("#src-url textarea, #src-url input").first.fill("https://example.org/honey")
    # a refused upload is not kept on the server: the coach chooses the file again
    assert "choose the file again" in page.inner_text("#source-status")
    page.locator("#source-file input[type=file]").set_input_files(str(bare))
    page.locator("#add-source").click()
    page.wait_for_selector("#source-status .status-ok")
    assert "indexing it in the background" in page.inner_text("#source-status")
    # embedding runs in the background; the job's panel says when it is searchable
    page.wait_for_selector("#upload-job .upload-job[data-state='done']", timeout=WAIT)
    assert "searchable now" in page.inner_text("#upload-job")
    assert (server["corpus"] / "serbia-russia" / "sources" / "honey.md").is_file()
    shot(page, "08-upload-accepted")

    send(page, "Serbian beekeepers export acacia honey to Russia: 4,321 tonnes in 2024.")
    last_bot(page).locator("a.ev-open").click()
    card = page.locator("#evidence-panel .ev-card", has_text="Serbian honey exports").first
    card.wait_for(state="attached")
    if not card.is_visible():  # retrieved but not cited: it sits in the expandable list
        page.locator("#evidence-panel details.ev-uncited summary").click()
    card.scroll_into_view_if_needed()
    assert "Beekeepers Union" in card.inner_text()
    # Viewport only: a full-page capture re-lays the page out and loses the panel's scroll.
    shot(page, "09-uploaded-source-in-evidence", full_page=False)
    context.close()


def test_two_tabs_never_see_each_others_debate(browser, server):
    ctx_a, a = open_page(browser, server)
    ctx_b, b = open_page(browser, server)
    send(a, "Serbia's public loves Russia, polls show it.")
    unlock(a, PASSWORD)
    a.wait_for_selector("#switch-side", state="visible")
    a.locator("#switch-side").click()
    a.wait_for_function(
        "() => document.querySelector('#side-banner')?.textContent.includes('DEFENDING')"
    )
    b.reload()
    b.wait_for_selector("#status .status-ok")
    assert b.locator("#chat .bot-msg").count() == 0
    assert "Serbia's public" not in b.inner_text("#chat")
    assert "ATTACKING" in b.inner_text("#side-banner")
    assert not b.locator("#switch-side").is_visible()  # a's unlock is not b's
    send(b, "Serbia voted against Russia at the UN.")
    assert a.locator("#chat .bot-msg[data-turn]").count() == 1
    assert "voted against Russia" not in a.inner_text("#chat")
    shot(a, "10-tab-a")
    shot(b, "11-tab-b")
    ctx_a.close()
    ctx_b.close()


def test_phone_width_layout_is_usable(browser, server):
    context, page = open_page(browser, server, width=390, height=844)
    send(page, "Serbia hosts Russian media like RT and Sputnik.")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page scrolls sideways by {overflow}px on a phone"
    assert page.locator("#send").is_visible() and page.locator("#evidence-panel").is_visible()
    shot(page, "12-phone")
    context.close()
