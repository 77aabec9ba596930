"""A background upload in a real browser (issue 12): `debate serve` in a subprocess, Debian's
chromium driven by Playwright. The coach uploads a long file, sees its indexing progress,
debates meanwhile (a message sent and answered while the job runs), then cancels: the page
says the pack is as it was, and it is. Screenshots: test-artifacts/screenshots/upload-*.png.
"""

from __future__ import annotations

import pytest

from tests.apps import AppServer, listing
from tests.conftest import ARTIFACTS
from tests.served import launch_chromium, require_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WAIT = 180_000  # ms, on 2 busy cores
FRONT = (
    "---\ntitle: Walk reports\npublisher: Walk Weekly\ndate: 2024-02-03\n"
    "url: https://example.org/walks\nstance: opposes\n---\n"
)


@pytest.fixture
def served(tmp_path, embedder):
    require_chromium()
    app = AppServer(tmp_path / "site")
    yield app.start()
    app.stop()


@pytest.fixture
def page(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(WAIT)
        page.goto(served.url)
        page.wait_for_selector("#status .status-ok")
        yield page
        browser.close()


def shot(page, name: str) -> None:
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / f"upload-{name}.png"), full_page=True)


def test_coach_uploads_debates_while_it_indexes_then_cancels(page, served, tmp_path):
    upload = tmp_path / "walks.md"
    upload.write_text(
        FRONT
        + "\n\n".join(
            f"Walk report {i}: a dog called Rex{i} walked {i % 9 + 2} kilometres on day {i}, "
            f"and its owner's resting heart rate fell by {i % 7 + 1} beats in {i % 5 + 2} weeks."
            for i in range(2000)
        ),
        encoding="utf-8",
    )
    pack_before = listing(served.corpus)
    page.locator("#coach-password input").fill(served.password)
    page.locator("#coach-unlock").click()
    page.wait_for_selector("#coach-status .status-ok")
    page.locator("#sources").get_by_text("Add a source").click()
    page.locator("#source-file input[type=file]").set_input_files(str(upload))
    page.wait_for_selector("#source-file :text('walks.md')")
    page.locator("#add-source").click()
    page.wait_for_selector("#source-status .status-ok")
    assert "indexing it in the background" in page.inner_text("#source-status")
    page.wait_for_function(
        "() => Number(document.querySelector('#upload-job progress')?.value) > 0"
    )
    shot(page, "1-progress")

    # The page is free meanwhile: a message is sent and answered while the job runs.
    box = page.locator("#student-input textarea")
    box.fill("Dogs keep their owners healthy because they need walks.")
    box.press("Enter")
    page.wait_for_selector("#chat .bot-msg:not(.streaming)")
    assert page.locator("#upload-job progress").count() == 1  # still indexing
    shot(page, "2-debating")

    page.locator("#cancel-upload").click()
    page.wait_for_selector("#upload-job .upload-job[data-state='cancelled']")
    text = page.inner_text("#upload-job")
    assert "Cancelled" in text and "as they were" in text
    shot(page, "3-cancelled")
    assert listing(served.corpus) == pack_before
