"""Benchmarks behind `debate-tools bench`. Prints a table, saves JSON.

A run is a list of parts (PARTS); each part stores its figures under its name in the
results and returns table rows. Every number is reported next to a baseline measured in
the same run, as a ratio, because the machines are shared and absolute timings drift:
- ingest: warm re-ingest of an unchanged motion vs the cold ingest that built it;
- retrieval: hybrid search vs dense-only (the baseline) and BM25-only, median latency;
- quality: share of top-5 passages that come from a contention's backing sources,
  hybrid vs dense vs BM25 (precision@5 against the sources motion.yaml records);
- engine: offline bot turns p50/p95 once warm (after the app's start-up warm-up), each on
  a message the process has not seen, vs hybrid retrieval alone for the same messages;
- first turn: in a fresh process, the first turn after the app's start-up warm-up vs the
  first turn with the model and index loaded but nothing else warmed;
- guard: a recorded LLM reply streamed through the citation guard vs one uncached model
  call embedding its sentences (evals/llm_replies.yaml);
- labelled retrieval: nDCG@10 and recall@10 of hybrid vs dense vs BM25 on the held-out
  (test) splits of the labelled sets in evals/retrieval (debate.tools.retrieval_eval);
- ingest throughput: ingest of 1,000 synthetic documents vs raw model.encode of the same
  passages (debate.tools.bench_ingest);
- scale: search latency, start-up and memory at 1k / 10k / 100k synthetic passages, vs a
  bare Chroma query and the old rank_bm25 scoring (debate.tools.bench_scale; the corpora are
  kept under DATA_DIR/bench-cache, so only the first run writes them).
The load test of a running app (many sessions at once) is `debate.tools.loadtest`.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from rich.table import Table

from debate.core.config import Settings
from debate.core.embeddings import get_embedder
from debate.core.text import sentence_spans
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import Motion, load_motion
from debate.search.retrieval import Retriever

log = logging.getLogger(__name__)


def student_queries(motion) -> list[str]:
    """What a student says in a debate on this motion, taken from the pack itself (no
    motion-specific text in code): each contention of either side, as a student would argue
    it, plus the thesis."""
    claims = [c.claim for side in ("defend", "attack") for c in motion.contentions_for(side)]
    return [motion.thesis, *claims]


def fresh_messages(motion, run: str) -> list[tuple[str, str]]:
    """(bot side, message) pairs no process has embedded before: each contention argued
    at the bot, with a filler sentence carrying a unique token (as the load test does), so
    that a turn computes its message's embeddings as a real turn would."""
    out = []
    for side, other in (("attack", "defend"), ("defend", "attack")):
        for i, c in enumerate(motion.contentions_for(other)):
            out.append((side, f"{c.claim} That is point {run}{side[0]}{i}, think about it."))
    return out


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values by the nearest-rank rule (0.0 when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@dataclass
class Bench:
    """What every part of a run shares: settings, the motion, the repeat count, and the
    results so far (a part may read an earlier part's, e.g. hybrid latency)."""

    settings: Settings
    motion: Motion
    repeat: int
    results: dict = field(default_factory=dict)
    cache_dir: Path | None = None  # kept between runs (the scale corpora); None: skip scale
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)


Part = Callable[[Bench], list[list[str]]]


def run(
    settings: Settings,
    motion_id: str,
    repeat: int,
    parts: list | None = None,
    cache_dir: Path | None = None,
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000),
) -> dict:
    """Run the parts (default PARTS, in order); each one stores its figures under its
    name in the results and returns its table rows, kept under "rows"."""
    motion = load_motion(motion_id, settings.corpus_dir)
    bench = Bench(settings, motion, repeat, cache_dir=cache_dir, sizes=sizes)
    bench.results.update(motion=motion_id, repeat=repeat)
    t = time.perf_counter()
    embedder = get_embedder(settings.model_path)
    bench.results["model_load_s"] = time.perf_counter() - t
    bench.results["embedder"] = embedder.model_path
    rows: list[list[str]] = []
    for name, part in parts or PARTS:
        log.info("benchmark part: %s", name)
        rows += part(bench)
    rows.append(["model load (once per process)", f"{bench.results['model_load_s']:.1f} s", "", ""])
    bench.results["rows"] = rows
    return bench.results


