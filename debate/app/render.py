"""HTML for the web app: chat messages, the evidence panel, badges, banners.

Pure functions of library objects (Turn, Reply, EvidenceList, Verdict), so they are tested
without a browser. Every piece of text that came from a person, a source or a model is
escaped here; the app shows these strings as HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from debate.check.citations import EvidenceList, parse_citations, render_html
from debate.check.faithfulness import FAILING, badge
from debate.core.text import find_quote, quotes_in, sentence_at
from debate.corpus.motions import other_side
from debate.corpus.passages import Passage

PHASE_LABELS = {
    "opening": "Opening",
    "rebuttal": "Rebuttals",
    "closing": "Closing",
    "question": "Questions",
}
# Verdict statuses that mean "this sentence is not backed by its citations".
UNVERIFIED = tuple(sorted(FAILING))


def esc(text: object) -> str:
    return html.escape(str(text or ""), quote=True)


# ---------------------------------------------------------------- banners and indicators


def side_banner(motion, bot_side: str) -> str:
    """'The bot is ATTACKING the thesis', said plainly, with what that means."""
    verb = "DEFENDING" if bot_side == "defend" else "ATTACKING"
    student = other_side(bot_side)
    return (
        f'<div class="side-banner side-{esc(bot_side)}" id="side-banner">'
        f"<strong>The bot is {verb} the thesis.</strong> "
        f"It argues: <em>{esc(motion.side_label(bot_side))}</em>. "
        f"You {student} it: <em>{esc(motion.side_label(student))}</em>.</div>"
    )


def motion_card(motion) -> str:
    return (
        f'<div class="motion-card"><div class="motion-title">{esc(motion.title)}</div>'
        f'<div class="motion-thesis">Thesis: <strong>{esc(motion.thesis)}</strong></div>'
        f'<div class="motion-desc">{esc(motion.description)}</div></div>'
    )


def phase_indicator(phases: Sequence[str], current: str) -> str:
    items = []
    for phase in phases:
        if phase == "question" and current != "question":
            continue  # a question is an interlude, shown only while it lasts
        state = "current" if phase == current else ""
        label = PHASE_LABELS.get(phase, phase.title())
        aria = ' aria-current="step"' if state else ""
        items.append(f'<li class="phase {state}" data-phase="{esc(phase)}"{aria}>{esc(label)}</li>')
    return f'<ol class="phases" id="phase-indicator">{"".join(items)}</ol>'


def timer_html(phase: str, seconds: int) -> str:
    """The speech timer's face; the countdown itself runs in the browser (app.js)."""
    seconds = max(0, int(seconds))
    label = PHASE_LABELS.get(phase, phase.title())
    return (
        f'<div id="speech-timer" class="speech-timer" data-seconds="{seconds}" '
        f'data-key="{esc(phase)}-{seconds}" role="timer" aria-live="off">'
        f'<span class="timer-phase">{esc(label)} speech</span> '
        f'<span class="timer-clock">{seconds // 60:02d}:{seconds % 60:02d}</span></div>'
    )


def status_html(text: str, kind: str = "ok") -> str:
    return f'<div class="status status-{esc(kind)}" role="status">{esc(text)}</div>'


HEADER = (
    "<h1>Debate sparring room</h1><div>Argue a motion against a bot that speaks only from "
    "cited evidence.</div>"
)


def coach_note(locked: bool, unlocked: bool = False) -> str:
    """What the coach panel says about access: locked, unlocked, or open to anyone."""
    if unlocked:
        text = "Coach controls unlocked for this tab."
    elif locked:
        text = "Coach controls are locked: enter the coach password."
    else:
        text = (
            "Single-user mode: no coach password is set (DEBATE_COACH_PASSWORD), so anyone "
            "using this page can use the coach controls."
        )
    return f'<div class="coach-note" id="coach-note">{esc(text)}</div>'


# ---------------------------------------------------------------- faithfulness badge


def unverified_verdicts(verdicts: Sequence) -> list:
    return [v for v in verdicts if v.status in UNVERIFIED]


def badge_html(verdicts: Sequence, fabricated: Sequence[int] = (), checked: bool = True) -> str:
    """The per-message faithfulness badge; anything short of fully verified is marked."""
    if not checked:
        return (
            '<span class="badge badge-warn" title="no faithfulness verdicts were recorded '
            'for this reply">citations not checked</span>'
        )
    text = badge(list(verdicts))
    bad = unverified_verdicts(verdicts)
    if bad:
        text += f" · {len(bad)} sentence{'s' if len(bad) > 1 else ''} unverified"
    if bad or fabricated:
        reasons = "; ".join(esc(v.reason) for v in bad[:3])
        return f'<span class="badge badge-warn" title="{reasons}">⚠ {esc(text)}</span>'
    return f'<span class="badge badge-ok">✓ {esc(text)}</span>'


# ---------------------------------------------------------------- chat messages


