"""The argument-quality suites: does the bot answer the point in front of it, from its side?

- clash (evals/clash/<motion>.yaml): student messages with hand-graded rebuttal passages
  (2 = best card, 1 = usable counter). The bot argues the other side in a fresh round
  (phase rebuttal); its cited passages are scored against the grades (hit@3, best@3,
  first-cited hit), its quotes for staying on side, and a naive baseline (dense search of
  the message with the side bonus, top 3) is scored the same way in the same run. Reported
  per motion and split (dev for looking at failures, test for reporting and gating).
- unseen (evals/unseen): two packs from public debate posts ingested WITHOUT stance labels
  into a data dir of their own; the bot's quotes are scored against hidden side labels
  (labels.yaml), the on-side rate.

Both also count near-duplicate quotes (pairs of quotes in one reply with embedding cosine
>= NEAR_DUPLICATE). Every function here returns plain data; debate.evals.suites wraps it in
a SuiteResult (`run_clash`, `run_unseen`) and judges it against evals/thresholds.yaml.
Metric names are `<motion>/<split>/<metric>` (clash) and `<motion>/<metric>` (unseen).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from debate.check.citations import Reply, parse_citations
from debate.core.config import Settings
from debate.core.embeddings import embed_cached
from debate.core.errors import DebateError
from debate.core.text import quotes_in
from debate.corpus.motions import other_side
from debate.corpus.passages import Passage
from debate.search.retrieval import SIDE_STANCE

SPLITS = ("dev", "test")
NEAR_DUPLICATE = 0.9  # cosine at or above which two quotes of one reply count as one twice
BASELINE_K = 3


class ClashDataError(DebateError):
    """The clash or unseen data no longer matches the corpus (ids, files)."""


# ------------------------------------------------------------------ metrics of one reply
def cited_passages(reply: Reply) -> list[Passage]:
    """The passages the reply cites, in order of first citation: every [n] marker of
    reply.text read left to right, each number mapped through reply.evidence; a number
    outside the evidence list (fabricated) is skipped, a passage cited again is not
    counted twice."""
    seen: dict[str, Passage] = {}
    for citation in parse_citations(reply.text):
        for n in citation.numbers:
            p = reply.evidence.get(n) if reply.evidence else None
            if p is not None and p.id not in seen:
                seen[p.id] = p
    return list(seen.values())


def hit_at(ids: Sequence[str], grades: dict[str, int], k: int = 3, grade: int = 1) -> bool:
    """hit@k (grade 1) / best@k (grade 2): one of the first k ids is graded at least `grade`
    for this message. Averaged over messages it is the share of messages with such a hit."""
    return any(grades.get(pid, 0) >= grade for pid in ids[:k])


def first_hit(ids: Sequence[str], grades: dict[str, int]) -> bool:
    """First-cited hit: the first id (the first passage cited) is graded (1 or 2)."""
    return bool(ids) and grades.get(ids[0], 0) >= 1


def ranking_scores(ids: Sequence[str], grades: dict[str, int]) -> dict[str, bool]:
    """hit@3, best@3 and first hit of a ranking of passage ids (the bot's cited passages in
    order of first citation, or the baseline's retrieved top 3)."""
    return {
        "hit@3": hit_at(ids, grades, 3, 1),
        "best@3": hit_at(ids, grades, 3, 2),
        "first_hit": first_hit(ids, grades),
    }


def attributed_quotes(reply: Reply) -> list[tuple[str, Passage | None]]:
    """Every quoted span of the reply (text inside quotation marks, debate.core.text.
    quotes_in) with the passage it quotes: the first number of the first [n] marker after
    the quote that resolves in reply.evidence. None when no marker follows the quote or
    the marker right after it cites only numbers outside the list (a fabricated citation)."""
    citations = parse_citations(reply.text)
    out = []
    for quote in quotes_in(reply.text):
        after = next((c for c in citations if c.start >= quote.end), None)
        passage = None
        if after is not None and reply.evidence is not None:
            passage = next(
                (p for n in after.numbers if (p := reply.evidence.get(n)) is not None), None
            )
        out.append((quote.text, passage))
    return out


def on_side_quotes(
    quotes: list[tuple[str, Passage | None]], bot_side: str, grades: dict[str, int]
) -> int:
    """Clash on-side count: quotes whose passage is graded for this message (an answer to
    the point, whatever its source's stance) OR whose source's stance is the bot's side
    (supports = defend, opposes = attack). Unattributed quotes are never on side. The
    on-side rate is this count over all quotes of the replies."""
    own = SIDE_STANCE[bot_side]
    return sum(p is not None and (p.id in grades or p.stance == own) for _, p in quotes)


def near_duplicate_pairs(quotes: Sequence[str], settings: Settings) -> int:
    """Near-duplicate quotes: the number of pairs (i < j) of quoted spans of one reply whose
    embeddings (debate.core.embeddings.embed_cached, normalised) have cosine >=
    NEAR_DUPLICATE. Identical quotes count as a pair."""
    if len(quotes) < 2:
        return 0
    vectors = embed_cached(list(quotes), settings)
    cosine = vectors @ vectors.T
    upper = np.triu(cosine >= NEAR_DUPLICATE, k=1)
    return int(upper.sum())


def rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# ------------------------------------------------------------------ clash
@dataclass
class ClashRow:
    """One message of a clash set, answered."""

    id: str
    split: str
    bot_side: str
    turn: bool
    model: dict[str, bool]
    baseline: dict[str, bool]
    cited: list[str]
    quotes: int
    on_side: int
    near_duplicates: int
    seconds: float
    reply: str = ""
    extra: dict = field(default_factory=dict)


def clash_files(settings: Settings) -> list[Path]:
    return sorted((settings.evals_dir / "clash").glob("*.yaml"))


def check_ids(data: dict, folder: Path, stored: set[str]) -> None:
    """Every passage id of the motion's corpus file and every graded id must be in the
    ingested store; otherwise the chunker, its settings or the sources changed since the
    set was judged and its grades no longer point at the passages they were given to."""
    corpus = folder / data["corpus"]
    if not corpus.is_file():
        raise ClashDataError(f"{corpus} is missing (the clash set's passage export)")
    exported = {
        json.loads(line)["_id"] for line in corpus.read_text(encoding="utf-8").splitlines() if line
    }
    graded = {str(pid) for m in data["messages"] for pid in (m.get("rebuttals") or {})}
    for what, ids in (("graded passage ids", graded), (f"passage ids of {corpus.name}", exported)):
        missing = sorted(ids - stored)
        if missing:
            raise ClashDataError(
                f"clash set {data['motion']}: {len(missing)} of {len(ids)} {what} are not in "
                f"the ingested index (e.g. {', '.join(missing[:3])}): the chunker or the "
                "sources changed since the set was judged; re-export the corpus "
                "(debate-tools export-motion), re-run evals/clash/check_set.py and re-judge "
                "the changed passages (evals/clash/README.md)"
            )


def ready_motion(motion_id: str, settings: Settings):
    """The motion with its index up to date and its passage sentences embedded in one batch
    (as the debate suite readies a motion); returns (motion, retriever)."""
    from debate.check.faithfulness import warm
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion
    from debate.search.retrieval import get_retriever

    motion = load_motion(motion_id, settings.corpus_dir)
    ingest_motion(motion, settings)
    retriever = get_retriever(motion, settings)
    warm([], retriever.all_passages(), settings.model_path)
    return motion, retriever


def answer(motion, settings: Settings, bot_side: str, text: str) -> Reply:
    """The bot's reply to one student message: a fresh round (opener student, phase
    rebuttal, nothing saved)."""
    from debate.spar.session import Session

    session = Session(motion, settings, bot_side=bot_side, opener="student")
    session.autosave = False  # an eval run must not fill the user's transcripts folder
    session.set_phase("rebuttal")
    return session.respond(text)


def clash_row(message: dict, motion, retriever, settings: Settings) -> ClashRow:
    started = time.perf_counter()
    grades = {str(pid): int(g) for pid, g in (message.get("rebuttals") or {}).items()}
    bot = other_side(message["student_side"])
    reply = answer(motion, settings, bot, message["text"])
    cited = [p.id for p in cited_passages(reply)]
    quotes = attributed_quotes(reply)
    baseline = [
        r.passage.id
        for r in retriever.search(message["text"], k=BASELINE_K, side=bot, mode="dense")
    ]
    return ClashRow(
        id=message["id"],
        split=message["split"],
        bot_side=bot,
        turn=bool(message.get("turn")),
        model=ranking_scores(cited, grades),
        baseline=ranking_scores(baseline, grades),
        cited=cited,
        quotes=len(quotes),
        on_side=on_side_quotes(quotes, bot, grades),
        near_duplicates=near_duplicate_pairs([q for q, _ in quotes], settings),
        seconds=time.perf_counter() - started,
        reply=reply.text,
    )


def summarise_clash(rows: list[ClashRow]) -> dict[str, float | None]:
    """The metrics of one motion and split (see the docstrings of the functions above)."""
    n = len(rows)
    turns = [r for r in rows if r.turn]
    out: dict[str, float | None] = {"n": float(n)}
    for key in ("hit@3", "best@3", "first_hit"):
        out[key] = rate(sum(r.model[key] for r in rows), n)
    quotes = sum(r.quotes for r in rows)
    out["on_side"] = rate(sum(r.on_side for r in rows), quotes)
    out["turn_hit@3"] = rate(sum(r.model["hit@3"] for r in turns), len(turns))
    out["turns"] = float(len(turns))
    for key in ("hit@3", "best@3", "first_hit"):
        out[f"baseline_{key}"] = rate(sum(r.baseline[key] for r in rows), n)
    out["hit@3_vs_baseline"] = hit_ratio(out["hit@3"], out["baseline_hit@3"])
    out["quotes"] = float(quotes)
    out["near_duplicates"] = float(sum(r.near_duplicates for r in rows))
    out["replies_without_citation"] = float(sum(not r.cited for r in rows))
    return out


def hit_ratio(model: float | None, baseline: float | None) -> float | None:
    """hit@3 of the bot over hit@3 of the baseline (>= 1: the bot finds an answer at least
    as often as the naive search). A baseline of 0 gives 1.0 when the bot is 0 too, else a
    large number (the bot beats it)."""
    if model is None or baseline is None:
        return None
    if baseline == 0:
        return 1.0 if model == 0 else 100.0
    return model / baseline


TABLE_COLUMNS = (
    ("n", "n"),
    ("hit@3", "hit@3"),
    ("best@3", "best@3"),
    ("first hit", "first_hit"),
    ("quotes", "quotes"),
    ("on-side", "on_side"),
    ("turns", "turns"),
    ("turn hit@3", "turn_hit@3"),
    ("base hit@3", "baseline_hit@3"),
    ("base best@3", "baseline_best@3"),
    ("base first", "baseline_first_hit"),
    ("hit@3 / base", "hit@3_vs_baseline"),
    ("near-dup pairs", "near_duplicates"),
)


def clash_suite(settings: Settings, splits: Iterable[str] = SPLITS) -> dict:
    """The clash suite: metrics, table (one row per motion and split), failures (messages
    with no graded passage among the first three cited), notes. `splits` limits the run to
    those messages (the gate reads the test split)."""
    splits = tuple(splits)
    files = clash_files(settings)
    if not files:
        raise ClashDataError(f"no clash set (*.yaml) in {settings.evals_dir / 'clash'}")
    metrics, table, failures, notes, rows_out = {}, [], [], [], []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        started = time.perf_counter()
        motion, retriever = ready_motion(data["motion"], settings)
        check_ids(data, path.parent, {p.id for p in retriever.all_passages()})
        rows = [
            clash_row(m, motion, retriever, settings)
            for m in data["messages"]
            if m["split"] in splits
        ]
        for split in splits:
            part = [r for r in rows if r.split == split]
            if not part:
                continue
            summary = summarise_clash(part)
            metrics.update({f"{motion.id}/{split}/{k}": v for k, v in summary.items()})
            table.append(
                {"motion": motion.id, "split": split}
                | {label: counted(key, summary[key]) for label, key in TABLE_COLUMNS}
            )
        failures += [
            f"{motion.id}/{r.split}/{r.id} (bot {r.bot_side}): no graded passage among the "
            f"first three cited {r.cited[:3]}"
            for r in rows
            if not r.model["hit@3"]
        ]
        rows_out += [{"motion": motion.id, **r.__dict__} for r in rows]
        notes.append(
            f"{motion.id}: {len(rows)} messages ({', '.join(splits)}) in "
            f"{time.perf_counter() - started:.0f} s"
        )
    notes.append(
        "baseline: dense search of the message with the side bonus, top 3 "
        "(Retriever.search(text, k=3, side=bot side, mode='dense'))"
    )
    notes += text_table(table)
    return {
        "metrics": metrics,
        "table": table,
        "failures": failures,
        "notes": notes,
        "rows": rows_out,
    }


COUNTS = frozenset({"n", "turns", "quotes", "near_duplicates", "replies_without_quote"})


def counted(key: str, value):
    """A table cell: counts as ints (metrics keep floats), rates as they are."""
    return int(value) if key in COUNTS and value is not None else value


def text_table(table: list[dict]) -> list[str]:
    """The suite table as fixed-width lines (for the terminal, which prints notes)."""
    if not table:
        return []
    cols = list(table[0])
    cells = [[c for c in cols]] + [[fmt(row[c]) for c in cols] for row in table]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    return ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]


def fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# ------------------------------------------------------------------ unseen
def unseen_settings(settings: Settings) -> Settings:
    """Settings for the unseen packs: corpus evals/unseen, index in a data dir of its own
    (settings.data_dir / "eval-unseen", embedded Chroma), so the user's index is untouched."""
    return replace(
        settings,
        corpus_dir=settings.evals_dir / "unseen",
        data_dir=settings.data_dir / "eval-unseen",
        chroma_url="",
    )


def unseen_reply_counts(
    reply: Reply, bot_side: str, labels: dict[str, str], settings: Settings
) -> dict[str, int]:
    """Counts of one reply: quotes, quotes whose source's hidden label is the bot's side
    (unattributed quotes count against), cited passages and on-side cited passages (the
    per-citation measure of evals/unseen/run_check.py), near-duplicate quote pairs."""
    quotes = attributed_quotes(reply)
    cited = cited_passages(reply)
    return {
        "quotes": len(quotes),
        "on_side": sum(p is not None and labels.get(p.source_id) == bot_side for _, p in quotes),
        "cited": len(cited),
        "cited_on_side": sum(labels.get(p.source_id) == bot_side for p in cited),
        "near_duplicates": near_duplicate_pairs([q for q, _ in quotes], settings),
        "without_quote": int(not quotes),
    }


