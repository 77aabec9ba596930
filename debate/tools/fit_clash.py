"""Choose the clash weights of the evidence engine on the dev split of evals/clash.

    .venv/bin/python -m debate.tools.fit_clash [--split dev] [--json out.json]

For every dev message of every clash set, the turn is planned as the bot would plan it
(bot side = the other side of the student's, phase rebuttal), and every quotable sentence
of the turn's pool gets the features `clash_score` reads (cosine with the point, stance
toward the bot's side, contention margin, found by searching the point, the source's
label). A grid of weights is scored by hit@2: one of the two best-scoring distinct passages
is graded for the message (the two clash cards a rebuttal reads). Prints the best weights
next to the shipped ones; it never writes the engine's constants (a person copies them,
with the run's numbers, into debate/spar/engines/evidence.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import yaml

from debate.core.config import PROJECT_ROOT, load_settings
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import load_motion, other_side
from debate.search.retrieval import SIDE_STANCE
from debate.spar.engines import evidence as E
from debate.spar.message import read_message
from debate.spar.plan import SpeechRequest, plan_turn

CLASH = PROJECT_ROOT / "evals" / "clash"


def features(split: str, settings) -> list[dict]:
    """One row per message: the sentence features and their passages' grades."""
    rows = []
    engine = E.EvidenceEngine(settings)
    for path in sorted(CLASH.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        motion = load_motion(data["motion"], settings.corpus_dir)
        ingest_motion(motion, settings)
        for m in data["messages"]:
            if m["split"] != split:
                continue
            side = other_side(m["student_side"])
            text = read_message(m["text"], settings.max_message_chars).text
            request = SpeechRequest(motion, settings, side, "rebuttal", student_text=text)
            plan = plan_turn(request)
            wanted = SIDE_STANCE[side]
            keys = [(p.id, q) for p in plan.pool for q in E.quotable(p, p.stance == wanted)]
            by_key = {k: p for p in plan.pool for k in keys if k[0] == p.id}
            sim = engine._similarities(request, plan, keys, by_key)
            found = {p.id for p in plan.point_passages}
            rows.append(
                {
                    "id": m["id"],
                    "pid": [k[0] for k in keys],
                    "rel": sim.to_point.tolist(),
                    "own": sim.own_stance.tolist(),
                    "margin": sim.margins.tolist(),
                    "found": [k[0] in found for k in keys],
                    "prior": [E._prior(by_key[k].stance, wanted) for k in keys],
                    "grades": {str(k): int(v) for k, v in m["rebuttals"].items()},
                }
            )
    return rows


def hit_at(rows: list[dict], w: dict, k: int = 2) -> float:
    hits = 0
    for r in rows:
        rel, own, margin = (np.array(r[x]) for x in ("rel", "own", "margin"))
        prior = np.array([w["prior_" + (p or "none")] for p in r["prior"]])
        score = w["point"] * rel + w["stance"] * own + w["margin"] * margin
        score = score + w["found"] * np.array(r["found"]) + prior
        top: list[str] = []
        for i in np.argsort(-score):
            if r["pid"][i] not in top:
                top.append(r["pid"][i])
            if len(top) == k:
                break
        hits += any(pid in r["grades"] for pid in top)
    return hits / len(rows) if rows else 0.0


GRID = {
    "point": [1.0],
    "stance": [0.0, 0.05, 0.1, 0.2, 0.3],
    "margin": [0.0, 0.25, 0.5, 1.0],
    "found": [0.0, 0.05, 0.1],
    "prior_own": [0.0, 0.05, 0.1],
    "prior_other": [-0.1, 0.0, 0.05],
    "prior_mixed": [0.0],
    "prior_none": [0.0],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m debate.tools.fit_clash", description=__doc__)
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--json", type=Path, help="also write the feature rows here")
    args = parser.parse_args(argv)
    settings = load_settings()
    rows = features(args.split, settings)
    if args.json:
        args.json.write_text(json.dumps(rows), encoding="utf-8")
    names = list(GRID)
    scored = []
    for values in itertools.product(*(GRID[n] for n in names)):
        w = dict(zip(names, values, strict=True))
        scored.append((hit_at(rows, w), hit_at(rows, w, 3), w))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    shipped = {
        "point": E.CLASH_POINT,
        "stance": E.CLASH_STANCE,
        "margin": E.CLASH_MARGIN,
        "found": E.CLASH_FOUND,
        **{f"prior_{k or 'none'}": 0.0 for k in ("own", "other", "mixed", "")},
    }
    print(f"{len(rows)} {args.split} messages")
    print(f"shipped: hit@2 {hit_at(rows, shipped):.3f} hit@3 {hit_at(rows, shipped, 3):.3f}")
    for h2, h3, w in scored[:10]:
        print(f"hit@2 {h2:.3f} hit@3 {h3:.3f} {w}")


if __name__ == "__main__":
    main()
