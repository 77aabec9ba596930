"""Cards: made from real passages of the default motion's seed article (loaded and chunked
by the real loader, no index needed), validated against their source word for word,
carried by to_dict, and written to Word (parsed back with python-docx: the Verbatim styles,
the outline levels, the bold cite, underline and highlight on exactly the card's words) and
to Markdown; the cards of a saved round exported by `debate cards export`."""

from __future__ import annotations

import dataclasses
import json
import re

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from typer.testing import CliRunner

from debate.cards.card import (
    MAX_QUOTE_WORDS,
    Card,
    CardError,
    Cite,
    card_from_passage,
    card_from_quote,
    cite_of,
    cut,
    validate,
)
from debate.cards.casefile import BLOCK, HAT, CaseFile, Section
from debate.cards.docx_out import case_document, write_docx
from debate.cards.markdown import case_markdown
from debate.cards.round_cards import round_case_file
from debate.core.config import load_settings
from debate.corpus.cites import cite_line, parse_cite
from debate.corpus.ingest import prepare_source
from debate.corpus.motions import load_motion

VERBATIM = {"Pocket": 1, "Hat": 2, "Block": 3, "Tag": 4}


@pytest.fixture(scope="module")
def seed():
    """The seed article's source text and passages (real loader and chunker)."""
    s = load_settings(environ={})
    motion = load_motion("serbia-russia", s.corpus_dir)
    prepared = prepare_source(motion, motion.sources[0], s)
    return prepared.text, prepared.passages


@pytest.fixture(scope="module")
def cards(seed):
    """Three cards of the seed: a user's cut with sub-spans, a two-sentence cut and a card
    cut from a quote."""
    _, passages = seed
    p = passages[3]
    first = p.text.index("Belgrade has been regarded")
    end = p.text.index(".", first) + 1
    mine = card_from_passage(
        p,
        first,
        end,
        "Serbia is seen as Russia's ally",
        highlighted=[(0, 8), (13, 26)],
        underlined=[(0, 43)],
    )
    q = passages[5]
    two = card_from_passage(q, 0, min(len(q.text), 400), "Two sentences", [(5, 30)], [(0, 60)])
    quoted = card_from_quote(passages[7], passages[7].text[:60], "The bot's card")
    return [mine, two, quoted]


def test_a_card_body_is_the_source_text_at_its_offsets(seed, cards):
    text, passages = seed
    by_id = {p.id: p for p in passages}
    for card in cards:
        assert text[card.start : card.end] == card.body
        validate(card, by_id[card.passage_id])


def test_a_clipped_or_moved_card_is_refused(seed, cards):
    _, passages = seed
    card = cards[0]
    passage = next(p for p in passages if p.id == card.passage_id)
    clipped = dataclasses.replace(card, body=card.body.replace("Belgrade", "Beograd"))
    with pytest.raises(CardError, match="word for word"):
        validate(clipped, passage)
    moved = dataclasses.replace(card, start=card.start + 1, end=card.end + 1)
    with pytest.raises(CardError, match="word for word"):
        validate(moved, passage)
    outside = dataclasses.replace(card, highlighted=((0, len(card.body) + 1),))
    with pytest.raises(CardError, match="outside"):
        validate(outside, passage)
    with pytest.raises(CardError, match="not cut from"):
        validate(card, passages[0])


def test_bad_spans_and_tags_are_refused_with_a_message(seed):
    _, passages = seed
    p = passages[2]
    with pytest.raises(CardError, match="runs past"):
        card_from_passage(p, 0, len(p.text) + 5, "tag")
    with pytest.raises(CardError, match="start < end"):
        card_from_passage(p, 10, 10, "tag")
    with pytest.raises(CardError, match="needs a tag"):
        card_from_passage(p, 0, 20, "   ")
    with pytest.raises(CardError, match="overlap"):
        card_from_passage(p, 0, 40, "tag", highlighted=[(0, 10), (5, 12)])
    with pytest.raises(CardError, match="outside"):
        card_from_passage(p, 0, 40, "tag", underlined=[(30, 41)])
    with pytest.raises(CardError, match="no words"):
        card_from_passage(p, p.text.index(" "), p.text.index(" ") + 1, "tag")


def test_a_selection_loses_its_outer_spaces_and_keeps_its_marks_on_the_same_words(seed):
    _, passages = seed
    p = passages[3]
    at = p.text.index(" Belgrade has")
    card = card_from_passage(p, at, at + 14, "tag", highlighted=[(1, 9)], underlined=[(0, 14)])
    assert card.body == "Belgrade has" and card.start == p.start + at + 1
    assert card.body[slice(*card.highlighted[0])] == "Belgrade"
    assert card.underlined == ((0, len("Belgrade has")),)