def unseen_suite(settings: Settings) -> dict:
    """The unseen suite: each pack of evals/unseen ingested unlabelled, the bot on the side
    opposite the student for every message of messages.yaml; on-side rate = quotes whose
    source's hidden label (labels.yaml) is the bot's side / all quotes, per motion and per
    bot side."""
    folder = settings.evals_dir / "unseen"
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    messages = yaml.safe_load((folder / "messages.yaml").read_text(encoding="utf-8"))["motions"]
    local = unseen_settings(settings)
    metrics, table, failures, notes = {}, [], [], []
    for motion_id, by_source in labels.items():
        started = time.perf_counter()
        motion, retriever = ready_motion(motion_id, local)
        if any(p.stance for p in retriever.all_passages()):
            raise ClashDataError(f"unseen pack {motion_id} has stance labels: it must have none")
        totals: dict[str, int] = {}
        for msg in messages[motion_id]:
            bot = other_side(msg["student_side"])
            counts = unseen_reply_counts(
                answer(motion, local, bot, msg["text"]), bot, by_source, local
            )
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
                totals[f"{key}:{bot}"] = totals.get(f"{key}:{bot}", 0) + value
            if counts["quotes"] and counts["on_side"] < counts["quotes"]:
                failures.append(
                    f"{motion_id}/{msg['id']} (bot {bot}): {counts['quotes'] - counts['on_side']}"
                    f" of {counts['quotes']} quotes from the other side or unattributed"
                )
        row = unseen_summary(motion_id, totals, len(messages[motion_id]))
        metrics.update({f"{motion_id}/{k}": v for k, v in row.items() if k != "motion"})
        table.append({k: counted(k, v) for k, v in row.items()})
        notes.append(
            f"{motion_id}: {len(messages[motion_id])} messages in "
            f"{time.perf_counter() - started:.0f} s"
        )
    notes.append(f"index in {local.data_dir} (sources unlabelled)")
    notes += text_table(table)
    return {"metrics": metrics, "table": table, "failures": failures, "notes": notes}


def unseen_summary(motion_id: str, totals: dict[str, int], n: int) -> dict:
    t = totals.get
    return {
        "motion": motion_id,
        "n": float(n),
        "quotes": float(t("quotes", 0)),
        "on_side": rate(t("on_side", 0), t("quotes", 0)),
        "on_side_bot_defend": rate(t("on_side:defend", 0), t("quotes:defend", 0)),
        "on_side_bot_attack": rate(t("on_side:attack", 0), t("quotes:attack", 0)),
        "cited_on_side": rate(t("cited_on_side", 0), t("cited", 0)),
        "near_duplicates": float(t("near_duplicates", 0)),
        "replies_without_quote": float(t("without_quote", 0)),
    }
