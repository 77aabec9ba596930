"""What the web app does, as plain functions over a per-tab `TabState`.

app.py only lays out components and maps these functions' results onto them, so the
behaviour is tested without a browser. One `Runtime` per process holds what is loaded once
(the embedding model, retrievers, motion packs); one `TabState` per browser tab holds that
tab's debate, kept by Gradio in gr.State and never shared between tabs.
"""

from __future__ import annotations

import hmac
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from debate import app_render as render
from debate.config import Settings
from debate.errors import DebateError, MotionError
from debate.motions import SIDES, Motion, list_motions, load_motion

log = logging.getLogger(__name__)
OFFLINE = "offline"
DEFAULT_PHASE_SECONDS = {"opening": 240, "rebuttal": 180, "closing": 120, "question": 60}


class Runtime:
    """Process-wide: settings, motion packs, and the warm-up that loads models and indexes
    once at start-up (never per request)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.ready = threading.Event()
        self.error: str = ""
        self.stage = "starting"
        self._motions: dict[str, Motion] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- loading
    def start(self) -> Runtime:
        if self._thread is None:
            self._thread = threading.Thread(target=self._warm, name="debate-warmup", daemon=True)
            self._thread.start()
        return self

    def _warm(self) -> None:
        try:
            self.stage = "loading motion packs"
            self.reload_motions()
            self.stage = "loading the embedding model"
            from debate.embeddings import get_embedder

            get_embedder(self.settings.model_path)
            self.stage = "loading the evidence index"
            from debate.retrieval import get_retriever

            get_retriever(self.motion(self.settings.default_motion), self.settings)
            self.stage = "ready"
        except DebateError as exc:
            self.error = str(exc)
            log.error("start-up failed: %s", exc)
        except Exception as exc:  # still show the page, with the reason
            self.error = f"start-up failed: {type(exc).__name__}: {exc}"
            log.exception("start-up failed")
        finally:
            self.ready.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until warm-up is done; raise its error if it failed."""
        self.ready.wait(timeout)
        if self.error:
            raise DebateError(self.error)

    def status(self) -> tuple[str, str]:
        if not self.ready.is_set():
            return f"Loading: {self.stage}… (the first start takes a few seconds)", "loading"
        if self.error:
            return f"Not ready: {self.error}", "error"
        return "Ready.", "ok"

    # -- motions
    def reload_motions(self) -> None:
        errors: list = []
        found = {m.id: m for m in list_motions(self.settings.corpus_dir, errors)}
        for e in errors:
            log.warning("skipped motion pack: %s", e)
        with self._lock:
            self._motions = found

    def motions(self) -> list[Motion]:
        with self._lock:
            return list(self._motions.values())

    def motion(self, motion_id: str) -> Motion:
        with self._lock:
            found = self._motions.get(motion_id)
        if found is None:
            found = load_motion(motion_id, self.settings.corpus_dir)
            self.put_motion(found)
        return found

    def put_motion(self, motion: Motion) -> None:
        with self._lock:
            self._motions[motion.id] = motion

    def engine_choices(self) -> list[tuple[str, str]]:
        choices = [("Offline evidence engine (no model, quotes only)", OFFLINE)]
        if self.settings.llm:
            choices.append((f"LLM: {self.settings.llm}", self.settings.llm))
        return choices

    def coach_locked(self) -> bool:
        return bool(self.settings.coach_password)


@dataclass
class TabState:
    """One browser tab's debate."""

    session: object  # debate.session.Session
    engine: str = OFFLINE
    opener: str = "student"
    coach_ok: bool = False
    focus_turn: int | None = None  # turn index shown in the evidence panel
    focus_n: int | None = None
    verdict_cache: dict = field(default_factory=dict)
    phase_seconds: dict = field(default_factory=lambda: dict(DEFAULT_PHASE_SECONDS))
    transcript_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="debate-tab-"))


def _session_settings(runtime: Runtime, engine: str) -> Settings:
    return replace(runtime.settings, llm="" if engine == OFFLINE else engine)


def new_session(
    runtime: Runtime,
    motion_id: str,
    bot_side: str = "attack",
    opener: str = "student",
    engine: str = OFFLINE,
):
    from debate.session import Session

    motion = runtime.motion(motion_id)
    return Session(motion, _session_settings(runtime, engine), bot_side=bot_side, opener=opener)


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


# ---------------------------------------------------------------- chat


def _verdicts(state: TabState, index: int, turn) -> tuple[list, bool]:
    """The turn's faithfulness verdicts; checked here once when the engine left none."""
    if getattr(turn, "verdicts", None):
        return list(turn.verdicts), True
    if index in state.verdict_cache:
        return state.verdict_cache[index]
    try:
        from debate.citations import Reply
        from debate.faithfulness import check_reply
    except ImportError:
        result: tuple[list, bool] = ([], False)
    else:
        from debate.citations import EvidenceList

        reply = Reply(
            turn.text,
            turn.evidence or EvidenceList([]),
            side=turn.side,
            phase=turn.phase,
            engine=turn.engine,
        )
        try:
            result = (check_reply(reply, state.session.settings), True)
        except Exception:  # a checker bug must not take the debate down; show "not checked"
            log.exception("faithfulness check failed")
            result = ([], False)
    state.verdict_cache[index] = result
    return result


