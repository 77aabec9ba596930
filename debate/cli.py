"""`debate` command line: a thin layer over the library."""

from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from debate.core.config import (
    Settings,
    describe_settings,
    load_settings,
    offline_environment,
    shown_value,
)
from debate.core.errors import DebateError
from debate.corpus.motions import ROLE

app = typer.Typer(
    help="Spar against a bot that argues a motion only from cited evidence.\n\n"
    "Configuration comes from DEBATE_* environment variables (see `debate config`); "
    "flags override them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def settings_from(**overrides) -> Settings:
    return load_settings(**overrides)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def config() -> None:
    """Show every DEBATE_* setting with its current value."""
    current = load_settings()
    table = Table("variable", "value", "default")
    for name, default, field_name in describe_settings():
        table.add_row(name, shown_value(current, field_name), default)
    console.print(table)


@app.command()
def motions(corpus_dir: Path = typer.Option(None, help="Folder of motion packs.")) -> None:
    """List the motion packs in the corpus."""
    from debate.corpus.motions import list_motions

    settings = settings_from(corpus_dir=corpus_dir)
    errors: list = []
    found = list_motions(settings.corpus_dir, errors)
    table = Table("id", "title", "thesis", "sources")
    for m in found:
        table.add_row(m.id, m.title, m.thesis, str(len(m.sources)))
    console.print(table)
    for e in errors:
        err.print(f"[yellow]skipped:[/] {e}", highlight=False, soft_wrap=True)
    if not found:
        fail(f"no motion packs found under {settings.corpus_dir}")


def progress_bar(label: str = "[bold]embedding") -> Progress:
    """A rich progress bar on stderr; `label` may name the task ("{task.description}")."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def run_ingest(motion_ref: str, settings: Settings, rebuild: bool = False, quiet: bool = False):
    """Ingest with a progress bar; shared by `ingest` and `serve`. An upload to the motion
    that a stopped server left half-indexed is settled first (debate.corpus.ingest.settle_pending)."""
    from debate.corpus.ingest import ingest_motion, settle_pending
    from debate.corpus.motions import load_motion

    motion = load_motion(motion_ref, settings.corpus_dir)
    with progress_bar() as bar:
        task = None

        def progress(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("embed", total=total)
            bar.update(task, completed=done)

        settled = settle_pending(motion.id, settings, progress)
        if settled:
            motion = load_motion(motion_ref, settings.corpus_dir)  # the pack may differ now
            task = None
        report = ingest_motion(motion, settings, progress=progress, rebuild=rebuild)
    if settled:
        console.print(f"[yellow]{motion.id}[/]: {settled}", highlight=False)
    if not quiet:
        if report.wrote_anything:
            console.print(
                f"[green]{motion.id}[/]: {report.passages} passages from {report.sources} sources "
                f"({report.added} added, {report.updated} updated, {report.deleted} deleted, "
                f"{report.embedded} embedded) in {report.seconds:.1f}s"
            )
        else:
            console.print(
                f"[green]{motion.id}[/]: up to date, {report.passages} passages from "
                f"{report.sources} sources, nothing written ({report.seconds:.1f}s)"
            )
    return report


@app.command()
def ingest(
    motion: str = typer.Argument(
        ..., help="Motion id (folder under corpus/) or path to a motion folder."
    ),
    rebuild: bool = typer.Option(False, help="Re-embed every passage."),
    data_dir: Path = typer.Option(None, help="Where the embedded index lives [DEBATE_DATA_DIR]."),
    chroma_url: str = typer.Option(None, help="Use a Chroma server instead [DEBATE_CHROMA_URL]."),
) -> None:
    """Index a motion's sources into Chroma (incremental: only changes are written)."""
    run_ingest(motion, settings_from(data_dir=data_dir, chroma_url=chroma_url), rebuild=rebuild)


@app.command("add-source")
def add_source(
    motion: str = typer.Argument(..., help="Motion id or path to a motion folder."),
    file: Path = typer.Argument(
        ..., help="The source file: .md, .txt, .html, .pdf or .docx (Verbatim cards)."
    ),
    title: str = typer.Option(
        None, help="Title (for .html/.pdf/.docx, or text without front matter)."
    ),
    publisher: str = typer.Option(None, help="Publisher."),
    author: str = typer.Option(None, help="Author (optional)."),
    date: str = typer.Option(None, help="Publication date, YYYY-MM-DD."),
    url: str = typer.Option(None, help="http(s) URL of the source."),
    stance: str = typer.Option(None, help="supports, opposes or mixed (towards the thesis)."),
    kind: str = typer.Option(None, help="news, analysis, official, data, opinion or other."),
    data_dir: Path = typer.Option(None, help="[DEBATE_DATA_DIR]"),
    chroma_url: str = typer.Option(None, help="[DEBATE_CHROMA_URL]"),
) -> None:
    """Copy a source into a motion pack (listing it in motion.yaml when needed, comments
    kept) and index it. The pack is left unchanged if the file is refused."""
    from debate.corpus.ingest import add_source as add
    from debate.corpus.motions import load_motion

    settings = settings_from(data_dir=data_dir, chroma_url=chroma_url)
    meta = {"title": title, "publisher": publisher, "author": author, "date": date}
    meta.update(url=url, stance=stance, kind=kind)
    bar, tasks = progress_bar(), []  # the bar starts with embedding, not for a refused file

    def progress(done: int, total: int) -> None:
        if not tasks:
            bar.start()
            tasks.append(bar.add_task("embed", total=total))
        bar.update(tasks[0], completed=done)

    try:
        added = add(
            load_motion(motion, settings.corpus_dir), file, settings, meta=meta, progress=progress
        )
    except DebateError as exc:
        fail(str(exc))
    finally:
        if tasks:
            bar.stop()
    where = added.path.relative_to(added.motion.root).as_posix()
    console.print(
        f"[green]{added.motion.id}[/]: added “{added.title}” as {where} "
        f"(id {added.source_id}): {added.passages} passage{'' if added.passages == 1 else 's'}, "
        f"{added.embedded} embedded",
        highlight=False,
    )


@app.command("new-motion")
def new_motion(
    title: str = typer.Option("", help="The motion's title."),
    thesis: str = typer.Option("", help="The thesis, one sentence."),
    defend: list[str] = typer.Option(None, help="A contention of the defend side (repeatable)."),
    attack: list[str] = typer.Option(None, help="A contention of the attack side (repeatable)."),
    motion_id: str = typer.Option(None, "--id", help="Motion id; default: made from the title."),
    corpus_dir: Path = typer.Option(None, help="Folder of motion packs [DEBATE_CORPUS_DIR]."),
) -> None:
    """Create a motion pack (motion.yaml and an empty sources/ folder) under the corpus;
    then add its sources with `debate add-source`."""
    from debate.corpus.motions import create_motion

    settings = settings_from(corpus_dir=corpus_dir)
    try:
        created = create_motion(
            settings.corpus_dir, title, thesis, defend or [], attack or [], motion_id=motion_id
        )
    except DebateError as exc:
        fail(str(exc))
    console.print(
        f"[green]{created.id}[/]: created {created.root / 'motion.yaml'}; add sources with "
        f"`debate add-source {created.id} FILE`",
        highlight=False,
    )


@app.command()
def search(
    motion: str = typer.Argument(..., help="Motion id or path to a motion folder."),
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", help="How many passages to show."),
    side: str = typer.Option(None, help="Favour evidence for a side: defend or attack."),
    mode: str = typer.Option("hybrid", help="hybrid, bm25 or dense."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    data_dir: Path = typer.Option(None, help="[DEBATE_DATA_DIR]"),
    chroma_url: str = typer.Option(None, help="[DEBATE_CHROMA_URL]"),
) -> None:
    """Search a motion's evidence; prints ranked passages with source, paragraph and score."""
    import json

    from debate.corpus.motions import load_motion
    from debate.search.retrieval import clean_query, get_retriever

    if side not in (None, "defend", "attack"):
        fail(f"unknown side {side!r}: use defend or attack")
    if mode not in ("hybrid", "bm25", "dense"):
        fail(f"unknown mode {mode!r}: use hybrid, bm25 or dense")
    settings = settings_from(data_dir=data_dir, chroma_url=chroma_url)
    _, truncated = clean_query(query, settings.max_message_chars)
    if truncated:
        err.print(f"[yellow]note:[/] query truncated to {settings.max_message_chars} characters")
    m = load_motion(motion, settings.corpus_dir)
    results = get_retriever(m, settings).search(query, k=k, side=side, mode=mode)
    if as_json:
        rows = [{"rank": i, **r.to_dict()} for i, r in enumerate(results, 1)]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("#", "source", "¶", "score", "passage", show_lines=True)
    for i, r in enumerate(results, 1):
        p = r.passage
        where = f"p.{p.page}" if p.page else str(p.paragraph)
        text = p.text if len(p.text) <= 400 else p.text[:400] + "…"
        table.add_row(
            str(i), f"{p.title}\n[dim]{p.publisher}, {p.date}[/]", where, f"{r.score:.4f}", text
        )
    console.print(table)


@app.command()
def serve(
    motion: str = typer.Option(None, help="Motion to open first [DEBATE_DEFAULT_MOTION]."),
    host: str = typer.Option(None, help="[DEBATE_HOST]"),
    port: int = typer.Option(None, help="[DEBATE_PORT]"),
    no_ingest: bool = typer.Option(False, help="Do not bring the index up to date first."),
    format_id: str = typer.Option(
        None, "--format", help="The rounds' format (debate formats); default: the motion's."
    ),
) -> None:
    """Start the web app (bringing the default motion's index up to date first)."""
    from debate.corpus.formats import load_format

    settings = settings_from(default_motion=motion, host=host, port=port)
    try:
        fmt = load_format(format_id) if format_id else None
    except DebateError as exc:
        fail(str(exc))
    if not no_ingest:
        run_ingest(settings.default_motion, settings)
    from debate.app import launch

    launch(settings, fmt)


@app.command()
def formats() -> None:
    """List the round formats with their speech orders (files in debate/corpus/data/formats)."""
    from debate.corpus.formats import list_formats

    try:
        found = list_formats()
    except DebateError as exc:
        fail(str(exc))
    for f in found:
        poi = ", points of information" if f.points_of_information else ""
        turns = ", the coach moves the phases" if f.turns == "free" else ""
        console.print(
            f"[bold]{f.id}[/]  {f.name} (prep {f.prep_minutes:g} min a side{poi}{turns})",
            highlight=False,
        )
        for i, p in enumerate(f.round, 1):
            console.print(f"  {i:>2}. {p.line()}", highlight=False, markup=False)


SPAR_HELP = (
    "Commands: /side defend|attack (switch the bot's side from its next speech), "
    "/phase opening|rebuttal|closing|question, /next (in a format: end the questioning), /sources (full evidence of the last speech), "
    "/transcript (the debate as Markdown), /quit"
)


def _open_session(
    motion_ref: str,
    side: str,
    phase: str | None,
    opener: str,
    llm: str | None,
    data_dir: Path | None,
    chroma_url: str | None,
    format_id: str | None = None,
):
    """A ready session (index and engine checked up front, so errors show before the loop)."""
    from debate.coach.questions import next_question
    from debate.corpus.formats import format_of
    from debate.corpus.motions import load_motion
    from debate.search.retrieval import get_retriever
    from debate.spar.session import Session

    settings = settings_from(data_dir=data_dir, chroma_url=chroma_url, llm=llm)
    m = load_motion(motion_ref, settings.corpus_dir)
    get_retriever(m, settings)  # IndexMissingError now, not on the first turn
    session = Session(m, settings, bot_side=side, opener=opener, fmt=format_of(m, chosen=format_id))
    session.questioner = next_question
    if phase:
        session.set_phase(phase)
    return session


def _print_speech(session, reply, streamed: str = "") -> None:
    """A bot speech (unless already streamed), its notices, and the evidence it cites."""
    from debate.check.citations import render_terminal

    role = ROLE[reply.side or session.bot_side]
    if not streamed:
        console.print(f"[bold cyan]bot[/] [dim]({role} · {reply.phase} · {reply.engine})[/]")
        console.print(reply.text, markup=False, highlight=False, soft_wrap=True)
    cited = render_terminal(reply).removeprefix(reply.text).strip("\n")
    if cited:
        console.print()
        console.print(cited, markup=False, highlight=False, style="dim", soft_wrap=True)
    if reply.verdicts:
        from debate.check.faithfulness import badge

        console.print(f"[green]{badge(reply.verdicts)}[/]")
    for notice in reply.notices:
        # the notice is plain text (it may quote the student): style the label only
        console.print(Text.assemble(("note: ", "yellow"), notice), highlight=False)
    console.print()


def _stream_turn(session, text: str) -> None:
    """Print the speech as the citation guard releases it: every chunk has been checked
    already. A chunk that does not extend what is on screen (the offline engine took over
    after the model failed mid-speech, or the guard rejoined sentences) is printed whole
    under a rule; the transcript keeps that one."""
    role = ROLE[session.bot_side]
    phase = session.phase
    chunks = session.stream(text)
    first = next(chunks)  # a message that cannot be used fails here, before any header
    console.print(f"[bold cyan]bot[/] [dim]({role} · {phase})[/]")
    shown = ""
    for chunk in itertools.chain([first], chunks):
        if chunk.startswith(shown):
            sys.stdout.write(chunk[len(shown) :])
        else:
            sys.stdout.write("\n\n--- the speech as recorded ---\n" + chunk)
        sys.stdout.flush()
        shown = chunk
    sys.stdout.write("\n")
    reply = session.last_reply
    console.print(f"[dim]engine: {reply.engine}[/]")
    _print_speech(session, reply, streamed=shown)


def _spar_command(session, line: str) -> bool:
    """Handle a /command; returns False when the user wants to quit."""
    from rich.markup import escape

    from debate.coach.flow import round_markdown

    name, _, arg = line[1:].strip().partition(" ")
    arg = arg.strip()
    if name in ("quit", "exit", "q"):
        return False
    try:
        if name == "side" and arg:
            console.print(f"[magenta]{session.switch_side(arg)}[/]", highlight=False)
            return True
        if name == "phase" and arg:
            console.print(f"[magenta]{session.set_phase(arg)}[/]", highlight=False)
            return True
        if name == "next" and session.order is not None:
            session.advance()
            _format_turns(session)
            return True
    except DebateError as exc:  # "/side foo": say so, keep the debate going
        console.print(f"[yellow]{exc}[/]", highlight=False)
        return True
    if name == "sources":
        reply = session.last_reply
        if reply is None or not len(reply.evidence):
            console.print("no evidence yet: the bot has not spoken")
        for n, p in reply.evidence.numbered() if reply else []:
            console.print(
                f"[bold]\\[{n}][/] {escape(p.citation_label())}  {p.url}",
                highlight=False,
                soft_wrap=True,
            )
            console.print(f"    {p.text}", markup=False, highlight=False, soft_wrap=True)
    elif name == "transcript":
        console.print(round_markdown(session), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(SPAR_HELP, highlight=False)
    return True


def _student_lines():
    """One student turn per line: prompted on a terminal, read from stdin when scripted."""
    from rich.markup import escape

    if sys.stdin.isatty():
        while True:
            try:
                yield console.input("[bold green]you>[/] ")
            except EOFError:
                return
    else:
        for line in sys.stdin:
            line = line.rstrip("\n")
            console.print("[bold green]you>[/] " + escape(line), highlight=False)
            yield line


@app.command()
def spar(
    motion: str = typer.Argument(..., help="Motion id or path to a motion folder."),
    side: str = typer.Option(
        "attack", help="The bot's side: defend (argue the thesis) or attack it."
    ),
    llm: str = typer.Option(
        None,
        "--llm",
        help="Chat model, e.g. openai:gpt-4o-mini, ollama:llama3.1 "
        "[DEBATE_LLM]; default: the offline evidence engine.",
    ),
    phase: str = typer.Option(
        None, help="Start in this phase: opening, rebuttal, closing, question."
    ),
    opener: str = typer.Option("student", help="Who speaks first: student or bot."),
    data_dir: Path = typer.Option(None, help="[DEBATE_DATA_DIR]"),
    chroma_url: str = typer.Option(None, help="[DEBATE_CHROMA_URL]"),
    format_id: str = typer.Option(
        None,
        "--format",
        help="pf, ld, policy, parli or practice (debate formats); "
        "default: the motion's, else practice.",
    ),
) -> None:
    """Spar in the terminal: you argue, the bot answers from cited evidence.

    Reads one student turn per line (from the keyboard, or from stdin when piped). In an
    ordered format (pf, ld, policy, parli) each line is your speech, or in a questioning
    period a question or an answer; /next ends a questioning period."""
    try:
        session = _open_session(motion, side, phase, opener, llm, data_dir, chroma_url, format_id)
    except DebateError as exc:
        fail(str(exc))
    m = session.motion
    console.print(f"[bold]{m.title}[/]: {m.thesis}", highlight=False)
    console.print(
        f"The bot argues: {m.side_label(session.bot_side)} ({session.bot_side}). {SPAR_HELP}",
        highlight=False,
    )
    if session.order is not None:
        _format_turns(session)
    elif session.opener == "bot":
        _print_speech(session, session.open_round())
    for line in _student_lines():
        if line.strip().startswith("/"):
            if not _spar_command(session, line.strip()):
                break
            continue
        try:
            _stream_turn(session, line)
            if session.order is not None:
                _format_turns(session)
        except DebateError as exc:
            console.print(f"[yellow]{exc}[/]", highlight=False)


def _format_turns(session) -> None:
    """In an ordered format: the bot's speeches due now, its first question when a
    questioning period where it asks begins, then what comes next."""
    period = session.current_period
    while period is not None and period.is_speech and session.next_speaker == "bot":
        _print_speech(session, session.bot_speech())
        period = session.current_period
    if period is None:
        console.print("[magenta]The round is over: /transcript, or debate feedback.[/]")
        return
    asked = any(t.speech == period.name and t.engine == "questions" for t in session.turns)
    if not period.is_speech and period.asked_by(session.bot_side) and not asked:
        question = session.ask()
        if question is not None:
            _print_speech(session, question)
    end = " (/next ends it)" if not period.is_speech else ""
    console.print(f"[magenta]Now: {period.line()}{end}[/]", highlight=False)


@app.command()
def reply(
    motion: str = typer.Argument(..., help="Motion id or path to a motion folder."),
    message: str = typer.Argument(..., help="The student's message to answer."),
    side: str = typer.Option(..., help="The bot's side: defend or attack."),
    phase: str = typer.Option("rebuttal", help="opening, rebuttal, closing or question."),
    llm: str = typer.Option(None, "--llm", help="Chat model spec [DEBATE_LLM]."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the reply, citations and evidence as JSON."
    ),
    data_dir: Path = typer.Option(None, help="[DEBATE_DATA_DIR]"),
    chroma_url: str = typer.Option(None, help="[DEBATE_CHROMA_URL]"),
) -> None:
    """Answer one student turn and print the bot's speech with its evidence."""
    import json

    try:
        session = _open_session(motion, side, phase, "student", llm, data_dir, chroma_url)
        answer = session.respond(message)
    except DebateError as exc:
        fail(str(exc))
    if not as_json:
        _print_speech(session, answer)
        return
    print(
        json.dumps({"motion": session.motion.id, **answer.to_dict()}, ensure_ascii=False, indent=2)
    )


@app.command("eval")
def eval_(
    suite: list[str] = typer.Option(
        None,
        "--suite",
        help="calibration, debate, llm-replies, independent-replies, clash or unseen "
        "(repeatable; default: the first four).",
    ),
    llm: str = typer.Option(
        None,
        "--llm",
        help="Run the debate suite with this chat model (and the LLM judge) [DEBATE_LLM].",
    ),
    data_dir: Path = typer.Option(None, help="Where the index lives [DEBATE_DATA_DIR]."),
    chroma_url: str = typer.Option(None, help="[DEBATE_CHROMA_URL]"),
) -> None:
    """Run the faithfulness eval suites; writes evals/reports/<time>.json and .md and exits
    non-zero when a threshold of evals/thresholds.yaml is missed."""
    from debate.evals.suites import run_suites, write_report

    # Offline unless --llm is given: an LLM in the environment must not change what CI checks.
    settings = settings_from(llm=llm or "", data_dir=data_dir, chroma_url=chroma_url)
    try:
        results = run_suites(settings, suite or None)
    except DebateError as exc:
        fail(str(exc))
    for r in results:
        console.print(_metrics_table(r))
        if r.name == "calibration":
            console.print(_confusion_table(r.table))
        for note in r.notes:
            console.print(f"  {note}", highlight=False)
        for failure in r.failures[:20]:
            err.print(f"  [yellow]{failure}[/]", highlight=False, soft_wrap=True)
    json_path, md_path = write_report(results, settings)
    console.print(f"report: {md_path} and {json_path.name}", highlight=False)
    if not all(r.passed for r in results):
        raise typer.Exit(1)


def _metrics_table(r) -> Table:
    """A suite's checked metrics with their thresholds, then its other metrics."""
    table = Table(
        "metric",
        "value",
        "threshold",
        "ok",
        title=f"{r.name}: {'PASS' if r.passed else 'FAIL'}",
    )
    checked = set()
    for metric, op, limit, value, ok in r.checks:
        checked.add(metric)
        shown = "n/a" if value is None else f"{value:.3f}"
        table.add_row(metric, shown, f"{op} {limit}", "[green]yes[/]" if ok else "[red]NO[/]")
    for metric, value in r.metrics.items():
        if metric not in checked:
            table.add_row(metric, "n/a" if value is None else f"{value:.3f}", "", "")
    return table


def _confusion_table(rows: list[dict]) -> Table:
    """The calibration suite's confusion table, one row per category."""
    cm = Table(
        "category",
        "n",
        "supported",
        "unsupported",
        "fabricated",
        "accuracy",
        "calib. split",
        "held-out split",
        title="checker confusion table",
    )
    for row in rows:
        cm.add_row(
            row["category"],
            str(row["n"]),
            str(row["supported"]),
            str(row["unsupported"]),
            str(row["fabricated-citation"]),
            f"{row['accuracy']:.3f}",
            f"{row['calibration_split']:.3f}",
            f"{row['held_out_split']:.3f}",
        )
    return cm


def _read_pairs(lines, out: list) -> list[tuple[int, str, list[str]]]:
    """(line number, claim, evidence texts) of each good JSON line; for a bad line, an error
    entry goes to `out` at its place instead."""
    import json

    good = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            claim, evidence = item["claim"], item["evidence"]
            evidence = [evidence] if isinstance(evidence, str) else evidence
            if not isinstance(claim, str) or not claim.strip():
                raise ValueError("'claim' must be a non-empty string")
            if not isinstance(evidence, list) or not evidence:
                raise ValueError("'evidence' must be a string or a non-empty list of strings")
            if not all(isinstance(e, str) and e.strip() for e in evidence):
                raise ValueError("every evidence item must be a non-empty string")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            out.append({"line": number, "error": f"line {number}: {detail}"})
            continue
        out.append(None)  # filled in order once checked
        good.append((number, claim, evidence))
    return good


@app.command()
def check(
    file: Path = typer.Argument(
        None, help='JSON lines file of {"claim": ..., "evidence": ... or [...]}; default stdin.'
    ),
) -> None:
    """Check claims against evidence, offline: one JSON line out per line in, in order:
    {"supported": true|false, "score": 0-1, "reason": "..."}. A bad line gets
    {"line": N, "error": "..."} and the rest go on."""
    import json

    from debate.check.faithfulness import check_pairs

    if file is not None and not file.is_file():
        fail(f"no such file: {file}")
    handle = file.open(encoding="utf-8", errors="replace") if file else sys.stdin
    with handle:
        out: list = []
        good = _read_pairs(handle, out)
    settings = load_settings()
    with Progress(
        TextColumn("[bold]checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("check", total=len(good))
        verdicts = check_pairs(
            [(c, e) for _, c, e in good],
            settings.model_path,
            progress=lambda n: bar.advance(task, n),
        )
    results = iter(verdicts)
    for entry in out:
        line = entry if entry is not None else next(results).to_dict()
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


def _round_source(transcript: Path, data_dir: Path | None):
    """(transcript dict, settings) for the coaching commands; errors as one line."""
    from debate.coach.feedback import load_transcript

    if not transcript.is_file():
        fail(f"no such transcript: {transcript}")
    try:
        return load_transcript(transcript), settings_from(data_dir=data_dir)
    except DebateError as exc:
        fail(str(exc))


@app.command("flow")
def flow_(
    transcript: Path = typer.Argument(..., help="A saved transcript (JSON)."),
    as_json: bool = typer.Option(False, "--json", help="Print the flow sheet as JSON."),
    data_dir: Path = typer.Option(None, help="Where the index lives [DEBATE_DATA_DIR]."),
) -> None:
    """The flow sheet of a saved round: every argument, its answers, the dropped ones."""
    import json

    from debate.coach.flow import build

    data, settings = _round_source(transcript, data_dir)
    try:
        sheet = build(data, settings)
    except DebateError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(sheet.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table("#", "by", "argument", "answered by", title="flow", show_lines=True)
    for row in sheet.rows():
        style = "red" if row[3] == "DROPPED" else None
        table.add_row(*(Text(x) for x in row[:3]), Text(row[3], style=style))
    console.print(table)


@app.command()
def feedback(
    transcript: Path = typer.Argument(..., help="A saved transcript (JSON)."),
    as_json: bool = typer.Option(False, "--json", help="Print the feedback as JSON."),
    data_dir: Path = typer.Option(None, help="Where the index lives [DEBATE_DATA_DIR]."),
    llm: str = typer.Option(None, "--llm", help="Chat model for the ballot's reasons."),
    judge: str = typer.Option("flow", "--judge", help="The ballot's judge: flow or lay."),
) -> None:
    """Coaching feedback on a saved round: each student turn's claims, quotes and clash
    checked against the sources, then the ballot, written for a flow or a lay judge."""
    import json

    from debate.coach.feedback import review_round

    data, settings = _round_source(transcript, data_dir)
    if llm is not None:
        settings = settings_from(data_dir=data_dir, llm=llm)
    try:
        result = review_round(data, settings, judge=judge)
    except DebateError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    for fb in result.turns:
        console.print(f"[bold]turn {fb.turn + 1}[/] [dim]({fb.kind})[/]")
        console.print(fb.text, markup=False, highlight=False, soft_wrap=True, style="dim")
        for p in fb.problems:
            console.print(Text.assemble((f"  {p.kind}: ", "bold red"), p.message), soft_wrap=True)
        for c in fb.claims:
            colour = {"backed": "green", "contradicted": "red"}.get(c.verdict, "yellow")
            console.print(Text.assemble((f"  {c.verdict}: ", colour), c.sentence), soft_wrap=True)
        for q in fb.quotes:
            console.print(Text.assemble((f"  {q.kind}: ", "cyan"), q.message), soft_wrap=True)
            if q.misquoted and q.source is not None:
                console.print(
                    Text(f"    source: {q.marked or q.source.sentence}", style="dim"),
                    soft_wrap=True,
                )
        for point in fb.ignored:
            console.print(Text.assemble(("  ignored: ", "yellow"), point), soft_wrap=True)
        for note in fb.notes:
            console.print(Text.assemble(("  note: ", "dim"), note), soft_wrap=True)
        console.print()
    table = Table("criterion", "score", "reason", title="ballot")
    for s in result.ballot.scores:
        table.add_row(s.criterion, f"{s.score}/5", Text(s.reason))
    console.print(table)
    for i, idea in enumerate(result.ballot.improvements, 1):
        console.print(Text(f"{i}. {idea}"), soft_wrap=True)


@app.command()
def prep(
    motion: str = typer.Argument(
        ..., help="Motion id (folder under corpus/) or path to a motion folder."
    ),
    side: str = typer.Option(
        ..., "--side", help="The side to prepare: defend (the thesis) or attack (it)."
    ),
    docx: Path = typer.Option(None, "--docx", help="Write the case file as Word (Verbatim)."),
    md: Path = typer.Option(None, "--md", help="Write the case file as Markdown."),
    data_dir: Path = typer.Option(None, help="Where the index lives [DEBATE_DATA_DIR]."),
) -> None:
    """Build a case file for one side: each of its contentions with its best two cards,
    then blocks: for each contention of the other side, the coach's block from
    motion.yaml (if any) and the cards that answer it. Cards are cut word for word from
    the motion's indexed sources (run `debate ingest MOTION` first). With neither --docx
    nor --md the Markdown is printed."""
    from debate.coach.prep import case_markdown, prepare, write_case
    from debate.corpus.motions import SIDES, load_motion

    if side not in SIDES:
        fail(f"unknown side {side!r}: use --side defend or --side attack")
    settings = settings_from(data_dir=data_dir)
    try:
        pack = load_motion(motion, settings.corpus_dir)
        with progress_bar("[bold]{task.description}") as bar:
            task = bar.add_task("preparing contentions and blocks", total=None)
            result = prepare(
                pack, side, settings, lambda d, t: bar.update(task, completed=d, total=t)
            )
        if docx is None and md is None:
            print(case_markdown(result), end="")
            return
        write_case(result, docx=docx, md=md)
    except DebateError as exc:
        fail(str(exc))
    cards = len(result.cards())
    for path in (p for p in (docx, md) if p is not None):
        console.print(f"[green]wrote[/] {path} ({cards} cards)", highlight=False)


cards_app = typer.Typer(
    help="Evidence cards: export the cards of a saved round to Word or Markdown.",
    no_args_is_help=True,
)
app.add_typer(cards_app, name="cards")


@cards_app.command("export")
def cards_export(
    transcript: Path = typer.Argument(..., help="A saved transcript (JSON)."),
    docx: Path = typer.Option(None, "--docx", help="Write the cards as Word (Verbatim styles)."),
    md: Path = typer.Option(None, "--md", help="Write the cards as Markdown."),
    data_dir: Path = typer.Option(None, help="[DEBATE_DATA_DIR]"),
) -> None:
    """Export the cards of a saved round: the student's saved cards, then every card the
    bot read (its quotations, cut word for word from the cited passages, each tagged with
    the claim it backs). With neither --docx nor --md the Markdown is printed."""
    from debate.cards.docx_out import write_docx
    from debate.cards.markdown import case_markdown
    from debate.cards.round_cards import round_case_file
    from debate.corpus.motions import load_motion

    data, settings = _round_source(transcript, data_dir)
    try:
        try:
            title = load_motion(str(data["motion"]), settings.corpus_dir).title
        except DebateError:
            title = str(data["motion"])  # a motion since removed: its id will do
        case = round_case_file(data, title)
        if docx is None and md is None:
            print(case_markdown(case), end="")
            return
        if docx is not None:
            write_docx(case, docx)
        if md is not None:
            md.parent.mkdir(parents=True, exist_ok=True)
            md.write_text(case_markdown(case), encoding="utf-8")
    except (DebateError, OSError) as exc:
        fail(str(exc))
    cards = len(case.cards())
    for path in (p for p in (docx, md) if p is not None):
        console.print(f"[green]wrote[/] {path} ({cards} cards)", highlight=False)


def main() -> None:
    offline_environment()
    try:
        app()
    except DebateError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except UnicodeError as exc:  # e.g. invalid UTF-8 in an argument
        err.print(f"[bold red]error:[/] cannot read the text given ({exc.reason}); use UTF-8")
        sys.exit(2)


if __name__ == "__main__":
    main()
