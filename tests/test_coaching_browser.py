"""Coaching in a real browser (issue 11): `debate serve --no-ingest` in a subprocess, Debian's
chromium driven by Playwright.

A round in which the student misquotes a figure of the seed article (The National Interest:
Serbia condemned the invasion in the UN General Assembly "at least four times"; the student
says ten): the feedback panel shows the misquote with the real passage and the differing
word marked, the flow marks the bot's unanswered arguments as dropped, and the ballot
appears after the bot's closing speech. Then a coach opens the round from the past rounds.
Screenshots go to test-artifacts/screenshots/coaching-*.png.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.served import ServedApp, launch_chromium, require_chromium, send

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS = ARTIFACTS / "screenshots"
PASSWORD = "coach-pw-11"
WAIT = 180_000  # ms; the evidence check runs after the reply, on 2 busy cores

MISQUOTE = (
    "Serbia is not Moscow's ally. Belgrade voted at least ten times in the UN General "
    "Assembly to condemn the Russian invasion."
)
CLOSING = "In closing: Serbia condemned the invasion at the UN and that is not what an ally does."


@pytest.fixture(scope="module")
def served(tmp_path_factory, default_settings):
    """`debate serve --no-ingest` on a copy of the session's ingested index."""
    require_chromium()
    base = tmp_path_factory.mktemp("coaching-browser")
    shutil.copytree(default_settings.data_dir, base / "data")
    app = ServedApp(
        base, {"DEBATE_DATA_DIR": str(base / "data"), "DEBATE_COACH_PASSWORD": PASSWORD}
    )
    with app:
        yield {"url": app.url, "data": base / "data", "log": app.log_path}


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        pg = context.new_page()
        pg.set_default_timeout(WAIT)
        pg.goto(served["url"])
        pg.wait_for_selector("#side-banner")
        pg.wait_for_selector("#status .status-ok")
        yield pg
        browser.close()


def shot(page, name: str, selector: str | None = None) -> None:
    if selector:
        page.locator(selector).screenshot(path=str(SHOTS / f"coaching-{name}.png"))
    else:
        page.screenshot(path=str(SHOTS / f"coaching-{name}.png"), full_page=True)


def squash(text: str) -> str:
    return " ".join(text.split())


def test_misquote_flow_and_ballot_in_the_page(page, served):
    assert "The ballot appears at the end" in page.inner_text("#ballot")
    send(page, MISQUOTE)
    # The reply is on screen before the check finishes: the placeholder says so.
    page.wait_for_selector("#turn-feedback .cf-turn[data-turn='0']")
    card = page.locator("#turn-feedback .cf-turn[data-turn='0']:not(.cf-pending)")
    card.wait_for()
    misquote = card.locator(".cf-quote.cf-misquote")
    assert misquote.count() >= 1, card.inner_text()
    said = squash(misquote.first.locator(".cf-said").inner_text())
    assert said == "You said ten times; the source says four times."
    assert misquote.first.locator("mark.cf-diff").first.inner_text() == "four"
    real = squash(misquote.first.locator(".cf-source-says").inner_text())
    assert "in the UN General Assembly at least four times" in real
    assert "The National Interest" in misquote.first.locator(".cf-source-who").inner_text()
    assert card.locator(".cf-problem[data-kind='misquote']").count() == 1
    # The whole passage, with the sentence highlighted, one click away.
    misquote.first.locator(".cf-passage summary").click()
    assert "at least four times" in misquote.first.locator("mark.cf-sentence").inner_text()
    shot(page, "01-misquote", "#coaching-feedback")

    # The flow: the bot's opening arguments, none answered yet: dropped.
    flow = page.locator("#flow-sheet")
    page.wait_for_selector("#flow-sheet tr.cf-flow-row.bot")
    bot_rows = flow.locator("tr.cf-flow-row.bot")
    assert bot_rows.count() >= 2
    assert flow.locator("tr.cf-flow-row.bot.dropped").count() == bot_rows.count()
    assert "DROPPED" in bot_rows.first.inner_text()
    assert "You have not answered" in flow.locator(".cf-flow-note").inner_text()
    shot(page, "02-flow", "#coaching-flow")

    # Closing: the bot's closing speech brings the ballot without asking.
    page.locator("#next-phase").click()
    page.wait_for_function(
        "() => document.querySelector('#phase-indicator .current')?.textContent === 'Closing'"
    )
    send(page, CLOSING)
    page.wait_for_selector("#ballot #ballot-card")
    ballot = page.locator("#ballot #ballot-card")
    criteria = ballot.locator("tr.cf-score").all_inner_texts()
    assert [c.split("\t")[0].strip() for c in criteria] == [
        "claim clarity",
        "evidence",
        "clash",
        "rebuttal",
    ]
    evidence = squash(ballot.locator("tr.cf-score[data-criterion='evidence']").inner_text())
    assert "ten times" in evidence and "four times" in evidence
    assert ballot.locator(".cf-better li").count() == 2
    assert ballot.locator(".cf-chart svg rect").count() >= 2
    # Every turn of the student was checked by now.
    page.wait_for_function(
        "() => document.querySelectorAll('#turn-feedback .cf-turn:not(.cf-pending)').length === 2"
    )
    shot(page, "03-ballot", "#coaching-ballot")
    shot(page, "04-page")

    # The button does the same on demand.
    page.locator("#end-round").click()
    # the old card is replaced by "Writing the ballot…", then by the new card
    page.wait_for_timeout(1500)
    page.wait_for_function(
        "() => { const b = document.querySelector('#ballot');"
        " return b && b.querySelector('#ballot-card') && !b.innerText.includes('Writing the ballot'); }"
    )
    assert "evidence" in page.inner_text("#ballot")


def test_coach_opens_the_round_from_past_rounds(page, served):
    page.locator("#coach-password input").fill(PASSWORD)
    page.locator("#coach-unlock").click()
    page.wait_for_selector("#coach-status .status-ok")
    page.locator("#past-rounds").get_by_text("Past rounds").click()
    page.locator("#list-rounds").click()
    page.wait_for_selector("#rounds-table tbody tr")
    row = squash(page.locator("#rounds-table tbody tr").first.inner_text())
    assert "serbia-russia" in row and "evidence" in row  # the saved ballot's summary
    page.locator("#open-round").click()
    page.wait_for_selector("#round-view #round-view-body")
    view = page.locator("#round-view")
    assert "You said ten times; the source says four times." in squash(view.inner_text())
    assert view.locator("#ballot-card").count() == 1
    assert view.locator("tr.cf-flow-row.bot.dropped").count() >= 1
    shot(page, "05-coach-round", "#past-rounds")
    with page.expect_download() as info:
        page.locator("#round-download").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "ten times" in text and "## Flow" in text and "## Ballot" in text
    assert "DROPPED" in text


def test_past_rounds_are_refused_over_http_without_the_password(served):
    """Straight to the server, as any script could: the hidden endpoints answer "locked"."""
    from gradio_client import Client

    client = Client(served["url"], verbose=False, download_files=False)
    client.predict(api_name="/load")
    listed = client.predict(api_name="/list_rounds")
    assert "Coach controls are locked" in listed[0] and "serbia-russia" not in listed[0]
    key = next(
        p for p in (served["data"] / "transcripts").rglob("*.json") if ".ballot" not in p.name
    )
    key = key.relative_to(served["data"] / "transcripts").as_posix()
    status, page, download = client.predict(key, api_name="/open_round")
    assert "Coach controls are locked" in status and not page and not download
