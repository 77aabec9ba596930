"""Build normalised claim/evidence pairs from public, human-labelled datasets.

Reads GitHub snapshots fetched into a mirror folder (``/work/.mirror/<owner>+<name>/repo``,
git directories without a work tree) and writes one JSONL file per set to a cache folder
(default ``.debate/public/``, not committed)::

    {"claim": str, "evidence": str, "label": 1 (supported) | 0 (unsupported),
     "set": str, "id": str}

It also writes small, stratified, fixed-seed samples of every REPORT set to
``evals/public/samples/<set>.jsonl`` (committed), so that the held-out report and its test
run offline without the snapshots.

Which dataset is used for what, with licences and commits: ``evals/public/sources.yaml``.

Usage::

    python debate/tools/public_data.py [--mirror /work/.mirror] [--out .debate/public]
                                 [--sample-size 300] [--no-samples]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = REPO_ROOT / "evals" / "public"  # the sets' sources, samples and the model card
DEFAULT_OUT = REPO_ROOT / ".debate" / "public"
SAMPLES_DIR = HERE / "samples"
SEED = 13

csv.field_size_limit(sys.maxsize)


class Mirror:
    """Read files from fetched snapshots (bare git directories)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def gitdir(self, repo: str) -> Path:
        d = self.root / repo.replace("/", "+") / "repo"
        if not d.is_dir():
            raise SystemExit(f"snapshot of {repo} not found at {d}: fetch github:{repo} first")
        return d

    def show(self, repo: str, path: str) -> str:
        out = subprocess.run(
            ["git", "--git-dir", str(self.gitdir(repo)), "show", f"HEAD:{path}"],
            check=True,
            capture_output=True,
        ).stdout
        return out.decode("utf-8-sig", errors="replace")

    def commit(self, repo: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(self.gitdir(repo)), "rev-parse", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _detok(text: str) -> str:
    """Undo the PTB-style spacing of FEVER-derived text (" , " -> ", ", "-LRB-" -> "(")."""
    text = text.replace("-LRB-", "(").replace("-RRB-", ")")
    text = text.replace("-LSB-", "[").replace("-RSB-", "]")
    text = text.replace("-COLON-", ":")
    text = re.sub(r"\s+([,.;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[])\s+", r"\1", text)
    text = re.sub(r"\s+('s|n't|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = text.replace("`` ", '"').replace(" ''", '"')
    text = re.sub(r"\s--\s", " – ", text)
    return _clean(text)


def _pair(set_name: str, idx: str, evidence: str, claim: str, label: int) -> dict:
    return {
        "claim": _clean(claim),
        "evidence": _clean(evidence),
        "label": int(label),
        "set": set_name,
        "id": f"{set_name}:{idx}",
    }


def _tsv(text: str, header: bool = True) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = list(reader)
    return iter(rows[1:] if header else rows)


# --------------------------------------------------------------------------- train sets


def build_snli(m: Mirror) -> list[dict]:
    repo = "OanaMariaCamburu/e-SNLI"
    out = []
    for split in ("dev", "test"):
        s1 = m.show(repo, f"dataset/eSNLI/s1.{split}").splitlines()
        s2 = m.show(repo, f"dataset/eSNLI/s2.{split}").splitlines()
        lab = m.show(repo, f"dataset/eSNLI/labels.{split}").splitlines()
        assert len(s1) == len(s2) == len(lab), (split, len(s1), len(s2), len(lab))
        for i, (p, h, y) in enumerate(zip(s1, s2, lab, strict=True)):
            y = y.strip()
            if y not in ("entailment", "neutral", "contradiction"):
                continue
            out.append(_pair("snli", f"{split}-{i}", _detok(p), _detok(h), y == "entailment"))
    return out


def build_conjnli(m: Mirror) -> list[dict]:
    repo = "swarnaHub/ConjNLI"
    out = []
    for path in ("data/NLI/adversarial_train_15k.tsv", "data/NLI/conj_dev.tsv"):
        for i, row in enumerate(_tsv(m.show(repo, path))):
            if len(row) < 3 or row[2].strip() not in ("entailment", "neutral", "contradiction"):
                continue
            tag = Path(path).stem
            out.append(
                _pair("conjnli", f"{tag}-{i}", row[0], row[1], row[2].strip() == "entailment")
            )
    return out


def build_med(m: Mirror) -> list[dict]:
    repo = "verypluming/MED"
    out = []
    rows = _tsv(m.show(repo, "MED.tsv"))
    for row in rows:
        if len(row) < 16:
            continue
        y = row[15].strip()
        if y not in ("entailment", "neutral", "contradiction"):
            continue
        out.append(_pair("med", row[0], row[8], row[9], y == "entailment"))
    return out


def build_scitail(m: Mirror) -> list[dict]:
    repo = "allenai/aristo-leaderboard"
    out = []
    for split in ("dev", "test"):
        for line in m.show(repo, f"scitail/data/{split}/answers.jsonl").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            out.append(
                _pair("scitail", d["id"], d["sentence1"], d["sentence2"], d["gold_label"] == "E")
            )
    return out


def build_fever_symmetric(m: Mirror) -> list[dict]:
    repo = "TalSchuster/FeverSymmetric"
    out = []
    for split in ("dev", "test"):
        path = f"symmetric_v0.2/fever_symmetric_{split}.jsonl"
        for i, line in enumerate(m.show(repo, path).splitlines()):
            if not line.strip():
                continue
            d = json.loads(line)
            y = d.get("gold_label") or d.get("label")
            if y not in ("SUPPORTS", "REFUTES"):
                continue
            out.append(
                _pair(
                    "fever_symmetric",
                    f"{split}-{d.get('id', i)}-{i}",
                    _detok(d["evidence"]),
                    _detok(d["claim"]),
                    y == "SUPPORTS",
                )
            )
    return out


# -------------------------------------------------------------------------- report sets


def _rte_style(
    m: Mirror, repo: str, paths: list[str], set_name: str, header_for: dict
) -> list[dict]:
    out = []
    for path in paths:
        tag = Path(path).stem
        for i, row in enumerate(_tsv(m.show(repo, path), header=header_for.get(path, True))):
            if len(row) < 4:
                continue
            y = row[-1].strip()
            if y not in ("entailment", "not_entailment"):
                continue
            out.append(_pair(set_name, f"{tag}-{row[0] or i}", row[1], row[2], y == "entailment"))
    return out


def build_covidfact(m: Mirror) -> list[dict]:
    # test.tsv has no labels; train+dev are all labelled, and nothing here is trained on them.
    paths = ["RTE-covidfact/train.tsv", "RTE-covidfact/dev.tsv"]
    return _rte_style(m, "asaakyan/covidfact", paths, "covidfact", {})


def build_scifact(m: Mirror) -> list[dict]:
    paths = ["RTE-scifact/train.tsv", "RTE-scifact/dev.tsv"]
    return _rte_style(m, "asaakyan/covidfact", paths, "scifact", {})


def build_rte(m: Mirror) -> list[dict]:
    # GLUE RTE train (split here into train.tsv + val.tsv, val without header) and dev.
    paths = ["data/RTE/train.tsv", "data/RTE/val.tsv", "data/RTE/dev.tsv"]
    return _rte_style(
        m, "amrnag/Specialized-Transformers", paths, "rte", {"data/RTE/val.tsv": False}
    )


def build_qags(m: Mirror) -> list[dict]:
    repo = "W4ngatang/qags"
    out = []
    for part in ("cnndm", "xsum"):
        for a, line in enumerate(m.show(repo, f"data/mturk_{part}.jsonl").splitlines()):
            if not line.strip():
                continue
            d = json.loads(line)
            article = d["article"]
            for s, sent in enumerate(d["summary_sentences"]):
                votes = [r["response"] == "yes" for r in sent["responses"]]
                yes = sum(votes)
                label = 1 if yes * 2 > len(votes) else 0  # majority of 3 workers
                out.append(_pair("qags", f"{part}-{a}-{s}", article, sent["sentence"], label))
    return out


_SPAN = re.compile(r"<span[^>]*>(.*?)</span>", re.S)
_TITLE = re.compile(r"\[\[(.+?)\]\]\s*")


def _sf_evidence(items: list) -> str:
    return " ".join(f"{_detok(t)}: {_detok(s)}" for t, s in items)


def _sf_orig(text_orig: str) -> str:
    text = _SPAN.sub(lambda mm: mm.group(1), text_orig)
    text = re.sub(r"<[^>]+>", "", text)
    parts = _TITLE.split(text)
    # parts = [before, title1, sent1, title2, sent2, ...]
    chunks = []
    for j in range(1, len(parts) - 1, 2):
        chunks.append(f"{_detok(parts[j])}: {_detok(parts[j + 1])}")
    return " ".join(chunks) if chunks else _detok(text)


def build_sufficient_facts(m: Mirror) -> list[dict]:
    """Claims with (a) the full original evidence (gold SUPPORTS -> 1) and (b) the same
    evidence with one piece removed, labelled by annotators: still ENOUGH for a supported
    claim -> 1, NOT ENOUGH -> 0; every refuted claim -> 0."""
    repo = "copenlu/sufficient_facts"
    out = []
    seen: set[tuple[str, str]] = set()
    for part in ("fever", "hover", "vitaminc"):
        path = f"data/sufficient_facts/{part}_sufficient_facts.jsonl"
        for i, line in enumerate(m.show(repo, path).splitlines()):
            if not line.strip():
                continue
            d = json.loads(line)
            supported = d["label_before"] in ("SUPPORTS", "SUPPORTED")
            claim = _detok(d["claim"])
            reduced = _sf_evidence(d["evidence"])
            label = 1 if supported and d["label_after"].startswith("ENOUGH") else 0
            key = (claim, reduced)
            if key not in seen:
                seen.add(key)
                out.append(_pair("sufficient_facts", f"{part}-{i}-reduced", reduced, claim, label))
            if supported and d.get("text_orig"):
                full = _sf_orig(d["text_orig"])
                key = (claim, full)
                if key not in seen:
                    seen.add(key)
                    out.append(_pair("sufficient_facts", f"{part}-{i}-full", full, claim, 1))
    return out


TRAIN_SETS = {
    "snli": build_snli,
    "conjnli": build_conjnli,
    "med": build_med,
    "scitail": build_scitail,
    "fever_symmetric": build_fever_symmetric,
}
REPORT_SETS = {
    "covidfact": build_covidfact,
    "scifact": build_scifact,
    "qags": build_qags,
    "rte": build_rte,
    "sufficient_facts": build_sufficient_facts,
}


def stratified_sample(rows: list[dict], n: int, seed: int = SEED) -> list[dict]:
    """``n`` rows keeping the label proportions, fixed seed, in a stable order."""
    if len(rows) <= n:
        return list(rows)
    rng = random.Random(seed)
    pos = [r for r in rows if r["label"] == 1]
    neg = [r for r in rows if r["label"] == 0]
    n_pos = round(n * len(pos) / len(rows))
    n_pos = min(max(n_pos, 1), len(pos))
    picked = rng.sample(pos, n_pos) + rng.sample(neg, min(n - n_pos, len(neg)))
    picked.sort(key=lambda r: r["id"])
    return picked


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", default="/work/.mirror")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--sample-size", type=int, default=300)
    ap.add_argument("--no-samples", action="store_true")
    ap.add_argument("--only", nargs="*", help="build only these sets")
    args = ap.parse_args(argv)
    m = Mirror(Path(args.mirror))
    out = Path(args.out)
    for role, sets in (("train", TRAIN_SETS), ("report", REPORT_SETS)):
        for name, fn in sets.items():
            if args.only and name not in args.only:
                continue
            rows = fn(m)
            write_jsonl(out / f"{name}.jsonl", rows)
            pos = sum(r["label"] for r in rows)
            print(
                f"{role:6s} {name:18s} {len(rows):6d} pairs  {pos:6d} supported  "
                f"{len(rows) - pos:6d} unsupported"
            )
            if role == "report" and not args.no_samples:
                write_jsonl(
                    SAMPLES_DIR / f"{name}.jsonl", stratified_sample(rows, args.sample_size)
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
