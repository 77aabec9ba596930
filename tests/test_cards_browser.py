"""Cards in a real browser (issue 20): `debate serve --no-ingest` in a subprocess over a copy of
the default motion's index, Debian's chromium driven by Playwright.

A student saves a passage the bot cited as a card in one click (the tag prefilled from the
bot's sentence, then edited), cuts a card of their own by selecting words of a passage
(exact offsets, the cut marked in the passage), inserts it into their speech and sees the
coaching feedback check the quotation word for word, then builds the case file in the Prep
panel and opens the downloaded .docx with python-docx. The cards are in the autosaved
transcript. Screenshots go to test-artifacts/screenshots/cards-*.png.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.served import ServedApp, launch_chromium, require_chromium, send

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS = ARTIFACTS / "screenshots"
PASSWORD = "coach-pw-20"  # set, never entered: cards and prep are the student's own
WAIT = 180_000  # ms; on 2 busy cores a turn's evidence check and a case file take a while
POINT = "Serbia refuses to impose sanctions on Russia, almost alone in Europe."
NEW_TAG = "Belgrade keeps its distance from Moscow"

# Select about ten words (whole words) of the first long text node of a passage the student
# has not cut yet (a Range, as a mouse drag makes one); returns the selected text and the
# passage's number [n].
SELECT = """() => {
  const blocks = [...document.querySelectorAll('#evidence-panel blockquote.ev-text')];
  for (const block of blocks) {
    if (block.querySelector('mark.my-card')) continue;
    const walk = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (node.textContent.length < 80) continue;
      const text = node.textContent;
      const start = text.indexOf(' ', 5) + 1;
      const end = text.lastIndexOf(' ', start + 60);
      if (start <= 0 || end <= start + 20 || /["“”]/.test(text.slice(start, end))) continue;
      const range = document.createRange();
      range.setStart(node, start);
      range.setEnd(node, end);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      return [range.toString(), Number(block.dataset.n)];
    }
  }
  return null;
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory, default_settings):
    require_chromium()
    base = tmp_path_factory.mktemp("cards-browser")
    shutil.copytree(default_settings.data_dir, base / "data")
    app = ServedApp(
        base, {"DEBATE_DATA_DIR": str(base / "data"), "DEBATE_COACH_PASSWORD": PASSWORD}
    )
    with app:
        yield {"url": app.url, "data": base / "data"}


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


def squash(text: str) -> str:
    return " ".join(text.split())


def transcript(served) -> dict:
    (path,) = [
        p for p in (served["data"] / "transcripts").rglob("*.json") if ".ballot" not in p.name
    ]
    return json.loads(path.read_text(encoding="utf-8"))


def items(page):
    return page.locator("#cards-list li.my-card-item")


def save_a_cited_passage_as_a_card_in_one_click_and_edit_its_tag(page, served):
    send(page, POINT)
    page.locator("#chat .bot-msg[data-turn] a.cite").first.click()
    focused = page.locator("#evidence-panel .ev-card.focused")
    focused.locator("button.ev-save").wait_for()
    quoted = squash(focused.locator("mark.quote").first.inner_text())
    focused.locator("button.ev-save").click()
    items(page).first.wait_for()
    body = squash(items(page).first.locator(".my-card-body").inner_text())
    assert body and quoted.startswith(body)  # the words the bot read (cut to a card)
    tag = page.locator("#card-tag textarea").input_value()
    assert tag and "[" not in tag
    # the saved words are marked as the student's card in the passage
    page.wait_for_selector("#evidence-panel .ev-card.focused mark.my-card")
    assert squash(page.locator("#evidence-panel mark.my-card").first.inner_text()) == body
    page.locator("#card-tag textarea").fill(NEW_TAG)
    page.locator("#card-retag").click()
    page.wait_for_function(
        "t => document.querySelector('#cards-list .my-card-tag')?.textContent === t", arg=NEW_TAG
    )
    (saved,) = transcript(served)["cards"]
    assert saved["tag"] == NEW_TAG and squash(saved["body"]) == body
    page.locator("#my-cards").screenshot(path=str(SHOTS / "cards-01-saved.png"))


def cut_a_card_by_selecting_words_with_exact_offsets(page, served):
    selected, n = page.evaluate(SELECT)
    page.wait_for_function(
        "() => (document.querySelector('#card-target textarea, #card-target input')?.value"
        " || '').includes('\"cut\"')"
    )
    page.locator("#cut-card").click()
    page.wait_for_function("() => document.querySelectorAll('#cards-list li').length === 2")
    assert squash(items(page).nth(1).locator(".my-card-body").inner_text()) == squash(selected)
    marks = page.locator(f"#evidence-panel #ev-{n} mark.my-card").all_inner_texts()
    assert selected in marks  # the selection is highlighted in its passage
    data = transcript(served)
    card = data["cards"][1]
    bot = [t for t in data["turns"] if t["speaker"] == "bot"][-1]
    passage = next(p for p in bot["evidence"] if p["id"] == card["passage_id"])
    at = card["start"] - passage["start"]
    assert passage["text"][at : card["end"] - passage["start"]] == card["body"] == selected
    page.locator("#evidence-panel").screenshot(path=str(SHOTS / "cards-02-cut.png"))


def an_inserted_card_is_checked_word_for_word_by_the_feedback(page, served):
    page.locator("#card-insert").click()
    box = page.locator("#student-input textarea")
    page.wait_for_function(
        "() => document.querySelector('#student-input textarea').value.startsWith('According to')"
    )
    body = transcript(served)["cards"][1]["body"]
    assert f'"{squash(body)}"' in box.input_value()
    before = page.locator("#chat .bot-msg[data-turn] .badge").count()
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .bot-msg[data-turn] .badge').length > n", arg=before
    )
    card = page.locator("#turn-feedback .cf-turn[data-turn='2']:not(.cf-pending)")
    card.wait_for()
    quote = card.locator(".cf-quote[data-kind='quote']")
    assert quote.count() == 1, card.inner_text()
    assert (
        squash(quote.locator(".cf-quote-text").inner_text()) == f"“{squash(body).strip(' ,.;:!?')}”"
    )
    assert "word for word" in quote.inner_text()
    assert card.locator(".cf-misquote").count() == 0
    page.locator("#coaching-feedback").screenshot(path=str(SHOTS / "cards-03-checked.png"))


