"""Ingest throughput against raw `SentenceTransformer.encode` on the same texts (issue 13).

Definition: throughput is passages per second of wall-clock time.
- *baseline*: `model.encode(texts, batch_size=32)` (sentence-transformers' default use) on
  exactly the passage texts the ingest makes; the model is already loaded.
- *ingest*: `debate.corpus.ingest.ingest_motion` on a motion pack of the same documents into an
  empty embedded Chroma in a temporary directory: load, chunk, embed, write, finish.
- *ratio* = ingest / baseline, both measured in the same run on the same machine. The
  baseline is measured just before and just after the ingest and its mean time is used, so
  that a machine whose load changes during the run slows both sides alike. The goal is at
  least 0.85.

The corpus is synthetic and deterministic (seeded): 1,000 documents of made-up words with
article-like variety, from one-paragraph briefs to long articles with long paragraphs,
chunked by the real chunker. Run: `python -m debate.tools.bench_ingest --json out.json`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from debate.core.config import Settings, load_settings
from debate.core.embeddings import get_embedder
from debate.corpus.ingest import ingest_motion, prepare_motion
from debate.corpus.motions import load_motion

MOTION_ID = "bench-ingest"
GOAL = 0.85
BASELINE_BATCH = 32  # SentenceTransformer.encode's default batch_size
MOTION_YAML = """\
id: {id}
title: Ingest benchmark
thesis: Synthetic documents can be indexed quickly
sides:
  defend: Synthetic documents can be indexed quickly
  attack: Synthetic documents cannot be indexed quickly
contentions:
  defend:
    - Indexing is fast.
  attack:
    - Indexing is slow.
sources:
  - sources
"""


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]
    words = {"".join(rng.choices(syllables, k=rng.choice((1, 2, 2, 3, 3, 4)))) for _ in range(size)}
    return sorted(words)


def _sentence(rng: random.Random, words: list[str]) -> str:
    n = max(4, int(rng.gauss(18, 7)))
    body = " ".join(rng.choice(words) for _ in range(n))
    if rng.random() < 0.3:  # figures and years, as in news text
        body += f" in {rng.randint(1950, 2025)} by {rng.randint(2, 95)} percent"
    return body[0].upper() + body[1:] + "."


def make_documents(n: int = 1000, seed: int = 13) -> list[str]:
    """`n` document bodies: paragraph counts and lengths drawn from skewed distributions
    (most documents short, a few long; most paragraphs a few sentences, some very long)."""
    rng = random.Random(seed)
    words = _vocabulary(rng)
    docs = []
    for _ in range(n):
        paragraphs = min(12, max(1, int(rng.lognormvariate(0.35, 0.6))))
        docs.append(
            "\n\n".join(
                " ".join(
                    _sentence(rng, words)
                    for _ in range(min(14, max(1, int(rng.lognormvariate(1.1, 0.6)))))
                )
                for _ in range(paragraphs)
            )
        )
    return docs


def write_pack(corpus: Path, docs: list[str]) -> Path:
    """A motion pack listing the documents as .md sources with front matter."""
    folder = corpus / MOTION_ID
    (folder / "sources").mkdir(parents=True)
    (folder / "motion.yaml").write_text(MOTION_YAML.format(id=MOTION_ID), encoding="utf-8")
    for i, body in enumerate(docs):
        front = (
            f"---\ntitle: Document {i}\npublisher: Bench Press\ndate: 2024-01-01\n"
            f"url: https://example.org/doc-{i}\nstance: mixed\n---\n"
        )
        (folder / "sources" / f"doc-{i:04d}.md").write_text(front + body, encoding="utf-8")
    return folder


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(docs: int = 1000, seed: int = 13, settings: Settings | None = None) -> dict:
    """Measure both throughputs in this process; returns the figures as a dict."""
    with tempfile.TemporaryDirectory(prefix="debate-bench-ingest-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_pack(corpus, make_documents(docs, seed))
        base = settings or load_settings(environ={})
        bench = load_settings(
            environ={},
            data_dir=Path(tmp) / "data",
            corpus_dir=corpus,
            model_path=base.model_path,
            chunk_max_chars=base.chunk_max_chars,
            chunk_min_chars=base.chunk_min_chars,
        )
        motion = load_motion(MOTION_ID, corpus)
        texts = [p.text for src in prepare_motion(motion, bench) for p in src.passages]
        model = get_embedder(bench.model_path).model
        model.encode(texts[:64], batch_size=BASELINE_BATCH)  # warm-up, not measured
        before = _timed(lambda: model.encode(texts, batch_size=BASELINE_BATCH))
        reports = []
        ingest_s = _timed(lambda: reports.append(ingest_motion(motion, bench)))
        after = _timed(lambda: model.encode(texts, batch_size=BASELINE_BATCH))
        written = reports[0].embedded
    baseline_s = (before + after) / 2
    if written != len(texts):
        raise RuntimeError(f"ingest embedded {written} passages, expected {len(texts)}")
    baseline, ours = len(texts) / baseline_s, len(texts) / ingest_s
    return {
        "documents": docs,
        "seed": seed,
        "passages": len(texts),
        "mean_passage_chars": round(sum(map(len, texts)) / len(texts), 1),
        "baseline_seconds": round(baseline_s, 2),
        "baseline_seconds_before_after": [round(before, 2), round(after, 2)],
        "baseline_passages_per_s": round(baseline, 2),
        "ingest_seconds": round(ingest_s, 2),
        "ingest_passages_per_s": round(ours, 2),
        "ratio": round(ours / baseline, 3),
        "goal": GOAL,
        "meets_goal": ours / baseline >= GOAL,
    }


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Ingest throughput ({result['documents']} documents)")
    for column in ("measure", "passages", "seconds", "passages/s"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    n = str(result["passages"])
    table.add_row(
        f"raw encode (batch {BASELINE_BATCH})",
        n,
        f"{result['baseline_seconds']:.1f}",
        f"{result['baseline_passages_per_s']:.1f}",
    )
    table.add_row(
        "ingest (chunk+embed+write)",
        n,
        f"{result['ingest_seconds']:.1f}",
        f"{result['ingest_passages_per_s']:.1f}",
    )
    console = Console()
    console.print(table)
    verdict = "meets" if result["meets_goal"] else "misses"
    console.print(f"ratio ingest/raw = {result['ratio']:.3f} ({verdict} the goal of {GOAL})")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m debate.tools.bench_ingest",
        description="Ingest throughput (passages/s) against raw SentenceTransformer.encode "
        "on the same synthetic passages, measured in the same run; prints the ratio.",
    )
    parser.add_argument("--docs", type=int, default=1000, help="documents to generate (1000)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the synthetic corpus")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error("--docs must be at least 1")
    result = run(args.docs, args.seed)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
