#!/usr/bin/env python3
"""Write a small stratified held-out sample (<= 300 items, test topics only) with the shipped
model's expected outputs, for a regression test (evals/stance/heldout_sample.jsonl).

Example:
  python debate/tools/stance_sample.py --data /tmp/stance-data --out evals/stance/heldout_sample.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from debate.corpus.stance_model import LABELS, StanceModel
from debate.tools.stance_common import REPO, embed, load_jsonl, negate, texts_of


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="/tmp/stance-data")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--out", default=str(REPO / "evals/stance/heldout_sample.jsonl"))
    ap.add_argument("--per-cell", type=int, default=50, help="items per (set, label) cell")
    a = ap.parse_args(argv)
    te = load_jsonl(Path(a.data) / "test.jsonl")
    rng = random.Random(7)
    pick = []
    for s in ("iam", "arguana"):
        for lab in LABELS:
            cell = [i for i in te if i["set"] == s and i["label"] == lab]
            pick += rng.sample(cell, min(a.per_cell, len(cell)))
    pick = pick[:300]
    vecs = embed(texts_of(pick), a.data)
    m = StanceModel.load_vectors_only(a.weights)
    with open(a.out, "w") as fh:
        for it in pick:
            p = m.probabilities(
                vecs[it["thesis"]], vecs[it["sentence"]][None, :], vecs[negate(it["thesis"])]
            )[0]
            row = dict(
                id=it["id"],
                set=it["set"],
                topic=it["topic"],
                thesis=it["thesis"],
                sentence=it["sentence"],
                label=it["label"],
                source=it["source"],
                expected_label=LABELS[int(np.argmax(p))],
                expected_score=round(float(p[0] - p[1]), 4),
            )
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(pick)} items to {a.out}")


if __name__ == "__main__":
    main()
