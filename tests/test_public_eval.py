"""The citation checker, measured on held-out public data (committed samples, offline).

The samples in evals/public/samples/ come from public claim/evidence datasets that nothing
here was fitted on (evals/public/sources.yaml). Thresholds are fitted leave-one-dataset-out,
so no number here is tuned on the set it is reported for; the naive baselines (cosine of
embeddings, word overlap) are computed in the same run.

The gates are regression floors at the level measured on 2026-11-27 (evals/thresholds.yaml,
section `public`), not the 0.70 / 0.75 targets of issue 10, which the checker does not
reach yet (README, "What the checker cannot catch"). The verifier's full report is in
evals/reports/ and evals/public/verifier_model/MODEL_CARD.md; it is too slow to rerun here.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from debate.core.config import load_settings
from debate.tools import public_report as report
from debate.tools.verifier import DEFAULT_THRESHOLD, Verifier, VerifierUnavailable, get_verifier


def floors() -> dict:
    path = load_settings(environ={}).evals_dir / "thresholds.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["public"]


# The report scores every set with the checker and both baselines (about 10 CPU-minutes,
# spread over three processes): its module-scoped fixture runs inside the first test, so that
# test gets more than the suite's 600 s per test. A limit, not a timing assertion.
pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
def sample_result():
    """report.evaluate of the checker and both baselines on the held-out samples. The
    scores are computed first, (scorer, set) by (scorer, set) in three processes side by
    side (tests/public_scores.py; the longest first), then handed to evaluate as they are."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tests import public_scores

    sets = report.load_sets(sample=True)
    assert set(sets) == set(report.REPORT_SETS)
    jobs = [(scorer, s) for scorer in ("cosine", "checker") for s in sets]
    jobs.sort(key=lambda job: (job[1] != "qags", job[0] != "cosine"))  # the long ones first
    spawn = multiprocessing.get_context("spawn")  # never fork a process that runs torch
    with ProcessPoolExecutor(max_workers=3, mp_context=spawn) as pool:
        scores = dict(pool.map(public_scores.score, jobs))

    def computed(scorer: str):
        by_claims = {tuple(r["claim"] for r in rows): s for s, rows in sets.items()}
        return lambda claims, evidences: scores[(scorer, by_claims[tuple(claims)])]

    scorers = {
        "checker": computed("checker"),
        "cosine": computed("cosine"),
        "overlap": report.overlap_scorer(),
    }
    return report.evaluate(scorers, sets)


@pytest.mark.slow
@pytest.mark.parametrize("set_name", report.REPORT_SETS)
def test_checker_balanced_accuracy_holds_its_floor_on_each_heldout_set(sample_result, set_name):
    m = sample_result["sets"][set_name]["checker"]
    assert m["n"] >= 150
    floor = floors()["min_balanced_accuracy"][set_name]
    assert m["balanced_accuracy"] >= floor, (set_name, m, floor)


@pytest.mark.slow
def test_checker_beats_both_naive_baselines_on_average_over_the_heldout_sets(sample_result):
    mean = {
        name: np.mean(
            [sample_result["sets"][s][name]["balanced_accuracy"] for s in report.REPORT_SETS]
        )
        for name in ("checker", "cosine", "overlap")
    }
    assert mean["checker"] > mean["cosine"] and mean["checker"] > mean["overlap"], mean


@pytest.mark.slow
@pytest.mark.parametrize("set_name", floors()["beats_baselines_on"])
def test_checker_beats_both_baselines_on_the_sets_where_it_did(sample_result, set_name):
    ba = {k: v["balanced_accuracy"] for k, v in sample_result["sets"][set_name].items()}
    assert ba["checker"] > ba["cosine"] and ba["checker"] > ba["overlap"], (set_name, ba)


def test_threshold_for_a_set_ignores_that_sets_own_scores():
    """Leave-one-dataset-out: changing set A's scores must not move A's threshold."""
    rng = np.random.default_rng(0)
    sets = {
        name: [{"claim": f"{name}{i}", "evidence": "", "label": int(i % 2)} for i in range(60)]
        for name in ("a", "b", "c")
    }
    base = {
        r["claim"]: float(r["label"]) * 0.5 + rng.random() * 0.6
        for rows in sets.values()
        for r in rows
    }

    def scorer_with(shift_a: float):
        def score(claims, evidences):
            return np.array([base[c] + (shift_a if c.startswith("a") else 0.0) for c in claims])

        return score

    r1 = report.evaluate({"s": scorer_with(0.0)}, sets)
    r2 = report.evaluate({"s": scorer_with(5.0)}, sets)
    assert r1["sets"]["a"]["s"]["threshold"] == r2["sets"]["a"]["s"]["threshold"]
    # ...while A's own result does change (its scores moved above the threshold).
    assert r2["sets"]["a"]["s"]["recall_unsupported"] == 0.0
    assert r1["sets"]["a"]["s"]["recall_unsupported"] > 0.0


def test_metrics_count_unsupported_as_the_negative_class():
    m = report.metrics(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.1, 0.8]), 0.5)
    assert m["recall_unsupported"] == 0.5  # one of two unsupported flagged
    assert m["precision_unsupported"] == 0.5  # one of two flagged is really unsupported
    assert m["balanced_accuracy"] == 0.5


def test_missing_model_folder_raises_clear_error(tmp_path):
    with pytest.raises(VerifierUnavailable) as exc:
        Verifier(str(tmp_path / "nowhere"))
    msg = str(exc.value)
    assert "nowhere" in msg and "train_verifier.py" in msg
    assert isinstance(exc.value, RuntimeError)


def test_get_verifier_loads_once_and_scores_in_input_order():
    v = get_verifier()
    assert get_verifier() is v
    claims = [
        "The sky is green.",
        "Paris is the capital of France.",
        "Water boils at 100 C at sea level.",
    ]
    evid = [
        "The sky is blue on a clear day.",
        "Paris is the capital and largest city of France.",
        "At sea level, water boils at 100 degrees Celsius.",
    ]
    s = v.score(claims, evid)
    r = v.score(claims[::-1], evid[::-1])
    assert s.shape == (3,) and ((s >= 0) & (s <= 1)).all()
    np.testing.assert_allclose(s, r[::-1], atol=1e-5)


def test_sanity_veto_vs_abstain_is_below_threshold_and_faithful_paraphrase_above():
    """Sanity check only (two hand-written pairs, not a measurement)."""
    v = get_verifier()
    evidence = "China abstained in the vote on the resolution."
    wrong = v.score_windows("China vetoed the resolution.", evidence)
    faithful = v.score_windows("China abstained from voting on the resolution.", evidence)
    assert wrong < DEFAULT_THRESHOLD < faithful, (wrong, faithful, DEFAULT_THRESHOLD)
