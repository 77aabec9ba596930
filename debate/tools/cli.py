"""`debate-tools`: the commands of the people who build debate (benchmarks and retrieval
evaluation). They live apart from the `debate` command because the product never imports
debate.tools; `python -m debate.tools.loadtest` drives a running server."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from debate.cli import console, err, fail, progress_bar, settings_from
from debate.core.config import load_settings, offline_environment
from debate.core.errors import DebateError
from debate.tools.bench import run_and_save, table
from debate.tools.bench_scale import table as scale_table
from debate.tools.retrieval_eval import MODES, evaluate, load_beir

app = typer.Typer(
    help="Tooling for debate's developers: benchmarks and retrieval evaluation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def bench(
    motion: str = typer.Option(None, help="Motion to measure [DEBATE_DEFAULT_MOTION]."),
    repeat: int = typer.Option(5, help="Runs per query (the fastest is kept)."),
    out: Path = typer.Option(None, help="Folder for the JSON results [DATA_DIR/bench]."),
    sizes: str = typer.Option(
        "1000,10000,100000",
        help="Synthetic corpus sizes for the scale part ('' skips it). The corpora are "
        "written once, under DATA_DIR/bench-cache; the first 100,000 takes minutes.",
    ),
) -> None:
    """Benchmark ingest, retrieval (latency, labelled quality, scale), a bot turn and the
    guard, each next to a baseline measured in the same run (these machines are shared:
    absolute timings drift). Prints a summary and the scale grid; saves JSON."""
    try:
        scale = tuple(int(n.replace("_", "")) for n in sizes.split(",") if n.strip())
    except ValueError:
        raise typer.BadParameter(
            f"--sizes takes numbers separated by commas, not {sizes!r}"
        ) from None
    if any(n < 1 for n in scale):
        raise typer.BadParameter("--sizes must be positive")
    base = load_settings()
    results, path = run_and_save(
        base, motion or base.default_motion, repeat, out or base.data_dir / "bench", scale
    )
    console.print(table(results))
    if results.get("scale"):
        console.print(scale_table(results["scale"]))
    console.print(f"saved {path}", highlight=False)


def _retrieval_table(report, name: str, k: int) -> Table:
    """eval-retrieval's table: one row per mode."""
    c = report.counts
    table = Table(
        "mode",
        "nDCG@10",
        "recall@10",
        f"recall@{k}",
        "p50 ms",
        "p95 ms",
        title=f"{name} ({report.split}): {c['scored_queries']} queries, {c['documents']} documents",
    )
    for mode in MODES:
        m = report.metrics[mode]
        table.add_row(
            mode,
            *(f"{m[metric]:.3f}" for metric in ("ndcg@10", "recall@10", f"recall@{k}")),
            *(f"{m[metric]:.1f}" for metric in ("p50_ms", "p95_ms")),
        )
    return table


@app.command("eval-retrieval")
def eval_retrieval(
    folder: Path = typer.Argument(
        ...,
        help="A BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv "
        "(or qrels.tsv), e.g. evals/retrieval/serbia-russia.",
    ),
    split: str = typer.Option("test", help="Which judgments to score: test or dev."),
    limit: int = typer.Option(None, help="Score only the first N judged queries (by id)."),
    k: int = typer.Option(100, help="Depth of the deep search, for recall@K."),
    json_out: Path = typer.Option(None, "--json", help="Also write the figures to this file."),
    data_dir: Path = typer.Option(None, help="Where the index lives [DEBATE_DATA_DIR]."),
) -> None:
    """Measure retrieval on labelled data: nDCG@10, recall@10, recall@K and latency of the
    hybrid, dense-only and BM25-only rankings. The corpus is embedded once into its own
    collection under DATA_DIR/eval-retrieval (keyed by a hash of corpus.jsonl); later runs
    reuse it. Queries are searched without a side or a per-source cap. Example:
    `debate-tools eval-retrieval evals/retrieval/serbia-russia --json out.json`."""
    import json

    if split not in ("test", "dev"):
        fail(f"--split must be test or dev, not {split!r}")
    if k < 10 or (limit is not None and limit < 1):
        fail("--k must be at least 10 and --limit at least 1")
    settings = settings_from(data_dir=data_dir)
    try:
        beir = load_beir(folder, split)
        for warning in beir.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        with progress_bar("[bold]{task.description}") as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)

            report = evaluate(beir, settings, k=k, limit=limit, progress=progress)
    except DebateError as exc:
        fail(str(exc))
    console.print(_retrieval_table(report, folder.name, k))
    c = report.counts
    reused = "reused" if c["embedded_now"] == 0 else f"{c['embedded_now']} passages embedded"
    console.print(f"collection {report.collection}: {reused}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_out}", highlight=False)


def main() -> None:
    offline_environment()
    try:
        app()
    except DebateError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
