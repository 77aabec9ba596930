#!/usr/bin/env python3
"""Evaluate the stance head against baselines on held-out topics; print a markdown table.

Systems (same held-out test items):
  majority  - the majority class of the training data;
  today     - cosine of the sentence embedding to the thesis vs. to the negated thesis
              ("It is not true that <thesis>"): label = higher side, neither when both cosines
              are below a threshold fitted on dev (3-class macro-F1);
  model     - debate/stance_model.py with the weights in --weights.
Metrics: accuracy and macro-F1, 3-class, and 2-class (supports vs opposes on gold
non-neither items; a neither prediction counts as an error there), with 95% bootstrap CIs
that resample whole topics (items of one topic are correlated), 1000 draws.
Also: sanity check on our corpus (--corpus, passages with metadata.stance of their source):
agreement of the passage-level majority of non-neither sentence predictions with the source
stance, for supports/opposes sources; and end-to-end speed of StanceModel.predict.

Example:
  python debate/tools/eval_stance.py --data /tmp/stance-data --weights debate/corpus/stance_model_weights \
     --corpus evals/retrieval/serbia-russia/corpus.jsonl --thesis "Serbia is not a Russian ally"
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from debate.core.config import load_settings
from debate.corpus.motions import load_motion
from debate.corpus.stance_model import StanceModel
from debate.tools.stance_common import (
    LAB2ID,
    LABELS,
    REPO,
    bootstrap,
    embed,
    get_encoder,
    load_jsonl,
    macro_f1,
    negate,
    texts_of,
)


def cos_scores(items, vecs):
    cu = np.array([float(vecs[i["thesis"]] @ vecs[i["sentence"]]) for i in items])
    cn = np.array([float(vecs[negate(i["thesis"])] @ vecs[i["sentence"]]) for i in items])
    return cu, cn


def today_predict(cu, cn, thr):
    p = np.where(cu >= cn, 0, 1)
    return np.where(np.maximum(cu, cn) < thr, 2, p)


def fit_threshold(items, vecs):
    cu, cn = cos_scores(items, vecs)
    y = np.array([LAB2ID[i["label"]] for i in items])
    best = (-1, 0.0)
    for thr in np.arange(-0.2, 0.9, 0.005):
        f = macro_f1(y, today_predict(cu, cn, thr), [0, 1, 2])
        best = max(best, (f, float(thr)))
    return best[1]


def model_predict(model, items, vecs):
    out = np.zeros(len(items), dtype=int)
    by = {}
    for k, it in enumerate(items):
        by.setdefault(it["thesis"], []).append(k)
    for th, idx in by.items():
        V = np.stack([vecs[items[k]["sentence"]] for k in idx])
        P = model.probabilities(vecs[th], V, vecs[negate(th)])
        out[idx] = P.argmax(1)
    return out


def split_sentences(text):
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“‘(])|\n+", text)
    return [p.strip() for p in parts if len(p.split()) >= 4]


def fmt(ci):
    v, lo, hi = ci
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="/tmp/stance-data")
    ap.add_argument("--weights", default=str(REPO / "debate" / "corpus" / "stance_model_weights"))
    settings = load_settings()
    default = load_motion(settings.default_motion, settings.corpus_dir)
    ap.add_argument(
        "--corpus",
        default=str(REPO / "evals" / "retrieval" / default.id / "corpus.jsonl"),
        help="a BEIR corpus of a motion's passages [the default motion's labelled set]",
    )
    ap.add_argument("--thesis", default=default.thesis, help="[the default motion's thesis]")
    ap.add_argument("--json", help="write all numbers here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--speed-n", type=int, default=1024, help="sentences for the speed test (0 = skip)"
    )
    ap.add_argument(
        "--cross-preds",
        help="dir with pred_test.jsonl from train_cross.py: adds a 'cross-encoder' row",
    )
    ap.add_argument(
        "--test-file",
        help="evaluate this jsonl instead of <data>/test.jsonl (e.g. evals/stance/heldout_sample.jsonl)",
    )
    return ap.parse_args(argv)


def system_rows(a, subsets, model, vecs, majority, thr, res) -> list[str]:
    """The 3-class / 2-class table of every system on every subset (fills res["sets"])."""
    lines = [
        "| test set (held-out topics) | n items / topics | system | acc 3-class | macro-F1 3-class | acc 2-class (sup vs opp) | macro-F1 2-class |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, items in subsets:
        if not items:
            continue
        y = np.array([LAB2ID[i["label"]] for i in items])
        groups = [i["set"] + ":" + i["topic"] for i in items]
        cu, cn = cos_scores(items, vecs)
        preds = dict(
            majority=np.full(len(y), majority),
            today=today_predict(cu, cn, thr),
            model=model_predict(model, items, vecs),
        )
        if a.cross_preds:
            cp = {
                json.loads(line)["id"]: json.loads(line)["probs"]
                for line in open(Path(a.cross_preds) / "pred_test.jsonl")
            }
            preds["cross-encoder (exp.)"] = np.array([int(np.argmax(cp[i["id"]])) for i in items])
        res["sets"][name] = {}
        ntop = len(set(groups))
        for sysname, p in preds.items():
            b = bootstrap(y, p, groups=groups)
            res["sets"][name][sysname] = b
            lines.append(
                f"| {name} | {len(y)} / {ntop} | {sysname} | {fmt(b['acc3'])} | {fmt(b['f1_3'])} | {fmt(b['acc2'])} | {fmt(b['f1_2'])} |"
            )
        cm = np.zeros((3, 3), dtype=int)
        for t, q in zip(y, preds["model"], strict=False):
            cm[t, q] += 1
        res["sets"][name]["model_confusion_rows_gold_cols_pred"] = cm.tolist()
    return lines


def forced_side_rows(subsets, model, vecs, res) -> list[str]:
    """Forced choice: gold supports/opposes items only, side = sign of the score (no neither)."""
    flines = [
        "| test set | n items | system | accuracy (forced side) | macro-F1 (forced side) |",
        "|---|---|---|---|---|",
    ]
    res["forced_side"] = {}
    for name, items in subsets:
        items = [i for i in items if i["label"] != "neither"]
        if not items:
            continue
        y = np.array([LAB2ID[i["label"]] for i in items])
        groups = [i["set"] + ":" + i["topic"] for i in items]
        cu, cn = cos_scores(items, vecs)
        P = np.stack(
            [
                model.probabilities(
                    vecs[i["thesis"]], vecs[i["sentence"]][None, :], vecs[negate(i["thesis"])]
                )[0]
                for i in items
            ]
        )
        side = max(np.mean(y == 0), np.mean(y == 1))
        res["forced_side"][name] = {"majority_side_acc": float(side)}
        flines.append(f"| {name} | {len(y)} | majority side | {side:.3f} | - |")
        for sysname, p in (
            ("today", np.where(cu >= cn, 0, 1)),
            ("model", np.where(P[:, 0] >= P[:, 1], 0, 1)),
        ):
            b = bootstrap(y, p, groups=groups)
            res["forced_side"][name][sysname] = {"acc": b["acc2"], "f1": b["f1_2"]}
            flines.append(
                f"| {name} | {len(y)} | {sysname} | {fmt(b['acc2'])} | {fmt(b['f1_2'])} |"
            )
    return flines


def print_tables(majority, thr, lines, flines, res) -> None:
    print(
        f"majority class (train): {LABELS[majority]}; today's-method neither threshold (dev): {thr:.3f}\n"
    )
    print("\n".join(lines))
    print(
        "\nforced side (gold supports/opposes items only; side = sign of score, or of cos(thesis) - cos(negated)):\n"
    )
    print("\n".join(flines))
    for name in res["sets"]:
        print(
            f"\nmodel confusion on {name} (rows gold {LABELS}, cols predicted): {res['sets'][name]['model_confusion_rows_gold_cols_pred']}"
        )


def corpus_rows(a, model, enc, thr):
    """(source stance, model labels, today's labels) of each passage of a supports/opposes
    source in the corpus."""
    passages = [json.loads(line) for line in open(a.corpus)]
    full = StanceModel(model.head, model.config, enc)
    rows = []
    tv = enc.encode([a.thesis, negate(a.thesis)], normalize_embeddings=True)
    for p in passages:
        st = (p.get("metadata") or {}).get("stance")
        sents = split_sentences(p.get("text", ""))
        if st not in ("supports", "opposes") or not sents:
            continue
        sv = enc.encode(sents, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        mp = full.probabilities(tv[0], sv, tv[1]).argmax(1)
        cu, cn = sv @ tv[0], sv @ tv[1]
        tp = today_predict(cu, cn, thr)
        rows.append((st, mp, tp))
    return rows


def agree(rows, k):
    """(agreeing, decided, abstained) passages: the majority of non-neither sentence labels
    of system k (0 model, 1 today) against the source's stance."""
    ok = n = abstain = 0
    for st, mp, tp in rows:
        pr = (mp, tp)[k]
        c = Counter(int(x) for x in pr if x != 2)
        if not c or c[0] == c[1]:
            abstain += 1
            continue
        lab = "supports" if c[0] > c[1] else "opposes"
        n += 1
        ok += lab == st
    return ok, n, abstain


def corpus_check(a, model, enc, thr, res) -> None:
    """Our corpus sanity check (fills res["corpus"])."""
    rows = corpus_rows(a, model, enc, thr)
    srcs = Counter(st for st, _, _ in rows)
    res["corpus"] = {}
    print(
        f"\nour corpus ({Path(a.corpus).parent.name}, thesis '{a.thesis}'): {len(rows)} passages from supports/opposes sources {dict(srcs)}"
    )
    allsent = np.concatenate([r[1] for r in rows])
    alltoday = np.concatenate([r[2] for r in rows])
    for k, name in ((0, "model"), (1, "today")):
        ok, n, ab = agree(rows, k)
        dist = Counter(LABELS[int(x)] for x in (allsent if k == 0 else alltoday))
        res["corpus"][name] = dict(agree=ok, decided=n, abstained=ab, sentence_labels=dict(dist))
        print(
            f"  {name}: passage majority agrees with source stance {ok}/{n} = {ok / max(n, 1):.3f} (no majority: {ab}); sentence labels {dict(dist)}"
        )
    stance_rate = Counter(st for st, _, _ in rows)["supports"] / len(rows)
    res["corpus"]["always_supports"] = stance_rate
    print(f"  constant 'supports': {stance_rate:.3f}")


def speed_check(a, model, enc, te, vecs, res) -> None:
    """End-to-end and head-only speed of the model (fills res)."""
    full = StanceModel(model.head, model.config, enc)
    sents = [i["sentence"] for i in te][: a.speed_n]
    full.predict(a.thesis, sents[:64])
    t0 = time.time()
    full.predict(a.thesis, sents, batch_size=64)
    dt = time.time() - t0
    res["speed_sentences_per_s"] = len(sents) / dt
    t0 = time.time()
    V = np.stack([vecs[s] for s in sents])
    for _ in range(10):
        model.predict_from_vectors(vecs[te[0]["thesis"]], V, vecs[negate(te[0]["thesis"])])
    res["head_only_sentences_per_s"] = 10 * len(sents) / (time.time() - t0)
    print(
        f"\nspeed ({a.threads} threads): predict() end-to-end {res['speed_sentences_per_s']:.0f} sentences/s "
        f"({len(sents)} sentences, batch 64); predict_from_vectors (head only) {res['head_only_sentences_per_s']:.0f} sentences/s"
    )


def main(argv=None):
    a = parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    tr = load_jsonl(Path(a.data) / "train.jsonl")
    dv = load_jsonl(Path(a.data) / "dev.jsonl")
    te = load_jsonl(a.test_file) if a.test_file else load_jsonl(Path(a.data) / "test.jsonl")
    enc = get_encoder(threads=a.threads)
    vecs = embed(texts_of(dv + te), a.data, enc=enc)
    model = StanceModel.load_vectors_only(a.weights)
    majority = Counter(LAB2ID[i["label"]] for i in tr).most_common(1)[0][0]
    thr = fit_threshold(dv, vecs)
    res = dict(majority_class=LABELS[majority], today_threshold=thr, sets={})
    subsets = [
        ("IAM", [i for i in te if i["set"] == "iam"]),
        ("ArguAna", [i for i in te if i["set"] == "arguana"]),
        ("all", te),
    ]
    lines = system_rows(a, subsets, model, vecs, majority, thr, res)
    flines = forced_side_rows(subsets, model, vecs, res)
    print_tables(majority, thr, lines, flines, res)
    if a.corpus and Path(a.corpus).exists():
        corpus_check(a, model, enc, thr, res)
    if a.speed_n:
        speed_check(a, model, enc, te, vecs, res)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