# ---------------------------------------------------------------- ingest and retrieval
def part_ingest(bench: Bench) -> list[list[str]]:
    """Cold ingest, then a warm re-ingest of the unchanged motion."""
    cold = ingest_motion(bench.motion, bench.settings)
    warm = ingest_motion(bench.motion, bench.settings)
    r = bench.results["ingest"] = {
        "passages": cold.passages,
        "cold_s": cold.seconds,
        "warm_s": warm.seconds,
        "warm_wrote_anything": warm.wrote_anything,
        "ratio_warm_to_cold": warm.seconds / cold.seconds,
        "embed_passages_per_s": cold.embedded / cold.seconds if cold.seconds else None,
    }
    rate = r["embed_passages_per_s"]
    return [
        [
            "ingest warm (unchanged motion)",
            f"{r['warm_s']:.2f} s",
            f"cold {r['cold_s']:.2f} s",
            f"{r['ratio_warm_to_cold']:.3f}",
        ],
        ["embedding throughput", f"{rate:.1f} passages/s" if rate else "-", "", ""],
    ]


def _cold(retriever: Retriever, query: str, mode: str) -> list:
    retriever.forget_recent()
    return retriever.search(query, mode=mode)


def part_retrieval(bench: Bench) -> list[list[str]]:
    """Median search latency per mode (dense is the baseline)."""
    retriever = Retriever(bench.motion, bench.settings)
    queries = student_queries(bench.motion)
    latency = {}
    for mode in ("dense", "bm25", "hybrid"):
        for q in queries:  # warm-up
            retriever.search(q, mode=mode)
        runs = [
            # Each time reading its passages from the store (forget_recent), as a query
            # about something new does; the query's embedding stays cached.
            min(_timed(lambda q=q, m=mode: _cold(retriever, q, m), bench.repeat))
            for q in queries
        ]
        latency[mode] = statistics.median(runs)
    bench.results["retrieval"] = {"queries": len(queries), "median_s": latency}
    return [
        [
            f"{mode} search (median)",
            _ms(latency[mode]),
            f"dense {_ms(latency['dense'])}",
            f"{latency[mode] / latency['dense']:.2f}",
        ]
        for mode in ("hybrid", "bm25")
    ]


def part_quality(bench: Bench) -> list[list[str]]:
    """Per mode, the share of top-5 passages from a contention's backing sources."""
    retriever = Retriever(bench.motion, bench.settings)
    quality = {}
    for mode in ("dense", "bm25", "hybrid"):
        hits, total = 0, 0
        for side in ("defend", "attack"):
            for c in bench.motion.contentions_for(side):
                top = retriever.search(c.claim, k=5, mode=mode)
                hits += sum(1 for r in top if r.passage.source_id in c.sources)
                total += len(top)
        quality[mode] = hits / total if total else 0.0
    bench.results["quality_precision_at_5"] = quality
    dense = quality["dense"]
    return [
        [
            f"contention precision@5 {mode}",
            f"{quality[mode]:.2f}",
            f"dense {dense:.2f}",
            f"{quality[mode] / dense:.2f}" if dense else "-",
        ]
        for mode in ("hybrid", "bm25")
    ]


