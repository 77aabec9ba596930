"""Judgment pools for a labelled set, as TREC builds them (Voorhees & Harman 2005).

    .venv/bin/python debate/tools/retrieval_pool.py evals/retrieval/serbia-russia > /tmp/pool.txt

For each query: the union of the BM25 top 20, the dense top 20 (query alone, no side) and
the passages matching any of the query's hand-picked keywords (KEYWORDS below, case- and
accent-insensitive). The pool is printed with each passage's text for a person to judge;
this script writes no labels. Uses a temporary index under DEBATE_DATA_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from debate.core.config import load_settings
from debate.core.text import fold_accents
from debate.search.retrieval import Retriever
from debate.tools.retrieval_eval import eval_settings, index_corpus, load_beir

KEYWORDS = {
    "q01": ["sanction"],
    "q02": ["General Assembly", "voted"],
    "q03": ["ammunition", "shells"],
    "q04": ["gas"],
    "q05": ["NIS", "Naftna", "Gazprom Neft"],
    "q06": ["Putin"],
    "q07": ["Rafale", "Dassault"],
    "q08": ["poll", "survey", "respondents"],
    "q09": ["bombing", "NATO membership"],
    "q10": ["veto", "Kosovo"],
    "q11": ["trade", "trading partner", "exports"],
    "q12": ["Humanitarian Centre", "Niš centre", "spy"],
    "q13": ["accession", "candidate", "membership"],
    "q14": ["RT ", "Sputnik", "propaganda"],
    "q15": ["lithium", "Jadar"],
    "q16": ["exercise", "drill", "Partnership for Peace"],
    "q17": ["Air Serbia", "flights"],
    "q18": ["interconnector", "Azerbaijan", "LNG"],
    "q19": ["MiG-29", "Pantsir", "Kornet", "T-72", "weapons"],
    "q20": ["alignment", "Common Foreign"],
    "q21": ["sanction"],
    "q22": ["apologised", "mistake", "abstention"],
    "q23": ["China", "Chinese", "Xi"],
    "q24": ["neutrality", "neutral"],
    "q25": ["strategic dialogue", "United States", "Washington"],
    "q26": ["SVR", "stab", "ammunition"],
    "q27": ["refugees", "humanitarian", "Kakhovka", "aid"],
    "q28": ["territorial integrity", "thanked"],
    "q29": ["Victory Day", "parade"],
    "q30": ["Vulin"],
    "q31": ["Donetsk", "precedent", "annexation", "Kosovo"],
    "q32": ["price", "per 1,000 cubic"],
    "q33": ["OFAC", "MOL", "NIS"],
    "q34": ["flags", '"Z"', "march"],
    "q35": ["would vote", "support for membership", "EU membership"],
    "q36": ["grants", "donor", "IPA"],
    "q37": ["Srebrenica"],
    "q38": ["candidate status", "applied"],
    "q39": ["investment", "investor", "FDI"],
    "q40": ["blamed", "responsible for the war", "blame"],
    "q41": ["diplomatic status", "immunit"],
    "q42": ["imports from Russia", "trade", "exports to Russia"],
    "q43": ["air defence", "Pantsir", "FK-3", "Repellent"],
    "q44": ["Kremlin", "on paper", "unbrotherly"],
    "q45": ["Odesa", "declaration"],
    "q46": ["Balkan Stream", "TurkStream"],
    "q47": ["electorate", "domestic", "pro-Russian", "voters"],
    "q48": ["two chairs", "strategic orientation"],
}


def pool(folder: Path) -> None:
    settings = eval_settings(load_settings())
    beir = load_beir(folder, split=None)
    corpus, queries = beir.corpus, beir.queries
    motion, store, _ = index_corpus(beir, settings)
    retriever = Retriever(motion, settings, store)
    order = {pid: i for i, pid in enumerate(corpus)}
    for qid, query in queries.items():
        text = query["text"]
        found = {pid for pid, _ in retriever.bm25_ranking(text, 20)}
        found |= {pid for pid, _ in retriever.dense_ranking(text, 20)}
        words = [fold_accents(w).lower() for w in KEYWORDS.get(qid, [])]
        for pid, doc in corpus.items():
            haystack = fold_accents(doc["text"]).lower()
            if any(w in haystack for w in words):
                found.add(pid)
        print(f"\n=== {qid} [{query['metadata'].get('side')}] {text}  ({len(found)} pooled)")
        for pid in sorted(found, key=order.get):
            print(f"  [{order[pid]}] {pid} {corpus[pid]['metadata'].get('source')}")


if __name__ == "__main__":
    pool(Path(sys.argv[1]))
