"""What the web app loads once per process: settings, motion packs, the embedding model and
the default motion's index (warmed up in a background thread, never per request)."""

from __future__ import annotations

import logging
import re
import threading

from debate.app.access import UnlockGuard
from debate.core.config import Settings
from debate.core.embeddings import get_embedder
from debate.core.errors import DebateError, MotionError
from debate.corpus.jobs import Jobs
from debate.corpus.motions import Motion, list_motions, load_motion
from debate.search.retrieval import get_retriever
from debate.spar.engines.warmup import warm_passages
from debate.spar.session import warm_first_turn

log = logging.getLogger(__name__)
OFFLINE = "offline"
# Threads per model call in the web app. Turns run in parallel worker threads and each
# one embeds only a few short texts; with more intra-op threads than that, their OpenMP
# threads spin-wait for one another on a busy machine (4 short texts on 2 loaded cores:
# about 40 ms with 1 thread, 320 ms with 2).
MODEL_THREADS = 1
# Motions up to this many passages have every passage sentence embedded after start-up
# (about 15 texts a passage; the embedder's cache keeps 50,000).
WARM_ALL_MAX = 1000
MOTION_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")


def serving_threads() -> None:
    """Set the model's thread count for serving turns (MODEL_THREADS, process-wide)."""
    import torch

    torch.set_num_threads(MODEL_THREADS)


class Runtime:
    """Process-wide state shared by every tab; a tab's own debate lives in handlers.TabState."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.ready = threading.Event()
        self.error: str = ""
        self.stage = "starting"
        self._motions: dict[str, Motion] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Failed coach unlocks, per tab and per client address (debate.app.access).
        self.unlock_guard = UnlockGuard(settings.coach_password)
        # Coaches' uploads, indexed in the background one at a time (debate.corpus.jobs).
        self.uploads = Jobs()
        # The last turn's failure that is not the student's doing (e.g. the Chroma server
        # went away): shown in the status line until a turn succeeds again.
        self.turn_error: str = ""
        # The rounds' format chosen by `debate serve --format`; None: each motion's own
        # (`format:` in motion.yaml), else the page's practice round.
        self.format = None

    # -- loading
    def start(self) -> Runtime:
        if self._thread is None:
            serving_threads()
            self._thread = threading.Thread(target=self._warm, name="debate-warmup", daemon=True)
            self._thread.start()
        return self

    def _warm(self) -> None:
        try:
            self.stage = "loading motion packs"
            self.reload_motions()
            self.stage = "loading the embedding model"
            get_embedder(self.settings.model_path)
            self.stage = "loading the evidence index"
            motion = self.motion(self.settings.default_motion)
            get_retriever(motion, self.settings)
            self.stage = "preparing the first turn"
            warm_first_turn(motion, self.settings)
            self.stage = "ready"
        except DebateError as exc:
            self.error = str(exc)
            log.error("start-up failed: %s", exc)
        except Exception as exc:  # still show the page, with the reason
            self.error = f"start-up failed: {type(exc).__name__}: {exc}"
            log.exception("start-up failed")
        finally:
            self.ready.set()
        if not self.error:
            self._warm_rest(motion)

    def _warm_rest(self, motion: Motion) -> None:
        """After start-up, embed the rest of a small motion's passages, so that no later
        turn pays for a passage it meets first. Never fails the app: it is only speed."""
        try:
            retriever = get_retriever(motion, self.settings)
            if retriever.store.count() > WARM_ALL_MAX:
                return

            def edited() -> bool:  # a coach changed the pack meanwhile: its passages differ
                return self.motion(motion.id) is not motion

            warm_passages(retriever.all_passages(), self.settings, stop=edited)
        except Exception:
            log.warning("background warm-up of %s stopped", motion.id, exc_info=True)

    def wait(self, timeout: float | None = None) -> None:
        """Block until warm-up is done; raise its error if it failed."""
        self.ready.wait(timeout)
        if self.error:
            raise DebateError(self.error)

    def status(self) -> tuple[str, str]:
        """(text, kind) for the status line: kind is loading, error or ok."""
        if not self.ready.is_set():
            return f"Loading: {self.stage}… (the first start takes a few seconds)", "loading"
        if self.error:
            return f"Not ready: {self.error}", "error"
        if self.turn_error:
            return f"Not ready: {self.turn_error}", "error"
        return "Ready.", "ok"

    # -- motions
    def reload_motions(self) -> None:
        errors: list[MotionError] = []
        found = {m.id: m for m in list_motions(self.settings.corpus_dir, errors)}
        for e in errors:
            log.warning("skipped motion pack: %s", e)
        with self._lock:
            self._motions = found

    def motions(self) -> list[Motion]:
        with self._lock:
            return list(self._motions.values())

    def motion(self, motion_id: str) -> Motion:
        """The pack as last loaded or edited (one Motion object per pack, so a cached
        retriever is not rebuilt back and forth between tabs)."""
        with self._lock:
            found = self._motions.get(motion_id)
        if found is None:
            # Only a pack in the corpus, by id: never a path a client made up.
            if not isinstance(motion_id, str) or not MOTION_ID.fullmatch(motion_id):
                raise MotionError(f"no motion {str(motion_id)[:60]!r}: choose one from the list")
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