def docx_cards(path: Path) -> list[tuple[str, str]]:
    """(tag, body) of each card of a Verbatim .docx: a Tag paragraph, its cite, its body."""
    from docx import Document

    paragraphs = Document(str(path)).paragraphs
    out = []
    for i, p in enumerate(paragraphs):
        if p.style.name != "Tag":
            continue
        body = []
        for q in paragraphs[i + 2 :]:
            if q.style.name in ("Pocket", "Hat", "Block", "Tag"):
                break
            body.append(q.text)
        out.append((p.text, "\n".join(body)))
    return out


def the_prep_panel_builds_the_case_file_and_the_docx_opens(page, default_settings):
    from debate.corpus.motions import load_motion
    from debate.search.retrieval import get_retriever

    page.locator("#prep").get_by_text("Prep: case file").click()
    page.locator("#prep-side").get_by_text("Defend the thesis").click()
    page.locator("#prep-build").click()
    page.wait_for_selector("#prep-status .status-ok")
    assert "Case file ready for the proposition" in page.inner_text("#prep-status")
    with page.expect_download() as info:
        page.locator("#prep-docx").click()
    path = Path(info.value.path())
    shutil.copy(path, ARTIFACTS / "cards-case-file.docx")
    from docx import Document

    headings = [p.text for p in Document(str(path)).paragraphs if p.style.name == "Block"]
    motion = load_motion("serbia-russia", default_settings.corpus_dir)
    assert headings[: len(motion.contentions_for("defend"))] == [
        c.claim for c in motion.contentions_for("defend")
    ]
    assert [h for h in headings if h.startswith("AT: ")] == [
        f"AT: {c.claim}" for c in motion.contentions_for("attack")
    ]
    texts = [p.text for p in get_retriever(motion, default_settings).all_passages()]
    cards = docx_cards(path)
    assert len(cards) >= 2 * len(motion.contentions_for("defend"))
    for tag, body in cards:
        assert tag and any(body in t for t in texts), body
    with page.expect_download() as info:
        page.locator("#prep-md").click()
    assert motion.contentions_for("defend")[0].claim in Path(info.value.path()).read_text()
    page.locator("#prep").screenshot(path=str(SHOTS / "cards-04-prep.png"))


def test_cards_in_the_page_save_cut_insert_check_and_export(page, served, default_settings):
    """One round, step by step (each step needs the cards of the one before, so they are one
    test: a parallel run never splits them)."""
    save_a_cited_passage_as_a_card_in_one_click_and_edit_its_tag(page, served)
    cut_a_card_by_selecting_words_with_exact_offsets(page, served)
    an_inserted_card_is_checked_word_for_word_by_the_feedback(page, served)
    the_prep_panel_builds_the_case_file_and_the_docx_opens(page, default_settings)