def test_a_quote_is_found_exactly_or_despite_spacing_and_case(seed):
    _, passages = seed
    p = passages[3]
    sentence = p.text[: p.text.index(",")]
    exact = card_from_quote(p, sentence, "tag")
    assert exact.body == sentence and exact.highlighted == ((0, len(sentence)),)
    loose = card_from_quote(p, "  " + sentence.upper().replace(" ", "   ") + " ", "tag")
    assert loose.body == sentence  # the source's words, not the quote's spelling
    with pytest.raises(CardError, match="not in passage"):
        card_from_quote(p, "Serbia joined NATO in 1999", "tag")


def test_a_card_cut_from_a_long_quote_reads_at_most_forty_words(seed):
    _, passages = seed
    p = max(passages, key=lambda x: len(x.text))
    card = card_from_quote(p, p.text, "tag")
    assert len(card.body.split()) <= MAX_QUOTE_WORDS < len(p.text.split())
    assert p.text.startswith(card.body)
    short = "A short quote, with a clause."
    assert cut(short) == short


def test_cards_travel_as_dicts(cards):
    for card in cards:
        again = Card.from_dict(json.loads(json.dumps(card.to_dict())))
        assert again == card
    with pytest.raises(CardError, match="not a card"):
        Card.from_dict({"tag": "x"})


def test_the_cite_says_author_and_year_and_reads_back(seed):
    _, passages = seed
    cite = cite_of(passages[0])
    assert cite.short() == "Dragaš 24"
    assert parse_cite(cite.line()) == cite.to_dict()
    full = Cite(
        "Jo Smith and Al Roe",
        "professor of politics, Oxford",
        "2019-03-14",
        "A title, with a comma",
        "Pub",
        "https://e.org/a?b=c",
        "2026-12-04",
    )
    assert full.short() == "Smith 19"
    assert parse_cite(full.line()) == full.to_dict()
    no_author = Cite(date="2021-01-02", title="T", publisher="Agency", url="https://a.b")
    assert no_author.short() == "Agency 21"
    assert parse_cite(cite_line(no_author.to_dict())) == no_author.to_dict()


def case_of(cards) -> CaseFile:
    return CaseFile(
        "Serbia and Russia",
        "Proposition",
        [
            Section("Contention one", HAT, cards[:2], notes=["Our first contention."]),
            Section("A2: Serbia is an ally", BLOCK, cards[2:]),
        ],
    )


def marks(paragraphs) -> tuple[str, set[int], set[int]]:
    """Text of body paragraphs (joined by newlines) and the indices of underlined and
    highlighted characters, read from the runs as Word would show them."""
    text, under, high = "", set(), set()
    for i, par in enumerate(paragraphs):
        if i:
            text += "\n"
        for run in par.runs:
            span = range(len(text), len(text) + len(run.text))
            text += run.text
            style_underline = run.style is not None and run.style.font.underline
            if run.font.underline or style_underline:
                under.update(span)
            if run.font.highlight_color == WD_COLOR_INDEX.YELLOW:
                high.update(span)
    return text, under, high


def indices(spans) -> set[int]:
    return {i for s, e in spans for i in range(s, e)}


def outline_level(style) -> int:
    """Word's outline level of a paragraph style (1-based), through its base styles."""
    while style is not None:
        found = (
            style.element.pPr.find(qn("w:outlineLvl")) if style.element.pPr is not None else None
        )
        if found is not None:
            return int(found.get(qn("w:val"))) + 1
        style = style.base_style
    return 0


def test_word_export_uses_the_verbatim_styles_and_outline(tmp_path, cards):
    path = write_docx(case_of(cards), tmp_path / "case.docx")
    document = docx.Document(str(path))
    for name, level in VERBATIM.items():
        style = document.styles[name]
        assert style.base_style.name == f"Heading {level}"
        assert outline_level(style) == level
    assert document.styles["Underline"].font.underline is True
    assert document.styles["Cite"].font.bold is True
    emphasis = document.styles["Emphasis"].font
    assert emphasis.bold and emphasis.underline
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name in VERBATIM]
    assert headings == [
        ("Pocket", "Serbia and Russia: Proposition"),
        ("Hat", "Contention one"),
        ("Tag", cards[0].tag),
        ("Tag", cards[1].tag),
        ("Block", "A2: Serbia is an ally"),
        ("Tag", cards[2].tag),
    ]


def card_paragraphs(document):
    """{tag: (cite paragraph, body paragraphs)} of a Word file."""
    out, pars = {}, document.paragraphs
    for i, p in enumerate(pars):
        if p.style.name != "Tag":
            continue
        body = []
        for q in pars[i + 2 :]:
            if q.style.name in VERBATIM:
                break
            body.append(q)
        out[p.text] = (pars[i + 1], body)
    return out


