"""Sentence stance toward a thesis: supports / opposes / neither.

Self-contained runtime (stdlib, numpy, sentence_transformers; torch only through
sentence_transformers).  Design: the frozen MiniLM sentence encoder we ship embeds the thesis
``u``, a negated thesis ``n`` ("It is not true that <thesis>") and each sentence ``v``
(L2-normalised); a small MLP head (weights in ``stance_model_weights/stance_head.npz``) maps
``[u, v, u*v, |u-v|, n*v, |n-v|, cos(u,v), cos(n,v)]`` to three classes.

    from debate.corpus.stance_model import StanceModel
    m = StanceModel.load(encoder_path)          # head from debate/corpus/stance_model_weights/
    m.predict("Serbia is not a Russian ally", sentences)  # [(label, score), ...]

``score`` = p(supports) - p(opposes), in [-1, 1]: +1 supports, -1 opposes.  The label is the
arg-max class.  ``predict_from_vectors`` reuses sentence embeddings the caller already has
(they must come from the same encoder, L2-normalised or not; they are normalised here).
Theses should be declarative statements ("X should be banned", "X is Y"), not questions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

LABELS = ("supports", "opposes", "neither")
WEIGHTS_FILE = "stance_head.npz"
CONFIG_FILE = "config.json"
DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent / "stance_model_weights"
_REQUIRED = ("w1", "b1", "w2", "b2", "mu", "sigma")


class StanceModelError(RuntimeError):
    """The stance weights are missing, corrupt or do not match the encoder."""


def negate(thesis: str) -> str:
    # The MiniLM tokenizer is uncased, so the case of the first word does not matter.
    return "It is not true that " + thesis.strip().rstrip(".")


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def features(u: np.ndarray, n: np.ndarray, v: np.ndarray) -> np.ndarray:
    """u: (d,) thesis, n: (d,) negated thesis, v: (k, d) sentences; all L2-normalised."""
    u = np.broadcast_to(u.reshape(1, -1), v.shape)
    n = np.broadcast_to(n.reshape(1, -1), v.shape)
    cu = np.sum(u * v, axis=1, keepdims=True)
    cn = np.sum(n * v, axis=1, keepdims=True)
    return np.concatenate(
        [u, v, u * v, np.abs(u - v), n * v, np.abs(n - v), cu, cn], axis=1
    ).astype(np.float32)


class StanceModel:
    def __init__(self, head: dict[str, np.ndarray], config: dict, encoder=None):
        self.head = head
        self.config = config
        self.encoder = encoder

    # ---------------------------------------------------------------- loading
    @classmethod
    def load_head(cls, weights_dir: str | os.PathLike | None = None) -> tuple[dict, dict]:
        wdir = Path(weights_dir) if weights_dir is not None else DEFAULT_WEIGHTS_DIR
        wfile, cfile = wdir / WEIGHTS_FILE, wdir / CONFIG_FILE
        if not wfile.is_file():
            raise StanceModelError(f"stance weights not found: {wfile}")
        if not cfile.is_file():
            raise StanceModelError(f"stance config not found: {cfile}")
        try:
            config = json.loads(cfile.read_text())
        except (OSError, ValueError) as e:
            raise StanceModelError(f"stance config unreadable: {cfile}: {e}") from e
        data = wfile.read_bytes()
        want = config.get("weights_sha256")
        if want and hashlib.sha256(data).hexdigest() != want:
            raise StanceModelError(f"stance weights corrupt (sha256 mismatch): {wfile}")
        try:
            with np.load(wfile, allow_pickle=False) as z:
                head = {k: np.asarray(z[k], dtype=np.float32) for k in _REQUIRED}
        except Exception as e:  # zipfile.BadZipFile, KeyError, ValueError ...
            raise StanceModelError(f"stance weights corrupt or incomplete: {wfile}: {e}") from e
        d = int(config.get("embedding_dim", 384))
        fdim = 6 * d + 2
        h = head["w1"]
        if (
            h.shape[0] != fdim
            or head["w2"].shape != (h.shape[1], len(LABELS))
            or head["mu"].shape != (fdim,)
        ):
            raise StanceModelError(f"stance weights have unexpected shapes in {wfile}")
        if not all(np.isfinite(a).all() for a in head.values()):
            raise StanceModelError(f"stance weights contain non-finite values: {wfile}")
        return head, config

    @classmethod
    def load(
        cls, encoder_path: str, weights_dir: str | None = None, device: str = "cpu"
    ) -> StanceModel:
        head, config = cls.load_head(weights_dir)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        enc = SentenceTransformer(str(encoder_path), device=device)
        getdim = (
            getattr(enc, "get_embedding_dimension", None) or enc.get_sentence_embedding_dimension
        )
        dim = getdim()
        if dim != int(config.get("embedding_dim", 384)):
            raise StanceModelError(
                f"encoder dimension {dim} does not match stance head ({config.get('embedding_dim')})"
            )
        return cls(head, config, enc)

    @classmethod
    def load_vectors_only(cls, weights_dir: str | None = None) -> StanceModel:
        """Head only: use predict_from_vectors with embeddings computed elsewhere."""
        head, config = cls.load_head(weights_dir)
        return cls(head, config, None)

    # -------------------------------------------------------------- inference
    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if self.encoder is None:
            raise StanceModelError(
                "no encoder loaded: use StanceModel.load(encoder_path) or predict_from_vectors"
            )
        return self.encoder.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def probabilities(self, thesis_vec, sentence_vecs, negated_thesis_vec) -> np.ndarray:
        u = _normalise(thesis_vec)[0]
        n = _normalise(negated_thesis_vec)[0]
        v = _normalise(sentence_vecs)
        if v.shape[0] == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        h = self.head
        x = (features(u, n, v) - h["mu"]) / h["sigma"]
        z = np.maximum(x @ h["w1"] + h["b1"], 0.0) @ h["w2"] + h["b2"]
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _decide(self, p: np.ndarray) -> list[tuple[str, float]]:
        out = []
        for row in p:
            out.append((LABELS[int(np.argmax(row))], float(np.clip(row[0] - row[1], -1.0, 1.0))))
        return out

    def predict_from_vectors(
        self, thesis_vec, sentence_vecs, negated_thesis_vec=None, thesis: str | None = None
    ) -> list[tuple[str, float]]:
        """Label sentences from embeddings the caller already has.

        The head also needs the embedding of the negated thesis: pass ``negated_thesis_vec``
        (embed ``negate(thesis)``), or pass ``thesis`` text and a loaded encoder embeds it.
        """
        if negated_thesis_vec is None:
            if thesis is None:
                raise StanceModelError(
                    "predict_from_vectors needs negated_thesis_vec (embedding of negate(thesis)) or thesis"
                )
            negated_thesis_vec = self._encode([negate(thesis)], 1)[0]
        return self._decide(self.probabilities(thesis_vec, sentence_vecs, negated_thesis_vec))

    def predict(
        self, thesis: str, sentences: list[str], batch_size: int = 64
    ) -> list[tuple[str, float]]:
        if not sentences:
            return []
        tv = self._encode([thesis, negate(thesis)], 2)
        sv = self._encode(list(sentences), batch_size)
        return self._decide(self.probabilities(tv[0], sv, tv[1]))
