"""The cards of a saved round: the student's own (the transcript's `cards`, in
Card.to_dict form) and every card the bot read, as a case file to export.

A bot's card is a quotation in one of its speeches, found word for word in the passage the
sentence cites and cut to a card's length (debate.cards.card.card_from_quote). Its tag is
the claim the quotation backs: the sentence before it in the same paragraph that quotes
nothing (the bot states its point, then reads the card), else the one after it, else the
quoting sentence itself, without [n] markers or a lead-in label ("My answer: ..."). A
passage the bot cited without quoting it becomes a card of the passage's sentence that
shares most words with the citing sentence.

Reads the transcript's JSON as debate.spar.transcript writes it (that layer is above this
one): `turns[].speaker/text/side/phase/evidence` and the top-level `cards`.
"""

from __future__ import annotations

import dataclasses
import re

from debate.cards.card import Card, CardError, card_from_passage, card_from_quote, cut, validate
from debate.cards.casefile import BLOCK, HAT, CaseFile, Section
from debate.check.citations import CITATION_RE, expand_numbers
from debate.core.text import normalise, quotes_in, sentence_spans
from debate.corpus.motions import ROLE
from debate.corpus.passages import Passage

PASSAGE_FIELDS = {f.name for f in dataclasses.fields(Passage)}
_LABEL = re.compile(r"^(?:\S+\s+){0,3}\S+:\s+")  # "My answer: ", "On that point: "
STUDENT_HEADING = "My cards"
BOT_HEADING = "The bot's cards"


def _passage(d: dict) -> Passage:
    known = {k: v for k, v in d.items() if k in PASSAGE_FIELDS}
    if "source_id" not in known and "source" in d:
        known["source_id"] = d["source"]
    return Passage(**known)


def _evidence(turn: dict) -> list[Passage]:
    try:
        return [_passage(p) for p in turn.get("evidence") or []]
    except TypeError as exc:
        raise CardError(f"a turn's evidence is not a list of passages ({exc})") from exc


def _plain(sentence: str) -> str:
    text = " ".join(CITATION_RE.sub("", sentence).split())
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = _LABEL.sub("", text, count=1)
    return text[:1].upper() + text[1:]


def _sentences(text: str) -> list[tuple[int, str]]:
    """(paragraph number, sentence) of a speech."""
    out = []
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text)):
        out += [(number, paragraph[s:e]) for s, e in sentence_spans(paragraph)]
    return out


def _tag(sentences: list[tuple[int, str]], i: int) -> str:
    para = sentences[i][0]
    before = [s for p, s in sentences[:i] if p == para and not quotes_in(s)]
    after = [s for p, s in sentences[i + 1 :] if p == para and not quotes_in(s)]
    for candidate in (before[-1:] or after[:1]) + [sentences[i][1]]:
        if _plain(candidate):
            return _plain(candidate)
    return "Card"


def _numbers(sentence: str) -> list[int]:
    return [n for m in CITATION_RE.finditer(sentence) for n in expand_numbers(m.group(1))]


def _closest_sentence(passage: Passage, sentence: str) -> tuple[int, int]:
    words = set(normalise(sentence).split())
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    return max(
        spans, key=lambda se: len(words & set(normalise(passage.text[se[0] : se[1]]).split()))
    )


def turn_cards(turn: dict) -> list[Card]:
    """The cards the bot read in one turn (see the module docstring), in speech order."""
    evidence = _evidence(turn)
    sentences = _sentences(str(turn.get("text") or ""))
    cards: dict[tuple, Card] = {}
    quoted: set[str] = set()
    for i, (_, sentence) in enumerate(sentences):
        cited = [evidence[n - 1] for n in _numbers(sentence) if 1 <= n <= len(evidence)]
        for quote in quotes_in(sentence):
            for passage in cited:
                try:
                    card = card_from_quote(passage, quote.text, _tag(sentences, i))
                except CardError:
                    continue
                cards.setdefault((card.passage_id, card.start, card.end), card)
                quoted.add(passage.id)
                break
    for _, sentence in sentences:
        for n in _numbers(sentence):
            passage = evidence[n - 1] if 1 <= n <= len(evidence) else None
            if passage is None or passage.id in quoted:
                continue
            s, e = _closest_sentence(passage, sentence)
            e = s + len(cut(passage.text[s:e]))
            whole = ((0, e - s),)
            card = card_from_passage(passage, s, e, _plain(sentence) or "Card", whole, whole)
            cards.setdefault((card.passage_id, card.start, card.end), card)
            quoted.add(passage.id)
    return list(cards.values())


def student_cards(data: dict) -> list[Card]:
    """The student's cards, each checked against its passage where the round holds it."""
    passages = {
        p.id: p for t in data.get("turns") or [] for p in _evidence(t) if isinstance(t, dict)
    }
    cards = [Card.from_dict(c) for c in data.get("cards") or []]
    for card in cards:
        if card.passage_id in passages:
            validate(card, passages[card.passage_id])
    return cards


def round_case_file(data: dict, motion_title: str, side: str = "") -> CaseFile:
    """The round's cards as a case file: a Hat of the student's cards (when there are
    any), then a Hat of the bot's cards with a Block per bot speech."""
    sections = []
    mine = student_cards(data)
    if mine:
        sections.append(Section(STUDENT_HEADING, HAT, mine))
    speeches = []
    for number, turn in enumerate(data.get("turns") or [], 1):
        if not isinstance(turn, dict) or turn.get("speaker") != "bot":
            continue
        cards = turn_cards(turn)
        if cards:
            role = ROLE.get(turn.get("side", ""), "bot")
            heading = f"{number}. {role.capitalize()}, {turn.get('phase') or 'speech'}"
            speeches.append(Section(heading, BLOCK, cards))
    if speeches:
        sections += [Section(BOT_HEADING, HAT), *speeches]
    if not sections:
        raise CardError("the round has no cards: the bot quoted nothing and no card was saved")
    return CaseFile(motion_title, side or "cards from a round", sections)
