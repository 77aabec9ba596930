"""HTML for the coaching panels: feedback on the student's turns, the flow sheet, the
ballot and the coach's list of past rounds.

Pure functions of the `to_dict()` forms of debate.coach.feedback / debate.coach.flow / debate.coach.ballot
records (the live round and a saved `.ballot.json` render the same way), so they are tested
without a browser. Every piece of text that came from a person, a source or a model is
escaped with render.esc; the chart SVG is drawn by debate.coach.ballot.chart_svg from numbers
cleaned here first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from debate.app.render import esc, highlight
from debate.coach.ballot import chart_svg
from debate.core.text import words
from debate.corpus.motions import ROLE

VERDICTS = {
    "backed": ("✓ backed by the sources", "ok"),
    "contradicted": ("✗ the sources say otherwise", "bad"),
    "not-in-corpus": ("? not in the sources", "info"),
    "motion": ("the motion itself (not checked)", "muted"),
}
PROBLEM_LABELS = {
    "misquote": "Misquote",
    "misattribution": "Wrong source",
    "contradicted": "Contradicted",
    "no-clash": "No clash",
    "wrong-side": "Wrong side",
    "no-argument": "No argument",
}
_TOKEN = re.compile(r"[\w€$£%.,]+")


def _pill(text: str, kind: str) -> str:
    return f'<span class="cf-pill cf-{esc(kind)}">{esc(text)}</span>'


# ---------------------------------------------------------------- source passages


def mark_words(sentence: str, different: set[str]) -> str:
    """The sentence, escaped, with the tokens whose words are in `different` (folded, as
    debate.core.text.words gives them) in <mark class="cf-diff">."""
    out, pos = [], 0
    for m in _TOKEN.finditer(sentence):
        token = m.group(0)
        if different and set(words(token)) & different:
            out.append(esc(sentence[pos : m.start()]))
            out.append(f'<mark class="cf-diff">{esc(token)}</mark>')
            pos = m.end()
    out.append(esc(sentence[pos:]))
    return "".join(out)


def _offsets(source: dict) -> tuple[int, int] | None:
    text = source.get("passage") or ""
    try:
        start, end = int(source.get("start", -1)), int(source.get("end", -1))
    except (TypeError, ValueError):
        return None
    return (start, end) if 0 <= start < end <= len(text) else None


def source_html(source: dict | None, different: set[str] = frozenset(), quote: str = "") -> str:
    """A source sentence as the student should have read it: who says it, the sentence
    (differing words marked), and the whole passage with that sentence highlighted."""
    if not source:
        return ""
    text = str(source.get("passage") or "")
    sentence = str(source.get("sentence") or "")
    where = ", ".join(esc(x) for x in (source.get("publisher"), source.get("date")) if x)
    title = esc(source.get("title"))
    url = str(source.get("url") or "")
    link = (
        f' <a href="{esc(url)}" target="_blank" rel="noopener noreferrer">source</a>'
        if url.startswith(("http://", "https://"))
        else ""
    )
    span = _offsets(source)
    if span:
        s, e = span
        inner = mark_words(text[s:e], set(different))
        if quote and not different:
            inner, _ = highlight(text[s:e], [quote])
        passage = f'{esc(text[:s])}<mark class="cf-sentence">{inner}</mark>{esc(text[e:])}'
    else:
        passage, _ = highlight(text, [quote] if quote else [])
    return (
        f'<div class="cf-source"><div class="cf-source-says">The source says: '
        f"<q>{mark_words(sentence, set(different))}</q></div>"
        f'<div class="cf-source-who"><em>{title}</em> · {where}{link}</div>'
        f'<details class="cf-passage"><summary>Whole passage</summary>'
        f'<blockquote class="cf-passage-text">{passage}</blockquote></details></div>'
    )


# ---------------------------------------------------------------- one student turn


def _different(q: dict) -> set[str]:
    """Words of the source's side of a quote's differences that the student did not use,
    folded ("ten times" / "four times" marks "four")."""
    out: set[str] = set()
    for pair in q.get("differences") or []:
        if len(pair) > 1:
            out |= set(words(str(pair[1]))) - set(words(str(pair[0])))
    return out


def quote_html(q: dict) -> str:
    kind = "quote" if q.get("kind") == "quote" else "figure"
    shown = f"“{q.get('text', '')}”" if kind == "quote" else str(q.get("text", ""))
    if q.get("misquoted"):
        head = _pill("✗ misquote", "bad")
        cls = "cf-quote cf-misquote"
    elif q.get("supports"):
        head = _pill("✓ as in the source", "ok")
        cls = "cf-quote"
    else:
        head = _pill("found, but check how you use it", "info")
        cls = "cf-quote"
    said = ""
    diffs = [p for p in q.get("differences") or [] if len(p) > 1]
    if diffs:
        said = "".join(
            f'<div class="cf-said">You said <strong class="cf-yours">{esc(a)}</strong>; '
            f'the source says <strong class="cf-theirs">{esc(b)}</strong>.</div>'
            for a, b in diffs
        )
    return (
        f'<div class="{cls}" data-kind="{kind}">{head} <span class="cf-quote-text">'
        f"{esc(shown)}</span>"
        f"{'' if said else _msg(q.get('message'))}{said}"
        f"{source_html(q.get('source'), _different(q), q.get('text', '') if kind == 'quote' else '')}"
        "</div>"
    )


def _msg(text) -> str:
    return f'<div class="cf-msg">{esc(text)}</div>'


def claim_html(c: dict) -> str:
    label, kind = VERDICTS.get(c.get("verdict"), (str(c.get("verdict")), "muted"))
    source = ""
    if c.get("verdict") in ("backed", "contradicted") and c.get("source"):
        source = (
            f'<details class="cf-claim-src"><summary>{esc(c.get("reason"))}</summary>'
            f"{source_html(c.get('source'))}</details>"
        )
    return (
        f'<li class="cf-claim cf-verdict-{esc(c.get("verdict"))}">{_pill(label, kind)} '
        f"<span>{esc(c.get('sentence'))}</span>{source}</li>"
    )


def clash_html(fb: dict) -> str:
    answered = fb.get("answered") or []
    ignored = fb.get("ignored") or []
    if not answered and not ignored:
        return ""
    rows = [
        f'<li class="cf-answered">{_pill("answered", "ok")} {esc(p[0])}'
        f'<div class="cf-answer">your answer: {esc(p[1])}</div></li>'
        for p in answered
        if len(p) > 1
    ]
    rows += [f'<li class="cf-ignored">{_pill("ignored", "bad")} {esc(p)}</li>' for p in ignored]
    return (
        '<div class="cf-clash"><div class="cf-sub">The bot\'s points before this turn</div>'
        f'<ul class="cf-list">{"".join(rows)}</ul></div>'
    )


def turn_feedback_html(fb: dict, number: int) -> str:
    """One student turn's feedback card: problems first, then the quotes and figures, the
    claims and the clash. `number` is the turn's position in the round (1-based)."""
    problems = fb.get("problems") or []
    if problems:
        items = "".join(
            f'<li class="cf-problem" data-kind="{esc(p.get("kind"))}">'
            f"{_pill(PROBLEM_LABELS.get(p.get('kind'), str(p.get('kind'))), 'bad')} "
            f"{esc(p.get('message'))}</li>"
            for p in problems
        )
        summary = f'<ul class="cf-list cf-problems">{items}</ul>'
    else:
        summary = '<div class="cf-clean">No evidence problems found in this turn.</div>'
    quotes = "".join(quote_html(q) for q in fb.get("quotes") or [])
    claims = "".join(claim_html(c) for c in fb.get("claims") or [])
    notes = "".join(f"<li>{esc(n)}</li>" for n in fb.get("notes") or [])
    parts = [
        f'<div class="cf-turn" data-turn="{number - 1}">',
        f'<div class="cf-head">Turn {number}: your speech</div>',
        f'<div class="cf-text">{esc(_short(fb.get("text", ""), 220))}</div>',
        summary,
    ]
    if quotes:
        parts.append(f'<div class="cf-sub">Quotes and figures</div>{quotes}')
    if claims:
        parts.append(f'<div class="cf-sub">Claims checked</div><ul class="cf-list">{claims}</ul>')
    parts.append(clash_html(fb))
    if notes:
        parts.append(
            f'<details class="cf-notes"><summary>Notes</summary><ul class="cf-list">{notes}'
            "</ul></details>"
        )
    parts.append("</div>")
    return "".join(parts)


