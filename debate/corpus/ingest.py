"""Sources -> passages with provenance -> Chroma. Idempotent and incremental.

Every source of the motion is loaded, validated and chunked before the store is touched,
so a bad file leaves the previous index as it was. Unchanged sources cost nothing (the
model is not even loaded); a changed source replaces exactly its passages (embeddings of
passages whose text did not change are reused); a removed source's passages are deleted.
New passages are embedded longest first and written WRITE_BATCH at a time: a crash loses
at most one batch, and the next ingest goes on from there.

Adding a file to a pack (`add_source`) is two steps, so that the web app can run the slow
one in the background: `stage_source` checks the file and copies it into the pack (quick,
refusals say why), `index_source` embeds it, and can be cancelled between batches; a
failure or a cancel puts the pack and the index back as they were (`undo_source`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from debate.core.config import Settings
from debate.core.embeddings import default_model_path, get_embedder
from debate.core.errors import DebateError, SourceError
from debate.corpus import motions as packs
from debate.corpus import stance
from debate.corpus.jobs import Cancelled
from debate.corpus.loaders import load_source
from debate.corpus.motions import (
    KINDS,
    REQUIRED_SOURCE_FIELDS,
    STANCES,
    UNLABELLED,
    Motion,
    SourceSpec,
)
from debate.corpus.passages import CHUNKER_VERSION, Passage, make_passages
from debate.corpus.store import PassageStore, open_store

log = logging.getLogger(__name__)
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

Progress = Callable[[int, int], None]  # (done, total) embedded passages
# Passages embedded and written together: the most work a crash can lose (about ten
# seconds of embedding on two cores). Larger writes cost Chroma less per passage.
WRITE_BATCH = 256


@dataclass
class PreparedSource:
    spec: SourceSpec
    meta: dict
    text: str
    passages: list[Passage]
    fingerprint: str


@dataclass
class IngestReport:
    motion: str
    sources: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged_sources: int = 0
    embedded: int = 0
    seconds: float = 0.0
    changed_sources: list[str] = field(default_factory=list)
    removed_sources: list[str] = field(default_factory=list)

    @property
    def wrote_anything(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


def _clean_meta(meta: dict) -> dict:
    out = {}
    for key, value in meta.items():
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()[:10]
        out[str(key)] = value
    return out


def source_metadata(spec: SourceSpec, front_matter: dict) -> dict:
    """Front matter, overridden by the source's entry in motion.yaml; validated."""
    meta = _clean_meta({**front_matter, **spec.meta})
    for key in REQUIRED_SOURCE_FIELDS:
        if not str(meta.get(key, "") or "").strip():
            raise SourceError(
                f"{spec.path}: missing required field '{key}' (add it to the file's front "
                "matter, or to its entry under 'sources' in motion.yaml)"
            )
    meta["stance"] = str(meta.get("stance") or UNLABELLED).strip()
    if meta["stance"] not in (UNLABELLED, *STANCES):
        raise SourceError(
            f"{spec.path}: field 'stance' must be one of {', '.join(STANCES)} (or left out), "
            f"got {meta['stance']!r}"
        )
    if meta.get("kind") and meta["kind"] not in KINDS:
        raise SourceError(
            f"{spec.path}: field 'kind' must be one of {', '.join(KINDS)}, got {meta['kind']!r}"
        )
    if not str(meta["url"]).startswith(("http://", "https://")):
        raise SourceError(f"{spec.path}: field 'url' must be an http(s) URL, got {meta['url']!r}")
    return meta


