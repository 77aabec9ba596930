"""Retrieval at scale: search latency, start-up and memory at 1,000 to 100,000 passages.

The corpus is synthetic and deterministic (seeded): words drawn from an invented vocabulary
with Zipf-like frequencies, passages of 300-1200 characters grouped into sources of 25 with
a stance each. Its embeddings are synthetic too (a random topic direction per source plus
noise, unit length), because embedding 100,000 passages with the real model would take an
hour on a laptop CPU; queries are embedded with the real model. Generated corpora are
written to Chroma once and kept under the data dir, keyed by size and seed.

Every latency is reported next to a baseline measured in the same run:
- hybrid / dense / BM25 search through `Retriever.search`, against a bare Chroma
  `collection.query` with the same query embedding and the same request the dense leg
  makes (the floor any hybrid search stands on);
- BM25 scoring with the sparse index, against the previous `rank_bm25.BM25Okapi` scoring
  of every passage with a Python sort (only up to OLD_BM25_MAX passages: it needs about
  5 GB of memory per 100,000);
- Retriever start in a fresh process (imports, model load, index load, one search), with
  its resident memory.
Query embeddings are computed before timing, so search times exclude the model.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from debate.core.config import Settings, load_settings, offline_environment
from debate.core.embeddings import get_embedder
from debate.core.text import tokenize
from debate.corpus.lexical import build
from debate.corpus.motions import Motion
from debate.corpus.passages import Passage
from debate.corpus.store import STALE_MARGIN, open_store

log = logging.getLogger(__name__)

SEED = 13
VOCABULARY = 40_000
PER_SOURCE = 25
QUERIES = 40
ROUNDS = 3  # each query is searched this many times per mode
OLD_BM25_MAX = 100_000
STANCES = ("supports", "opposes", "mixed", "neutral")
SYLLABLES = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"] + ["str", "qu", "th"]


def scale_motion(n: int, seed: int) -> Motion:
    """The motion a synthetic corpus belongs to (sides are all the retriever reads)."""
    return Motion(
        id=f"scale-{n}-s{seed}",
        title="Synthetic scale benchmark",
        thesis="A synthetic motion",
        description="",
        sides={"defend": "the synthetic thesis holds", "attack": "the synthetic thesis fails"},
        contentions={},
        sources=(),
        root=Path("."),
    )


def vocabulary(rng: np.random.Generator, size: int = VOCABULARY) -> list[str]:
    """Invented words of two to four syllables, in a fixed order (rank 0 the commonest)."""
    words: dict[str, None] = {}
    while len(words) < size:
        parts = rng.choice(len(SYLLABLES), size=(size, 4))
        lengths = rng.integers(2, 5, size=size)
        for row, k in zip(parts, lengths, strict=True):
            words.setdefault("".join(SYLLABLES[i] for i in row[:k]))
    return list(words)[:size]


def corpus(n: int, seed: int, dim: int) -> tuple[list[Passage], np.ndarray]:
    """n passages (Zipf word frequencies, 300-1200 characters) and their synthetic unit
    embeddings (one topic per source, plus noise)."""
    rng = np.random.default_rng(seed)
    words = np.array(vocabulary(rng))
    cdf = zipf_cdf(len(words))
    motion = scale_motion(n, seed).id
    passages: list[Passage] = []
    offset = 0
    for i in range(n):
        chars = int(rng.integers(300, 1201))
        drawn = words[cdf.searchsorted(rng.random(chars // 7), side="right")]
        sentences = [" ".join(drawn[j : j + 12]) for j in range(0, len(drawn), 12)]
        text = ". ".join(s.capitalize() for s in sentences)[:chars].rstrip() + "."
        source = i // PER_SOURCE
        offset = 0 if i % PER_SOURCE == 0 else offset
        passages.append(_passage(motion, i, source, text, offset, seed))
        offset += len(text) + 2
    return passages, embeddings(n, seed, dim)


def zipf_cdf(size: int, exponent: float = 1.07) -> np.ndarray:
    """Cumulative word probabilities, p(rank r) proportional to 1 / r**exponent: a uniform
    draw's position in it is a word drawn with those frequencies."""
    cdf = np.cumsum(1.0 / np.arange(1, size + 1) ** exponent)
    return cdf / cdf[-1]


