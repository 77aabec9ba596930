"""Retrieval measured on labelled data: any BEIR-format folder, ranked by the real Retriever.

A BEIR folder holds `corpus.jsonl` (`_id`, `title`, `text`), `queries.jsonl` (`_id`, `text`)
and graded judgments in `qrels/<split>.tsv` (or `qrels.tsv`), tab-separated
`query-id corpus-id score` (Thakur et al. 2021, "BEIR: a heterogeneous benchmark for
zero-shot evaluation of information retrieval models").

The corpus goes into a Chroma collection of its own under `<data dir>/eval-retrieval`, keyed
by a hash of corpus.jsonl and the embedding model, so a second run embeds nothing. Each
document is one passage (text embedded as ingest embeds passages: the text alone; BM25 sees
title and text, as it does for motions). Every query is searched without a side, a
per-source cap or exclusions: the ranking alone is measured.

Metrics (queries with no relevant judgment are not scored, as in BEIR and trec_eval):
- nDCG@k (Järvelin & Kekäläinen 2002): DCG = sum over ranks i <= k of grade_i / log2(i + 1),
  divided by the DCG of the ideal ordering of the query's judged grades. Grades are the
  qrels scores (linear gain, as trec_eval's ndcg_cut).
- recall@k: relevant documents (grade > 0) in the top k / all relevant documents.
- latency: p50 and p95 of one top-10 search, the query's embedding already computed (one
  batch for all queries), so the figure is the cost of ranking and fusion.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from debate.core.config import Settings
from debate.core.embeddings import default_model_path, get_embedder
from debate.core.errors import DebateError, QueryError
from debate.corpus.motions import Motion
from debate.corpus.passages import Passage
from debate.corpus.store import PassageStore, open_store

MODES = ("hybrid", "dense", "bm25")
EMBED_BATCH = 64
Progress = Callable[[str, int, int], None]  # (stage, done, total)


class BeirError(DebateError):
    """A folder that is not a usable BEIR data set."""


@dataclass
class BeirSet:
    root: Path
    corpus: dict[str, dict]  # id -> {"title", "text", "metadata"}
    queries: dict[str, dict]  # id -> {"text", "metadata"}
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}
    qrels_path: Path | None  # None when loaded without judgments
    corpus_hash: str
    warnings: list[str] = field(default_factory=list)
    skipped_qrels: int = 0


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict]:
    """The objects of a JSON-lines file; every error names the file and the line."""
    if not path.is_file():
        raise BeirError(f"{path}: missing (a BEIR folder needs corpus.jsonl and queries.jsonl)")
    rows = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BeirError(f"{path} line {number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise BeirError(f"{path} line {number}: expected a JSON object")
        for key in required:
            if not isinstance(row.get(key), str):
                raise BeirError(f"{path} line {number}: missing string field '{key}'")
        row["_line"] = number
        rows.append(row)
    return rows


def _lines(path: Path):
    """(line number, line) of a UTF-8 text file; bad bytes are an error naming the line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BeirError(f"{path} line {number}: not UTF-8 text ({exc.reason})") from exc