# ---------------------------------------------------------------- bot turns
def part_engine(bench: Bench) -> list[list[str]]:
    """Offline bot turns once warm: the app's start-up warm-up, then one turn per fresh
    message (two sessions, one per bot side); the baseline is hybrid retrieval alone for
    messages just as fresh (the part of a turn no engine work can remove). The model runs
    with the web app's thread count (from here on, for the rest of the run)."""
    from debate.app.runtime import serving_threads
    from debate.search.retrieval import get_retriever
    from debate.spar.session import Session, warm_first_turn

    serving_threads()
    settings, motion = bench.settings, bench.motion
    t = time.perf_counter()
    warm_first_turn(motion, settings)
    warm_s = time.perf_counter() - t
    sessions = {}
    turns = []
    for side, message in fresh_messages(motion, uuid4().hex[:6]):
        if side not in sessions:
            sessions[side] = Session(motion, settings, bot_side=side)
            sessions[side].autosave = False
        turns += _timed(lambda s=sessions[side], m=message: s.respond(m), 1)
    retriever = get_retriever(motion, settings)
    search = [
        t
        for side, message in fresh_messages(motion, uuid4().hex[:6])
        for t in _timed(lambda m=message, s=side: retriever.search(m, side=s), 1)
    ]
    r = bench.results["engine"] = {
        "turns": len(turns),
        "warm_up_s": warm_s,
        "turn_p50_s": percentile(turns, 0.5),
        "turn_p95_s": percentile(turns, 0.95),
        "search_p50_s": percentile(search, 0.5),
        "search_p95_s": percentile(search, 0.95),
    }
    return [
        [
            f"offline bot turn p{q} (warm, {len(turns)} turns)",
            _ms(r[f"turn_p{q}_s"]),
            f"hybrid search p{q} {_ms(r[f'search_p{q}_s'])}",
            f"{r[f'turn_p{q}_s'] / r[f'search_p{q}_s']:.1f}",
        ]
        for q in (50, 95)
    ]


def part_first_turn(bench: Bench) -> list[list[str]]:
    """The first turn in a fresh process, after the web app's start-up warm-up (Runtime),
    against the first turn with only the model and index loaded (no warm-up), both timed
    in subprocesses of this run."""
    warm = _first_turn_subprocess(bench.settings, bench.motion.id, warm=True)
    cold = _first_turn_subprocess(bench.settings, bench.motion.id, warm=False)
    bench.results["first_turn"] = {"warm": warm, "cold": cold}
    return [
        [
            "first turn after start-up warm-up",
            _ms(warm["first_turn_s"]),
            f"no warm-up {_ms(cold['first_turn_s'])}",
            f"{warm['first_turn_s'] / cold['first_turn_s']:.2f}",
        ],
        [
            "start-up until ready (fresh process)",
            f"{warm['ready_s']:.1f} s",
            f"no warm-up {cold['ready_s']:.1f} s",
            f"{warm['ready_s'] / cold['ready_s']:.2f}",
        ],
    ]


