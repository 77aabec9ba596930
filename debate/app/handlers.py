"""What the web app does, as plain functions over a per-tab `TabState` (no Gradio here).

layout.py lays out components and events.py maps these functions' results onto them, so the
behaviour is tested without a browser. The process-wide `Runtime` (runtime.py) holds what
is loaded once; one `TabState` per browser tab holds that tab's debate, kept by Gradio in
gr.State and never shared between tabs.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from uuid import uuid4

from debate.app import render
from debate.app.runtime import OFFLINE, Runtime
from debate.coach import flow
from debate.coach.questions import next_question
from debate.core.errors import DebateError, QueryError, SourceError
from debate.core.text import clean_input
from debate.corpus import ingest, motions
from debate.corpus.formats import format_of
from debate.corpus.jobs import DONE, JobView, Work
from debate.corpus.loaders import load_source
from debate.corpus.motions import SIDES, Motion, bare_name, check_file, other_side
from debate.corpus.passages import chunk_spans
from debate.search.retrieval import get_retriever
from debate.spar.session import PHASES, Session

DEFAULT_PHASE_SECONDS = {"opening": 240, "rebuttal": 180, "closing": 120, "question": 60}


@dataclass
class TabState:
    """One browser tab's debate."""

    session: Session
    engine: str = OFFLINE
    opener: str = "student"
    coach_ok: bool = False
    focus_turn: int | None = None  # turn index shown in the evidence panel
    focus_n: int | None = None
    phase_seconds: dict = field(default_factory=lambda: dict(DEFAULT_PHASE_SECONDS))
    tab_id: str = field(default_factory=lambda: uuid4().hex[:12])

    @property
    def export_dir(self) -> Path:
        """Where this tab's transcript download is written; removed when the tab closes."""
        return self.session.settings.data_dir / "exports" / self.tab_id


def new_session(
    runtime: Runtime,
    motion_id: str,
    bot_side: str = "attack",
    opener: str = "student",
    engine: str = OFFLINE,
) -> Session:
    settings = replace(runtime.settings, llm="" if engine == OFFLINE else engine)
    motion = runtime.motion(motion_id)
    chosen = getattr(runtime, "format", None)
    fmt = chosen or (format_of(motion) if motion.format else None)
    session = Session(motion, settings, bot_side=bot_side, opener=opener, fmt=fmt)
    session.questioner = next_question
    return session


def new_tab(
    runtime: Runtime,
    motion_id: str | None = None,
    bot_side: str = "attack",
    opener: str = "student",
    engine: str = OFFLINE,
    coach_ok: bool = False,
) -> TabState:
    """A fresh debate for a tab; when the bot opens, its opening speech is already there."""
    runtime.wait()
    session = new_session(
        runtime, motion_id or runtime.settings.default_motion, bot_side, opener, engine
    )
    state = TabState(
        session=session,
        engine=engine,
        opener=opener,
        coach_ok=coach_ok or not runtime.coach_locked(),
    )
    if opener == "bot":
        session.open_round()
        focus_last_bot_turn(state)
    return state


def close_tab(state: TabState | None) -> None:
    """Gradio drops a closed tab's state: delete its transcript download with it."""
    if isinstance(state, TabState):
        shutil.rmtree(state.export_dir, ignore_errors=True)


# ---------------------------------------------------------------- chat


def chat_messages(state: TabState) -> list[dict]:
    """The session's turns as Chatbot messages (HTML content). A bot turn shows the
    verdicts the session recorded for it; one without any shows as "not checked"."""
    messages = []
    for i, turn in enumerate(state.session.turns):
        if turn.speaker == "student":
            content, role = render.student_message_html(turn.text), "user"
        elif turn.speaker == "bot":
            role = "assistant"
            content = render.bot_message_html(
                i,
                turn.text,
                turn.evidence,
                turn.verdicts,
                turn.notices,
                bool(turn.verdicts),
                turn.side,
                turn.phase,
            )
        else:
            content, role = render.system_message_html(turn.text), "assistant"
        messages.append({"role": role, "content": content})
    return messages


def bot_turn_indices(state: TabState) -> list[int]:
    return [i for i, t in enumerate(state.session.turns) if t.speaker == "bot" and t.evidence]


def focus_last_bot_turn(state: TabState) -> None:
    indices = bot_turn_indices(state)
    state.focus_turn = indices[-1] if indices else None
    state.focus_n = None


# Seconds between two updates of a reply being streamed to the page.
STREAM_INTERVAL = 0.15