def _by_id(rows: list[dict], path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in rows:
        pid = row["_id"].strip()
        if not pid:
            raise BeirError(f"{path} line {row['_line']}: empty '_id'")
        if pid in out:
            raise BeirError(f"{path} line {row['_line']}: duplicate '_id' {pid!r}")
        meta = row.get("metadata")
        out[pid] = {
            "title": str(row.get("title") or ""),
            "text": row["text"],
            "metadata": meta if isinstance(meta, dict) else {},
        }
    return out


def qrels_file(folder: Path, split: str) -> Path:
    """qrels/<split>.tsv, else (for the test split) a single qrels.tsv beside the corpus."""
    candidates = [folder / "qrels" / f"{split}.tsv"]
    if split == "test":
        candidates.append(folder / "qrels.tsv")
    for path in candidates:
        if path.is_file():
            return path
    raise BeirError(
        f"{folder}: no judgments for the {split} split (looked for "
        + " and ".join(str(p.relative_to(folder)) for p in candidates)
        + ")"
    )


def read_qrels(path: Path) -> list[tuple[int, str, str, int]]:
    """(line, query id, doc id, grade) rows; a header line is allowed."""
    rows = []
    for number, line in _lines(path):
        parts = line.rstrip("\r\n").split("\t")
        if not line.strip() or (number == 1 and parts[0].strip() == "query-id"):
            continue
        if len(parts) != 3:
            raise BeirError(
                f"{path} line {number}: expected 3 tab-separated fields "
                f"(query-id, corpus-id, score), got {len(parts)}"
            )
        try:
            grade = int(float(parts[2]))
        except ValueError as exc:
            raise BeirError(f"{path} line {number}: score {parts[2]!r} is not a number") from exc
        rows.append((number, parts[0].strip(), parts[1].strip(), grade))
    return rows


def load_beir(folder: Path | str, split: str | None = "test") -> BeirSet:
    """Load and check a BEIR folder; `split=None` reads corpus and queries only (to pool a
    set not judged yet). Judgments naming unknown queries or documents are skipped, counted
    and reported in `warnings`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BeirError(f"{folder}: not a folder")
    corpus_path = folder / "corpus.jsonl"
    corpus = _by_id(read_jsonl(corpus_path, ("_id", "text")), corpus_path)
    if not corpus:
        raise BeirError(f"{corpus_path}: no documents")
    empty = sorted(pid for pid, doc in corpus.items() if not (doc["text"] + doc["title"]).strip())
    queries_path = folder / "queries.jsonl"
    queries = _by_id(read_jsonl(queries_path, ("_id", "text")), queries_path)
    path = qrels_file(folder, split) if split else None
    beir = BeirSet(folder, corpus, queries, {}, path, _file_hash(corpus_path))
    if empty:
        beir.warnings.append(
            f"{corpus_path.name}: {len(empty)} document(s) without text are not indexed, "
            f"e.g. {empty[0]!r}"
        )
    if path is not None:
        _add_judgments(beir, path)
    return beir


def _add_judgments(beir: BeirSet, path: Path) -> None:
    unknown_queries, unknown_docs = set(), set()
    for _, qid, did, grade in read_qrels(path):
        if qid not in beir.queries:
            unknown_queries.add(qid)
        elif did not in beir.corpus:
            unknown_docs.add(did)
        else:
            beir.qrels.setdefault(qid, {})[did] = grade
            continue
        beir.skipped_qrels += 1
    for kind, ids in (("query", unknown_queries), ("corpus", unknown_docs)):
        if ids:
            beir.warnings.append(f"{path.name}: {len(ids)} unknown {kind} id(s), e.g. {min(ids)!r}")
    if not any(g > 0 for judged in beir.qrels.values() for g in judged.values()):
        raise BeirError(f"{path}: no relevant judgment (score > 0) for any known query")


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def split_of(query_id: str) -> str:
    """'dev' or 'test', fixed by a hash of the query id: about half each, the same on every
    machine, and a query never moves when others are added."""
    return "dev" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "test"


# -- metrics --------------------------------------------------------------------------------


def dcg(grades: list[int], k: int) -> float:
    """Discounted cumulative gain of grades in rank order: sum of grade / log2(rank + 1)."""
    return sum(g / math.log2(i + 1) for i, g in enumerate(grades[:k], 1) if g > 0)


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int) -> float:
    """nDCG@k of a ranking against graded judgments (unjudged documents count as 0)."""
    ideal = dcg(sorted(judged.values(), reverse=True), k)
    if ideal == 0:
        raise ValueError("nDCG is undefined for a query without relevant documents")
    return dcg([judged.get(pid, 0) for pid in ranked], k) / ideal


def recall_at(ranked: list[str], judged: dict[str, int], k: int) -> float:
    """Share of the relevant documents (grade > 0) found in the top k."""
    relevant = {pid for pid, g in judged.items() if g > 0}
    if not relevant:
        raise ValueError("recall is undefined for a query without relevant documents")
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# -- the corpus as a collection -------------------------------------------------------------


def eval_settings(settings: Settings) -> Settings:
    """The same settings with their own Chroma under <data dir>/eval-retrieval, so the
    app's index is never touched."""
    return replace(settings, data_dir=settings.data_dir / "eval-retrieval")


def model_name(settings: Settings) -> str:
    return "/".join(Path(settings.model_path or default_model_path()).parts[-2:])


def beir_motion(beir: BeirSet, settings: Settings) -> Motion:
    """A minimal motion standing for the corpus: the Retriever needs an id and side labels
    (never used, since evaluation searches without a side)."""
    key = hashlib.sha256(f"{beir.corpus_hash}\x1f{model_name(settings)}".encode()).hexdigest()
    name = beir.root.name or "corpus"
    return Motion(
        id=f"beir-{key[:16]}",
        title=name,
        thesis=name,
        description=f"retrieval evaluation corpus {beir.root}",
        sides={"defend": name, "attack": f"not {name}"},
        contentions={},
        sources=(),
        root=beir.root,
    )


def corpus_passages(beir: BeirSet, motion_id: str) -> list[Passage]:
    """One passage per document; metadata.source and metadata.stance are kept when given."""
    passages = []
    for pid, doc in beir.corpus.items():
        text = doc["text"].strip() or doc["title"].strip()
        if not text:
            continue
        meta = doc["metadata"]
        passages.append(
            Passage(
                id=pid,
                motion=motion_id,
                source_id=str(meta.get("source") or pid),
                text=text,
                start=0,
                end=len(text),
                paragraph=1,
                title=doc["title"],
                stance=str(meta.get("stance") or ""),
            )
        )
    return passages


def index_corpus(
    beir: BeirSet, settings: Settings, progress: Progress | None = None
) -> tuple[Motion, PassageStore, int]:
    """(motion, store, passages embedded now). A complete collection for the same corpus
    and model is reused as is; an interrupted one is finished, keeping what it holds."""
    motion = beir_motion(beir, settings)
    store = open_store(settings, motion.id)
    passages = corpus_passages(beir, motion.id)
    held = store.state()
    wanted = {p.id for p in passages}
    if store.status() == "ok" and set(held) == wanted:
        return motion, store, 0
    fresh = [p for p in passages if p.id not in held]
    hashes = {p.source_id: beir.corpus_hash[:24] for p in passages}
    name = model_name(settings)
    store.begin(name)
    embedder = get_embedder(settings.model_path)
    for i in range(0, len(fresh), EMBED_BATCH):
        if progress:
            progress("embedding", i, len(fresh))
        batch = fresh[i : i + EMBED_BATCH]
        store.upsert(batch, embedder.embed([p.text for p in batch]), hashes)
    if progress:
        progress("embedding", len(fresh), len(fresh))
    store.delete([pid for pid in held if pid not in wanted])
    store.finish(name)
    return motion, store, len(fresh)


# -- running the queries --------------------------------------------------------------------


@dataclass
class EvalReport:
    folder: str
    split: str
    metrics: dict[str, dict[str, float]]
    counts: dict[str, int]
    warnings: list[str]
    collection: str

    def to_dict(self) -> dict:
        return {
            **self.metrics,
            "counts": self.counts,
            "split": self.split,
            "folder": self.folder,
            "collection": self.collection,
            "warnings": self.warnings,
        }


def scored_queries(beir: BeirSet, limit: int | None = None) -> list[str]:
    """Ids of the queries that have a relevant judgment, in id order, at most `limit`."""
    ids = sorted(q for q, judged in beir.qrels.items() if any(g > 0 for g in judged.values()))
    return ids[:limit] if limit else ids


def evaluate(
    beir: BeirSet,
    settings: Settings,
    k: int = 100,
    limit: int | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Index the corpus (or reuse its collection) and score every mode of Retriever.search."""
    from debate.search.retrieval import Retriever

    settings = eval_settings(settings)
    motion, store, embedded = index_corpus(beir, settings, progress)
    retriever = Retriever(motion, settings, store)
    qids = scored_queries(beir, limit)
    retriever.warm([beir.queries[q]["text"] for q in qids])
    runs: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    refused = 0
    for done, qid in enumerate(qids):
        if progress:
            progress("searching", done, len(qids))
        try:
            scores = _score_query(retriever, beir.queries[qid]["text"], beir.qrels[qid], k)
        except QueryError:
            refused += 1
            continue
        for mode, values in scores.items():
            for metric, value in values.items():
                runs[mode].setdefault(metric, []).append(value)
    if progress:
        progress("searching", len(qids), len(qids))
    metrics = {mode: _summary(values) for mode, values in runs.items()}
    counts = {
        "documents": len(beir.corpus),
        "queries": len(beir.queries),
        "scored_queries": len(qids) - refused,
        "refused_queries": refused,
        "judgments": sum(len(j) for j in beir.qrels.values()),
        "skipped_judgments": beir.skipped_qrels,
        "embedded_now": embedded,
        "k": k,
    }
    warnings = list(beir.warnings)
    if refused:
        warnings.append(f"{refused} quer(ies) refused by the retriever (no words)")
    split = beir.qrels_path.stem if beir.qrels_path else ""
    return EvalReport(str(beir.root), split, metrics, counts, warnings, store.name)


def _score_query(retriever, text: str, judged: dict[str, int], k: int) -> dict[str, dict]:
    """Each mode's metrics for one query: a timed top-10 search, then an untimed top-k one."""
    out = {}
    for mode in MODES:
        started = time.perf_counter()
        top = retriever.search(text, k=10, per_source_cap=0, mode=mode)
        ms = (time.perf_counter() - started) * 1000
        deep = retriever.search(text, k=k, per_source_cap=0, mode=mode)
        top_ids = [r.passage.id for r in top]
        deep_ids = [r.passage.id for r in deep]
        out[mode] = {
            "ndcg@10": ndcg_at(top_ids, judged, 10),
            "recall@10": recall_at(top_ids, judged, 10),
            f"recall@{k}": recall_at(deep_ids, judged, k),
            "ms": ms,
        }
    return out


def _summary(values: dict[str, list[float]]) -> dict[str, float]:
    if not values:
        return {}
    out = {name: sum(v) / len(v) for name, v in values.items() if name != "ms"}
    out["p50_ms"] = percentile(values["ms"], 50)
    out["p95_ms"] = percentile(values["ms"], 95)
    return out
