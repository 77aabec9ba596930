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
import re
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

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
    results["ingest"] = _bench_ingest(motion, settings)
    retriever, results["retrieval"] = _bench_retrieval(motion, settings, repeat)
    results["quality_precision_at_5"] = _bench_quality(motion, retriever)
    latency = results["retrieval"]["median_s"]
    results["engine"] = _bench_engine(motion, settings, latency["hybrid"])
    results["embedder"] = embedder.model_path
    return results


def _bench_ingest(motion, settings: Settings) -> dict:
    """Cold ingest, then a warm re-ingest of the unchanged motion."""
    cold = ingest_motion(motion, settings)
    warm = ingest_motion(motion, settings)
    return {
        "passages": cold.passages,
        "cold_s": cold.seconds,
        "warm_s": warm.seconds,
        "warm_wrote_anything": warm.wrote_anything,
        "ratio_warm_to_cold": warm.seconds / cold.seconds,
        "embed_passages_per_s": cold.embedded / cold.seconds if cold.seconds else None,
    }


def _bench_retrieval(motion, settings: Settings, repeat: int) -> tuple[Retriever, dict]:
    """Median search latency per mode, and the BM25 index rebuilt per query vs cached."""
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
    return retriever, {
        "queries": len(queries),
        "median_s": latency,
        "ratio_hybrid_to_dense": latency["hybrid"] / latency["dense"],
        "ratio_bm25_to_dense": latency["bm25"] / latency["dense"],
        "retriever_build_s": build_s,
        "per_query_rebuild_s": rebuild,
        "ratio_rebuild_to_cached_bm25": rebuild / latency["bm25"],
    }


def _bench_quality(motion, retriever: Retriever) -> dict:
    """Per mode, the share of top-5 passages from a contention's backing sources."""
    quality = {}
    for mode in ("dense", "bm25", "hybrid"):
        hits, total = 0, 0
        for side in ("defend", "attack"):
            for c in motion.contentions_for(side):
                top = retriever.search(c.claim, k=5, mode=mode)
                hits += sum(1 for r in top if r.passage.source_id in c.sources)
                total += len(top)
        quality[mode] = hits / total if total else 0.0
    return quality


def _bench_engine(motion, settings: Settings, hybrid_s: float) -> dict:
    """A full offline bot turn, against hybrid retrieval alone."""
    queries = student_queries(motion)
    session = Session(motion, settings, bot_side="attack")
    session.autosave = False
    turn = statistics.median(min(_timed(lambda q=q: session.respond(q), 1)) for q in queries[:8])
    return {
        "offline_turn_median_s": turn,
        "ratio_turn_to_hybrid_retrieval": turn / hybrid_s,
    }


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


# ---------------------------------------------------------------- concurrency (a running app)


def _side_of(banner_html: str) -> str:
    return "defend" if "side-defend" in (banner_html or "") else "attack"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _one_session(url: str, index: int, turns: int, switch: bool, password: str, run: str) -> dict:
    """One simulated student (and, when `switch`, a coach who switches sides every third
    turn) in a tab of its own; checks its chat holds only its own turns and its side."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    client.predict(api_name="/load")
    latencies, errors, tokens = [], [], []
    side = "attack"
    if switch:
        client.predict(password, api_name="/unlock")
    chat: list = []
    for turn in range(turns):
        if switch and turn and turn % 3 == 0:
            out = client.predict(api_name="/switch_side")
            side = "defend" if side == "attack" else "attack"
            if _side_of(out[4]) != side:
                errors.append(f"session {index}: side switch not shown")
        token = f"zq{run}s{index}t{turn}x"
        tokens.append(token)
        started = time.perf_counter()
        try:
            out = client.predict(
                f"Turn {turn}: my point {token} is that the evidence favours my side.",
                api_name="/send",
            )
        except Exception as exc:  # counted, not raised: the benchmark reports errors
            errors.append(f"session {index} turn {turn}: {type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - started)
        chat = out[3] or []
        if _side_of(out[6]) != side:
            errors.append(f"session {index} turn {turn}: banner shows the wrong side")
    text = json.dumps(chat)
    found = set(re.findall(rf"zq{run}s(\d+)t\d+x", text))
    crosstalk = sorted(int(s) for s in found if int(s) != index)
    missing = [t for t in tokens if t not in text]
    return {
        "latencies": latencies,
        "errors": errors,
        "crosstalk": crosstalk,
        "missing": missing,
        "bot_turns": sum(1 for m in chat if m.get("role") == "assistant"),
    }


def concurrency(
    url: str, sessions: int = 20, turns: int = 10, password: str = "", switch_share: float = 0.25
) -> dict:
    """Drive `sessions` simultaneous tabs of a running app (`debate serve`) through `turns`
    turns each, coaches switching sides in some (`switch_share`, needs the coach password
    when one is set); then one session alone as the baseline, in the same run. Reports
    errors, cross-talk (another session's unique token in a tab's chat), and turn latency
    p50/p95 next to the baseline's."""
    from concurrent.futures import ThreadPoolExecutor

    run = uuid4().hex[:6]
    switching = set(range(0, sessions, max(1, round(1 / switch_share)))) if switch_share else set()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [
            pool.submit(_one_session, url, i, turns, i in switching, password, run)
            for i in range(sessions)
        ]
        results = [f.result() for f in futures]
    wall = time.perf_counter() - started
    alone = _one_session(url, sessions, turns, False, password, run + "b")
    lat = [x for r in results for x in r["latencies"]]
    return {
        "sessions": sessions,
        "turns": turns,
        "switching_sessions": len(switching),
        "errors": [e for r in results for e in r["errors"]] + alone["errors"],
        "crosstalk": sum(len(r["crosstalk"]) for r in results),
        "missing_turns": sum(len(r["missing"]) for r in results),
        "turns_done": len(lat),
        "wall_s": wall,
        "p50_s": _percentile(lat, 0.5),
        "p95_s": _percentile(lat, 0.95),
        "baseline_p50_s": _percentile(alone["latencies"], 0.5),
        "baseline_p95_s": _percentile(alone["latencies"], 0.95),
    }


def concurrency_table(r: dict) -> Table:
    t = Table("measure", "concurrent", "one session alone", title="debate concurrency")
    t.add_row("sessions × turns", f"{r['sessions']} × {r['turns']}", f"1 × {r['turns']}")
    t.add_row("turn latency p50", f"{r['p50_s']:.2f} s", f"{r['baseline_p50_s']:.2f} s")
    t.add_row("turn latency p95", f"{r['p95_s']:.2f} s", f"{r['baseline_p95_s']:.2f} s")
    t.add_row("errors", str(len(r["errors"])), "")
    t.add_row("cross-talk (foreign tokens)", str(r["crosstalk"]), "")
    t.add_row("turns missing from a chat", str(r["missing_turns"]), "")
    return t
