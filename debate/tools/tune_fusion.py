"""Tune the fusion of BM25 and dense rankings on dev judgments; report on held-out test.

    DEBATE_DATA_DIR=/tmp/tune .venv/bin/python debate/tools/tune_fusion.py [SET ...] [--json FILE]

For each labelled set (default: every BEIR folder beside this script), the BM25 and dense
rankings of every judged query are computed once with the real Retriever (top 100 each),
then every strategy of the grid below (debate.search.fusion) is scored by mean nDCG@10 on the
set's dev judgments only. The strategy with the best mean dev nDCG@10 over all sets (each
set weighing the same) is the one chosen; it is then scored on the test judgments, never
seen while choosing, beside dense-only, BM25-only and the former default (equal-weight
RRF, k=60, 40 candidates, what Retriever.search did for a top-10 search before this study). The best
strategy for each set alone is shown too, for information.

For sets whose queries carry a side (metadata.side), the query formulations of the dense
half are compared as well: the query alone against the query plus the side's claim (what
the dense half of a sided search embedded before this study), and Retriever.search with and
without the side (now: the stance bonus only), without a per-source cap.

Prints markdown tables (pasted into RESULTS.md) and writes the figures as JSON.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from debate.core.config import load_settings
from debate.core.text import sentences
from debate.corpus.motions import load_motion
from debate.search.fusion import FORMER_DEFAULT, METHODS, NORMS, Fusion, blend, rrf
from debate.search.retrieval import Retriever, add_side_bonus
from debate.tools.retrieval_eval import (
    corpus_passages,
    eval_settings,
    index_corpus,
    load_beir,
    ndcg_at,
    scored_queries,
)

HERE = Path(__file__).resolve().parents[2] / "evals" / "retrieval"  # the labelled sets
DEPTH = 100
RERANK_POOL = 40  # candidates of each ranking given a sentence-level score
# Shown on test beside the chosen strategy, to see how much the choice matters (not chosen
# from these figures).
NEIGHBOURS = [
    *(Fusion("convex", alpha=a, norm="zscore", depth=100) for a in (0.3, 0.4, 0.6, 0.7, 0.8)),
    Fusion("convex", alpha=0.5, norm="minmax", depth=100),
    Fusion("convex", alpha=0.5, norm="zscore", depth=40),
    Fusion("rrf", rrf_k=60, bm25_weight=0.5, dense_weight=1.0, depth=40),
    Fusion("rrf", rrf_k=10, bm25_weight=1.0, dense_weight=1.0, depth=40),
]
BETAS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
# Sets whose queries carry a side: a set named after a motion pack, whose claims give the
# side's claim (our own labelled set; the public sets have no motion).
SIDE_MOTIONS = {
    p.parent.name: p.parent.name
    for p in (Path(__file__).resolve().parents[2] / "corpus").glob("*/motion.yaml")
}


def grid() -> list[Fusion]:
    out = [Fusion("dense", depth=DEPTH), Fusion("bm25", depth=DEPTH)]
    for depth in (20, 40, 100):
        for k in (1, 5, 10, 20, 40, 60, 100):
            for w in (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5):
                out.append(Fusion("rrf", rrf_k=k, bm25_weight=w, dense_weight=1.0, depth=depth))
        for alpha in [i / 10 for i in range(1, 10)]:
            for norm in NORMS:
                out.append(Fusion("convex", alpha=alpha, norm=norm, depth=depth))
    return out


def collect(name: str, settings) -> dict:
    """Rankings and judgments of every judged query of one set, per split."""
    folder = HERE / name
    splits = {s: load_beir(folder, s) for s in ("dev", "test")}
    beir = splits["test"]
    motion, store, _ = index_corpus(beir, settings)
    if name in SIDE_MOTIONS:
        real = load_motion(SIDE_MOTIONS[name], settings.corpus_dir)
        motion = replace(motion, sides=real.sides)
    retriever = Retriever(motion, settings, store)
    data = {"name": name, "documents": len(beir.corpus), "splits": {}}
    cache: dict[str, np.ndarray] = {}
    data["stance"] = {p.id: p for p in corpus_passages(beir, motion.id)}
    for split, labelled in splits.items():
        rows = []
        qids = scored_queries(labelled)
        texts = [labelled.queries[q]["text"] for q in qids]
        sides = [labelled.queries[q]["metadata"].get("side") for q in qids]
        retriever.warm(texts)
        retriever.warm([with_side(retriever, t, s) for t, s in zip(texts, sides, strict=True) if s])
        for qid, text, side in zip(qids, texts, sides, strict=True):
            row = {
                "id": qid,
                "judged": labelled.qrels[qid],
                "bm25": retriever.bm25_ranking(text, DEPTH),
                "dense": retriever.dense_ranking(text, DEPTH),
                "side": side,
            }
            row["sentence"] = sentence_scores(retriever, cache, text, row)
            if side:
                row["dense_side"] = retriever.dense_ranking(with_side(retriever, text, side), DEPTH)
                row["search"] = _ids(retriever.search(text, k=10, per_source_cap=0))
                row["search_side"] = _ids(retriever.search(text, k=10, side=side, per_source_cap=0))
            rows.append(row)
        data["splits"][split] = rows
    return data


def sentence_scores(retriever, cache: dict, text: str, row: dict) -> dict[str, float]:
    """Best-sentence cosine between the query and each candidate among the first
    RERANK_POOL of either ranking. A one-sentence passage's vector is the stored one."""
    pids = list(dict.fromkeys(p for p, _ in row["bm25"][:RERANK_POOL] + row["dense"][:RERANK_POOL]))
    missing = [pid for pid in pids if pid not in cache]
    if missing:
        stored = retriever.store.embeddings_for(missing)
        for passage in retriever.get(missing):
            parts = sentences(passage.text)
            if len(parts) > 1:
                cache[passage.id] = np.array(retriever.embedder.embed_cached(parts))
            else:
                cache[passage.id] = np.array([stored[passage.id]])
    query = np.array(retriever.embedder.embed_cached([text])[0])
    return {pid: float((cache[pid] @ query).max()) for pid in pids if pid in cache}