def send(state: TabState, text: str, runtime: Runtime | None = None) -> Iterator[list[dict]]:
    """Stream the bot's reply: yields the chat after each chunk, then the final chat.
    Raises QueryError (friendly message) for an empty message before anything changes."""
    if not isinstance(text, str):
        raise QueryError("A message must be text.")
    # Pasted text may hold lone surrogates, NUL and control characters: the session reads
    # it once (made safe to embed, store as JSON and send back to the browser, and bounded)
    # before anything else sees it, and the turn works from that record.
    message = state.session.read(text) if text.strip() else None
    if message is None or message.kind == "empty":
        raise QueryError("Type your argument first: the message is empty.")
    if runtime is not None:
        # A coach may have added a source in another tab: debate the pack as it is now.
        state.session.motion = runtime.motion(state.session.motion.id)
    base = chat_messages(state)
    student = {"role": "user", "content": render.student_message_html(message.text)}
    yield [*base, student, {"role": "assistant", "content": render.streaming_html("")}]
    shown = time.monotonic()
    for chunk in state.session.stream(message):
        # Every update re-sends the whole chat: at most one per STREAM_INTERVAL, so a fast
        # reply (the offline engine's, or a quick model's tokens) costs a few, not dozens.
        if time.monotonic() - shown >= STREAM_INTERVAL:
            yield [*base, student, {"role": "assistant", "content": render.streaming_html(chunk)}]
            shown = time.monotonic()
    focus_last_bot_turn(state)
    yield chat_messages(state)


def failure_text(exc: BaseException) -> str:
    """One line for the page about a failure: a DebateError says what to do as it is;
    anything else is named without its raw text (which may hold paths or errno noise)."""
    if isinstance(exc, DebateError):
        return str(exc)
    return (
        f"something went wrong on the server ({type(exc).__name__}); the debate is kept: "
        "try again, and tell whoever runs this server if it keeps happening"
    )


def evidence_html(state: TabState) -> str:
    if state.focus_turn is None or state.focus_turn >= len(state.session.turns):
        return render.evidence_panel(None, "", None)
    turn = state.session.turns[state.focus_turn]
    return render.evidence_panel(
        state.focus_turn, turn.text, turn.evidence, state.focus_n, state.session.cards
    )


def select_citation(state: TabState, target: str) -> None:
    """`target` is 'turn:n' (a clicked [n]) or 'turn' (a message's evidence link)."""
    try:
        turn_part, _, n_part = (target or "").partition(":")
        turn = int(turn_part)
        n = int(n_part) if n_part else None
    except ValueError:
        return
    if 0 <= turn < len(state.session.turns) and state.session.turns[turn].speaker == "bot":
        state.focus_turn, state.focus_n = turn, n


# ---------------------------------------------------------------- phases and timer


def next_phase(state: TabState) -> str:
    return state.session.next_phase()


def phase_html(state: TabState) -> str:
    return render.phase_indicator(PHASES, state.session.phase)


def timer_html(state: TabState) -> str:
    """The speech timer: in a format, the length of its entry under way (named by it)."""
    period = state.session.current_period if state.session.format else None
    if period is not None:
        return render.timer_html(period.name, int(period.minutes * 60))
    phase = state.session.phase
    return render.timer_html(phase, state.phase_seconds.get(phase, 180))


def set_phase_minutes(state: TabState, minutes: dict) -> None:
    for phase, value in minutes.items():
        try:
            seconds = int(round(float(value) * 60))
        except (TypeError, ValueError):
            continue
        state.phase_seconds[phase] = max(0, min(seconds, 60 * 60))


# ---------------------------------------------------------------- coach


def unlock_coach(
    state: TabState, runtime: Runtime, password: str, client: str = ""
) -> tuple[bool, str]:
    """Check the coach password for this tab; failures are rate-limited per tab and per
    client address (debate.app.access). The password itself is never returned or kept."""
    if not runtime.coach_locked():
        state.coach_ok = True
        return True, "Coach controls are open (single-user mode)."
    keys = [f"tab:{state.tab_id}", f"client:{client or 'unknown'}"]
    ok, wait = runtime.unlock_guard.attempt(password if isinstance(password, str) else "", keys)
    state.coach_ok = ok
    if ok:
        return True, "Coach controls unlocked."
    if wait > 0:
        return False, (
            f"Too many wrong coach passwords: try again in {math.ceil(wait)} s "
            "(coach controls stay locked)."
        )
    return False, "Wrong coach password: coach controls stay locked."


def require_coach(state: TabState, runtime: Runtime) -> None:
    if runtime.coach_locked() and not state.coach_ok:
        raise DebateError("Coach controls are locked: enter the coach password first.")


