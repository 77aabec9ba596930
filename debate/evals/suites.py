"""The faithfulness eval suites that `debate eval` and CI run (cases live in evals/).

- calibration: the checker on labelled (sentence, passage, label) pairs, per category, with
  the support threshold calibrated on one half of the sources and reported on the other;
- debate: the engine answers scripted student messages; its replies are scored with the
  ALCE metrics (debate.check.metrics);
- llm-replies: replies written the way an LLM answers our prompts, with planted unfaithful
  citations, run through the guard, which must catch every one.

Pass/fail thresholds live in evals/thresholds.yaml. Reports go to evals/reports/.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from debate.check.citations import EvidenceList, Reply, cited_numbers
from debate.check.faithfulness import (
    SUPPORT_THRESHOLD,
    check_claim,
    check_sentence,
    claim_text,
    warm,
)
from debate.core.config import Settings
from debate.core.errors import DebateError
from debate.corpus.passages import Passage

log = logging.getLogger(__name__)


class EvalError(DebateError):
    """An eval suite's data is missing or out of date."""


@dataclass
class SuiteResult:
    name: str
    metrics: dict[str, float | None]
    # (metric, comparison, threshold, value, ok) for every threshold of the suite
    checks: list[tuple[str, str, float, float | None, bool]] = field(default_factory=list)
    table: list[dict] = field(default_factory=list)  # rows for the report's table
    failures: list[str] = field(default_factory=list)  # cases that went wrong, for people
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """All thresholds met; a suite with no threshold to check has not passed (a gate
        that cannot fail is no gate)."""
        return bool(self.checks) and all(ok for *_, ok in self.checks)


def load_thresholds(settings: Settings) -> dict:
    path = settings.evals_dir / "thresholds.yaml"
    if not path.is_file():
        raise EvalError(f"{path} is missing: it holds the pass thresholds of the eval suites")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def apply_thresholds(result: SuiteResult, thresholds: dict) -> SuiteResult:
    """Compare metrics with `min_<metric>` / `max_<metric>` entries of the suite's section."""
    for key, limit in (thresholds.get(result.name) or {}).items():
        kind, _, metric = key.partition("_")
        value = result.metrics.get(metric)
        if kind == "min":
            ok = value is not None and value >= limit
            result.checks.append((metric, ">=", limit, value, ok))
        elif kind == "max":
            ok = value is not None and value <= limit
            result.checks.append((metric, "<=", limit, value, ok))
    return result


# ------------------------------------------------------------------ passages from refs
class PassageResolver:
    """Turns {source_id, start, end, text} references into Passages, checking that the
    source still contains exactly that text at those offsets."""

    def __init__(self, settings: Settings, motion_id: str):
        from debate.corpus.ingest import prepare_motion
        from debate.corpus.motions import load_motion

        self.motion = load_motion(motion_id, settings.corpus_dir)
        self.sources = {s.spec.id: s for s in prepare_motion(self.motion, settings)}

    def get(self, ref: dict) -> Passage:
        source = self.sources.get(ref["source_id"])
        if source is None:
            raise EvalError(
                f"eval data refers to unknown source {ref['source_id']!r}; "
                "regenerate it (debate/tools/make_calibration.py)"
            )
        start, end = ref["start"], ref["end"]
        if source.text[start:end] != ref["text"]:
            raise EvalError(
                f"source {ref['source_id']} changed at {start}-{end}: the eval data "
                "no longer matches it; regenerate it (debate/tools/make_calibration.py)"
            )
        for p in source.passages:
            if p.start == start and p.end == end:
                return p
        meta = source.meta
        return Passage(
            id=f"{ref['source_id']}:{start}-{end}",
            motion=self.motion.id,
            source_id=ref["source_id"],
            text=ref["text"],
            start=start,
            end=end,
            paragraph=0,
            title=str(meta.get("title", "")),
            publisher=str(meta.get("publisher", "")),
            date=str(meta.get("date", "")),
            url=str(meta.get("url", "")),
            stance=str(meta.get("stance", "")),
        )

    def find(self, source_id: str, anchor: str) -> Passage:
        """The passage of a source that contains `anchor` (an exact snippet)."""
        source = self.sources.get(source_id)
        found = [p for p in source.passages if anchor in p.text] if source else []
        if not found:
            raise EvalError(f"no passage of {source_id!r} contains {anchor!r}")
        return found[0]


