"""The student's cards in the sparring room, and prep: what the page does with them, as plain
functions over a tab's handlers.TabState (no Gradio here; cards_panel.py wires them).

- `save_cited`: one click on a cited passage saves the words the bot quoted from it as a
  card, the tag prefilled from the bot's sentence that cited it;
- `cut_selection`: the words the student selected in a passage (exact offsets into its
  text, sent by app.js) become a card;
- `retag`, `remove`, `insertion`: edit a card's tag, drop it, or the text that puts it in
  the student's speech (a quotation the coaching feedback then checks word for word);
- `build_case_files`: the Prep panel's case file (debate.coach.prep), as .docx and .md.

The cards live in the round's session (`Session.cards`), so they are saved with its
transcript. Everything from the client (targets, offsets, tags) is untrusted: bounded,
cleaned (debate.core.text.clean_input) and checked against the passage before use.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from debate.app.handlers import TabState
from debate.app.render import quotes_citing
from debate.cards.card import MAX_TAG_CHARS, Card, CardError, card_from_passage, card_from_quote
from debate.check.citations import parse_citations
from debate.coach import prep
from debate.core.errors import DebateError
from debate.core.text import clean_input, quotes_in, sentence_at
from debate.corpus.motions import SIDES
from debate.corpus.passages import Passage

MAX_TARGET_CHARS = 20_000  # a cut's JSON from app.js: the selection's text and offsets
MAX_CARDS = 200  # per round: a tab's state stays small
_LEAD = re.compile(r"^[^:.!?\"“]{0,40}:\s+")  # "My first point: ..." -> "..."


def clean_tag(tag: object) -> str:
    """A tag as the student typed it: cleaned, one line, at most MAX_TAG_CHARS."""
    text = " ".join(clean_input(tag if isinstance(tag, str) else "").split())
    if not text:
        raise CardError("A card needs a tag: the claim it proves, in your own words.")
    return text[:MAX_TAG_CHARS].rstrip()


def _bot_turn(state: TabState, turn: object):
    if not isinstance(turn, int) or not 0 <= turn < len(state.session.turns):
        raise CardError("That speech is not in this round.")
    t = state.session.turns[turn]
    if t.speaker != "bot" or t.evidence is None:
        raise CardError("Cards are cut from the evidence of the bot's speeches.")
    return t


def _passage(state: TabState, turn: object, n: object) -> tuple[object, Passage]:
    t = _bot_turn(state, turn)
    passage = t.evidence.get(n) if isinstance(n, int) else None
    if passage is None:
        raise CardError(f"[{n}] is not in that speech's evidence.")
    return t, passage


def prefilled_tag(text: str, n: int) -> str:
    """The tag offered for a card of passage [n]: the bot's sentence that cited it (one
    making a claim, without a quotation, when there is one), markers and lead-ins dropped."""
    sentences = []
    for c in parse_citations(text):
        if n in c.numbers:
            s, e = sentence_at(text, c.start)
            sentences.append(text[s:e])
    plain = [s for s in sentences if not quotes_in(s)]
    chosen = (plain or sentences or [""])[0]
    chosen = re.sub(r"\s*\[[\d,;\s–-]+\]", "", chosen).strip()
    return _LEAD.sub("", chosen).strip()


def _keep(state: TabState, card: Card) -> Card:
    if len(state.session.cards) >= MAX_CARDS:
        raise CardError(f"A round keeps at most {MAX_CARDS} cards: remove some first.")
    return state.session.add_card(card)


def save_cited(state: TabState, turn: int, n: int) -> Card:
    """The words the bot quoted from passage [n] of `turn` as a card (the whole passage
    when the speech cites it without a quotation), tagged from the citing sentence."""
    t, passage = _passage(state, turn, n)
    tag = prefilled_tag(t.text, n) or passage.title or "Card"
    for quote in quotes_citing(t.text, n):
        try:
            return _keep(state, card_from_quote(passage, quote, tag))
        except CardError:
            continue  # a quote the panel marks as not found in this passage
    return _keep(state, card_from_passage(passage, 0, len(passage.text), tag))


def cut_selection(state: TabState, turn: int, n: int, start: int, end: int, text: str) -> Card:
    """The selection [start, end) of passage [n]'s text as a card; `text` is what the
    browser says was selected, and must be exactly the passage's words there."""
    t, passage = _passage(state, turn, n)
    if not all(isinstance(x, int) for x in (start, end)) or not 0 <= start < end:
        raise CardError("Select some words of a passage first.")
    if passage.text[start:end] != text:
        raise CardError("The selection does not match the passage: select the words again.")
    if not text.strip():
        raise CardError("Select some words of a passage first.")
    tag = prefilled_tag(t.text, n) or " ".join(text.split()[:12])
    whole = ((0, end - start),)  # what the student cut is what they read
    return _keep(state, card_from_passage(passage, start, end, tag, whole, whole))


def card_action(state: TabState, target: object) -> Card:
    """A card from app.js's JSON target: {"action": "save"|"cut", "turn", "n", ...}."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET_CHARS:
        raise CardError("Select some words of a passage, or click Save as card.")
    try:
        data = json.loads(target)
    except ValueError as exc:
        raise CardError("That card request could not be read; try again.") from exc
    if not isinstance(data, dict):
        raise CardError("That card request could not be read; try again.")
    turn, n = data.get("turn"), data.get("n")
    if data.get("action") == "save":
        return save_cited(state, turn, n)
    if data.get("action") == "cut":
        text = data.get("text")
        if not isinstance(text, str):
            raise CardError("Select some words of a passage first.")
        return cut_selection(state, turn, n, data.get("start"), data.get("end"), text)
    raise CardError("Unknown card action.")


def card_index(state: TabState, index: object) -> int:
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or not 0 <= index < len(state.session.cards):
        raise CardError("Choose one of your cards first.")
    return index


def retag(state: TabState, index: object, tag: object) -> Card:
    i = card_index(state, index)
    card = replace(state.session.cards[i], tag=clean_tag(tag))
    state.session.cards[i] = card
    state.session.save()
    return card


def remove(state: TabState, index: object) -> None:
    del state.session.cards[card_index(state, index)]
    state.session.save()


def insertion(state: TabState, index: object, message: object) -> str:
    """The message box with the card read into it: its source and its words in quotation
    marks, which the coaching feedback checks word for word against the sources."""
    card = state.session.cards[card_index(state, index)]
    who = card.cite.publisher or card.cite.short()
    body = " ".join(card.body.split()).replace('"', "'")
    quoted = f'According to {who}, "{body}"'
    before = clean_input(message if isinstance(message, str) else "").rstrip()
    return f"{before} {quoted}" if before else quoted


def card_choices(state: TabState | None) -> list[tuple[str, str]]:
    if state is None:
        return []
    out = []
    for i, c in enumerate(state.session.cards):
        tag = c.tag if len(c.tag) <= 70 else c.tag[:69] + "…"
        out.append((f"{i + 1}. {tag} ({c.cite.short()})", str(i)))
    return out


def build_case_files(state: TabState, side: str, progress=None) -> tuple[str, str]:
    """The case file for `side` of the tab's motion, written as .docx and .md under the
    tab's export folder; returns their paths."""
    if side not in SIDES:
        raise DebateError(f"unknown side {side!r}: choose defend or attack")
    session = state.session
    result = prep.prepare(session.motion, side, session.settings, progress)
    folder = state.export_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"case-{session.motion.id}-{side}"
    docx, md = folder / f"{stem}.docx", folder / f"{stem}.md"
    prep.write_case(result, docx=docx, md=md)
    return str(docx), str(md)