def _paragraphs(rendered: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", rendered) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in parts)


def speech_html(text: str, evidence: EvidenceList, verdicts: Sequence = ()) -> str:
    """Reply text with clickable [n] and unverified sentences visibly marked."""
    bad = sorted(
        (v for v in unverified_verdicts(verdicts) if 0 <= v.start < v.end <= len(text)),
        key=lambda v: v.start,
    )
    out, pos = [], 0
    for v in bad:
        if v.start < pos:
            continue
        out.append(render_html(text[pos : v.start], evidence))
        out.append(
            f'<span class="unverified" title="Not verified: {esc(v.reason)}">'
            f"{render_html(text[v.start : v.end], evidence)}</span>"
        )
        pos = v.end
    out.append(render_html(text[pos:], evidence))
    return _paragraphs("".join(out))


def bot_message_html(
    turn_index: int,
    text: str,
    evidence: EvidenceList | None,
    verdicts,
    notices: Sequence[str] = (),
    checked: bool = True,
    side: str = "",
    phase: str = "",
) -> str:
    evidence = evidence or EvidenceList([])
    fabricated = [n for c in parse_citations(text) for n in c.numbers if evidence.get(n) is None]
    notes = "".join(f'<div class="notice">{esc(n)}</div>' for n in notices)
    where = " · ".join(x for x in (PHASE_LABELS.get(phase, phase), side and f"bot {side}s") if x)
    return (
        f'<div class="bot-msg" data-turn="{turn_index}">{notes}'
        f"{speech_html(text, evidence, verdicts)}"
        f'<div class="msg-meta">{badge_html(verdicts, fabricated, checked)}'
        f' <a class="ev-open" href="#evidence-panel" data-turn="{turn_index}">evidence</a>'
        f' <span class="msg-where">{esc(where)}</span></div></div>'
    )


def student_message_html(text: str) -> str:
    return _paragraphs(esc(text))


def system_message_html(text: str) -> str:
    return f'<div class="sys-msg">{esc(text)}</div>'


def streaming_html(text: str) -> str:
    return f'<div class="bot-msg streaming">{_paragraphs(esc(text))}<span class="cursor">▍</span></div>'


# ---------------------------------------------------------------- quoted spans


def quotes_citing(text: str, number: int) -> list[str]:
    """Quoted spans in the sentences of `text` that cite [number]: the sentences and quotes
    the faithfulness checker reads (debate.core.text), so the panel highlights what it accepted."""
    quotes: list[str] = []
    for c in parse_citations(text):
        if number not in c.numbers:
            continue
        start, end = sentence_at(text, c.start)
        for q in quotes_in(text[start:end]):
            if q.text not in quotes:
                quotes.append(q.text)
    return quotes


def highlight(
    passage_text: str, quotes: Sequence[str], cards: Sequence[tuple[int, int]] = ()
) -> tuple[str, int]:
    """Passage as HTML with each found quote in <mark class="quote"> and each of the
    student's cards cut from it (offsets into passage_text) in <mark class="my-card">, a
    card winning where the two overlap; returns (html, number of quotes found)."""
    quote_spans = sorted({s for q in quotes if (s := find_quote(q, passage_text))})
    card_spans = sorted({(s, e) for s, e in cards if 0 <= s < e <= len(passage_text)})
    marks = [(s, e, "my-card") for s, e in card_spans]
    marks += [
        (s, e, "quote")
        for s, e in quote_spans
        if not any(s < ce and cs < e for cs, ce in card_spans)
    ]
    out, pos = [], 0
    for start, end, cls in sorted(marks):
        if start < pos:
            continue
        out.append(esc(passage_text[pos:start]))
        out.append(f'<mark class="{cls}">{esc(passage_text[start:end])}</mark>')
        pos = end
    out.append(esc(passage_text[pos:]))
    return "".join(out), len(quote_spans)


# ---------------------------------------------------------------- evidence panel


def _source_line(p: Passage) -> str:
    where = f"p. {p.page}" if p.page else f"¶{p.paragraph}"
    link = (
        f'<a href="{esc(p.url)}" target="_blank" rel="noopener noreferrer">{esc(p.url)}</a>'
        if p.url
        else ""
    )
    author = f"{esc(p.author)}, " if p.author else ""
    return (
        f'<div class="ev-source"><span class="ev-title">{esc(p.title)}</span> '
        f'<span class="ev-pub">{author}{esc(p.publisher)}, {esc(p.date)}, {where}</span> '
        f'<span class="ev-stance stance-{esc(p.stance)}">{esc(p.stance)}</span></div>'
        f'<div class="ev-link">{link}</div>'
    )


def evidence_card(
    number: int,
    passage: Passage,
    quotes: Sequence[str],
    focused: bool,
    cards: Sequence[tuple[int, int]] = (),
) -> str:
    """One passage of the panel. Its text can be cut into a card by selecting it (app.js
    reads the selection's offsets in `blockquote.ev-text`); a cited one has a "Save as
    card" button for the words the bot quoted."""
    body, found = highlight(passage.text, quotes, cards)
    missing = len(quotes) - found
    note = (
        f'<div class="ev-warn">{missing} quoted span(s) not found in this passage</div>'
        if missing > 0
        else ""
    )
    cls = "ev-card focused" if focused else "ev-card"
    save = (
        f'<button type="button" class="ev-save" data-n="{number}">Save as card</button>'
        if quotes
        else ""
    )
    return (
        f'<div class="{cls}" id="ev-{number}" data-n="{number}">'
        f'<div class="ev-num">[{number}]</div>{_source_line(passage)}{note}'
        f'<blockquote class="ev-text" data-n="{number}">{body}</blockquote>{save}</div>'
    )


def card_spans(cards: Sequence, passage: Passage) -> list[tuple[int, int]]:
    """The student's cards cut from this passage, as offsets into its text."""
    return [
        (c.start - passage.start, c.end - passage.start)
        for c in cards
        if c.passage_id == passage.id
    ]


def evidence_panel(
    turn_index: int | None,
    text: str,
    evidence: EvidenceList | None,
    focus: int | None = None,
    my_cards: Sequence = (),
) -> str:
    """Cited passages of one bot turn (quotes highlighted, and the student's `my_cards` cut
    from them), then the uncited evidence."""
    if turn_index is None or evidence is None:
        return (
            '<div class="ev-empty">The evidence behind the bot\'s speeches appears here. '
            "Click a citation like [1] in a reply to see its passage.</div>"
        )
    cited = list(dict.fromkeys(n for c in parse_citations(text) for n in c.numbers))
    cards = [
        evidence_card(n, p, quotes_citing(text, n), n == focus, card_spans(my_cards, p))
        for n in cited
        if (p := evidence.get(n)) is not None
    ]
    fabricated = [n for n in cited if evidence.get(n) is None]
    uncited = [(n, p) for n, p in evidence.numbered() if n not in cited]
    parts = [
        f'<div class="ev-head" data-turn="{turn_index}">Evidence for bot speech '
        f"#{turn_index + 1}: {len(cards)} cited passage(s)</div>"
    ]
    parts.extend(cards or ['<div class="ev-empty">This speech cites no evidence.</div>'])
    for n in fabricated:
        parts.append(
            f'<div class="ev-card ev-bad">[{n}] is not in this turn\'s evidence list: '
            "a fabricated citation, not to be trusted.</div>"
        )
    if uncited:
        inner = "".join(
            evidence_card(n, p, (), n == focus, card_spans(my_cards, p)) for n, p in uncited
        )
        opened = " open" if focus in {n for n, _ in uncited} else ""
        parts.append(
            f'<details class="ev-uncited"{opened}><summary>Also retrieved for this '
            f"turn, not cited ({len(uncited)})</summary>{inner}</details>"
        )
    return f'<div class="ev-panel" data-turn="{turn_index}" data-focus="{focus or ""}">{"".join(parts)}</div>'


def upload_job_html(job, others: Sequence = ()) -> str:
    """An upload job (debate.corpus.jobs.JobView): a progress bar while it runs, then its outcome;
    other motions' uploads still running are listed below it."""
    parts = []
    if job is not None:
        if job.live:
            done, total = job.done, job.total
            bar = f'<progress max="{max(total, 1)}" value="{min(done, max(total, 1))}"></progress>'
            count = f"{done}/{total} passages embedded" if total else "waiting to start"
            what = f"Indexing “{job.title}” into {job.key}: {count}"
            if job.cancelling:
                what = f"Cancelling “{job.title}”: putting {job.key} back as it was…"
            parts.append(
                f'<div class="upload-job" data-state="{esc(job.state)}">{bar}'
                f'<span class="upload-job-text">{esc(what)}</span></div>'
            )
        else:
            kind = {"done": "ok", "cancelled": "ok"}.get(job.state, "error")
            parts.append(
                f'<div class="upload-job" data-state="{esc(job.state)}">'
                f"{status_html(job.message, kind)}</div>"
            )
    for other in others:
        parts.append(
            f'<div class="upload-other">Also indexing “{esc(other.title)}” into '
            f"{esc(other.key)} ({other.done}/{other.total or '?'}).</div>"
        )
    return "".join(parts)


# ---------------------------------------------------------------- the student's cards


def my_cards_html(cards: Sequence) -> str:
    """The student's cards of this round: tag, cite, and the body with the highlighted
    (read-aloud) words marked."""
    if not cards:
        return (
            '<div class="my-cards-empty">No cards yet. Click <b>Save as card</b> under a cited '
            "passage in the evidence panel, or select words of a passage and cut them.</div>"
        )
    items = []
    for i, c in enumerate(cards):
        body, pos = [], 0
        for s, e in c.highlighted:
            body.append(esc(c.body[pos:s]) + f'<mark class="my-card">{esc(c.body[s:e])}</mark>')
            pos = e
        body.append(esc(c.body[pos:]))
        short, line = c.cite.short(), c.cite.line()
        rest = line[len(short) :] if line.startswith(short) else f" {line}"
        items.append(
            f'<li class="my-card-item" data-index="{i}"><div class="my-card-tag">{esc(c.tag)}</div>'
            f'<div class="my-card-cite"><b>{esc(short)}</b>{esc(rest)}</div>'
            f'<blockquote class="my-card-body">{"".join(body)}</blockquote></li>'
        )
    return f'<ol class="my-cards" id="my-cards-list">{"".join(items)}</ol>'