# ------------------------------------------------------------------ suite 1: calibration
def _predict(status: str, score: float | None, threshold: float) -> str:
    if status == "supported" and (score is None or score >= threshold):
        return "supported"
    if status == "supported":
        return "unsupported"
    return status


def _correct(row: dict, predicted: str) -> bool:
    if row["expect"] == "supported":
        return predicted == "supported"
    if row["expect"] == "fabricated-citation":
        return predicted == "fabricated-citation"
    return predicted != "supported"


def _category_accuracy(rows: list[dict], threshold: float) -> dict[str, float]:
    by_cat: dict[str, list[bool]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(
            _correct(r, _predict(r["status"], r["score"], threshold))
        )
    return {c: sum(v) / len(v) for c, v in sorted(by_cat.items())}


def calibrate(rows: list[dict]) -> float:
    """The support threshold that maximises the mean per-category accuracy (then the worst
    category) on the given rows; of equally good thresholds, the middle one (the widest
    margin between the faithful and unfaithful scores around it)."""
    scores = sorted({r["score"] for r in rows if r["score"] is not None})
    candidates = [0.0] + [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)]
    keyed = []
    for t in candidates:
        acc = _category_accuracy(rows, t)
        keyed.append(((round(sum(acc.values()) / len(acc), 6), round(min(acc.values()), 6)), t))
    best_key = max(k for k, _ in keyed)
    best = [t for k, t in keyed if k == best_key]
    return best[len(best) // 2] if best else SUPPORT_THRESHOLD


def run_calibration(settings: Settings) -> SuiteResult:
    """The checker on the labelled pairs of evals/calibration.jsonl: per-category accuracy at
    the shipped threshold, and the threshold fitted on the calibration split."""
    rows = _checked_pairs(settings)
    calib = [r for r in rows if r["split"] == "calibration"]
    held = [r for r in rows if r["split"] == "held-out"]
    fitted = calibrate(calib)
    shipped = _category_accuracy(rows, SUPPORT_THRESHOLD)
    on_calib = _category_accuracy(calib, fitted)
    on_held = _category_accuracy(held, fitted)
    table, failures = _confusion(rows, shipped, on_calib, on_held)
    faithful = [a for c, a in shipped.items() if c.startswith("faithful")]
    unfaithful = [a for c, a in shipped.items() if not c.startswith("faithful")]
    metrics = {
        # the worst category of each kind: every category must clear the bar on its own
        "faithful_accuracy": min(faithful),
        "unfaithful_accuracy": min(unfaithful),
        "held_out_accuracy": min(on_held.values()),
        "overall_accuracy": sum(
            _correct(r, _predict(r["status"], r["score"], SUPPORT_THRESHOLD)) for r in rows
        )
        / len(rows),
        "fitted_threshold": fitted,
        "shipped_threshold": SUPPORT_THRESHOLD,
        "pairs": float(len(rows)),
    }
    notes = [
        f"{len(rows)} pairs ({len(calib)} calibration split, {len(held)} held-out split, "
        "split by source)",
        f"threshold fitted on the calibration split: {fitted:.3f}; shipped "
        f"SUPPORT_THRESHOLD: {SUPPORT_THRESHOLD:.3f}",
    ]
    return SuiteResult("calibration", metrics, table=table, failures=failures, notes=notes)


def _checked_pairs(settings: Settings) -> list[dict]:
    """The rows of evals/calibration.jsonl, each with the checker's status, score and
    reason at threshold 0 (thresholds are applied by the caller)."""
    path = settings.evals_dir / "calibration.jsonl"
    if not path.is_file():
        raise EvalError(f"{path} is missing; build it with debate/tools/make_calibration.py")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    resolver = PassageResolver(settings, settings.default_motion)
    for r in rows:
        r["passages"] = [resolver.get(ref) for ref in r["evidence"]]
        r["numbers"] = tuple(dict.fromkeys(cited_numbers(r["sentence"])))
    # Only pairs that pass the cheap layers need the model: embed those in one batch.
    needs_model = []
    for r in rows:
        cited = [(n, r["passages"][n - 1]) for n in r["numbers"] if 0 < n <= len(r["passages"])]
        if (
            len(cited) == len(r["numbers"])
            and check_claim(claim_text(r["sentence"]), cited, lexical_only=True).ok
        ):
            needs_model.append(r)
    warm(
        [claim_text(r["sentence"]) for r in needs_model],
        [p for r in needs_model for p in r["passages"]],
        settings.model_path,
    )
    for r in rows:
        reply = Reply(r["sentence"], EvidenceList(r.pop("passages")))
        # Threshold 0: the verdict of layers 1-3 plus the score; thresholds are applied below.
        v = check_sentence(r["sentence"], r.pop("numbers"), reply, 0.0, settings.model_path)
        r["status"], r["score"], r["reason"] = v.status, v.score, v.reason
    return rows


def _confusion(
    rows: list[dict], shipped: dict, on_calib: dict, on_held: dict
) -> tuple[list[dict], list[str]]:
    """The confusion table (one row per category, at the shipped threshold) and the pairs
    the checker gets wrong."""
    table, failures = [], []
    for cat in shipped:
        in_cat = [r for r in rows if r["category"] == cat]
        predicted = [_predict(r["status"], r["score"], SUPPORT_THRESHOLD) for r in in_cat]
        counts = {
            s: predicted.count(s)
            for s in ("supported", "unsupported", "fabricated-citation", "uncited-factual")
        }
        table.append(
            {
                "category": cat,
                "label": in_cat[0]["label"],
                "n": len(in_cat),
                **counts,
                "accuracy": shipped[cat],
                "calibration_split": on_calib.get(cat),
                "held_out_split": on_held.get(cat),
            }
        )
        for r, p in zip(in_cat, predicted, strict=True):
            if not _correct(r, p):
                failures.append(f"{r['id']} ({cat}) predicted {p}: {r['reason']} | {r['sentence']}")
    return table, failures


# ------------------------------------------------------------------ suite 2: debate
def _failing(verdicts: list) -> list:
    from debate.check.faithfulness import FAILING

    return [v for v in verdicts if v.status in FAILING]


def debate_case_files(settings: Settings) -> list[Path]:
    """evals/debate_cases.yaml (the default motion) and debate_cases_<motion>.yaml (others)."""
    return sorted(settings.evals_dir.glob("debate_cases*.yaml"))


def run_debate(settings: Settings) -> SuiteResult:
    """Every case of every debate-cases file (one per motion) through a fresh Session; each
    bot reply is scored with the checker. With settings.llm set, the LLM engine (and its
    guard) answers."""
    from debate.check.metrics import summarise

    files = debate_case_files(settings)
    if not files:
        raise EvalError(f"no debate_cases*.yaml in {settings.evals_dir}")
    all_verdicts: list = []
    table, failures, notes, cases = [], [], [], 0
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        motion = _ready_motion(data["motion"], settings)
        for case in data["cases"]:
            row, verdicts, problems = _run_case(case, motion, settings)
            table.append({"motion": motion.id, **row})
            all_verdicts.extend(verdicts)
            failures += [f"{case['id']}: {p}" for p in problems]
        cases += len(data["cases"])
        notes.append(f"{len(data['cases'])} cases on motion {motion.id} ({path.name})")
    metrics = summarise(all_verdicts)
    metrics["case_pass_rate"] = sum(row["ok"] for row in table) / cases
    metrics["cases"] = float(cases)
    metrics["citations"] = float(sum(len(v.citations) for v in all_verdicts))
    engine = f"LLM engine ({settings.llm})" if settings.llm else "offline evidence engine"
    notes.append(f"{cases} cases in all, {engine}")
    return SuiteResult(
        "debate-llm" if settings.llm else "debate",
        metrics,
        table=table,
        failures=failures,
        notes=notes,
    )


def _ready_motion(motion_id: str, settings: Settings):
    """The motion, its index brought up to date, its passage sentences embedded in one
    sorted batch (cheaper than turn by turn)."""
    from debate.corpus.ingest import ingest_motion
    from debate.corpus.motions import load_motion
    from debate.search.retrieval import get_retriever

    motion = load_motion(motion_id, settings.corpus_dir)
    ingest_motion(motion, settings)
    warm([], get_retriever(motion, settings).all_passages(), settings.model_path)
    return motion


def _run_case(case: dict, motion, settings: Settings) -> tuple[dict, list, list[str]]:
    """One scripted debate: (table row, verdicts of every reply, problems found)."""
    from debate.check.faithfulness import badge, check_reply
    from debate.check.metrics import summarise
    from debate.spar.session import Session

    session = Session(
        motion,
        settings,
        bot_side=case["side"],
        opener="bot" if case["kind"] == "bot-opens" else "student",
    )
    session.autosave = False  # an eval run must not fill the user's transcripts folder
    replies = []
    for phase, message in case.get("history", []):
        session.set_phase(phase)
        replies.append(session.respond(message))
    session.set_phase(case["phase"])
    if case["kind"] == "bot-opens":
        replies.append(session.open_round())
    else:
        replies.append(session.respond(case["message"]))
    problems, verdicts = [], []
    for reply in replies:
        checked = check_reply(reply, settings)
        verdicts.extend(checked)
        problems += [
            f"{v.status}: {v.reason} | {v.sentence.strip()[:160]}" for v in _failing(checked)
        ]
    problems += _expectations(case, replies[-1], verdicts)
    summary = summarise(verdicts)
    row = {
        "case": case["id"],
        "kind": case["kind"],
        "side": case["side"],
        "phase": case["phase"],
        "badge": badge(verdicts),
        "precision": summary["citation_precision"],
        "recall": summary["citation_recall"],
        "ok": not problems,
    }
    return row, verdicts, problems


def _expectations(case: dict, final, verdicts: list) -> list[str]:
    """What the case's `expect` asks of the final reply, and at least one citation."""
    problems = []
    expect = case.get("expect") or {}
    want_side = expect.get("side", case["side"])
    if final.side != want_side:
        problems.append(f"replied for {final.side}, expected {want_side}")
    for text in expect.get("never", []):
        if text.lower() in final.text.lower():
            problems.append(f"reply contains {text!r}")
    for text in expect.get("not_claimed", []):
        # Restating the student's words is fine; asserting them with a citation is not.
        claimed = [v for v in verdicts if v.citations or v.status != "not-factual"]
        if any(text.lower() in v.sentence.lower() for v in claimed):
            problems.append(f"reply claims {text!r}")
    if not any(v.citations for v in verdicts):
        problems.append("no citation at all")
    return problems


# ------------------------------------------------------------------ suite 3: LLM-style replies
def run_llm_replies(settings: Settings) -> SuiteResult:
    """Replies written like an LLM's, with planted unfaithful citations, streamed through
    the guard as students receive them (no regeneration: holding back must catch them)."""
    return run_replies(settings, "llm_replies.yaml", "llm-replies")


def run_independent_replies(settings: Settings) -> SuiteResult:
    """Replies written by hand by someone who had not read the checker (not generated by
    its functions): beyond-lexical unfaithful sentences (every name and number present,
    meaning changed) next to faithful paraphrases, through the guard."""
    return run_replies(settings, "independent_replies.yaml", "independent-replies")


def streamed_guard(reply: Reply, settings: Settings) -> Reply:
    """A reply as a student receives it: streamed word by word through `guard_stream`
    (the page's and `debate spar`'s path), the final checked Reply."""
    from debate.check.guard import guard_stream

    chunks = re.findall(r"\S+\s*", reply.text)
    stream = guard_stream(
        chunks, reply.evidence, settings, side=reply.side, phase=reply.phase, engine=reply.engine
    )
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value


def run_replies(settings: Settings, file: str, name: str) -> SuiteResult:
    """A replies suite (format of evals/llm_replies.yaml) through the streamed guard (the
    path students see), offline. Gated in paraphrase mode (the checker judges the model's
    own words); the same replies under card-bound speeches (the LLM default, where a fact
    must be a quoted card) are reported next to it as cards_* metrics."""
    data = yaml.safe_load((settings.evals_dir / file).read_text(encoding="utf-8"))
    resolver = PassageResolver(settings, data["motion"])
    n, table, failures, by_what = _guard_all(
        data, resolver, replace(settings, llm_mode="paraphrase")
    )
    cards, _, _, _ = _guard_all(data, resolver, replace(settings, llm_mode="cards"))
    metrics = _reply_metrics(n) | {f"cards_{k}": v for k, v in _reply_metrics(cards).items()}
    metrics |= {"replies": float(len(data["replies"])), "planted": float(n["planted"])}
    notes = [
        f"{len(data['replies'])} replies, {n['planted']} planted unfaithful sentences, "
        f"{n['faithful']} faithful or rhetorical ones",
        f"beyond-lexical unfaithful sentences caught: {n['beyond_caught']}/{n['beyond']}",
        "caught by kind: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_what.items())),
        f"card-bound speeches (llm_mode=cards): planted caught {cards['caught']}/"
        f"{cards['planted']}, beyond-lexical caught {cards['beyond_caught']}/{cards['beyond']}, "
        f"faithful kept {cards['kept']}/{cards['faithful']} (a fact in the model's own words "
        "is removed by design: these replies paraphrase)",
    ]
    return SuiteResult(name, metrics, table=table, failures=failures, notes=notes)


def _reply_metrics(n: dict) -> dict:
    planted, faithful, beyond = n["planted"], n["faithful"], n["beyond"]
    return {
        "planted_caught": n["caught"] / planted if planted else None,
        "faithful_kept": n["kept"] / faithful if faithful else None,
        "beyond_lexical_caught": n["beyond_caught"] / beyond if beyond else None,
    }


def _guard_all(data: dict, resolver, settings: Settings):
    """Every reply of the suite through the streamed guard: (totals, table, failures,
    caught by kind)."""
    n = dict.fromkeys(("planted", "caught", "faithful", "kept", "beyond", "beyond_caught"), 0)
    table, failures, by_what = [], [], {}
    for case in data["replies"]:
        evidence = EvidenceList([resolver.find(src, anchor) for src, anchor in case["evidence"]])
        text = " ".join(s[1] for s in case["sentences"])
        reply = Reply(text, evidence, side=case["side"], phase=case["phase"], engine="llm")
        guarded = streamed_guard(reply, settings)
        case_caught, case_kept = _tally_reply(case, guarded, n, by_what, failures)
        n_planted = sum(s[0] == "planted" for s in case["sentences"])
        n_ok = sum(s[0] == "ok" for s in case["sentences"])
        table.append(
            {
                "case": case["id"],
                "planted_caught": f"{case_caught}/{n_planted}",
                "faithful_kept": f"{case_kept}/{n_ok}",
                "badge": _badge(guarded.verdicts),
            }
        )
    return n, table, failures, by_what


def _tally_reply(case: dict, guarded, n: dict, by_what: dict, failures: list) -> tuple[int, int]:
    """Count one guarded reply's sentences into n (running totals) and by_what ({kind:
    [caught, planted]}), note its failures; (planted caught, faithful kept) of the reply."""
    case_caught = case_kept = 0
    for label, sentence, *what in case["sentences"]:
        present = sentence in guarded.text
        if label == "planted":
            n["planted"] += 1
            ok = not present
            n["caught"] += ok
            case_caught += ok
            kind = what[0] if what else "other"
            hits = by_what.setdefault(kind, [0, 0])
            hits[0] += ok
            hits[1] += 1
            if not ok:
                failures.append(f"{case['id']}: planted {kind} not caught: {sentence}")
        elif label == "beyond-lexical":
            n["beyond"] += 1
            n["beyond_caught"] += not present
            kind = f"beyond-lexical {what[0] if what else 'other'}"
            hits = by_what.setdefault(kind, [0, 0])
            hits[0] += not present
            hits[1] += 1
        else:
            n["faithful"] += 1
            n["kept"] += present
            case_kept += present
            if not present:
                reason = next((x for x in guarded.notices if sentence.strip() in x), "removed")
                failures.append(f"{case['id']}: faithful sentence lost: {reason}")
    return case_caught, case_kept


def _badge(verdicts: list) -> str:
    from debate.check.faithfulness import badge

    return badge(verdicts)


# ------------------------------------------------------------------ suites 4-5: clash, unseen
def run_clash(settings: Settings, splits: tuple[str, ...] = ("dev", "test")) -> SuiteResult:
    """Does the bot answer the student's point (evals/clash; debate.evals.clash)."""
    from debate.evals.clash import clash_suite

    parts = clash_suite(settings, splits)
    parts.pop("rows")
    return SuiteResult("clash", **parts)


def run_unseen(settings: Settings) -> SuiteResult:
    """Does the bot quote its own side on unlabelled packs (evals/unseen; debate.evals.clash)."""
    from debate.evals.clash import unseen_suite

    return SuiteResult("unseen", **unseen_suite(settings))


# ------------------------------------------------------------------ running and reporting
RUNNERS = {
    "calibration": run_calibration,
    "debate": run_debate,
    "llm-replies": run_llm_replies,
    "independent-replies": run_independent_replies,
    "clash": run_clash,
    "unseen": run_unseen,
}
SUITES = tuple(RUNNERS)
# What `debate eval` runs without --suite: clash and unseen answer ~130 messages (minutes on
# a laptop CPU), so they run on request (`--suite clash`, `--suite unseen`).
DEFAULT_SUITES = ("calibration", "debate", "llm-replies", "independent-replies")


def run_suites(settings: Settings, names: list[str] | None = None) -> list[SuiteResult]:
    """Run the named suites (DEFAULT_SUITES by default) and judge them against
    evals/thresholds.yaml."""
    names = names or list(DEFAULT_SUITES)
    unknown = [n for n in names if n not in RUNNERS]
    if unknown:
        raise EvalError(f"unknown suite {', '.join(unknown)}: use one of {', '.join(SUITES)}")
    thresholds = load_thresholds(settings)
    return [apply_thresholds(RUNNERS[name](settings), thresholds) for name in names]


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def report_markdown(results: list[SuiteResult], settings: Settings) -> str:
    lines = [
        "# Faithfulness eval report",
        "",
        f"- run: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- engine: {settings.llm or 'offline evidence engine'}",
        f"- result: {'PASS' if all(r.passed for r in results) else 'FAIL'}",
        "",
    ]
    for r in results:
        lines += [f"## {r.name}: {'PASS' if r.passed else 'FAIL'}", ""]
        lines += [f"- {n}" for n in r.notes] + [""]
        lines += ["| metric | value | threshold | ok |", "|---|---|---|---|"]
        checked = {m for m, *_ in r.checks}
        for metric, op, limit, value, ok in r.checks:
            lines.append(f"| {metric} | {_fmt(value)} | {op} {limit} | {'yes' if ok else 'NO'} |")
        for metric, value in r.metrics.items():
            if metric not in checked:
                lines.append(f"| {metric} | {_fmt(value)} | | |")
        if r.table:
            cols = list(r.table[0])
            lines += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            lines += ["| " + " | ".join(_fmt(row.get(c)) for c in cols) + " |" for row in r.table]
        if r.failures:
            lines += ["", "Cases that went wrong:", ""]
            lines += [f"- {f}" for f in r.failures]
        lines.append("")
    return "\n".join(lines)


def write_report(results: list[SuiteResult], settings: Settings) -> tuple[Path, Path]:
    """evals/reports/<UTC timestamp>.json and .md; returns their paths."""
    folder = settings.evals_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    data = {
        "engine": settings.llm or "evidence",
        "passed": all(r.passed for r in results),
        "suites": [
            {
                "name": r.name,
                "passed": r.passed,
                "metrics": r.metrics,
                "checks": [
                    {"metric": m, "op": op, "threshold": t, "value": v, "ok": ok}
                    for m, op, t, v, ok in r.checks
                ],
                "notes": r.notes,
                "table": r.table,
                "failures": r.failures,
            }
            for r in results
        ],
    }
    json_path, md_path = folder / f"{stamp}.json", folder / f"{stamp}.md"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    md_path.write_text(report_markdown(results, settings), encoding="utf-8")
    return json_path, md_path
