"""The sentence stance model (debate.corpus.stance_model) and its use at ingest
(debate.corpus.stance): the shipped weights reproduce the held-out sample through the real
MiniLM, damaged weights are refused with a clear message, the stored encoding and its
readers, and ingest storing a score for every sentence of every passage."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from debate.core.errors import DebateError
from debate.core.text import sentence_spans
from debate.corpus import stance
from debate.corpus.ingest import ingest_motion
from debate.corpus.motions import load_motion
from debate.corpus.stance_model import (
    CONFIG_FILE,
    DEFAULT_WEIGHTS_DIR,
    LABELS,
    WEIGHTS_FILE,
    StanceModel,
    StanceModelError,
    negate,
)
from debate.search.retrieval import get_retriever

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "evals" / "stance" / "heldout_sample.jsonl"


# ------------------------------------------------------------------ the held-out sample
@pytest.fixture(scope="module")
def sample():
    with SAMPLE.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def predictions(sample, embedder):
    """(label, score) of each sample item: the shipped head over the shipped MiniLM's
    embeddings of the thesis, its negation and the sentence, one thesis at a time."""
    texts = sorted(
        {t for it in sample for t in (it["thesis"], negate(it["thesis"]), it["sentence"])}
    )
    vecs = dict(zip(texts, embedder.embed(texts), strict=True))
    model = StanceModel.load_vectors_only()
    out: list[tuple[str, float] | None] = [None] * len(sample)
    by_thesis: dict[str, list[int]] = {}
    for k, it in enumerate(sample):
        by_thesis.setdefault(it["thesis"], []).append(k)
    for thesis, idx in by_thesis.items():
        found = model.predict_from_vectors(
            vecs[thesis], np.array([vecs[sample[k]["sentence"]] for k in idx]), vecs[negate(thesis)]
        )
        for k, pred in zip(idx, found, strict=True):
            out[k] = pred
    return out


def test_shipped_weights_reproduce_the_heldout_sample(sample, predictions):
    assert len(sample) >= 100 and {it["label"] for it in sample} == set(LABELS)
    wrong_label = [
        (it["id"], it["expected_label"], label)
        for it, (label, _) in zip(sample, predictions, strict=True)
        if label != it["expected_label"]
    ]
    assert not wrong_label
    off = [
        (it["id"], it["expected_score"], round(score, 4))
        for it, (_, score) in zip(sample, predictions, strict=True)
        if abs(score - it["expected_score"]) > 1e-3
    ]
    assert not off


def test_model_beats_the_majority_class_on_the_sample(sample, predictions):
    gold = [it["label"] for it in sample]
    accuracy = np.mean([label == g for (label, _), g in zip(predictions, gold, strict=True)])
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    assert accuracy > majority, (accuracy, majority)


# ------------------------------------------------------------------ damaged weights
@pytest.fixture
def weights_copy(tmp_path):
    folder = tmp_path / "weights"
    shutil.copytree(DEFAULT_WEIGHTS_DIR, folder)
    return folder


def test_copied_weights_load(weights_copy):
    model = StanceModel.load_vectors_only(weights_copy)
    assert model.head["w1"].shape[0] == 6 * 384 + 2


def test_missing_weights_file_is_refused(weights_copy):
    (weights_copy / WEIGHTS_FILE).unlink()
    with pytest.raises(StanceModelError, match="stance weights not found") as info:
        StanceModel.load_vectors_only(weights_copy)
    assert WEIGHTS_FILE in str(info.value)


def test_missing_config_is_refused(weights_copy):
    (weights_copy / CONFIG_FILE).unlink()
    with pytest.raises(StanceModelError, match="stance config not found"):
        StanceModel.load_vectors_only(weights_copy)


def _flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_corrupt_weights_are_refused_by_their_checksum(weights_copy):
    _flip_bytes(weights_copy / WEIGHTS_FILE)
    with pytest.raises(StanceModelError, match=r"corrupt \(sha256 mismatch\)") as info:
        StanceModel.load_vectors_only(weights_copy)
    assert WEIGHTS_FILE in str(info.value)


def test_corrupt_weights_without_a_checksum_are_refused_when_read(weights_copy):
    config = json.loads((weights_copy / CONFIG_FILE).read_text())
    del config["weights_sha256"]
    (weights_copy / CONFIG_FILE).write_text(json.dumps(config))
    (weights_copy / WEIGHTS_FILE).write_bytes(b"PK\x03\x04 not a zip archive at all")
    with pytest.raises(StanceModelError, match="corrupt or incomplete"):
        StanceModel.load_vectors_only(weights_copy)


def _rewrite_weights(folder: Path, **changes) -> None:
    """Write the head with some arrays replaced, and a matching checksum."""
    import hashlib

    with np.load(folder / WEIGHTS_FILE) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    np.savez(folder / WEIGHTS_FILE, **arrays)
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["weights_sha256"] = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    (folder / CONFIG_FILE).write_text(json.dumps(config))


def test_wrong_shaped_weights_are_refused(weights_copy):
    with np.load(weights_copy / WEIGHTS_FILE) as z:
        w1 = z["w1"]
    _rewrite_weights(weights_copy, w1=w1[:-10])  # as if made for another encoder
    with pytest.raises(StanceModelError, match="unexpected shapes"):
        StanceModel.load_vectors_only(weights_copy)


def test_weights_with_an_array_missing_are_refused(weights_copy):
    with np.load(weights_copy / WEIGHTS_FILE) as z:
        arrays = {k: z[k] for k in z.files if k != "sigma"}
    np.savez(weights_copy / WEIGHTS_FILE, **arrays)
    config = json.loads((weights_copy / CONFIG_FILE).read_text())
    del config["weights_sha256"]
    (weights_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(StanceModelError, match="corrupt or incomplete"):
        StanceModel.load_vectors_only(weights_copy)


def test_non_finite_weights_are_refused(weights_copy):
    with np.load(weights_copy / WEIGHTS_FILE) as z:
        b1 = z["b1"].copy()
    b1[0] = np.nan
    _rewrite_weights(weights_copy, b1=b1)
    with pytest.raises(StanceModelError, match="non-finite"):
        StanceModel.load_vectors_only(weights_copy)


@pytest.fixture
def fresh_stance_model():
    stance.model.cache_clear()
    stance.version.cache_clear()
    yield
    stance.model.cache_clear()
    stance.version.cache_clear()


def test_stance_model_failure_is_a_debate_error(monkeypatch, weights_copy, fresh_stance_model):
    _flip_bytes(weights_copy / WEIGHTS_FILE)
    monkeypatch.setattr(stance, "WEIGHTS", weights_copy)
    with pytest.raises(DebateError, match="stance model cannot be loaded") as info:
        stance.model()
    assert "sha256 mismatch" in str(info.value)
    assert isinstance(info.value.__cause__, StanceModelError)


def test_stance_model_loads_the_shipped_weights(fresh_stance_model):
    assert isinstance(stance.model(), StanceModel)
    config = json.loads((stance.WEIGHTS / CONFIG_FILE).read_text())
    assert stance.version() == config["weights_sha256"][:16]


# ------------------------------------------------------------------ stored encoding
def test_encode_decode_round_trip():
    items = [(0, 14, 0.5), (15, 42, -0.25), (43, 50, 0.125), (51, 60, -1.0), (61, 70, 1.0)]
    text = stance.encode(items)
    assert text == "0,14,0.500;15,42,-0.250;43,50,0.125;51,60,-1.000;61,70,1.000"
    assert stance.decode(text) == items
    assert stance.decode(stance.encode([])) == [] and stance.decode(None) == []


TEXT = "Cats sleep a lot. Dogs, on the other hand, need a walk every day. Fish are quiet."


def _stances_of(text: str, scores: list[float]) -> str:
    spans = sentence_spans(text)
    assert len(spans) == len(scores)
    return stance.encode([(s, e, score) for (s, e), score in zip(spans, scores, strict=True)])


def test_score_at_reads_the_sentence_a_quote_starts_in():
    stances = _stances_of(TEXT, [0.9, -0.7, 0.1])
    for quote, want in [
        ("Cats sleep a lot.", 0.9),
        ("Dogs, on the other hand", -0.7),
        ("need a walk every day", -0.7),  # a clause starting mid-sentence
        ("on the other hand, need a walk every day. Fish", -0.7),  # runs into the next one
        ("are quiet", 0.1),
    ]:
        start = TEXT.index(quote)
        assert stance.score_at(stances, start, start + len(quote)) == want, quote


def test_score_at_a_quote_starting_between_sentences_reads_the_next_one():
    stances = _stances_of(TEXT, [0.9, -0.7, 0.1])
    space = TEXT.index(" Dogs")
    assert stance.score_at(stances, space, space + 10) == -0.7


def test_score_at_without_scores_is_none():
    assert stance.score_at("", 0, 10) is None
    assert stance.score_at(_stances_of(TEXT, [0.9, -0.7, 0.1]), 500, 510) is None


@pytest.mark.parametrize(
    ("stances", "want"),
    [
        ("0,10,0.900;11,20,0.500", "supports"),
        ("0,10,-0.900;11,20,-0.300", "opposes"),
        ("0,10,0.900;11,20,-0.900", "mixed"),
        ("0,10,0.100;11,20,-0.100", "mixed"),
        ("0,10,0.200", "mixed"),  # at the threshold: not beyond it
        ("0,10,0.201", "supports"),
        ("0,10,-0.201", "opposes"),
        ("", ""),
    ],
)
def test_lean(stances, want):
    assert stance.lean(stances) == want


# ------------------------------------------------------------------ ingest
def _stored(folder: Path, settings) -> dict[tuple[str, int], object]:
    motion = load_motion(folder, folder.parent)
    return {(p.source_id, p.start): p for p in get_retriever(motion, settings).all_passages()}


def test_ingest_stores_a_stance_for_every_sentence(make_pack, settings):
    folder = make_pack("stance-a")
    ingest_motion(load_motion(folder, folder.parent), settings)
    passages = _stored(folder, settings)
    assert len(passages) == 4
    for p in passages.values():
        found = stance.decode(p.stances)
        assert found, p.id
        assert [(s, e) for s, e, _ in found] == sentence_spans(p.text)
        assert all(-1.0 <= score <= 1.0 for _, _, score in found)
        assert stance.lean(p.stances) in ("supports", "opposes", "mixed")


def test_changing_the_thesis_rescores_every_source(make_pack, settings):
    folder = make_pack("stance-b")
    ingest_motion(load_motion(folder, folder.parent), settings)
    before = _stored(folder, settings)
    motion_file = folder / "motion.yaml"
    text = motion_file.read_text(encoding="utf-8")
    assert "thesis: Cats are better than dogs" in text
    motion_file.write_text(
        text.replace("thesis: Cats are better than dogs", "thesis: Dogs are better than cats"),
        encoding="utf-8",
    )
    report = ingest_motion(load_motion(folder, folder.parent), settings)
    assert sorted(report.changed_sources) == ["cats", "dogs"]
    after = _stored(folder, settings)
    assert set(after) == set(before)
    for key, p in after.items():
        old, new = stance.decode(before[key].stances), stance.decode(p.stances)
        assert [(s, e) for s, e, _ in new] == [(s, e) for s, e, _ in old]
        assert [x for _, _, x in new] != [x for _, _, x in old], key
