"""Passages in Chroma: one collection per motion, cosine space, our own embeddings.

Embedded `PersistentClient` under the data directory by default; a Chroma server
(`chroma run`) when a URL is configured. We always pass embeddings ourselves, so Chroma's
default embedding function (which would download a model) is never used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

from debate.config import Settings
from debate.errors import DebateError, IndexMissingError
from debate.passages import Passage

log = logging.getLogger(__name__)


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
    return chromadb.PersistentClient(path=chroma_path, settings=chroma_settings)


def make_client(settings: Settings):
    """The process-wide Chroma client for these settings."""
    if not settings.chroma_url:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return _client(settings.chroma_url, str(settings.chroma_path))


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # cosine similarity in [-1, 1]


class PassageStore:
    """The passages of one motion."""

    def __init__(self, client, motion_id: str):
        self.client = client
        self.motion_id = motion_id
        self.name = collection_name(motion_id)

    def _collection(self, create: bool = False, model: str = ""):
        if create:
            return self.client.get_or_create_collection(
                self.name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"motion": self.motion_id, "embedding_model": model or "unknown"},
            )
        try:
            return self.client.get_collection(self.name, embedding_function=None)
        except Exception as exc:  # NotFoundError (embedded) or a ValueError/HTTP error (server)
            if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                raise IndexMissingError(
                    f"motion '{self.motion_id}' has no index yet; run `debate ingest "
                    f"{self.motion_id}` (make serve does it for the default motion)"
                ) from exc
            raise

    def exists(self) -> bool:
        try:
            self._collection()
            return True
        except IndexMissingError:
            return False

    def embedding_model(self) -> str:
        return (self._collection().metadata or {}).get("embedding_model", "")

    def count(self) -> int:
        return self._collection().count()

    def state(self) -> dict[str, dict]:
        """{passage id: metadata} for every stored passage (metadata includes source_hash)."""
        if not self.exists():
            return {}
        got = self._collection().get(include=["metadatas"])
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    def embeddings_for(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self._collection().get(ids=ids, include=["embeddings"])
        return {
            pid: list(map(float, emb))
            for pid, emb in zip(got["ids"], got["embeddings"], strict=True)
        }

    def write(
        self,
        passages: list[Passage],
        embeddings: list[list[float]],
        source_hashes: dict,
        delete_ids: list[str],
        model: str,
    ) -> None:
        col = self._collection(create=True, model=model)
        batch = 500
        for i in range(0, len(passages), batch):
            chunk = passages[i : i + batch]
            col.upsert(
                ids=[p.id for p in chunk],
                documents=[p.text for p in chunk],
                embeddings=embeddings[i : i + batch],
                metadatas=[
                    {**p.metadata(), "source_hash": source_hashes[p.source_id]} for p in chunk
                ],
            )
        for i in range(0, len(delete_ids), batch):
            col.delete(ids=delete_ids[i : i + batch])

    def drop(self) -> None:
        if self.exists():
            self.client.delete_collection(self.name)

    def all_passages(self) -> list[Passage]:
        got = self._collection().get(include=["documents", "metadatas"])
        passages = [
            Passage.from_record(pid, doc, meta)
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        passages.sort(key=lambda p: (p.source_id, p.start))
        return passages

    def get(self, ids: list[str]) -> list[Passage]:
        got = self._collection().get(ids=ids, include=["documents", "metadatas"])
        by_id = {
            pid: Passage.from_record(pid, doc, meta)
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        return [by_id[i] for i in ids if i in by_id]

    def query(self, embedding: list[float], k: int) -> list[Hit]:
        col = self._collection()
        n = min(k, col.count())
        if n == 0:
            return []
        got = col.query(
            query_embeddings=[embedding],
            n_results=n,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(Passage.from_record(pid, doc, meta), 1.0 - float(dist))
            for pid, doc, meta, dist in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]


def open_store(settings: Settings, motion_id: str) -> PassageStore:
    return PassageStore(make_client(settings), motion_id)