def _ids(results) -> list[str]:
    return [r.passage.id for r in results]


def per_query(fusion: Fusion, rows: list[dict], dense_key: str = "dense") -> list[float]:
    return [
        ndcg_at([pid for pid, _ in fusion(r["bm25"], r[dense_key])], r["judged"], 10) for r in rows
    ]


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def paired(a: list[float], b: list[float], seed: int = 13) -> dict:
    """Mean of a - b with a 95% paired bootstrap interval, and per-query wins/losses/ties."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    boots = sorted(mean(rng.choices(diffs, k=len(diffs))) for _ in range(2000))
    return {
        "diff": mean(diffs),
        "ci95": (boots[49], boots[1949]),
        "wins": sum(d > 1e-9 for d in diffs),
        "losses": sum(d < -1e-9 for d in diffs),
        "ties": sum(abs(d) <= 1e-9 for d in diffs),
    }


def tune(sets: list[dict]) -> dict:
    candidates = grid()
    dev = {s["name"]: [mean(per_query(f, s["splits"]["dev"])) for f in candidates] for s in sets}
    macro = [mean([dev[s["name"]][i] for s in sets]) for i in range(len(candidates))]
    best = max(range(len(candidates)), key=lambda i: macro[i])
    chosen = candidates[best]
    report = {"chosen": asdict(chosen), "chosen_text": chosen.describe(), "sets": {}}
    for s in sets:
        name, test = s["name"], s["splits"]["test"]
        own = max(range(len(candidates)), key=lambda i: dev[name][i])
        shown = {
            "dense-only": Fusion("dense", depth=DEPTH),
            "bm25-only": Fusion("bm25", depth=DEPTH),
            "former default (RRF)": FORMER_DEFAULT,
            "tuned (all sets)": chosen,
            "tuned (this set)": candidates[own],
        }
        scores = {label: per_query(f, test) for label, f in shown.items()}
        neighbours = {f.describe(): mean(per_query(f, test)) for f in NEIGHBOURS}
        dev_scores = {label: mean(per_query(f, s["splits"]["dev"])) for label, f in shown.items()}
        report["sets"][name] = {
            "documents": s["documents"],
            "dev_queries": len(s["splits"]["dev"]),
            "test_queries": len(test),
            "configs": {label: f.describe() for label, f in shown.items()},
            "dev_ndcg@10": dev_scores,
            "test_ndcg@10": {label: mean(v) for label, v in scores.items()},
            "tuned_vs_dense": paired(scores["tuned (all sets)"], scores["dense-only"]),
            "default_vs_dense": paired(scores["former default (RRF)"], scores["dense-only"]),
            "best_by_method_dev": _best_by_method(candidates, dev[name]),
            "test_ndcg@10_neighbours": neighbours,
        }
    report["top_macro_dev"] = [
        (candidates[i].describe(), macro[i])
        for i in sorted(range(len(candidates)), key=lambda i: -macro[i])[:10]
    ]
    return report


def _best_by_method(candidates: list[Fusion], scores: list[float]) -> dict:
    out = {}
    for method in METHODS:
        idx = [i for i, f in enumerate(candidates) if f.method == method]
        i = max(idx, key=lambda i: scores[i])
        out[method] = (candidates[i].describe(), scores[i])
    return out


def rerank_study(sets: list[dict], chosen: Fusion) -> dict:
    """Blend the chosen fusion's top 20 with the best-sentence cosine; beta chosen on dev
    (mean over sets), reported on test."""

    def score(rows: list[dict], beta: float) -> list[float]:
        return [
            ndcg_at(
                [p for p, _ in blend(chosen(r["bm25"], r["dense"]), r["sentence"], beta)],
                r["judged"],
                10,
            )
            for r in rows
        ]

    dev = {beta: mean([mean(score(s["splits"]["dev"], beta)) for s in sets]) for beta in BETAS}
    beta = max(BETAS, key=lambda b: dev[b])
    out = {"beta": beta, "dev_macro": dev, "test": {}}
    for s in sets:
        test = s["splits"]["test"]
        with_rerank, without = score(test, beta), score(test, 0.0)
        out["test"][s["name"]] = {
            "tuned": mean(without),
            "tuned + sentence rerank": mean(with_rerank),
            "rerank_vs_tuned": paired(with_rerank, without),
        }
    return out


def with_side(retriever: Retriever, text: str, side: str) -> str:
    """The query with the side's claim appended, as the dense half of a sided search
    embedded it before the study below showed it hurts."""
    return f"{text}\n{retriever.motion.side_label(side)}"


def _stance_bonus_only(row: dict, passages: dict) -> list[str]:
    """The current default with the query alone plus the side's stance bonus."""
    fused = dict(rrf(row["bm25"], row["dense"], k=60, depth=40))
    stance = {"defend": "supports", "attack": "opposes"}[row["side"]]
    add_side_bonus(fused, passages, stance, 0.5 / 61)  # half a first rank's RRF score
    return sorted(fused, key=lambda pid: -fused[pid])


