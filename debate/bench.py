"""Benchmarks behind `debate bench`. Prints a table, saves JSON.

Every number is reported next to a baseline measured in the same run, as a ratio, because
the machines are shared and absolute timings drift:
- ingest: warm re-ingest of an unchanged motion vs the cold ingest that built it;
- retrieval: hybrid search vs dense-only (the baseline) and BM25-only, median latency;
- BM25: the index built once per motion vs rebuilding it for every query;
- engine: a full offline bot turn (retrieve + compose) vs retrieval alone;
- quality: share of top-5 passages that come from a contention's backing sources,
  hybrid vs dense vs BM25 (precision@5 against the sources motion.yaml records).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from debate.config import Settings
from debate.embeddings import get_embedder
from debate.ingest import ingest_motion
from debate.motions import load_motion
from debate.retrieval import Retriever
from debate.session import Session


def student_queries(motion) -> list[str]:
    """What a student says in a debate on this motion, taken from the pack itself (no
    motion-specific text in code): each contention of either side, as a student would argue
    it, plus the thesis."""
    claims = [c.claim for side in ("defend", "attack") for c in motion.contentions_for(side)]
    return [motion.thesis, *claims]


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run(settings: Settings, motion_id: str, repeat: int) -> dict:
    results: dict = {"motion": motion_id, "repeat": repeat}
    t = time.perf_counter()
    embedder = get_embedder(settings.model_path)
    results["model_load_s"] = time.perf_counter() - t
    motion = load_motion(motion_id, settings.corpus_dir)

    cold = ingest_motion(motion, settings)
    warm = ingest_motion(motion, settings)
    results["ingest"] = {
        "passages": cold.passages,
        "cold_s": cold.seconds,
        "warm_s": warm.seconds,
        "warm_wrote_anything": warm.wrote_anything,
        "ratio_warm_to_cold": warm.seconds / cold.seconds,
        "embed_passages_per_s": cold.embedded / cold.seconds if cold.seconds else None,
    }

    t = time.perf_counter()
    retriever = Retriever(motion, settings)
    build_s = time.perf_counter() - t
    queries = student_queries(motion)
    latency = {}
    for mode in ("dense", "bm25", "hybrid"):
        for q in queries:  # warm-up
            retriever.search(q, mode=mode)
        runs = [
            min(_timed(lambda q=q, m=mode: retriever.search(q, mode=m), repeat)) for q in queries
        ]
        latency[mode] = statistics.median(runs)

    def rebuild_and_search(q: str) -> None:
        Retriever(motion, settings).search(q, mode="bm25")

    rebuild = statistics.median(
        min(_timed(lambda q=q: rebuild_and_search(q), 1)) for q in queries[:4]
    )
    results["retrieval"] = {
        "queries": len(queries),
        "median_s": latency,
        "ratio_hybrid_to_dense": latency["hybrid"] / latency["dense"],
        "ratio_bm25_to_dense": latency["bm25"] / latency["dense"],
        "retriever_build_s": build_s,
        "per_query_rebuild_s": rebuild,
        "ratio_rebuild_to_cached_bm25": rebuild / latency["bm25"],
    }

    quality = {}
    for mode in ("dense", "bm25", "hybrid"):
        hits, total = 0, 0
        for side in ("defend", "attack"):
            for c in motion.contentions_for(side):
                top = retriever.search(c.claim, k=5, mode=mode)
                hits += sum(1 for r in top if r.passage.source_id in c.sources)
                total += len(top)
        quality[mode] = hits / total if total else 0.0
    results["quality_precision_at_5"] = quality

    session = Session(motion, settings, bot_side="attack")
    session.autosave = False
    turn = statistics.median(min(_timed(lambda q=q: session.respond(q), 1)) for q in queries[:8])
    results["engine"] = {
        "offline_turn_median_s": turn,
        "ratio_turn_to_hybrid_retrieval": turn / latency["hybrid"],
    }
    results["embedder"] = embedder.model_path
    return results


def table(results: dict) -> Table:
    t = Table("benchmark", "value", "baseline", "ratio", title="debate benchmarks")
    ing = results["ingest"]
    t.add_row(
        "ingest warm (unchanged motion)",
        f"{ing['warm_s']:.2f} s",
        f"cold {ing['cold_s']:.2f} s",
        f"{ing['ratio_warm_to_cold']:.3f}",
    )
    t.add_row("embedding throughput", f"{ing['embed_passages_per_s']:.1f} passages/s", "", "")
    ret = results["retrieval"]
    ms = ret["median_s"]
    t.add_row(
        "hybrid search (median)",
        f"{ms['hybrid'] * 1000:.1f} ms",
        f"dense {ms['dense'] * 1000:.1f} ms",
        f"{ret['ratio_hybrid_to_dense']:.2f}",
    )
    t.add_row(
        "BM25 search (median)",
        f"{ms['bm25'] * 1000:.1f} ms",
        f"dense {ms['dense'] * 1000:.1f} ms",
        f"{ret['ratio_bm25_to_dense']:.2f}",
    )
    t.add_row(
        "BM25 rebuilt per query",
        f"{ret['per_query_rebuild_s'] * 1000:.1f} ms",
        f"cached {ms['bm25'] * 1000:.1f} ms",
        f"{ret['ratio_rebuild_to_cached_bm25']:.1f}",
    )
    q = results["quality_precision_at_5"]
    t.add_row(
        "contention precision@5 hybrid",
        f"{q['hybrid']:.2f}",
        f"dense {q['dense']:.2f}",
        f"{q['hybrid'] / q['dense']:.2f}" if q["dense"] else "-",
    )
    t.add_row(
        "contention precision@5 BM25",
        f"{q['bm25']:.2f}",
        f"dense {q['dense']:.2f}",
        f"{q['bm25'] / q['dense']:.2f}" if q["dense"] else "-",
    )
    if results.get("engine"):
        e = results["engine"]
        t.add_row(
            "offline bot turn (median)",
            f"{e['offline_turn_median_s'] * 1000:.1f} ms",
            f"hybrid search {ms['hybrid'] * 1000:.1f} ms",
            f"{e['ratio_turn_to_hybrid_retrieval']:.2f}",
        )
    t.add_row("model load (once per process)", f"{results['model_load_s']:.1f} s", "", "")
    return t


def run_and_save(base: Settings, motion_id: str, repeat: int, out_dir: Path) -> tuple[dict, Path]:
    """Run every benchmark in a fresh data directory (so the cold ingest really is cold)
    and save the results as JSON under out_dir."""
    with tempfile.TemporaryDirectory(prefix="debate-bench-") as tmp:
        settings = replace(base, data_dir=Path(tmp), chroma_url="")
        results = run(settings, motion_id, repeat)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results, path