def switch_side(state: TabState, runtime: Runtime, side: str | None = None) -> str:
    """Switch the bot's side (default: to the other side); returns the bot's acknowledgement."""
    require_coach(state, runtime)
    current = state.session.bot_side
    side = side or other_side(current)
    if side not in SIDES:
        raise DebateError(f"unknown side {side!r}: use defend or attack")
    if side == current:
        return f"The bot already argues the {side} side."
    return state.session.switch_side(side)


def restart(
    state: TabState,
    runtime: Runtime,
    motion_id: str | None = None,
    opener: str | None = None,
    engine: str | None = None,
    bot_side: str | None = None,
) -> TabState:
    """A new round in the same tab (coach choices, timer lengths and tab id kept unless
    given)."""
    if motion_id is not None:
        known_motion(runtime, motion_id)
    fresh = new_tab(
        runtime,
        motion_id or state.session.motion.id,
        bot_side or state.session.bot_side,
        opener or state.opener,
        engine or state.engine,
        coach_ok=state.coach_ok,
    )
    fresh.phase_seconds = dict(state.phase_seconds)
    fresh.tab_id = state.tab_id
    return fresh


def coach_restart(state: TabState, runtime: Runtime, opener: str, engine: str) -> TabState:
    require_coach(state, runtime)
    if opener not in ("student", "bot"):
        raise DebateError("who opens must be 'student' or 'bot'")
    if engine not in {value for _, value in runtime.engine_choices()}:
        raise DebateError(f"unknown engine {engine!r}")
    return restart(state, runtime, opener=opener, engine=engine)


# ---------------------------------------------------------------- transcript


