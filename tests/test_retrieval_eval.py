"""Retrieval evaluation: BEIR folders load or fail clearly, the metrics match hand-computed
values, the fusion functions keep their promises, `debate eval-retrieval` runs end to end
on real Chroma with the real model (and reuses its collection), and the shipped default
keeps a quality floor on our own labelled set."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debate.search.fusion import SHIPPED, Fusion, blend, convex, normalise, rrf
from debate.search.retrieval import Retriever
from debate.tools.cli import app
from debate.tools.retrieval_eval import (
    BeirError,
    dcg,
    eval_settings,
    evaluate,
    index_corpus,
    load_beir,
    ndcg_at,
    percentile,
    recall_at,
    split_of,
)

ROOT = Path(__file__).resolve().parents[1]
OWN_SET = ROOT / "evals" / "retrieval" / "serbia-russia"
# Measured on the test split (28 queries): hybrid nDCG@10 0.716 (dense 0.608, BM25 0.672).
OWN_SET_FLOOR = 0.65

DOCS = {
    "d1": ("Volcanoes", "Lava from the Kilauea volcano reached the ocean in Hawaii."),
    "d2": ("Bees", "Honey bees communicate the direction of flowers with a waggle dance."),
    "d3": ("Tea", "Green tea is made from unoxidised leaves of Camellia sinensis."),
    "d4": ("Trains", "The Shinkansen bullet train links Tokyo and Osaka in under three hours."),
    "d5": ("Glaciers", "Alpine glaciers have lost much of their ice since 1850."),
    "d6": ("Chess", "Magnus Carlsen became world chess champion in 2013."),
}
QUERIES = {
    "q1": "How do bees tell each other where the flowers are?",
    "q2": "fast railway between Tokyo and Osaka",
    "q3": "melting ice in the Alps",
}
QRELS = [("q1", "d2", 2), ("q2", "d4", 2), ("q3", "d5", 2), ("q3", "d1", 0)]


def write_beir(folder: Path, docs=DOCS, queries=QUERIES, qrels=QRELS, qrels_name="qrels/test.tsv"):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"_id": i, "title": t, "text": x}) for i, (t, x) in docs.items()]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [json.dumps({"_id": i, "text": x}) for i, x in queries.items()]
    (folder / "queries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / qrels_name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{g}" for q, d, g in qrels]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


# -- loading --------------------------------------------------------------------------------


def test_a_beir_folder_loads_with_graded_judgments(tmp_path):
    beir = load_beir(write_beir(tmp_path / "set"))
    assert set(beir.corpus) == set(DOCS) and set(beir.queries) == set(QUERIES)
    assert beir.qrels["q3"] == {"d5": 2, "d1": 0}
    assert beir.warnings == [] and beir.skipped_qrels == 0


def test_a_folder_loads_without_judgments_for_pooling(tmp_path):
    beir = load_beir(write_beir(tmp_path / "set"), split=None)
    assert beir.qrels == {} and beir.qrels_path is None and len(beir.queries) == 3


def test_a_single_qrels_tsv_serves_as_the_test_split(tmp_path):
    beir = load_beir(write_beir(tmp_path / "set", qrels_name="qrels.tsv"), "test")
    assert beir.qrels_path.name == "qrels.tsv"
    with pytest.raises(BeirError, match="no judgments for the dev split"):
        load_beir(tmp_path / "set", "dev")


def test_a_missing_file_is_named(tmp_path):
    folder = write_beir(tmp_path / "set")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(BeirError, match=r"queries\.jsonl: missing"):
        load_beir(folder)


def test_a_bad_json_line_is_reported_with_its_line_number(tmp_path):
    folder = write_beir(tmp_path / "set")
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"_id": "d7", "text": "unfinished\n')
    with pytest.raises(BeirError, match=r"corpus\.jsonl line 7: not valid JSON"):
        load_beir(folder)


def test_bad_bytes_and_empty_documents_are_reported(tmp_path):
    folder = write_beir(tmp_path / "a")
    with (folder / "qrels" / "test.tsv").open("ab") as f:
        f.write(b"q1\td3\t\xff\n")
    with pytest.raises(BeirError, match=r"test\.tsv line 6: not UTF-8 text"):
        load_beir(folder)
    docs = {**DOCS, "d7": ("", "  ")}
    beir = load_beir(write_beir(tmp_path / "b", docs=docs))
    assert any("1 document(s) without text are not indexed" in w for w in beir.warnings)


def test_missing_fields_and_duplicate_ids_are_refused(tmp_path):
    folder = write_beir(tmp_path / "a")
    (folder / "queries.jsonl").write_text('{"_id": "q1"}\n', encoding="utf-8")
    with pytest.raises(BeirError, match="line 1: missing string field 'text'"):
        load_beir(folder)
    folder = write_beir(tmp_path / "b")
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "d1", "text": "again"}) + "\n")
    with pytest.raises(BeirError, match="line 7: duplicate '_id' 'd1'"):
        load_beir(folder)


def test_judgments_naming_unknown_ids_are_counted_and_warned(tmp_path):
    qrels = QRELS + [("q9", "d1", 1), ("q1", "d99", 2), ("q1", "d98", 1)]
    beir = load_beir(write_beir(tmp_path / "set", qrels=qrels))
    assert beir.skipped_qrels == 3
    assert any("1 unknown query id" in w for w in beir.warnings)
    assert any("2 unknown corpus id" in w for w in beir.warnings)
    assert beir.qrels["q1"] == {"d2": 2}


def test_bad_qrels_rows_are_refused(tmp_path):
    folder = write_beir(tmp_path / "set")
    (folder / "qrels" / "test.tsv").write_text("q1\td2\tvery\n", encoding="utf-8")
    with pytest.raises(BeirError, match="line 1: score 'very' is not a number"):
        load_beir(folder)
    (folder / "qrels" / "test.tsv").write_text("q1 d2 2\n", encoding="utf-8")
    with pytest.raises(BeirError, match="expected 3 tab-separated fields"):
        load_beir(folder)
    (folder / "qrels" / "test.tsv").write_text("q1\td2\t0\n", encoding="utf-8")
    with pytest.raises(BeirError, match="no relevant judgment"):
        load_beir(folder)


def test_the_cli_reports_a_folder_that_is_not_beir_in_one_line(tmp_path):
    (tmp_path / "notbeir").mkdir()
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "debate-tools"),
            "eval-retrieval",
            str(tmp_path / "notbeir"),
        ],
        capture_output=True,
        text=True,
        env={"DEBATE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 1
    assert "corpus.jsonl: missing" in out.stderr and "Traceback" not in out.stderr


# -- metrics --------------------------------------------------------------------------------


def test_ndcg_matches_a_hand_computed_value():
    judged = {"a": 2, "c": 1, "d": 2, "e": 0}
    # DCG = 2/log2(2) + 0 + 1/log2(4) = 2.5; ideal = 2 + 2/log2(3) + 1/log2(4)
    ideal = 2 + 2 / math.log2(3) + 0.5
    assert dcg([2, 0, 1], 10) == pytest.approx(2.5)
    assert ndcg_at(["a", "b", "c"], judged, 10) == pytest.approx(2.5 / ideal)
    assert ndcg_at(["a", "b", "c"], judged, 10) == pytest.approx(0.664565, abs=1e-6)
    assert ndcg_at(["d", "a", "c"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at(["x", "y"], judged, 10) == 0.0
    # the cut-off applies to the ranking and to the ideal: @1 with a grade-1 first
    assert ndcg_at(["c", "a"], judged, 1) == pytest.approx(0.5)


def test_recall_counts_only_relevant_documents_in_the_top_k():
    judged = {"a": 2, "c": 1, "d": 2, "e": 0}
    assert recall_at(["a", "b", "c"], judged, 2) == pytest.approx(1 / 3)
    assert recall_at(["a", "b", "c", "e"], judged, 10) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        recall_at(["a"], {"a": 0}, 10)
    with pytest.raises(ValueError):
        ndcg_at(["a"], {"a": 0}, 10)


def test_percentiles_interpolate_between_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0


def test_the_dev_test_split_is_stable_and_about_even():
    ids = [f"query-{i}" for i in range(1000)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    assert 400 < splits.count("dev") < 600


# -- fusion ---------------------------------------------------------------------------------

BM25 = [("a", 12.0), ("b", 7.0), ("c", 3.0)]
DENSE = [("b", 0.81), ("d", 0.74), ("a", 0.52)]


def test_rrf_matches_hand_computed_scores():
    fused = dict(rrf(BM25, DENSE, k=60))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [pid for pid, _ in rrf(BM25, DENSE, k=60)] == ["b", "a", "d", "c"]


def test_rrf_weights_and_depth_shape_the_ranking():
    only_dense = [pid for pid, _ in rrf(BM25, DENSE, bm25_weight=0.0)]
    assert only_dense[:3] == ["b", "d", "a"]
    assert [pid for pid, _ in rrf(BM25, DENSE, depth=1)] == ["a", "b"]  # ties keep first seen
    with pytest.raises(ValueError):
        rrf(BM25, DENSE, bm25_weight=-1)


def test_normalisation():
    mm = normalise(BM25, "minmax")
    assert mm == {"a": 1.0, "b": pytest.approx(4 / 9), "c": 0.0}
    assert normalise([("x", 2.0), ("y", 2.0)], "minmax") == {"x": 1.0, "y": 1.0}
    z = normalise(BM25, "zscore")
    assert sum(z.values()) == pytest.approx(0.0, abs=1e-12)
    assert normalise([], "zscore") == {}


def test_convex_fusion_follows_alpha_and_ignores_the_scale_of_scores():
    assert [p for p, _ in convex(BM25, DENSE, alpha=1.0)][:3] == ["b", "d", "a"]
    assert [p for p, _ in convex(BM25, DENSE, alpha=0.0)][:3] == ["a", "b", "c"]
    rescaled = [(pid, 10 * s + 3) for pid, s in BM25]
    for norm in ("minmax", "zscore"):
        assert [p for p, _ in convex(rescaled, DENSE, 0.4, norm)] == [
            p for p, _ in convex(BM25, DENSE, 0.4, norm)
        ]
    with pytest.raises(ValueError):
        convex(BM25, DENSE, alpha=1.5)


def test_blend_reorders_only_the_head():
    ranking = [("a", 3.0), ("b", 2.0), ("c", 1.0), ("d", 0.5)]
    extra = {"a": 0.1, "b": 0.5, "c": 0.9}
    assert [p for p, _ in blend(ranking, extra, beta=0.0, top=3)] == ["a", "b", "c", "d"]
    assert [p for p, _ in blend(ranking, extra, beta=1.0, top=3)] == ["c", "b", "a", "d"]
    # half and half: a = 0.5*1 + 0.5*0, b = 0.5*0.5 + 0.5*0.5, c = 0.5*0 + 0.5*1
    assert dict(blend(ranking, extra, beta=0.5, top=3))["b"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        blend(ranking, extra, beta=2.0)


def test_fusion_objects_dispatch_and_validate():
    assert Fusion("dense", depth=2)(BM25, DENSE) == DENSE[:2]
    assert Fusion("bm25")(BM25, DENSE) == BM25
    assert Fusion("rrf", rrf_k=10)(BM25, DENSE) == rrf(BM25, DENSE, k=10)
    assert "alpha=0.7" in Fusion("convex", alpha=0.7).describe()
    with pytest.raises(ValueError, match="unknown fusion"):
        Fusion("median")
    with pytest.raises(ValueError, match="depth"):
        Fusion(depth=0)


# -- end to end -----------------------------------------------------------------------------


def test_eval_retrieval_runs_end_to_end_and_reuses_its_collection(tmp_path, embedder):
    folder = write_beir(tmp_path / "tiny")
    data = tmp_path / "data"
    runner = CliRunner()

    def run(out: str):
        args = ["eval-retrieval", str(folder), "--data-dir", str(data), "--json", out]
        return runner.invoke(app, args)

    first = run(str(tmp_path / "a.json"))
    assert first.exit_code == 0, first.output
    assert "6 passages embedded" in first.output
    figures = json.loads((tmp_path / "a.json").read_text())
    for mode in ("hybrid", "dense", "bm25"):
        assert set(figures[mode]) == {"ndcg@10", "recall@10", "recall@100", "p50_ms", "p95_ms"}
    assert figures["counts"]["scored_queries"] == 3 and figures["counts"]["embedded_now"] == 6
    # the dense ranking finds each paraphrased query's one relevant document first
    assert figures["dense"]["ndcg@10"] == pytest.approx(1.0)
    assert (data / "eval-retrieval" / "chroma").is_dir()

    second = run(str(tmp_path / "b.json"))
    assert second.exit_code == 0, second.output
    assert "reused" in second.output
    again = json.loads((tmp_path / "b.json").read_text())
    assert again["counts"]["embedded_now"] == 0
    assert again["dense"]["ndcg@10"] == figures["dense"]["ndcg@10"]


def _export_module():
    from debate.tools import export_motion

    return export_motion


def test_the_labelled_corpus_matches_the_chunking_of_the_motion():
    """Fails when the chunker, its settings or the sources change without re-exporting
    (debate/tools/export_motion.py) and re-checking the judgments."""
    exported = (OWN_SET / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert _export_module().corpus_lines("serbia-russia") == exported
    for split in ("dev", "test"):
        beir = load_beir(OWN_SET, split)
        assert beir.skipped_qrels == 0 and not beir.warnings


def test_the_shipped_default_keeps_its_quality_floor_on_our_labelled_set(settings):
    beir = load_beir(OWN_SET, "test")
    report = evaluate(beir, settings)
    assert report.counts["scored_queries"] == 28
    assert report.metrics["hybrid"]["ndcg@10"] >= OWN_SET_FLOOR, report.metrics

    # fusion.SHIPPED over the raw rankings is what Retriever.search ranks with the default
    # settings (the tuning script's "tuned" column measures the shipped code)
    motion, store, embedded = index_corpus(beir, eval_settings(settings))
    assert embedded == 0
    retriever = Retriever(motion, eval_settings(settings), store)
    for qid in sorted(beir.qrels)[:8]:
        text = beir.queries[qid]["text"]
        depth = SHIPPED.depth
        fused = SHIPPED(retriever.bm25_ranking(text, depth), retriever.dense_ranking(text, depth))
        shipped = retriever.search(text, k=10, per_source_cap=0)
        assert [r.passage.id for r in shipped] == [pid for pid, _ in fused[:10]]