def pending_html(number: int) -> str:
    return (
        f'<div class="cf-turn cf-pending" data-turn="{number - 1}" aria-busy="true">'
        f'<div class="cf-head">Turn {number}: your speech</div>'
        '<div class="cf-wait"><span class="cf-spinner"></span> Checking your evidence… '
        "(this takes a little while; the debate goes on)</div></div>"
    )


def failed_html(number: int, reason: str) -> str:
    return (
        f'<div class="cf-turn cf-failed" data-turn="{number - 1}">'
        f'<div class="cf-head">Turn {number}: your speech</div>'
        f'<div class="cf-msg">The evidence check failed: {esc(reason)}</div></div>'
    )


def feedback_panel(cards: Sequence[str]) -> str:
    """The feedback panel: newest turn first."""
    if not cards:
        return (
            '<div class="cf-empty">After each of your messages, your claims, quotes and '
            "figures are checked against the sources here, with the bot's points you "
            "answered or ignored.</div>"
        )
    return f'<div class="cf-panel" id="turn-feedback-list">{"".join(reversed(cards))}</div>'


def _short(text: str, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# ---------------------------------------------------------------- flow


def flow_html(flow: dict | None) -> str:
    """The flow sheet as a table: each argument, who made it, the answers to it, and
    DROPPED for the ones never answered (the bot's dropped arguments are the student's
    homework, so they are marked the most)."""
    args = (flow or {}).get("arguments") or []
    if not args:
        return (
            '<div class="cf-empty">The flow sheet fills in as the round goes: every '
            "argument of either side and whether it was answered.</div>"
        )
    rows = []
    for a in args:
        bot = a.get("speaker") == "bot"
        who = f"{'Bot' if bot else 'You'} ({ROLE.get(a.get('side'), '')}), turn {_int(a.get('turn')) + 1}"
        answers = "".join(
            f'<div class="cf-flow-answer">turn {_int(r.get("turn")) + 1}: {esc(r.get("text"))}</div>'
            for r in a.get("responses") or []
        )
        dropped = bool(a.get("dropped")) or not a.get("responses")
        if dropped:
            answers = _pill("DROPPED", "bad" if bot else "info")
        cls = "cf-flow-row" + (" dropped" if dropped else "") + (" bot" if bot else " student")
        rows.append(
            f'<tr class="{cls}" data-id="{esc(a.get("id"))}"><td class="cf-flow-id">'
            f'{esc(a.get("id"))}</td><td class="cf-flow-who">{esc(who)}</td>'
            f"<td>{esc(a.get('text'))}</td><td>{answers}</td></tr>"
        )
    dropped_bot = [
        a
        for a in args
        if a.get("speaker") == "bot" and (a.get("dropped") or not a.get("responses"))
    ]
    note = (
        f'<div class="cf-flow-note">You have not answered {len(dropped_bot)} of the bot\'s '
        f"arguments: {', '.join(esc(a.get('id')) for a in dropped_bot)}.</div>"
        if dropped_bot
        else '<div class="cf-flow-note ok">Every argument of the bot has an answer.</div>'
    )
    return (
        f'<div class="cf-flow" id="flow-table">{note}<table class="cf-flow-table">'
        "<thead><tr><th>#</th><th>By</th><th>Argument</th><th>Answered by</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _int(x, default: int = 0) -> int:
    try:
        return int(x)
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- ballot


def safe_chart(chart: dict | None) -> dict:
    """chart data with only numbers and known words in it (a saved ballot file is data,
    not code: nothing in it reaches the SVG unchecked)."""
    points = []
    for p in (chart or {}).get("points") or []:
        if not isinstance(p, dict):
            continue
        value = p.get("value")
        try:
            value = None if value is None else max(0.0, min(1.0, float(value)))
        except (TypeError, ValueError):
            value = None
        speaker = "bot" if p.get("speaker") == "bot" else "student"
        points.append({"turn": _int(p.get("turn")), "speaker": speaker, "value": value})
    return {"metric": str((chart or {}).get("metric") or "evidence quality"), "points": points}


def ballot_html(ballot: dict | None, chart: dict | None = None) -> str:
    """Rubric scores 1-5 with reasons, two things to do better, and the round's chart."""
    if not ballot:
        return (
            '<div class="cf-empty">The ballot appears at the end of the round (after the '
            "bot's closing speech), or when you press “End round and show ballot”.</div>"
        )
    rows = []
    for s in ballot.get("scores") or []:
        score = max(1, min(5, _int(s.get("score"), 1)))
        dots = "".join(
            f'<span class="cf-dot{" on" if i < score else ""}"></span>' for i in range(5)
        )
        rows.append(
            f'<tr class="cf-score" data-criterion="{esc(s.get("criterion"))}">'
            f'<td class="cf-criterion">{esc(s.get("criterion"))}</td>'
            f'<td class="cf-points"><span class="cf-num">{score}/5</span>'
            f'<span class="cf-dots" aria-hidden="true">{dots}</span></td>'
            f"<td>{esc(s.get('reason'))}</td></tr>"
        )
    better = "".join(f"<li>{esc(x)}</li>" for x in ballot.get("improvements") or [])
    by = str(ballot.get("reasons_by") or "rules")
    by_text = (
        "reasons written by rules over the flow and the checks"
        if by == "rules"
        else (f"reasons written by {by} from the same facts")
    )
    svg = chart_svg(safe_chart(chart)) if chart else ""
    return (
        f'<div class="cf-ballot" id="ballot-card"><div class="cf-head">Ballot · '
        f"{esc(ballot.get('summary'))}</div>"
        '<table class="cf-ballot-table"><thead><tr><th>Criterion</th><th>Score</th>'
        f"<th>Reason</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f'<div class="cf-sub">Two things to do better next time</div>'
        f'<ol class="cf-better">{better}</ol>'
        f'<div class="cf-chart">{svg}</div>'
        f'<div class="cf-by">{esc(by_text)}</div></div>'
    )


# ---------------------------------------------------------------- past rounds (coach)


def rounds_html(rounds: Sequence[dict]) -> str:
    if not rounds:
        return '<div class="cf-empty">No saved rounds yet.</div>'
    rows = "".join(
        f'<tr data-key="{esc(r.get("key"))}"><td>{esc(r.get("date"))}</td>'
        f"<td>{esc(r.get('motion'))}</td>"
        f"<td>{esc(', '.join(ROLE.get(s, str(s)) for s in r.get('sides') or []))}</td>"
        f"<td>{_int(r.get('turns'))}</td>"
        f"<td>{esc(r.get('ballot') or 'no ballot yet')}</td></tr>"
        for r in rounds
    )
    return (
        f'<div class="cf-rounds" id="rounds-table"><table class="cf-flow-table"><thead><tr>'
        "<th>Date (UTC)</th><th>Motion</th><th>Bot's side</th><th>Turns</th>"
        f"<th>Ballot</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def round_view_html(
    motion_title: str, date: str, feedback: dict, transcript_turns: Sequence[dict]
) -> str:
    """A past round for the coach: the ballot, the flow, then each turn with the student's
    feedback under it."""
    by_turn = {_int(t.get("turn"), -1): t for t in feedback.get("turns") or []}
    speeches = []
    for i, t in enumerate(transcript_turns):
        speaker = t.get("speaker")
        if speaker == "system":
            speeches.append(f'<div class="cf-speech sys">{esc(t.get("text"))}</div>')
            continue
        who = "Student" if speaker == "student" else f"Bot ({ROLE.get(t.get('side'), '')})"
        body = f'<div class="cf-speech-text">{esc(t.get("text"))}</div>'
        if i in by_turn:
            body += turn_feedback_html(by_turn[i], i + 1)
        speeches.append(
            f'<div class="cf-speech {esc(speaker)}"><div class="cf-sub">{i + 1}. {esc(who)}, '
            f"{esc(t.get('phase'))}</div>{body}</div>"
        )
    return (
        f'<div class="cf-round" id="round-view-body"><div class="cf-head">{esc(motion_title)} · '
        f"{esc(date)}</div>"
        f"{ballot_html(feedback.get('ballot'), feedback.get('chart'))}"
        f'<div class="cf-sub">Flow</div>{flow_html(feedback.get("flow"))}'
        f'<div class="cf-sub">Speeches and feedback</div>{"".join(speeches)}</div>'
    )
