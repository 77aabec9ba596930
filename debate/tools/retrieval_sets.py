"""Convert public claim -> evidence data sets into BEIR retrieval folders.

    .venv/bin/python debate/tools/retrieval_sets.py [MIRROR_ROOT]

MIRROR_ROOT holds GitHub snapshots as `<owner>+<name>/repo` git directories (default
/work/.mirror); each file is read at the commit recorded in sources.yaml, so the output is
the same on every run. Every evidence text of a set becomes a corpus document (documents are
never subsampled); every claim becomes a query; a claim's gold evidence is graded 2, whether
it supports or refutes the claim (evidence that decides a claim is what a debater needs).

- fever-symmetric (TalSchuster/FeverSymmetric v0.2): the authors' dev and test files give
  qrels/dev.tsv and qrels/test.tsv. A claim found in both files is kept in dev only.
- covidfact (asaakyan/covidfact): the SUPPORTED claims only (the REFUTED ones are
  machine-made counter-claims, one word swapped, sharing their evidence); split into dev
  and test by a hash of the query id (debate.tools.retrieval_eval.split_of).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

from debate.tools.retrieval_eval import split_of

HERE = Path(__file__).resolve().parents[2] / "evals" / "retrieval"  # the labelled sets


def read(mirror: Path, repo: str, commit: str, path: str) -> str:
    git_dir = mirror / repo.replace("/", "+") / "repo"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def doc_id(prefix: str, text: str) -> str:
    return prefix + hashlib.sha1(text.encode()).hexdigest()[:12]


def clean(text: str) -> str:
    """FEVER's tokenised spacing (' , ', ' .', -LRB-) back to plain text."""
    for a, b in (
        (" ,", ","),
        (" .", "."),
        (" ;", ";"),
        (" :", ":"),
        (" 's", "'s"),
        (" n't", "n't"),
    ):
        text = text.replace(a, b)
    for a, b in (("-LRB- ", "("), (" -RRB-", ")"), ("-LRB-", "("), ("-RRB-", ")"), (" --", " -")):
        text = text.replace(a, b)
    return " ".join(text.split())


def write_set(out: Path, corpus: dict, queries: dict, qrels: dict[str, list]) -> None:
    """corpus/queries: {id: text}; qrels: {split: [(query id, doc id, grade)]}."""
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for pid in sorted(corpus):
            f.write(
                json.dumps({"_id": pid, "title": "", "text": corpus[pid]}, ensure_ascii=False)
                + "\n"
            )
    with (out / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid in sorted(queries):
            f.write(json.dumps({"_id": qid, "text": queries[qid]}, ensure_ascii=False) + "\n")
    for split, rows in qrels.items():
        with (out / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for qid, did, grade in sorted(set(rows)):
                f.write(f"{qid}\t{did}\t{grade}\n")
    counts = {s: len({q for q, _, _ in rows}) for s, rows in qrels.items()}
    print(f"{out.name}: {len(corpus)} documents, {len(queries)} queries, judged {counts}")


def fever_symmetric(mirror: Path, source: dict) -> None:
    corpus, queries, qrels, seen = {}, {}, {"dev": [], "test": []}, {}
    for split in ("dev", "test"):
        path = source["files"][split]
        for line in read(mirror, source["repo"], source["commit"], path).splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            claim, evidence = clean(row["claim"]), clean(row["evidence"])
            qid, did = doc_id("c", claim), doc_id("e", evidence)
            home = seen.setdefault(qid, split)  # a claim in both files stays in dev
            queries[qid], corpus[did] = claim, evidence
            qrels[home].append((qid, did, 2))
    write_set(HERE / "fever-symmetric", corpus, queries, qrels)


def covidfact(mirror: Path, source: dict) -> None:
    corpus, queries, qrels = {}, {}, {"dev": [], "test": []}
    text = read(mirror, source["repo"], source["commit"], source["files"]["data"])
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        ids = []
        for sentence in row["evidence"]:
            sentence = " ".join(sentence.split())
            corpus[doc_id("e", sentence)] = sentence
            ids.append(doc_id("e", sentence))
        if row["label"] != "SUPPORTED":
            continue
        claim = " ".join(row["claim"].split())
        qid = doc_id("c", claim)
        queries[qid] = claim
        qrels[split_of(qid)].extend((qid, did, 2) for did in ids)
    write_set(HERE / "covidfact", corpus, queries, qrels)


BUILDERS = {"fever-symmetric": fever_symmetric, "covidfact": covidfact}


def main(argv: list[str]) -> None:
    mirror = Path(argv[0]) if argv else Path("/work/.mirror")
    sources = yaml.safe_load((HERE / "sources.yaml").read_text(encoding="utf-8"))
    for name, source in sources["public"].items():
        BUILDERS[name](mirror, source)


if __name__ == "__main__":
    main(sys.argv[1:])
