"""Background jobs: long work (indexing an uploaded source) run by one worker thread, with
progress, a message and a cancel, so that the page that started it is free at once.

One worker runs the jobs one at a time in the order they were submitted: embedding is
CPU-bound and the machine's cores are better spent on one job than shared by several. A
job has a `key` (the motion it works on) and only one live job per key is allowed: a
second one is refused with a message, so two writers never edit one pack.

A job's work is `work(progress, cancel)`: it reports `progress(done, total)`, checks the
`cancel` event between steps (raising `Cancelled`), and returns the message shown when it
is done. Everything here is thread-safe; callers read `JobView` snapshots.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from uuid import uuid4

from debate.core.errors import DebateError

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
LIVE = (QUEUED, RUNNING)
Work = Callable[[Callable[[int, int], None], threading.Event], str]


class Cancelled(DebateError):
    """The work was cancelled and has been undone; the message says what was put back."""


class Busy(DebateError):
    """A live job already works on this key."""


@dataclass(frozen=True)
class JobView:
    """A snapshot of a job, safe to read from any thread."""

    id: str
    key: str
    title: str
    state: str = QUEUED
    done: int = 0
    total: int = 0
    message: str = ""
    cancelling: bool = False
    finished_at: float = 0.0

    @property
    def live(self) -> bool:
        return self.state in LIVE


class Jobs:
    """The registry of jobs and its worker thread (started on the first submit)."""

    def __init__(self, keep: int = 50):
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, JobView] = OrderedDict()
        self._cancel: dict[str, threading.Event] = {}
        self._finished: dict[str, threading.Event] = {}
        self._queue: queue.Queue[tuple[str, Work]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._keep = keep

    def submit(self, key: str, title: str, start: Callable[[], Work]) -> JobView:
        """Claim `key`, run `start()` in the caller's thread (quick checks and edits whose
        errors the caller should see), then queue the work it returns. Raises Busy when a
        live job holds the key; whatever `start` raises releases the key and propagates."""
        job = JobView(uuid4().hex[:12], key, title, message="Waiting to start…")
        with self._lock:
            held = next((j for j in self._jobs.values() if j.key == key and j.live), None)
            if held is not None:
                raise Busy(
                    f"“{held.title}” is still being indexed into {key} "
                    f"({held.done}/{held.total or '?'} passages): wait for it to finish "
                    "or cancel it, then add the next file"
                )
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
            self._finished[job.id] = threading.Event()
        try:
            work = start()
        except BaseException:
            with self._lock:
                self._jobs.pop(job.id, None)
                self._cancel.pop(job.id, None)
                self._finished.pop(job.id).set()
            raise
        self._queue.put((job.id, work))
        self._ensure_worker()
        return job

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                # A daemon: a server stopped mid-job leaves what a crash would, which the
                # job's own recovery handles (debate.corpus.ingest.pending_sources).
                self._worker = threading.Thread(target=self._drain, name="debate-jobs", daemon=True)
                self._worker.start()

    def _drain(self) -> None:
        while True:
            job_id, work = self._queue.get()
            try:
                self._run(job_id, work)
            finally:
                self._queue.task_done()

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, work: Work) -> None:
        cancel = self._cancel[job_id]
        self._update(job_id, state=RUNNING, message="Indexing…")

        def progress(done: int, total: int) -> None:
            self._update(job_id, done=done, total=total, message=f"Embedding {done}/{total}")

        try:
            message = work(progress, cancel)
            outcome = {"state": DONE, "message": message}
        except Cancelled as exc:
            outcome = {"state": CANCELLED, "message": str(exc)}
        except DebateError as exc:
            outcome = {"state": FAILED, "message": str(exc)}
        except Exception as exc:
            log.exception("background job %s failed", job_id)
            outcome = {
                "state": FAILED,
                "message": f"indexing failed on the server ({type(exc).__name__}); "
                "the pack was put back as it was",
            }
        self._update(job_id, finished_at=time.time(), cancelling=False, **outcome)
        with self._lock:
            self._finished[job_id].set()
            self._forget_old()

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if not j.live]
        for job_id in finished[: max(0, len(finished) - self._keep)]:
            del self._jobs[job_id]
            self._cancel.pop(job_id, None)
            self._finished.pop(job_id, None)

    def cancel(self, job_id: str) -> JobView:
        """Ask a live job to stop; its work undoes itself at the next batch boundary."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.live:
                raise DebateError("That upload is not running any more: nothing to cancel.")
            self._cancel[job_id].set()
            job = self._jobs[job_id] = replace(
                job, cancelling=True, message="Cancelling: putting the pack back as it was…"
            )
            return job

    def get(self, job_id: str) -> JobView | None:
        with self._lock:
            return self._jobs.get(job_id)

    def latest(self, key: str) -> JobView | None:
        """The live job on `key`, else the one that finished last (None if none)."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.key == key]
        live = [j for j in jobs if j.live]
        return live[-1] if live else (jobs[-1] if jobs else None)

    def live(self) -> list[JobView]:
        with self._lock:
            return [j for j in self._jobs.values() if j.live]

    def wait(self, job_id: str, timeout: float | None = None) -> JobView:
        """Block until the job has finished (or the timeout passed); returns its view."""
        with self._lock:
            finished = self._finished.get(job_id)
        if finished is not None:
            finished.wait(timeout)
        job = self.get(job_id)
        if job is None:
            raise DebateError(f"no job {job_id!r}")
        return job