def prepare_source(motion: Motion, spec: SourceSpec, settings: Settings) -> PreparedSource:
    loaded = load_source(spec.path)
    meta = source_metadata(spec, loaded.meta)
    passages = make_passages(
        motion.id,
        spec.id,
        loaded.text,
        meta,
        loaded.pages,
        settings.chunk_max_chars,
        settings.chunk_min_chars,
        loaded.cards,
    )
    if not passages:
        raise SourceError(f"{spec.path}: no passages could be made from this file's text")
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                CHUNKER_VERSION,
                stance.version(),
                motion.thesis,
                settings.chunk_max_chars,
                settings.chunk_min_chars,
                sorted((k, str(v)) for k, v in meta.items()),
                loaded.text,
                # a file of cards: its tags, cites and marks (absent for other sources, so
                # their fingerprints are the ones indexes already hold)
                *([[dataclasses.astuple(c) for c in loaded.cards]] if loaded.cards else []),
            ],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:24]
    return PreparedSource(spec, meta, loaded.text, passages, fingerprint)


def prepare_motion(motion: Motion, settings: Settings) -> list[PreparedSource]:
    """Load, validate and chunk every source; raises on the first bad one."""
    return [prepare_source(motion, spec, settings) for spec in motion.sources]


def _lock_for(motion_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(motion_id, threading.Lock())


def ingest_motion(
    motion: Motion,
    settings: Settings,
    store: PassageStore | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    cancel: threading.Event | None = None,
) -> IngestReport:
    """Bring the motion's index up to date with its sources (see the module docstring).
    Crash-safe (see PassageStore): killed at any point, the previous index still answers
    and the next run finishes the job without re-embedding what was already stored. When
    `cancel` is set, embedding stops at the next batch with `Cancelled`, leaving the index
    as a crash would (debate.corpus.ingest.add_source undoes what it had written)."""
    started = time.perf_counter()
    store = store or open_store(settings, motion.id, repair=rebuild)
    with _lock_for(motion.id):
        prepared = prepare_motion(motion, settings)
        model_path = settings.model_path or default_model_path()
        model_name = "/".join(Path(model_path).parts[-2:])
        stored = store.state()
        target, staged = store, store.staged()
        if stored and (rebuild or store.embedding_model() != model_name):
            log.info("embedding model changed or rebuild asked: re-embedding into a new index")
            target = staged
        if target is not staged or staged.embedding_model() not in ("", model_name):
            # a staged index of another model, or left by a rebuild nobody finished
            staged.drop()
        report, to_write, stale = _changes(motion, prepared, target.state())
        if stored and target is not store:
            report.deleted = len(stored)
        if to_write or stale or target is not store or store.status() != "ok":
            target.begin(model_name)
            report.embedded = _embed_and_write(
                target, to_write, prepared, settings, progress, cancel, motion.thesis
            )
            target.delete(stale)
            target.finish(model_name)
            if target is not store:
                store.swap_in(target)
        report.seconds = time.perf_counter() - started
        return report


def _changes(
    motion: Motion, prepared: list[PreparedSource], stored: dict[str, dict]
) -> tuple[IngestReport, list[Passage], list[str]]:
    """What to write (passages of new or changed sources) and what to delete (passages no
    source has any more), given what the index holds."""
    report = IngestReport(motion=motion.id, sources=len(prepared))
    wanted: set[str] = set()
    to_write: list[Passage] = []
    for src in prepared:
        ids = {p.id for p in src.passages}
        wanted |= ids
        stored_ids = {pid for pid, m in stored.items() if m.get("source_id") == src.spec.id}
        same = stored_ids == ids and all(
            stored[pid].get("source_hash") == src.fingerprint for pid in ids
        )
        if same:
            report.unchanged_sources += 1
            continue
        report.changed_sources.append(src.spec.id)
        to_write.extend(src.passages)
    stale = [pid for pid in stored if pid not in wanted]
    report.removed_sources = sorted(
        {stored[pid].get("source_id", "?") for pid in stale} - {s.spec.id for s in prepared}
    )
    report.added = sum(1 for p in to_write if p.id not in stored)
    report.updated = len(to_write) - report.added
    report.deleted = len(stale)
    report.passages = len(wanted)
    return report, to_write, stale


def _embed_and_write(
    store: PassageStore,
    passages: list[Passage],
    prepared: list[PreparedSource],
    settings: Settings,
    progress: Progress | None,
    cancel: threading.Event | None = None,
    thesis: str = "",
) -> int:
    """Write the passages with their sentences' stances toward the thesis, reusing stored
    embeddings; new ones are embedded and written WRITE_BATCH at a time, so that work done
    before a crash is kept. Longest first: a batch of texts of about the same length wastes
    little on padding. Returns how many were embedded."""
    hashes = {src.spec.id: src.fingerprint for src in prepared}
    reuse = store.embeddings_for([p.id for p in passages])
    kept = _with_stances([p for p in passages if p.id in reuse], thesis, settings)
    store.upsert(kept, [reuse[p.id] for p in kept], hashes)
    fresh = sorted((p for p in passages if p.id not in reuse), key=lambda p: -len(p.text))
    if not fresh:
        return 0
    embedder = get_embedder(settings.model_path)
    done = 0

    def step(n: int) -> None:  # after each model batch: report, and stop if asked to
        nonlocal done
        done += n
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        if progress:
            progress(done, len(fresh))

    step(0)
    for i in range(0, len(fresh), WRITE_BATCH):
        batch = _with_stances(fresh[i : i + WRITE_BATCH], thesis, settings)
        store.upsert(batch, embedder.embed([p.text for p in batch], progress=step), hashes)
    return len(fresh)


def _with_stances(passages: list[Passage], thesis: str, settings: Settings) -> list[Passage]:
    """The passages with `stances` filled in (debate.corpus.stance)."""
    scored = stance.passage_stances(thesis, [p.text for p in passages], settings)
    return [replace(p, stances=s) for p, s in zip(passages, scored, strict=True)]


@dataclass
class AddedSource:
    motion: Motion  # the reloaded pack, including the new source
    source_id: str
    title: str
    path: Path
    passages: int  # passages made from the new source
    embedded: int

    def to_dict(self) -> dict:
        return {
            "motion": self.motion.id,
            "source": self.source_id,
            "title": self.title,
            "path": str(self.path),
            "passages": self.passages,
            "embedded": self.embedded,
        }


@dataclass
class StagedSource:
    """A source copied into its pack and listed by it, not yet (fully) indexed. Saved as a
    journal in DATA_DIR/uploads/<motion>.json until its indexing has finished or been
    undone, so that a server killed meanwhile finishes the job when it starts again
    (`pending_sources`): phase 'adding' is completed by the next ingest (which reuses
    every embedding already written), phase 'removing' is rolled back."""

    motion_id: str
    pack: str  # the motion.yaml that lists the source
    source_id: str
    path: str  # the copy inside the pack
    yaml_before: str  # motion.yaml as it was before the source was added
    title: str
    passages: int
    had_index: bool  # whether the motion had an index before (else undo drops it)
    phase: str = "adding"


def _journal(settings: Settings, motion_id: str) -> Path:
    return settings.data_dir / "uploads" / f"{motion_id}.json"


def _save_journal(settings: Settings, staged: StagedSource) -> None:
    path = _journal(settings, staged.motion_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    packs.write_atomic(path, json.dumps(asdict(staged), ensure_ascii=False))


def pending_sources(settings: Settings) -> list[StagedSource]:
    """Sources whose indexing a stopped process left unfinished (see StagedSource)."""
    found = []
    for path in sorted((settings.data_dir / "uploads").glob("*.json")):
        try:
            found.append(StagedSource(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring an unreadable upload journal %s: %s", path, exc)
    return found


def stage_source(
    motion: Motion,
    file: str | Path,
    settings: Settings,
    *,
    name: str | None = None,
    meta: dict | None = None,
) -> StagedSource:
    """Check the file with the same `prepare_source` ingest runs and copy it into the pack
    (debate.corpus.motions.add_source); nothing is embedded yet (see `index_source`)."""
    prepared: list[PreparedSource] = []
    had_index = open_store(settings, motion.id).status() != "missing"
    edit = packs.add_source(
        motion,
        file,
        name=name,
        meta=meta,
        max_mb=settings.upload_max_mb,
        check=lambda spec: prepared.append(prepare_source(motion, spec, settings)),
    )
    staged = StagedSource(
        motion.id,
        str(edit.motion.root / "motion.yaml"),
        edit.source.id,
        str(edit.source.path),
        edit.yaml_before,
        str(prepared[0].meta.get("title") or edit.source.path.name),
        len(prepared[0].passages),
        had_index,
    )
    try:
        _save_journal(settings, staged)
    except BaseException:
        edit.undo()
        raise
    return staged


def _listed(motion: Motion, staged: StagedSource) -> bool:
    path = Path(staged.path).resolve()
    return path.is_file() and any(
        s.id == staged.source_id and s.path == path for s in motion.sources
    )


def index_source(
    staged: StagedSource,
    settings: Settings,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AddedSource:
    """Index a staged source. On any failure, or when `cancel` is set, the pack and the
    index are put back as they were (`undo_source`) and the error is raised again;
    a cancel raises Cancelled with a message saying so."""
    motion = packs.load_motion_file(Path(staged.pack))
    if staged.phase != "adding" or not _listed(motion, staged):
        undo_source(staged, settings)
        raise Cancelled(
            f"“{staged.title}” was being taken out of {staged.motion_id} when the server "
            "stopped; it is out now and the pack is as it was"
        )
    try:
        report = ingest_motion(motion, settings, progress=progress, cancel=cancel)
    except BaseException as exc:
        undo_source(staged, settings)
        if isinstance(exc, Cancelled):
            raise Cancelled(
                f"Cancelled: “{staged.title}” was taken out of {staged.motion_id} again; "
                "its pack and index are as they were before the upload"
            ) from None
        raise
    _journal(settings, staged.motion_id).unlink(missing_ok=True)
    log.info("added source %s to %s (%d passages)", staged.source_id, motion.id, report.passages)
    return AddedSource(
        motion, staged.source_id, staged.title, Path(staged.path), staged.passages, report.embedded
    )


def settle_pending(
    motion_id: str, settings: Settings, progress: Progress | None = None
) -> str | None:
    """Before a plain ingest of a motion: finish (phase 'adding') or roll back ('removing')
    an upload of it that a stopped process left half-indexed, as the server does when it
    starts (StagedSource). Returns a line saying what was done, or None if nothing was."""
    for staged in pending_sources(settings):
        if staged.motion_id != motion_id:
            continue
        try:
            added = index_source(staged, settings, progress)
        except Cancelled as exc:
            return str(exc)
        return (
            f"finished the upload a stopped process left half-indexed: “{added.title}” "
            f"({added.passages} passages, {added.embedded} embedded now)"
        )
    return None


def undo_source(staged: StagedSource, settings: Settings) -> None:
    """Take a staged source out again: motion.yaml as before (byte for byte), the copied
    file removed, and the index as before (the source's passages deleted, or the index
    dropped when the motion had none). Safe to repeat: a process killed midway repeats it
    on its next start (the journal says 'removing')."""
    _save_journal(settings, replace(staged, phase="removing"))
    yaml_path = Path(staged.pack)
    try:
        listed = _listed(packs.load_motion_file(yaml_path), staged)
    except DebateError:
        listed = True  # a pack that no longer loads: the text before the upload did
    if listed:
        packs.write_atomic(yaml_path, staged.yaml_before)
    Path(staged.path).unlink(missing_ok=True)
    store = open_store(settings, staged.motion_id)
    if staged.had_index:
        ingest_motion(packs.load_motion_file(yaml_path), settings, store)
    else:
        store.drop()
    _journal(settings, staged.motion_id).unlink(missing_ok=True)


def add_source(
    motion: Motion,
    file: str | Path,
    settings: Settings,
    *,
    name: str | None = None,
    meta: dict | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AddedSource:
    """Add a file to a motion's pack and index it (`stage_source`, then `index_source`).
    If indexing fails or is cancelled (Ctrl-C included) the pack and the index are put
    back as they were."""
    staged = stage_source(motion, file, settings, name=name, meta=meta)
    return index_source(staged, settings, progress=progress, cancel=cancel)