def transcript_file(state: TabState) -> str:
    """Write the transcript as Markdown for download (replacing the tab's previous one)
    under DATA_DIR/exports/<tab>/; returns the file's path."""
    folder = state.export_dir
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("debate-*.md"):
        old.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"debate-{state.session.motion.id}-{stamp}.md"
    path.write_text(flow.round_markdown(state.session), encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- sources and motions


def motion_choices(runtime: Runtime) -> list[tuple[str, str]]:
    return [(f"{m.title}: {m.thesis}", m.id) for m in runtime.motions()]


# An upload may make at most this many passages: at about 25 long passages a second on two
# cores that is a few minutes of embedding, in the background (see start_upload).
UPLOAD_MAX_PASSAGES = 5000
# How long the synchronous add_source waits for its background job.
UPLOAD_WAIT_SECONDS = 3600


def known_motion(runtime: Runtime, motion_id: object) -> str:
    """A motion id the page offers; anything else from a client (a path, `../x`) is refused."""
    if not isinstance(motion_id, str) or motion_id not in {m.id for m in runtime.motions()}:
        shown = str(motion_id)[:60]
        raise DebateError(f"no motion {shown!r} here: choose one from the motion list")
    return motion_id


def _count_passages(upload: Path, name: str, settings) -> int:
    """Passages the file would make, counted before anything is copied or embedded."""
    try:
        loaded = load_source(upload)
    except SourceError as exc:  # name the user's file, not the server's temp path
        raise SourceError(str(exc).replace(str(upload), name)) from exc
    if loaded.cards:  # a Word file of cards: one passage per card
        return len(loaded.cards)
    return len(chunk_spans(loaded.text, settings.chunk_max_chars, settings.chunk_min_chars))


def discard_upload(upload: object, cache_dir: str) -> None:
    """Remove an uploaded file from the web framework's upload cache `cache_dir` (accepted
    files were copied into the pack, refused ones must not linger); never touches a file
    outside that cache."""
    if not isinstance(upload, str) or not upload or not cache_dir:
        return
    cache = Path(cache_dir).resolve()
    path = Path(upload).resolve()
    if path.is_relative_to(cache) and path != cache:
        path.unlink(missing_ok=True)
        if path.parent != cache:
            try:
                path.parent.rmdir()  # Gradio keeps each upload in a folder of its own
            except OSError:
                pass


def start_upload(
    state: TabState, runtime: Runtime, motion_id: str, upload: str | None, form: dict
) -> JobView:
    """Coach uploads a source into a motion: checked and copied into the pack now (a
    refusal says why and writes nothing), then embedded by a background job whose view is
    returned (see upload_view, cancel_upload). Refused when the motion is not one of the
    page's, when the file would make more than UPLOAD_MAX_PASSAGES passages, or while
    another upload to the same motion is queued or running."""
    require_coach(state, runtime)
    if not upload or not isinstance(upload, str):
        raise SourceError("Choose a file to upload first (.pdf, .html, .md, .txt or .docx).")
    motion = runtime.motion(known_motion(runtime, motion_id))
    form = {k: (clean_input(v) if isinstance(v, str) else v) for k, v in dict(form).items()}
    if form.get("stance") == "unlabelled":
        form.pop("stance")
    name = bare_name(form.pop("filename", None) or Path(upload).name)
    check_file(Path(upload), name, runtime.settings.upload_max_mb)
    count = _count_passages(Path(upload), name, runtime.settings)
    if count > UPLOAD_MAX_PASSAGES:
        raise SourceError(
            f"{name}: would make {count:,} passages, over the upload limit of "
            f"{UPLOAD_MAX_PASSAGES:,} passages per file (a few minutes of embedding); "
            "split the file or keep only the part you need"
        )

    def stage() -> Work:
        staged = ingest.stage_source(motion, upload, runtime.settings, name=name, meta=form)
        return _indexing(runtime, staged)

    return runtime.uploads.submit(motion.id, name, stage)


def _indexing(runtime: Runtime, staged: ingest.StagedSource) -> Work:
    """The background part of an upload: index, then publish the pack to every tab."""

    def work(progress, cancel) -> str:
        runtime.ready.wait()  # after start-up's own loading, not competing with it
        added = ingest.index_source(staged, runtime.settings, progress, cancel)
        runtime.put_motion(added.motion)
        hits = get_retriever(added.motion, runtime.settings).search(added.title, k=3)
        found = any(h.passage.source_id == added.source_id for h in hits)
        check = "searchable now" if found else "indexed (not yet in the top results for its title)"
        plural = "" if added.passages == 1 else "s"
        return (
            f"Added “{added.title}” to {added.motion.id}: {added.passages} passage{plural}, "
            f"{check}."
        )

    return work


def resume_uploads(runtime: Runtime) -> list[JobView]:
    """Uploads a stopped server left half-indexed, finished in the background: a source
    being added is completed (embeddings already written are reused), one being taken
    out is rolled back (debate.corpus.ingest.StagedSource)."""
    jobs = runtime.uploads
    busy = {j.key for j in jobs.live()}
    return [
        jobs.submit(staged.motion_id, staged.title, lambda s=staged: _indexing(runtime, s))
        for staged in ingest.pending_sources(runtime.settings)
        if staged.motion_id not in busy
    ]


def upload_text(job: JobView) -> str:
    """One line about an upload job, for the page and for add_source."""
    if job.live:
        return f"Added “{job.title}” to {job.key}; indexing it in the background…"
    return job.message


def add_source(
    state: TabState, runtime: Runtime, motion_id: str, upload: str | None, form: dict
) -> str:
    """start_upload, then wait for the job; returns its message, raises if it failed."""
    job = start_upload(state, runtime, motion_id, upload, form)
    job = runtime.uploads.wait(job.id, UPLOAD_WAIT_SECONDS)
    if job.state != DONE:
        raise DebateError(job.message or f"the upload is still {job.state}")
    if state.session.motion.id == job.key:
        state.session.motion = runtime.motion(job.key)
    return job.message


def upload_view(state: TabState, runtime: Runtime, motion_id: str) -> JobView | None:
    """The upload job of a motion (live, else the last one); a coach action. Once a job
    has finished, this tab debates the updated pack."""
    require_coach(state, runtime)
    job = runtime.uploads.latest(known_motion(runtime, motion_id))
    if job is not None and job.state == DONE and state.session.motion.id == job.key:
        state.session.motion = runtime.motion(job.key)
    return job


def other_uploads(runtime: Runtime, motion_id: str) -> list[JobView]:
    return [j for j in runtime.uploads.live() if j.key != motion_id]


def cancel_upload(state: TabState, runtime: Runtime, motion_id: str) -> JobView:
    """Cancel the motion's live upload: embedding stops at the next batch and the pack and
    its index are put back as they were (the job's message says so when done)."""
    require_coach(state, runtime)
    job = runtime.uploads.latest(known_motion(runtime, motion_id))
    if job is None or not job.live:
        raise DebateError(f"No upload is being indexed into {motion_id}: nothing to cancel.")
    return runtime.uploads.cancel(job.id)


def claim_lines(text: str) -> list[str]:
    """One contention per line of a text box, list bullets dropped."""
    return [line.strip(" -•*\t") for line in (text or "").splitlines() if line.strip(" -•*\t")]


def create_motion(
    state: TabState,
    runtime: Runtime,
    title: str,
    thesis: str,
    defend_claims: str,
    attack_claims: str,
) -> Motion:
    """Coach creates a motion pack (debate.corpus.motions.create_motion, as `debate new-motion`)."""
    require_coach(state, runtime)
    motion = motions.create_motion(
        runtime.settings.corpus_dir,
        title,
        thesis,
        claim_lines(defend_claims),
        claim_lines(attack_claims),
    )
    runtime.put_motion(motion)
    return motion