def test_word_export_marks_exactly_the_cards_sub_spans_and_bolds_the_cite(cards, seed):
    text, _ = seed
    document = case_document(case_of(cards))
    found = card_paragraphs(document)
    for card in cards:
        cite, body = found[card.tag]
        first = cite.runs[0]
        assert first.text == card.cite.short() and first.style.name == "Cite"
        assert first.style.font.bold and not any(r.style.name == "Cite" for r in cite.runs[1:])
        assert cite.text == card.cite.line()
        words, under, high = marks(body)
        assert words == card.body == text[card.start : card.end]
        assert under == indices(card.underlined)
        assert high == indices(card.highlighted)
        assert high and under  # the check above compares something


def test_markdown_export_mirrors_the_word_outline_and_marks(cards):
    md = case_markdown(case_of(cards))
    assert md.startswith("# Serbia and Russia: Proposition\n")
    assert "\n## Contention one\n" in md and "\n### A2: Serbia is an ally\n" in md
    for card in cards:
        block = md.split(f"#### {card.tag}\n\n", 1)[1].split("\n\n#", 1)[0]
        cite, body = block.split("\n\n", 1)
        assert cite == f"**{card.cite.short()}**{card.cite.line()[len(card.cite.short()) :]}"
        plain = re.sub(r"\\(.)", r"\1", body.replace("==", "").replace("**", "")).rstrip("\n")
        lines = [x for x in card.body.split("\n") if x.strip()]
        assert plain.split("\n\n") == lines
        highlighted = [card.body[s:e].strip() for s, e in card.highlighted]
        assert [re.sub(r"\*\*", "", m) for m in re.findall(r"==(.+?)==", body)] == highlighted


def bot_round(passages) -> dict:
    """A saved round (debate.spar.transcript's JSON): a student turn, then a bot turn that
    states a claim citing [1], quotes passage 1, and cites passage 2 without quoting it."""
    p1, p2 = passages[3], passages[6]
    quote = p1.text[: p1.text.index(",")]
    text = (
        "My answer: Serbia keeps its distance from Moscow [1]. "
        f'In the words of The National Interest: "{quote}" [1].\n\n'
        "Belgrade also weighs other partners [2]."
    )
    ev = [{f.name: getattr(p, f.name) for f in dataclasses.fields(p)} for p in (p1, p2)]
    turn = {"speaker": "bot", "text": text, "side": "defend", "phase": "rebuttal", "evidence": ev}
    student = {"speaker": "student", "text": "Serbia is an ally.", "side": "defend"}
    return {"motion": "serbia-russia", "turns": [student | {"phase": "rebuttal"}, turn]}


def test_a_round_exports_the_bots_quotes_as_cards_tagged_with_their_claim(seed, cards):
    _, passages = seed
    data = bot_round(passages)
    case = round_case_file(data, "Serbia and Russia")
    assert [s.heading for s in case.sections] == ["The bot's cards", "2. Proposition, rebuttal"]
    quoted, unquoted = case.sections[1].cards
    assert quoted.tag == "Serbia keeps its distance from Moscow."
    assert quoted.body == passages[3].text[: passages[3].text.index(",")]
    assert quoted.highlighted == ((0, len(quoted.body)),)
    assert unquoted.tag == "Belgrade also weighs other partners."
    assert unquoted.body in passages[6].text and unquoted.passage_id == passages[6].id
    data["cards"] = [cards[0].to_dict()]
    case = round_case_file(data, "Serbia and Russia")
    assert case.sections[0].heading == "My cards" and case.sections[0].cards == [cards[0]]


def test_a_saved_card_that_no_longer_matches_its_passage_is_refused(seed, cards):
    _, passages = seed
    data = bot_round(passages)
    bad = cards[0].to_dict() | {"passage_id": passages[3].id, "body": "Invented words"}
    data["cards"] = [bad]
    with pytest.raises(CardError):
        round_case_file(data, "Serbia and Russia")


def test_cards_export_command_writes_word_and_markdown(tmp_path, seed):
    from debate.cli import app

    _, passages = seed
    transcript = tmp_path / "round.json"
    transcript.write_text(json.dumps(bot_round(passages)), encoding="utf-8")
    out_docx, out_md = tmp_path / "out" / "cards.docx", tmp_path / "out" / "cards.md"
    runner = CliRunner()
    args = ["cards", "export", str(transcript), "--docx", str(out_docx), "--md", str(out_md)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "(2 cards)" in result.output
    tags = [p.text for p in docx.Document(str(out_docx)).paragraphs if p.style.name == "Tag"]
    assert tags == [
        "Serbia keeps its distance from Moscow.",
        "Belgrade also weighs other partners.",
    ]
    assert "#### Serbia keeps its distance from Moscow." in out_md.read_text(encoding="utf-8")
    missing = runner.invoke(app, ["cards", "export", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "no such transcript" in missing.output
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"motion": "serbia-russia", "turns": []}), encoding="utf-8")
    nothing = runner.invoke(app, ["cards", "export", str(empty), "--docx", str(out_docx)])
    assert nothing.exit_code == 1 and "no cards" in nothing.output
    assert "--docx" in runner.invoke(app, ["cards", "export", "--help"]).output