def _passage(motion: str, i: int, source: int, text: str, start: int, seed: int) -> Passage:
    return Passage(
        id=f"{motion}-{i:06d}",
        motion=motion,
        source_id=f"src-{source:05d}",
        text=text,
        start=start,
        end=start + len(text),
        paragraph=i % PER_SOURCE + 1,
        title=f"Synthetic source {source} ({seed})",
        publisher="Synthetic Press",
        date="2024-01-01",
        url=f"https://example.org/synthetic/{source}",
        stance=STANCES[source % len(STANCES)],
        kind="report",
    )


def embeddings(n: int, seed: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    sources = (n + PER_SOURCE - 1) // PER_SOURCE
    topics = rng.standard_normal((sources, dim)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    noise = rng.standard_normal((n, dim)).astype(np.float32) * (0.8 / dim**0.5)
    vectors = topics[np.arange(n) // PER_SOURCE] + noise
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def queries(seed: int, count: int = QUERIES) -> list[str]:
    """Student-length queries (4-14 words) drawn with the corpus's word frequencies."""
    rng = np.random.default_rng(seed + 2)
    words = np.array(vocabulary(np.random.default_rng(seed)))
    cdf = zipf_cdf(len(words))
    return [
        " ".join(words[cdf.searchsorted(rng.random(int(rng.integers(4, 15))), side="right")])
        for _ in range(count)
    ]


def prepare(n: int, seed: int, base: Settings, progress: Progress | None = None) -> tuple:
    """(settings, motion, facts) of the size-n corpus in Chroma: generated and written
    the first time, found under the data dir after that."""
    settings = replace(base, data_dir=base.data_dir / "bench-scale" / f"n{n}-seed{seed}")
    motion = scale_motion(n, seed)
    store = open_store(settings, motion.id)
    facts_file = settings.data_dir / "corpus.json"
    if store.status() == "ok" and store.count() == n and facts_file.exists():
        return settings, motion, {**json.loads(facts_file.read_text()), "cached": True}
    store.drop()
    started = time.perf_counter()
    passages, vectors = corpus(n, seed, get_embedder(settings.model_path).dimension)
    generate_s = time.perf_counter() - started
    task = progress.add_task(f"writing {n:,} passages", total=n) if progress else None
    store.begin("synthetic")
    started = time.perf_counter()
    batch = store.client.get_max_batch_size()
    hashes = {p.source_id: "synthetic" for p in passages}
    for i in range(0, n, batch):
        store.upsert(passages[i : i + batch], vectors[i : i + batch], hashes)
        if progress:
            progress.update(task, completed=min(n, i + batch))
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    store.finish("synthetic")  # what an ingest does at its end: builds and saves BM25
    facts = {
        "generate_s": generate_s,
        "chroma_write_s": write_s,
        "finish_s": time.perf_counter() - started,
        "chars": sum(len(p.text) for p in passages),
    }
    facts_file.write_text(json.dumps(facts))
    return settings, motion, {**facts, "cached": False}


def _timed_ms(fn, items, rounds: int = ROUNDS) -> list[float]:
    samples = []
    for _ in range(rounds):
        for item in items:
            started = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def _percentiles(samples: list[float]) -> dict:
    return {"p50": statistics.median(samples), "p95": float(np.percentile(samples, 95))}


def measure_search(settings: Settings, motion: Motion, qs: list[str]) -> dict:
    """p50/p95 ms of each search mode, the bare Chroma query and BM25 scoring alone."""
    from debate.search.retrieval import Retriever

    retriever = Retriever(motion, settings)
    vectors = dict(zip(qs, retriever.embedder.embed_cached(qs), strict=True))
    pool = max(4 * settings.top_k, 30)
    col = retriever.store.client.get_collection(retriever.store.name, embedding_function=None)

    def bare(q: str) -> None:
        col.query(
            query_embeddings=[vectors[q]],
            n_results=pool + STALE_MARGIN,
            include=["documents", "metadatas", "distances"],
        )

    def _cold(retriever, query: str, mode: str) -> list:
        # Passages read from the store each time (not the retriever's recent ones), as
        # the bare Chroma query reads its documents.
        retriever.forget_recent()
        return retriever.search(query, mode=mode)

    out = {"bare_chroma": _percentiles(_timed_ms(bare, qs))}
    for mode in ("hybrid", "dense", "bm25"):
        retriever.search(qs[0], mode=mode)  # warm-up
        out[mode] = _percentiles(_timed_ms(lambda q, m=mode: _cold(retriever, q, m), qs))
    out["bm25_scoring"] = _percentiles(_timed_ms(lambda q: retriever.bm25_ranking(q, pool), qs))
    index = retriever.lexical
    out["index_memory_mb"] = (
        sum(a.nbytes for a in (index.ids, index.indptr, index.rows, index.weights)) / 1e6
    )
    return out


def measure_old_bm25(settings: Settings, motion: Motion, qs: list[str]) -> dict:
    """The previous BM25: every passage read into memory and scored by rank_bm25, sorted
    in Python. Its build is what every process start used to cost (without the model)."""
    from rank_bm25 import BM25Okapi

    store = open_store(settings, motion.id)
    started = time.perf_counter()
    passages = store.all_passages()
    bm25 = BM25Okapi([tokenize(f"{p.title} {p.text}") for p in passages])
    build_s = time.perf_counter() - started
    pool = max(4 * settings.top_k, 30)

    def score(q: str) -> None:
        scores = bm25.get_scores(tokenize(q))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        [(passages[i].id, scores[i]) for i in order[:pool] if scores[i] > 0]

    return {"build_s": build_s, **_percentiles(_timed_ms(score, qs, rounds=1))}


# Run in a fresh interpreter: what a new `debate serve` pays before its first search.
_COLD_START = """
import json, sys, time
started = time.perf_counter()
from pathlib import Path
from debate.core.config import load_settings, offline_environment
offline_environment()
from debate.tools.bench_scale import scale_motion
from debate.core.embeddings import get_embedder
from debate.search.retrieval import Retriever
imported = time.perf_counter()
settings = load_settings(environ={}, data_dir=Path(sys.argv[1]))
get_embedder(settings.model_path)
loaded = time.perf_counter()
retriever = Retriever(scale_motion(int(sys.argv[2]), int(sys.argv[3])), settings)
ready = time.perf_counter()
retriever.search(sys.argv[4])
searched = time.perf_counter()
status = dict(
    line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
)
print(json.dumps({
    "import_s": imported - started,
    "model_s": loaded - imported,
    "retriever_s": ready - loaded,
    "first_search_s": searched - ready,
    "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
    "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
}))
"""


def measure_cold_start(settings: Settings, n: int, seed: int, query: str) -> dict:
    """Process start to a ready Retriever (and its first search), in a new process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COLD_START, str(settings.data_dir), str(n), str(seed), query],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold start failed: {done.stderr[-2000:]}")
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    return {**facts, "ready_s": wall - facts["first_search_s"]}


def run_scale(
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000),
    settings_base: Settings | None = None,
    seed: int = SEED,
    old_bm25_max: int = OLD_BM25_MAX,
    progress: Progress | None = None,
) -> dict:
    """Measure retrieval at each corpus size (see the module docstring); returns a dict
    that `table` renders and `--json` saves."""
    base = settings_base or load_settings()
    qs = queries(seed)
    get_embedder(base.model_path).embed_cached(qs)
    results: dict = {"seed": seed, "queries": len(qs), "rounds": ROUNDS, "sizes": {}}
    results["notes"] = [
        "synthetic corpus and synthetic passage embeddings (topic + noise); "
        "queries embedded with the real model, before timing",
    ]
    for n in sizes:
        settings, motion, facts = prepare(n, seed, base, progress)
        row: dict = {"corpus": facts}
        store = open_store(settings, motion.id)
        started = time.perf_counter()
        build(store.documents(), "bench")
        row["index_build_s"] = time.perf_counter() - started
        path = store.lexical_path()
        row["index_file_mb"] = path.stat().st_size / 1e6 if path and path.exists() else None
        row["search"] = measure_search(settings, motion, qs)
        row["start"] = measure_cold_start(settings, n, seed, qs[0])
        if n <= old_bm25_max:
            row["old_bm25"] = measure_old_bm25(settings, motion, qs)
        results["sizes"][str(n)] = row
    return results


def _ms(p: dict | None) -> str:
    return "-" if not p else f"{p['p50']:.1f} / {p['p95']:.1f}"


def _ratio(a: dict, b: dict | None) -> str:
    return "-" if not b else f"{a['p50'] / b['p50']:.2f}x / {a['p95'] / b['p95']:.2f}x"


def table(results: dict) -> Table:
    """Rows: measures; columns: corpus sizes. Latencies are p50 / p95 ms."""
    sizes = results["sizes"]
    t = Table(
        "measure",
        *[f"{int(n):,} passages" for n in sizes],
        title="retrieval at scale (p50 / p95 ms)",
        caption="; ".join(results["notes"]),
    )
    rows = {
        "hybrid search": lambda r: _ms(r["search"]["hybrid"]),
        "dense search": lambda r: _ms(r["search"]["dense"]),
        "BM25 search": lambda r: _ms(r["search"]["bm25"]),
        "bare Chroma query (baseline)": lambda r: _ms(r["search"]["bare_chroma"]),
        "hybrid / bare Chroma": lambda r: _ratio(r["search"]["hybrid"], r["search"]["bare_chroma"]),
        "BM25 scoring, sparse index": lambda r: _ms(r["search"]["bm25_scoring"]),
        "BM25 scoring, rank_bm25 (old)": lambda r: _ms(r.get("old_bm25")),
        "sparse / rank_bm25": lambda r: _ratio(r["search"]["bm25_scoring"], r.get("old_bm25")),
        "BM25 index build (s)": lambda r: f"{r['index_build_s']:.2f}",
        "old per-start build, no model (s)": lambda r: (
            f"{r['old_bm25']['build_s']:.2f}" if r.get("old_bm25") else "-"
        ),
        "BM25 index file (MB)": lambda r: f"{r['index_file_mb']:.1f}",
        "start to ready, new process (s)": lambda r: f"{r['start']['ready_s']:.2f}",
        "  of which model / Retriever (s)": lambda r: (
            f"{r['start']['model_s']:.2f} / {r['start']['retriever_s']:.2f}"
        ),
        "RSS when ready (MB)": lambda r: f"{r['start']['rss_mb']:.0f}",
        "Chroma write, first run (s)": lambda r: f"{r['corpus']['chroma_write_s']:.1f}",
    }
    for name, cell in rows.items():
        t.add_row(name, *[cell(r) for r in sizes.values()])
    return t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m debate.tools.bench_scale",
        description="Retrieval latency, start-up and memory on synthetic corpora of growing "
        "size (generated once, kept under DATA_DIR/bench-scale).",
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=SEED, help="corpus seed (default %(default)s)")
    parser.add_argument("--data-dir", type=Path, help="where corpora are kept (DEBATE_DATA_DIR)")
    parser.add_argument("--json", type=Path, help="also save the results to this file")
    parser.add_argument(
        "--old-bm25-max",
        type=int,
        default=OLD_BM25_MAX,
        help="largest size to score with the old rank_bm25 (it is slow and memory-hungry)",
    )
    args = parser.parse_args(argv)
    try:
        sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--sizes must be numbers separated by commas, got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one positive size")
    offline_environment()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(data_dir=args.data_dir)
    console = Console()
    with Progress(console=console, transient=True) as progress:
        results = run_scale(sizes, settings, args.seed, args.old_bm25_max, progress)
    console.print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        console.print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