def _first_turn_subprocess(settings: Settings, motion_id: str, warm: bool) -> dict:
    where = {
        "data_dir": str(settings.data_dir),
        "corpus_dir": str(settings.corpus_dir),
        "model_path": settings.model_path,
        "chroma_url": settings.chroma_url,
        "default_motion": motion_id,
    }
    args = [sys.executable, "-m", "debate.tools.bench", "first-turn", json.dumps(where)]
    done = subprocess.run(
        args + (["--warm"] if warm else []), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"first-turn benchmark failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_turn_main(where: dict, warm: bool) -> dict:
    """In a fresh process: start as the web app does (warm=True: `Runtime`, which warms
    the default motion) or load only the model and index, then time one offline turn on a
    message never seen. `where`: the parent's data_dir, corpus_dir, model_path, chroma_url
    and default_motion."""
    from debate.core.config import load_settings, offline_environment
    from debate.search.retrieval import get_retriever
    from debate.spar.session import Session

    started = time.perf_counter()
    offline_environment()
    paths = {k: Path(where[k]) for k in ("data_dir", "corpus_dir")}
    settings = load_settings(**{**where, **paths, "llm": ""})
    motion_id = settings.default_motion
    if warm:
        from debate.app.runtime import Runtime

        runtime = Runtime(settings).start()
        runtime.wait()
        motion = runtime.motion(motion_id)
    else:
        motion = load_motion(motion_id, settings.corpus_dir)
        get_embedder(settings.model_path)
        get_retriever(motion, settings)
    ready = time.perf_counter() - started
    side, message = fresh_messages(motion, uuid4().hex[:6])[0]
    session = Session(motion, settings, bot_side=side)
    session.autosave = False
    t = time.perf_counter()
    session.respond(message)
    return {"ready_s": ready, "first_turn_s": time.perf_counter() - t}


# ---------------------------------------------------------------- the guard
def part_guard(bench: Bench) -> list[list[str]]:
    """Each recorded reply of evals/llm_replies.yaml streamed in chunks of a few words
    through `guard_stream`, once, vs one uncached model call on its sentences; also the time until
    the first checked sentence is shown. The model and the evidence passages are warmed
    first (a server has them warm); each reply's own sentences are new to the checker when
    timed, as a real reply's are. The first reply only warms up and is not counted."""
    from debate.check.faithfulness import warm
    from debate.check.guard import guard_stream

    replies = recorded_replies(bench.settings)
    offline = replace(bench.settings, llm="")
    warm([], [p for _, evidence, _ in replies for p in evidence.passages], offline.model_path)

    def guarded(chunks, evidence) -> tuple[float, float]:
        t, first = time.perf_counter(), None
        for _ in guard_stream(chunks, evidence, offline, engine="llm"):
            first = first or time.perf_counter() - t
        return time.perf_counter() - t, first or 0.0

    guarded(*replies[0][:2])
    timed = [guarded(c, e) for c, e, _ in replies[1:]]
    # Baseline: one uncached model call on the reply's sentences, the least any check that
    # compares meanings must spend (joining the chunks unguarded costs microseconds).
    embedder = get_embedder(offline.model_path)

    def encode(chunks) -> None:
        text = "".join(chunks)
        embedder.embed([text[s:e] for s, e in sentence_spans(text)])

    plain = [min(_timed(lambda c=c: encode(c), bench.repeat)) for c, _, _ in replies[1:]]
    sentences = sum(n for _, _, n in replies[1:])
    r = bench.results["guard"] = {
        "replies": len(timed),
        "sentences": sentences,
        "guarded_median_s": statistics.median(t for t, _ in timed),
        "model_call_median_s": statistics.median(plain),
        "per_sentence_s": sum(t for t, _ in timed) / sentences,
        "first_sentence_median_s": statistics.median(f for _, f in timed),
    }
    ratio = r["guarded_median_s"] / max(r["model_call_median_s"], 1e-9)
    return [
        [
            f"guarded stream of a recorded reply (median of {len(timed)})",
            _ms(r["guarded_median_s"]),
            f"one model call on its sentences {_ms(r['model_call_median_s'])}",
            f"{ratio:.1f}",
        ],
        ["guard: checking time per sentence", _ms(r["per_sentence_s"]), "", ""],
        ["guard: first checked sentence shown (median)", _ms(r["first_sentence_median_s"]), "", ""],
    ]


def recorded_replies(settings: Settings) -> list[tuple[list[str], object, int]]:
    """(chunks, evidence list, sentences) of each reply in evals/llm_replies.yaml: the
    reply's text cut into pieces of a few words, as a chat model streams it."""
    import re

    import yaml

    from debate.check.citations import EvidenceList
    from debate.evals.suites import PassageResolver

    data = yaml.safe_load((settings.evals_dir / "llm_replies.yaml").read_text(encoding="utf-8"))
    resolver = PassageResolver(settings, data["motion"])
    out = []
    for case in data["replies"]:
        evidence = EvidenceList([resolver.find(src, anchor) for src, anchor in case["evidence"]])
        pieces = re.findall(r"\S+\s*", " ".join(s[1] for s in case["sentences"]))
        chunks = ["".join(pieces[i : i + 3]) for i in range(0, len(pieces), 3)]
        out.append((chunks, evidence, len(case["sentences"])))
    return out


# ---------------------------------------------------------------- retrieval quality, ingest, scale
LABELLED = Path(__file__).resolve().parents[2] / "evals" / "retrieval"
BENCH_SETS = ("serbia-russia", "fever-symmetric")  # covidfact: `debate-tools eval-retrieval`


def part_labelled(bench: Bench) -> list[list[str]]:
    """nDCG@10 per mode on each labelled set's test split; dense-only is the baseline."""
    from debate.tools.retrieval_eval import evaluate, load_beir

    rows, out = [], {}
    for name in BENCH_SETS:
        report = evaluate(load_beir(LABELLED / name, "test"), bench.settings)
        out[name] = report.to_dict()
        dense = report.metrics["dense"]["ndcg@10"]
        for mode in ("hybrid", "bm25"):
            value = report.metrics[mode]["ndcg@10"]
            ratio = f"{value / dense:.2f}" if dense else "-"
            rows.append([f"nDCG@10 {name} {mode}", f"{value:.3f}", f"dense {dense:.3f}", ratio])
    bench.results["labelled_retrieval"] = out
    return rows


def part_ingest_throughput(bench: Bench) -> list[list[str]]:
    """Our ingest of 1,000 synthetic documents vs raw model.encode of the same passages."""
    from debate.tools.bench_ingest import run as run_ingest

    r = bench.results["ingest_throughput"] = run_ingest(settings=bench.settings)
    return [
        [
            f"ingest throughput ({r['passages']} passages)",
            f"{r['ingest_passages_per_s']:.1f} passages/s",
            f"encode {r['baseline_passages_per_s']:.1f}/s",
            f"{r['ratio']:.2f}",
        ]
    ]


def part_scale(bench: Bench) -> list[list[str]]:
    """Latency, start-up and memory at each size (debate.tools.bench_scale), in the summary as
    hybrid vs bare Chroma; bench_scale.table has the whole grid."""
    from debate.tools.bench_scale import run_scale

    if bench.cache_dir is None or not bench.sizes:
        return []
    r = bench.results["scale"] = run_scale(
        bench.sizes, replace(bench.settings, data_dir=bench.cache_dir)
    )
    rows = []
    for n, row in r["sizes"].items():
        hybrid, bare = row["search"]["hybrid"], row["search"]["bare_chroma"]
        rows.append(
            [
                f"hybrid search at {int(n):,} passages (p50 / p95)",
                f"{hybrid['p50']:.1f} / {hybrid['p95']:.1f} ms",
                f"bare Chroma {bare['p50']:.1f} / {bare['p95']:.1f} ms",
                f"{hybrid['p50'] / bare['p50']:.2f} / {hybrid['p95'] / bare['p95']:.2f}",
            ]
        )
        start = row["start"]
        rows.append(
            [
                f"start to ready at {int(n):,} passages",
                f"{start['ready_s']:.1f} s ({start['rss_mb']:.0f} MB)",
                f"model alone {start['model_s']:.1f} s",
                "",
            ]
        )
    return rows


PARTS: list[tuple[str, Part]] = [
    ("ingest", part_ingest),
    ("retrieval", part_retrieval),
    ("quality", part_quality),
    ("engine", part_engine),
    ("first_turn", part_first_turn),
    ("guard", part_guard),
    ("labelled_retrieval", part_labelled),
    ("ingest_throughput", part_ingest_throughput),
    ("scale", part_scale),
]


def table(results: dict) -> Table:
    t = Table("benchmark", "value", "baseline", "ratio", title="debate benchmarks")
    for row in results.get("rows", []):
        t.add_row(*row)
    return t


def run_and_save(
    base: Settings,
    motion_id: str,
    repeat: int,
    out_dir: Path,
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000),
) -> tuple[dict, Path]:
    """Run every benchmark in a fresh data directory (so the cold ingest really is cold;
    the scale corpora are kept under DATA_DIR/bench-cache) and save the results as JSON
    under out_dir."""
    with tempfile.TemporaryDirectory(prefix="debate-bench-") as tmp:
        settings = replace(base, data_dir=Path(tmp), chroma_url="")
        cache = replace(base, chroma_url="").data_dir / "bench-cache"
        results = run(settings, motion_id, repeat, cache_dir=cache, sizes=sizes)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results, path


def main(argv: list[str] | None = None) -> int:
    """`python -m debate.tools.bench first-turn WHERE_JSON [--warm]`: the subprocess of the
    first-turn part (the whole benchmark runs as `debate-tools bench`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m debate.tools.bench", description=main.__doc__)
    parser.add_argument("what", choices=["first-turn"])
    parser.add_argument("where", help="JSON: data_dir, corpus_dir, model_path, chroma_url, ...")
    parser.add_argument("--warm", action="store_true", help="start as the web app does")
    args = parser.parse_args(argv)
    print(json.dumps(first_turn_main(json.loads(args.where), args.warm)), flush=True)
    # The app's background warm-up may still be embedding: leave without waiting for it
    # (an interpreter shutdown under a running model call aborts).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
