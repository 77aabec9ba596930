"""Validate the clash sets (evals/clash/<motion>.yaml) and print their counts.

    python evals/clash/check_set.py            # both motions
    python evals/clash/check_set.py nuclear-power

Standard library plus PyYAML only; nothing is imported from `debate`. Checks:
message ids unique; every field present and well-typed; `split` equals the hash rule
(sha1 of the id, first hex digit >= 6 -> test, else dev); every graded passage id exists
in the motion's corpus file and every grade is 1 or 2; at least one graded passage per
message; `turn` is true exactly when a grade-2 passage comes from a source whose stance
is the student's own side (supports = defend, opposes = attack). Exits 1 on any error.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
MOTIONS = ("serbia-russia", "nuclear-power")
OWN_STANCE = {"defend": "supports", "attack": "opposes"}
FIELDS = ("id", "split", "student_side", "turn", "text", "rebuttals", "note")


def split_of(message_id: str) -> str:
    return "test" if int(hashlib.sha1(message_id.encode("utf-8")).hexdigest()[0], 16) >= 6 else "dev"


def load_corpus(path: Path) -> dict[str, dict]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["_id"]] = row
    return rows


def check_motion(motion: str, seen_ids: set[str]) -> tuple[list[str], dict]:
    errors: list[str] = []
    data = yaml.safe_load((HERE / f"{motion}.yaml").read_text(encoding="utf-8"))
    if data.get("motion") != motion:
        errors.append(f"{motion}: motion field is {data.get('motion')!r}")
    corpus = load_corpus(HERE / data["corpus"])
    counts = {"messages": 0, "attack": 0, "defend": 0, "turn": 0, "dev": 0, "test": 0,
              "grade2": 0, "grade1": 0, "own1only": 0, "passages": len(corpus), "graded_passages": set()}
    for m in data.get("messages") or []:
        mid = m.get("id", "?")
        missing = [f for f in FIELDS if f not in m]
        if missing:
            errors.append(f"{mid}: missing {missing}")
            continue
        if mid in seen_ids:
            errors.append(f"{mid}: duplicate id")
        seen_ids.add(mid)
        if m["split"] != split_of(mid):
            errors.append(f"{mid}: split {m['split']} but hash rule says {split_of(mid)}")
        side = m["student_side"]
        if side not in OWN_STANCE:
            errors.append(f"{mid}: student_side {side!r}")
            continue
        if not isinstance(m["turn"], bool):
            errors.append(f"{mid}: turn is not a boolean")
        if not isinstance(m["text"], str) or not m["text"].strip():
            errors.append(f"{mid}: empty text")
        rebuttals = m["rebuttals"] or {}
        if not rebuttals:
            errors.append(f"{mid}: no graded passage")
        own2 = own1 = False
        for pid, grade in rebuttals.items():
            pid = str(pid)
            if pid not in corpus:
                errors.append(f"{mid}: passage {pid} not in {data['corpus']}")
                continue
            if grade not in (1, 2):
                errors.append(f"{mid}: passage {pid} has grade {grade!r}")
                continue
            counts[f"grade{grade}"] += 1
            counts["graded_passages"].add(pid)
            if corpus[pid]["metadata"]["stance"] == OWN_STANCE[side]:
                own2 |= grade == 2
                own1 |= grade == 1
        if m["turn"] != own2:
            errors.append(f"{mid}: turn is {m['turn']} but own-side grade-2 passage present is {own2}")
        counts["messages"] += 1
        counts[side] += 1
        counts["turn"] += bool(m["turn"])
        counts[m["split"]] += 1
        counts["own1only"] += own1 and not own2
    counts["graded_passages"] = len(counts["graded_passages"])
    return errors, counts


def main(argv: list[str]) -> int:
    motions = argv or list(MOTIONS)
    seen: set[str] = set()
    all_errors: list[str] = []
    table = []
    for motion in motions:
        errors, counts = check_motion(motion, seen)
        all_errors += errors
        table.append((motion, counts))
    cols = ["messages", "attack", "defend", "turn", "dev", "test", "grade2", "grade1",
            "own1only", "graded_passages", "passages"]
    print(f"{'motion':<15}" + "".join(f"{c:>16}" for c in cols))
    for motion, counts in table:
        print(f"{motion:<15}" + "".join(f"{counts[c]:>16}" for c in cols))
    retrieval = HERE.parent / "retrieval" / "serbia-russia" / "corpus.jsonl"
    if "serbia-russia" in motions and retrieval.exists():
        same = retrieval.read_bytes() == (HERE / "corpus" / "serbia-russia.jsonl").read_bytes()
        print(f"corpus/serbia-russia.jsonl identical to {retrieval.relative_to(HERE.parent.parent)}: {same}")
    for e in all_errors:
        print("ERROR", e)
    print("OK" if not all_errors else f"{len(all_errors)} error(s)")
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
