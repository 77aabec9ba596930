"""Judgment pools for a labelled set, as TREC builds them (Voorhees & Harman 2005).

    .venv/bin/python debate/tools/retrieval_pool.py evals/retrieval/serbia-russia > /tmp/pool.txt

For each query: the union of the BM25 top 20, the dense top 20 (query alone, no side) and
the passages matching any of the query's hand-picked keywords (the set's pool_keywords.yaml,
case- and accent-insensitive). The pool is printed with each passage's text for a person to judge;
this script writes no labels. Uses a temporary index under DEBATE_DATA_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from debate.core.config import load_settings
from debate.core.text import fold_accents
from debate.search.retrieval import Retriever
from debate.tools.retrieval_eval import eval_settings, index_corpus, load_beir


def pool(folder: Path) -> None:
    settings = eval_settings(load_settings())
    beir = load_beir(folder, split=None)
    corpus, queries = beir.corpus, beir.queries
    motion, store, _ = index_corpus(beir, settings)
    retriever = Retriever(motion, settings, store)
    order = {pid: i for i, pid in enumerate(corpus)}
    listed = folder / "pool_keywords.yaml"
    keywords = yaml.safe_load(listed.read_text(encoding="utf-8")) if listed.is_file() else {}
    for qid, query in queries.items():
        text = query["text"]
        found = {pid for pid, _ in retriever.bm25_ranking(text, 20)}
        found |= {pid for pid, _ in retriever.dense_ranking(text, 20)}
        words = [fold_accents(w).lower() for w in keywords.get(qid, [])]
        for pid, doc in corpus.items():
            haystack = fold_accents(doc["text"]).lower()
            if any(w in haystack for w in words):
                found.add(pid)
        print(f"\n=== {qid} [{query['metadata'].get('side')}] {text}  ({len(found)} pooled)")
        for pid in sorted(found, key=order.get):
            print(f"  [{order[pid]}] {pid} {corpus[pid]['metadata'].get('source')}")


if __name__ == "__main__":
    pool(Path(sys.argv[1]))
