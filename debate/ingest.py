"""Sources -> passages with provenance -> Chroma. Idempotent and incremental.

Every source of the motion is loaded, validated and chunked before the store is touched,
and new embeddings are computed before anything is written, so a bad file or a crash in
the model leaves the previous index as it was. Unchanged sources cost nothing (the model is
not even loaded); a changed source replaces exactly its passages (embeddings of passages
whose text did not change are reused); a removed source's passages are deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from debate import motions as packs
from debate.config import Settings
from debate.embeddings import default_model_path, get_embedder
from debate.errors import SourceError
from debate.loaders import load_source
from debate.motions import KINDS, REQUIRED_SOURCE_FIELDS, STANCES, Motion, SourceSpec
from debate.passages import CHUNKER_VERSION, Passage, make_passages
from debate.retrieval import invalidate
from debate.store import PassageStore, open_store

log = logging.getLogger(__name__)
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

Progress = Callable[[int, int], None]  # (done, total) embedded passages
WRITE_BATCH = 64  # passages embedded and written together: the work a crash can lose


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
    if meta["stance"] not in STANCES:
        raise SourceError(
            f"{spec.path}: field 'stance' must be one of {', '.join(STANCES)}, got {meta['stance']!r}"
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
    )
    if not passages:
        raise SourceError(f"{spec.path}: no passages could be made from this file's text")
    fingerprint = hashlib.sha256(
        json.dumps(
            [
                CHUNKER_VERSION,
                settings.chunk_max_chars,
                settings.chunk_min_chars,
                sorted((k, str(v)) for k, v in meta.items()),
                loaded.text,
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
) -> IngestReport:
    """Bring the motion's index up to date with its sources (see the module docstring).
    Crash-safe (see PassageStore): killed at any point, the previous index still answers
    and the next run finishes the job without re-embedding what was already stored."""
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
            report.embedded = _embed_and_write(target, to_write, prepared, settings, progress)
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
) -> int:
    """Write the passages, reusing stored embeddings; new ones are embedded and written a
    batch at a time, so that work done before a crash is kept. Returns how many were
    embedded."""
    hashes = {src.spec.id: src.fingerprint for src in prepared}
    reuse = store.embeddings_for([p.id for p in passages])
    kept = [p for p in passages if p.id in reuse]
    store.upsert(kept, [reuse[p.id] for p in kept], hashes)
    fresh = [p for p in passages if p.id not in reuse]
    if not fresh:
        return 0
    embedder = get_embedder(settings.model_path)
    if progress:
        progress(0, len(fresh))
    for i in range(0, len(fresh), WRITE_BATCH):
        batch = fresh[i : i + WRITE_BATCH]
        store.upsert(batch, embedder.embed([p.text for p in batch]), hashes)
        if progress:
            progress(i + len(batch), len(fresh))
    return len(fresh)


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


def add_source(
    motion: Motion,
    file: str | Path,
    settings: Settings,
    *,
    name: str | None = None,
    meta: dict | None = None,
    progress: Progress | None = None,
) -> AddedSource:
    """Add a file to a motion's pack (debate.motions.add_source, checked with the same
    `prepare_source` ingest runs) and index it. If indexing fails the pack is put back as
    it was; the index is unchanged when ingest fails before writing."""
    prepared: list[PreparedSource] = []
    edit = packs.add_source(
        motion,
        file,
        name=name,
        meta=meta,
        max_mb=settings.upload_max_mb,
        check=lambda spec: prepared.append(prepare_source(motion, spec, settings)),
    )
    try:
        report = ingest_motion(edit.motion, settings, progress=progress)
    except BaseException:
        edit.undo()
        raise
    invalidate(edit.motion.id)
    log.info("added source %s to %s (%d passages)", edit.source.id, motion.id, report.passages)
    return AddedSource(
        edit.motion,
        edit.source.id,
        str(prepared[0].meta.get("title") or edit.source.path.name),
        edit.source.path,
        len(prepared[0].passages),
        report.embedded,
    )