def chat_messages(state: TabState) -> list[dict]:
    """The session's turns as Chatbot messages (HTML content)."""
    messages = []
    for i, turn in enumerate(state.session.turns):
        if turn.speaker == "student":
            messages.append({"role": "user", "content": render.student_message_html(turn.text)})
        elif turn.speaker == "bot":
            verdicts, checked = _verdicts(state, i, turn)
            messages.append(
                {
                    "role": "assistant",
                    "content": render.bot_message_html(
                        i,
                        turn.text,
                        turn.evidence,
                        verdicts,
                        getattr(turn, "notices", ()),
                        checked,
                        turn.side,
                        turn.phase,
                    ),
                }
            )
        else:
            messages.append({"role": "assistant", "content": render.system_message_html(turn.text)})
    return messages


def bot_turn_indices(state: TabState) -> list[int]:
    return [i for i, t in enumerate(state.session.turns) if t.speaker == "bot" and t.evidence]


def focus_last_bot_turn(state: TabState) -> None:
    indices = bot_turn_indices(state)
    state.focus_turn = indices[-1] if indices else None
    state.focus_n = None


def send(state: TabState, text: str, runtime: Runtime | None = None) -> Iterator[list[dict]]:
    """Stream the bot's reply: yields the chat after each chunk, then the final chat.
    Raises QueryError (friendly message) for an empty message before anything changes."""
    from debate.errors import QueryError

    if not (text or "").strip():
        raise QueryError("Type your argument first: the message is empty.")
    if runtime is not None:
        # A coach may have added a source in another tab: debate the pack as it is now
        # (one Motion object per pack, so the cached retriever is not rebuilt back and forth).
        state.session.motion = runtime.motion(state.session.motion.id)
    base = chat_messages(state)
    student = {"role": "user", "content": render.student_message_html(text.strip())}
    yield [*base, student, {"role": "assistant", "content": render.streaming_html("")}]
    for chunk in state.session.stream(text):
        yield [*base, student, {"role": "assistant", "content": render.streaming_html(chunk)}]
    focus_last_bot_turn(state)
    yield chat_messages(state)


def evidence_html(state: TabState) -> str:
    if state.focus_turn is None or state.focus_turn >= len(state.session.turns):
        return render.evidence_panel(None, "", None)
    turn = state.session.turns[state.focus_turn]
    return render.evidence_panel(state.focus_turn, turn.text, turn.evidence, state.focus_n)


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
    from debate.session import PHASES

    return render.phase_indicator(PHASES, state.session.phase)


def timer_html(state: TabState) -> str:
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


def unlock_coach(state: TabState, runtime: Runtime, password: str) -> tuple[bool, str]:
    if not runtime.coach_locked():
        state.coach_ok = True
        return True, "Coach controls are open (single-user mode)."
    if hmac.compare_digest((password or "").encode(), runtime.settings.coach_password.encode()):
        state.coach_ok = True
        return True, "Coach controls unlocked."
    state.coach_ok = False
    return False, "Wrong coach password: coach controls stay locked."


def require_coach(state: TabState, runtime: Runtime) -> None:
    if runtime.coach_locked() and not state.coach_ok:
        raise DebateError("Coach controls are locked: enter the coach password first.")


def switch_side(state: TabState, runtime: Runtime, side: str | None = None) -> str:
    """Switch the bot's side (default: to the other side); returns the bot's acknowledgement."""
    require_coach(state, runtime)
    current = state.session.bot_side
    side = side or ("defend" if current == "attack" else "attack")
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
    """A new round in the same tab (coach choices kept unless given)."""
    motion_id = motion_id or state.session.motion.id
    fresh = new_tab(
        runtime,
        motion_id,
        bot_side or state.session.bot_side,
        opener or state.opener,
        engine or state.engine,
        coach_ok=state.coach_ok,
    )
    fresh.phase_seconds = dict(state.phase_seconds)
    fresh.transcript_dir = state.transcript_dir
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
    """Write the transcript as Markdown for download; returns the file's path."""
    text = state.session.transcript_markdown()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(state.transcript_dir) / f"debate-{state.session.motion.id}-{stamp}.md"
    for old in Path(state.transcript_dir).glob("debate-*.md"):
        old.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- sources


def motion_choices(runtime: Runtime) -> list[tuple[str, str]]:
    return [(f"{m.title}: {m.thesis}", m.id) for m in runtime.motions()]


def add_source(
    state: TabState, runtime: Runtime, motion_id: str, upload: str | None, form: dict, progress=None
) -> str:
    """Coach uploads a source into a motion; returns a status line."""
    from debate.app_sources import add_source as add
    from debate.errors import SourceError
    from debate.retrieval import get_retriever

    require_coach(state, runtime)
    if not upload:
        raise SourceError("Choose a file to upload first (.pdf, .html, .md or .txt).")
    path = Path(upload)
    name = form.pop("filename", None) or path.name
    added = add(runtime.motion(motion_id), path, name, form, runtime.settings, progress=progress)
    runtime.put_motion(added.motion)
    if state.session.motion.id == added.motion.id:
        state.session.motion = added.motion
    hits = get_retriever(added.motion, runtime.settings).search(added.title, k=3)
    found = any(h.passage.source_id == added.source_id for h in hits)
    check = "searchable now" if found else "indexed (not yet in the top results for its title)"
    plural = "" if added.passages == 1 else "s"
    return f"Added “{added.title}” to {added.motion.id}: {added.passages} passage{plural}, {check}."


def create_motion(state: TabState, runtime: Runtime, **fields) -> Motion:
    from debate.app_sources import create_motion as create

    require_coach(state, runtime)
    motion = create(runtime.settings, **fields)
    runtime.put_motion(motion)
    return motion


def ensure_motion(runtime: Runtime, motion_id: str) -> Motion:
    try:
        return runtime.motion(motion_id)
    except MotionError:
        runtime.reload_motions()
        return runtime.motion(motion_id)