def side_study(s: dict, chosen: Fusion) -> dict:
    """nDCG@10 of the query formulations, on the sided queries of each split."""
    out = {}
    for split, rows in s["splits"].items():
        rows = [r for r in rows if r["side"]]
        if not rows:
            continue
        judged = [r["judged"] for r in rows]
        out[split] = {
            "queries": len(rows),
            "dense, query alone": mean(per_query(Fusion("dense", depth=DEPTH), rows)),
            "dense, query + side claim": mean(
                per_query(Fusion("dense", depth=DEPTH), rows, "dense_side")
            ),
            "default, query alone": mean(per_query(FORMER_DEFAULT, rows)),
            "default, query + side claim": mean(per_query(FORMER_DEFAULT, rows, "dense_side")),
            "tuned, query alone": mean(per_query(chosen, rows)),
            "tuned, query + side claim": mean(per_query(chosen, rows, "dense_side")),
            "default, query alone + stance bonus": mean(
                [
                    ndcg_at(_stance_bonus_only(r, s["stance"]), j, 10)
                    for r, j in zip(rows, judged, strict=True)
                ]
            ),
            "search(), no side": mean(
                [ndcg_at(r["search"], j, 10) for r, j in zip(rows, judged, strict=True)]
            ),
            "search(), side (stance bonus)": mean(
                [ndcg_at(r["search_side"], j, 10) for r, j in zip(rows, judged, strict=True)]
            ),
        }
    return out


def markdown(report: dict) -> str:
    lines = [f"Chosen on dev (mean over sets): `{report['chosen_text']}`", ""]
    labels = list(next(iter(report["sets"].values()))["test_ndcg@10"])
    lines.append("| set | docs | dev q | test q | " + " | ".join(labels) + " |")
    lines.append("|---|---|---|---|" + "---|" * len(labels))
    for name, r in report["sets"].items():
        cells = " | ".join(f"{r['test_ndcg@10'][label]:.3f}" for label in labels)
        lines.append(
            f"| {name} | {r['documents']} | {r['dev_queries']} | {r['test_queries']} | {cells} |"
        )
    lines += ["", "| set | comparison (test) | mean diff | 95% CI | wins/losses/ties |"]
    lines.append("|---|---|---|---|---|")
    for name, r in report["sets"].items():
        for key in ("tuned_vs_dense", "default_vs_dense"):
            p = r[key]
            lines.append(
                f"| {name} | {key.replace('_', ' ')} | {p['diff']:+.3f} | "
                f"[{p['ci95'][0]:+.3f}, {p['ci95'][1]:+.3f}] | "
                f"{p['wins']}/{p['losses']}/{p['ties']} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    json_out = None
    if "--json" in argv:
        i = argv.index("--json")
        json_out = Path(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    names = argv or sorted(p.parent.name for p in HERE.glob("*/corpus.jsonl"))
    settings = eval_settings(load_settings())
    sets = []
    for name in names:
        print(f"ranking {name} ...", file=sys.stderr)
        sets.append(collect(name, settings))
    report = tune(sets)
    chosen = Fusion(**report["chosen"])
    report["side_study"] = {
        s["name"]: side_study(s, chosen) for s in sets if s["name"] in SIDE_MOTIONS
    }
    report["rerank"] = rerank_study(sets, chosen)
    print(markdown(report))
    print("\nneighbours on test:")
    for name, r in report["sets"].items():
        for text, value in r["test_ndcg@10_neighbours"].items():
            print(f"  {name}: {value:.3f} {text}")
    print("\nsentence rerank:")
    print(json.dumps(report["rerank"], indent=2))
    print("\nbest per method on dev:")
    for name, r in report["sets"].items():
        for text, score in r["best_by_method_dev"].values():
            print(f"  {name}: {text} dev nDCG@10 {score:.3f}")
    print("\ntop strategies by mean dev nDCG@10:")
    for text, score in report["top_macro_dev"]:
        print(f"  {score:.4f} {text}")
    print("\nside study:")
    print(json.dumps(report["side_study"], indent=2))
    if json_out:
        json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
