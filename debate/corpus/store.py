"""Passages in Chroma: one collection per motion, cosine space, our own embeddings.

Embedded `PersistentClient` under the data directory by default; a Chroma server
(`chroma run`) when a URL is configured. We always pass embeddings ourselves, so Chroma's
default embedding function (which would download a model) is never used.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from debate.core.config import Settings
from debate.core.errors import DebateError, IndexMissingError
from debate.corpus.lexical import Document, IndexFileError, LexicalIndex, build
from debate.corpus.passages import Passage
from debate.corpus.stance import lean

log = logging.getLogger(__name__)


# Writes finished in this process, per motion: readers that keep state built from a
# collection (the cached retrievers of debate.search.retrieval) compare this count with the
# one they were built at, so a write never needs to know who reads.
_writes: dict[str, int] = {}
_writes_lock = threading.Lock()


def writes(motion_id: str) -> int:
    """How many writes to the motion's collections this process has finished."""
    return _writes.get(motion_id, 0)


def _wrote(motion_id: str) -> None:
    with _writes_lock:
        _writes[motion_id] = _writes.get(motion_id, 0) + 1


def collection_name(motion_id: str) -> str:
    return f"motion-{motion_id}"


@lru_cache(maxsize=8)
def _client(chroma_url: str, chroma_path: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise DebateError(
                f"cannot reach the Chroma server at {chroma_url} ({type(exc).__name__}); start it "
                "with `chroma run --path DIR --port PORT` or unset DEBATE_CHROMA_URL to use the "
                "embedded store"
            ) from exc
        return client
    try:
        return chromadb.PersistentClient(path=chroma_path, settings=chroma_settings)
    except Exception as exc:
        raise DebateError(
            f"the evidence index under {chroma_path} cannot be opened ({type(exc).__name__}: "
            f"{str(exc)[:120]}); rebuild it with `debate ingest MOTION --rebuild`"
        ) from exc


def make_client(settings: Settings, repair: bool = False):
    """The process-wide Chroma client for these settings. With repair, an embedded index
    that cannot be opened is moved aside (kept, renamed `chroma.damaged-<time>`) and a new
    empty one is started, for `debate ingest --rebuild`."""
    if not settings.chroma_url:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
    try:
        return _client(settings.chroma_url, str(settings.chroma_path))
    except DebateError:
        if not repair or settings.chroma_url:
            raise
    aside = settings.chroma_path.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    log.warning("moving the damaged index %s aside to %s", settings.chroma_path, aside)
    settings.chroma_path.rename(aside)
    settings.chroma_path.mkdir(parents=True)
    _client.cache_clear()
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # chromadb keeps one system per path
    return _client(settings.chroma_url, str(settings.chroma_path))


class PassageStore:
    """The passages of one motion, in one Chroma collection, written crash-safely.

    The collection's metadata says whether it is usable: `complete` is set once a write
    has finished, `writing` while one is under way. An incremental write only upserts and
    deletes passages, so if the process dies mid-write the previous passages still answer
    and the next ingest finishes the job, reusing every embedding already stored. A
    rebuild (or a new embedding model) writes a staged collection (`<name>--next`) and
    swaps it in by renaming; a death between the renames is repaired on the next open. A
    first ingest that never finished is reported as incomplete, never as an empty index.

    Each finished write also stamps a new `lexical_generation` in the metadata and saves
    the BM25 index of the collection (debate.corpus.lexical) under `index_dir`, stamped with the
    same generation: a reader loads it only while the two agree (see `lexical_index`).
    """

    def __init__(
        self, client, motion_id: str, name: str | None = None, index_dir: Path | None = None
    ):
        self.client = client
        self.motion_id = motion_id
        self.name = name or collection_name(motion_id)
        self.index_dir = index_dir

    def _get(self, name: str):
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:  # NotFoundError (embedded) or a ValueError/HTTP error (server)
            if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                return None
            raise _store_error(exc, self.motion_id) from exc

    def _recover(self) -> None:
        """Put back a collection left half-swapped by a process that died mid-rebuild."""
        old, staged = self._get(self.name + "--old"), self._get(self.name + "--next")
        if old is not None:
            log.warning(
                "restoring the previous index of %s after an interrupted rebuild", self.motion_id
            )
            old.modify(name=self.name)
        elif staged is not None and (staged.metadata or {}).get("complete"):
            staged.modify(name=self.name)
            self._adopt_lexical(self.name + "--next")

    def _collection(self, create: bool = False, model: str = ""):
        col = self._get(self.name)
        if col is None and not create:
            self._recover()
            col = self._get(self.name)
        if col is not None:
            meta = col.metadata or {}
            if not create and meta.get("complete") is False:
                raise IndexMissingError(
                    f"the index of motion '{self.motion_id}' is incomplete: its first ingest "
                    f"was interrupted; run `debate ingest {self.motion_id}` to finish it"
                )
            return col
        if not create:
            raise IndexMissingError(
                f"motion '{self.motion_id}' has no index yet; run `debate ingest "
                f"{self.motion_id}` (make serve does it for the default motion)"
            )
        return self.client.create_collection(
            self.name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=_meta(self.motion_id, model, complete=False, writing=True),
        )

    def exists(self) -> bool:
        try:
            self._collection()
            return True
        except IndexMissingError:
            return False

    def status(self) -> str:
        """'missing', 'incomplete' (first ingest interrupted), 'interrupted' (a later
        write did not finish: the previous passages answer), or 'ok'."""
        col = self._get(self.name)
        if col is None:
            self._recover()
            col = self._get(self.name)
        if col is None:
            return "missing"
        meta = col.metadata or {}
        if meta.get("complete") is False:
            return "incomplete"
        return "interrupted" if meta.get("writing") else "ok"

    def embedding_model(self) -> str:
        col = self._get(self.name)
        return ((col.metadata or {}) if col is not None else {}).get("embedding_model", "")

    def count(self) -> int:
        return self._collection().count()

    def state(self) -> dict[str, dict]:
        """{passage id: metadata} of every stored passage (metadata includes source_hash),
        whatever the state of the collection: what an ingest can reuse."""
        col = self._get(self.name)
        if col is None:
            self._recover()
            col = self._get(self.name)
        if col is None:
            return {}
        got = col.get(include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def embeddings_for(self, ids: list[str]) -> dict[str, list[float]]:
        col = self._get(self.name)
        if not ids or col is None:
            return {}
        try:
            got = col.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            # After a process was killed mid-write, Chroma can hold a record whose vector it
            # cannot find ("Error finding id"). Take what can be read one by one; the rest
            # is embedded again (and written again, which repairs the record).
            log.warning("some stored embeddings cannot be read (%s); reading one by one", exc)
            return {pid: vec for pid in ids if (vec := self._one_embedding(col, pid)) is not None}
        return {
            pid: list(map(float, emb))
            for pid, emb in zip(got["ids"], got["embeddings"], strict=True)
        }

    @staticmethod
    def _one_embedding(col, pid: str) -> list[float] | None:
        try:
            got = col.get(ids=[pid], include=["embeddings"])
        except Exception:
            return None
        return list(map(float, got["embeddings"][0])) if got["ids"] else None

    # -- writing -------------------------------------------------------------------------
    def begin(self, model: str) -> None:
        """Mark a write as under way (creating the collection if needed); the saved BM25
        index no longer matches from here on."""
        col = self._collection(create=True, model=model)
        meta = col.metadata or {}
        col.modify(
            metadata=_meta(self.motion_id, model, complete=meta.get("complete", True), writing=True)
        )

    def upsert(
        self, passages: list[Passage], embeddings: list[list[float]], source_hashes: dict
    ) -> None:
        col = self._collection(create=True)
        for i in range(0, len(passages), BATCH):
            chunk = passages[i : i + BATCH]
            col.upsert(
                ids=[p.id for p in chunk],
                documents=[p.text for p in chunk],
                embeddings=embeddings[i : i + BATCH],
                metadatas=[
                    {**p.metadata(), "source_hash": source_hashes[p.source_id]} for p in chunk
                ],
            )

    def delete(self, ids: list[str]) -> None:
        col = self._collection(create=True)
        for i in range(0, len(ids), BATCH):
            col.delete(ids=ids[i : i + BATCH])
        _wrote(self.motion_id)

    def finish(self, model: str) -> None:
        """Mark the write as done (the collection is complete) under a new generation, and
        save the BM25 index of what the collection now holds."""
        generation = uuid.uuid4().hex[:16]
        col = self._collection(create=True)
        col.modify(metadata=_meta(self.motion_id, model, True, False, generation))
        self._save_lexical(build(self.documents(), generation))
        _wrote(self.motion_id)

    def staged(self) -> PassageStore:
        """The staging collection of a rebuild (see `swap_in`)."""
        return PassageStore(self.client, self.motion_id, self.name + "--next", self.index_dir)

    def swap_in(self, staged: PassageStore) -> None:
        """Replace this collection by a finished staged one: rename this one aside, rename
        the staged one into place, drop the old one. `_recover` repairs a death between.
        The staged BM25 index moves along (the generation travels in the metadata)."""
        current = self._get(self.name)
        if current is not None:
            current.modify(name=self.name + "--old")
        self.client.get_collection(staged.name, embedding_function=None).modify(name=self.name)
        if current is not None:
            self.client.delete_collection(self.name + "--old")
        self._adopt_lexical(staged.name)
        _wrote(self.motion_id)

    def drop(self) -> None:
        for name in (self.name, self.name + "--next", self.name + "--old"):
            if self._get(name) is not None:
                self.client.delete_collection(name)
        for name in (self.name, self.name + "--next"):
            if self.index_dir is not None:
                (self.index_dir / f"{name}.npz").unlink(missing_ok=True)
        _wrote(self.motion_id)

    # -- the BM25 index --------------------------------------------------------------------
    def lexical_path(self) -> Path | None:
        return None if self.index_dir is None else self.index_dir / f"{self.name}.npz"

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index of the collection: the saved one when its generation is the
        collection's, else rebuilt from the stored passages (and saved, unless a write is
        under way). A missing, stale or damaged file is rebuilt, never served."""
        col = self._collection()  # raises IndexMissingError when there is nothing to search
        meta = col.metadata or {}
        settled = not meta.get("writing")
        # Collections written before generations existed are keyed by their size; any
        # write since goes through begin/finish, which stamps a generation.
        generation = meta.get("lexical_generation") or f"unversioned-{col.count()}"
        path = self.lexical_path()
        if path is not None and settled:
            try:
                index = LexicalIndex.load(path)
                if index.generation == generation and index.size == col.count():
                    return index
                log.info("the BM25 index of %s is out of date: rebuilding it", self.motion_id)
            except FileNotFoundError:
                log.info("no saved BM25 index for %s: building it", self.motion_id)
            except IndexFileError as exc:
                log.warning(
                    "the BM25 index of %s is damaged (%s): rebuilding it", self.motion_id, exc
                )
        index = build(self.documents(), generation)
        if settled:
            self._save_lexical(index)
        else:
            log.info("a write to %s is under way: BM25 index built, not saved", self.motion_id)
        return index

    def _adopt_lexical(self, name: str) -> None:
        """Take over the saved BM25 index of a collection renamed to this one."""
        if self.index_dir is not None and (self.index_dir / f"{name}.npz").exists():
            (self.index_dir / f"{name}.npz").replace(self.index_dir / f"{self.name}.npz")

    def _save_lexical(self, index: LexicalIndex) -> None:
        path = self.lexical_path()
        if path is None:
            return
        try:
            index.save(path)
        except OSError as exc:  # the next start rebuilds it: slower, never wrong
            log.warning("cannot save the BM25 index to %s: %s", path, exc)

    def documents(self) -> Iterator[Document]:
        """Every stored passage as BM25 sees it, read a page at a time."""
        col = self._get(self.name)
        for offset in range(0, col.count() if col is not None else 0, READ_PAGE):
            try:
                got = col.get(include=["documents", "metadatas"], limit=READ_PAGE, offset=offset)
            except Exception as exc:
                raise _store_error(exc, self.motion_id) from exc
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                meta = meta or {}
                yield Document(
                    pid,
                    (str(meta.get("source_id", "")), int(meta.get("start", 0))),
                    f"{meta.get('title', '')} {doc or ''}",
                    str(meta.get("stance", "")) or lean(str(meta.get("stances", ""))),
                    doc or "",
                )

    def all_passages(self) -> list[Passage]:
        """Every passage, by source and offset. Read a page at a time: one unbounded `get`
        fails on large collections (SQLite's limit on query variables)."""
        passages = []
        try:
            col = self._collection()
            for offset in range(0, col.count(), READ_PAGE):
                got = col.get(include=["documents", "metadatas"], limit=READ_PAGE, offset=offset)
                passages.extend(
                    Passage.from_record(pid, doc, meta)
                    for pid, doc, meta in zip(
                        got["ids"], got["documents"], got["metadatas"], strict=True
                    )
                )
        except DebateError:
            raise
        except Exception as exc:
            raise _store_error(exc, self.motion_id) from exc
        passages.sort(key=lambda p: (p.source_id, p.start))
        return passages

    def get(self, ids: list[str]) -> list[Passage]:
        """The stored passages of these ids, in their order; ids not stored are left out."""
        if not ids:
            return []
        try:
            got = self._collection().get(ids=ids, include=["documents", "metadatas"])
        except DebateError:
            raise
        except Exception as exc:
            raise _store_error(exc, self.motion_id) from exc
        by_id = {
            pid: Passage.from_record(pid, doc, meta)
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def nearest(self, embedding: list[float], k: int) -> list[tuple[str, float]]:
        """The k stored passages nearest the embedding: (id, cosine similarity), best
        first. Ids only: a search reads the texts of the few passages it returns. After a
        crash mid-delete Chroma can still return a vector whose record is gone; the caller
        drops ids its BM25 index (built from the records) does not hold, so a few extra
        results stand in for them."""
        if k <= 0:
            return []
        try:
            got = self._collection().query(
                query_embeddings=[embedding], n_results=k + STALE_MARGIN, include=["distances"]
            )
        except DebateError:
            raise
        except Exception as exc:
            raise _store_error(exc, self.motion_id) from exc
        pairs = zip(got["ids"][0], got["distances"][0], strict=True)
        return [(pid, 1.0 - float(dist)) for pid, dist in pairs]


BATCH = 500
READ_PAGE = 5000  # passages read at once when building the BM25 index
# Extra results asked of a query, to stand in for vectors of deleted records that Chroma
# can still return after a crash (they are dropped).
STALE_MARGIN = 16


def _meta(motion_id: str, model: str, complete: bool, writing: bool, generation: str = "") -> dict:
    return {
        "motion": motion_id,
        "embedding_model": model or "unknown",
        "complete": bool(complete),
        "writing": bool(writing),
        "lexical_generation": generation,
    }


def _store_error(exc: Exception, motion_id: str) -> DebateError:
    """A Chroma failure as a message that says what to do."""
    text = f"{type(exc).__name__}: {exc}"
    log.warning("evidence index error for %s: %s", motion_id, text)  # the detail, for operators
    if any(w in text.lower() for w in ("connect", "refused", "timed out", "unreachable")):
        return DebateError(
            "the Chroma server stopped answering; start it again "
            "(`chroma run --path DIR --port PORT`) or unset DEBATE_CHROMA_URL"
        )
    return DebateError(
        f"the evidence index looks damaged; rebuild it with `debate ingest {motion_id} --rebuild`"
    )


def lexical_dir(settings: Settings) -> Path:
    """Where BM25 indexes are saved: under the data dir, one folder per Chroma (embedded,
    or a server by its URL), so two servers' motions never share a file."""
    if not settings.chroma_url:
        return settings.data_dir / "lexical" / "embedded"
    return (
        settings.data_dir / "lexical" / hashlib.sha1(settings.chroma_url.encode()).hexdigest()[:12]
    )


def open_store(settings: Settings, motion_id: str, repair: bool = False) -> PassageStore:
    return PassageStore(make_client(settings, repair), motion_id, index_dir=lexical_dir(settings))
