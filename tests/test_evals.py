"""The eval suites, offline, as CI runs them: when faithfulness drops, these fail.

Each suite runs once per test session (the model is loaded once; the debate suite reuses
the session-wide index of the default motion)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
import yaml
from typer.testing import CliRunner

from debate.evals.suites import (
    apply_thresholds,
    load_thresholds,
    report_markdown,
    run_calibration,
    run_debate,
    run_independent_replies,
    run_llm_replies,
    write_report,
)


@pytest.fixture(scope="session")
def thresholds(default_settings):
    return load_thresholds(default_settings)


@pytest.fixture(scope="session")
def calibration(default_settings, thresholds):
    return apply_thresholds(run_calibration(default_settings), thresholds)


@pytest.fixture(scope="session")
def debate(default_settings, thresholds):
    return apply_thresholds(run_debate(default_settings), thresholds)


@pytest.fixture(scope="session")
def llm_replies(default_settings, thresholds):
    return apply_thresholds(run_llm_replies(default_settings), thresholds)


@pytest.fixture(scope="session")
def independent(default_settings, thresholds):
    return apply_thresholds(run_independent_replies(default_settings), thresholds)


def test_independently_written_replies_hold_their_floors(independent):
    """Beyond-lexical unfaithful sentences caught and faithful ones kept, at least at the
    level measured when the set was written (regression floors, not the goal)."""
    assert independent.checks and independent.passed, failed(independent)


def test_an_eval_run_saves_no_transcript_in_the_users_data_directory(default_settings, tmp_path):
    evals = tmp_path / "evals"
    evals.mkdir()
    (evals / "debate_cases.yaml").write_text(
        "motion: serbia-russia\ncases:\n  - {id: one, side: attack, phase: rebuttal, "
        "kind: normal, message: Serbia buys most of its gas from Russia.}\n",
        encoding="utf-8",
    )
    before = sorted(default_settings.transcripts_dir.rglob("*.json"))
    result = run_debate(replace(default_settings, evals_dir=evals))
    assert result.metrics  # the case ran
    assert sorted(default_settings.transcripts_dir.rglob("*.json")) == before


def failed(result) -> str:
    misses = [f"{m} = {v} (needs {op} {t})" for m, op, t, v, ok in result.checks if not ok]
    return "\n".join(misses + result.failures[:30])


def test_calibration_set_is_big_and_covers_every_category(default_settings):
    rows = [
        json.loads(line)
        for line in (default_settings.evals_dir / "calibration.jsonl").read_text().splitlines()
    ]
    categories = {r["category"] for r in rows}
    assert len(rows) >= 300
    assert {
        "faithful-paraphrase",
        "faithful-quote",
        "changed-number",
        "changed-date",
        "negation",
        "swapped-entity",
        "wrong-passage",
        "invented-quote",
        "fabricated-citation",
    } <= categories
    assert {r["split"] for r in rows} == {"calibration", "held-out"}


def test_checker_reaches_090_on_every_category_and_on_held_out_sources(calibration):
    assert calibration.passed, failed(calibration)
    for row in calibration.table:
        assert row["accuracy"] >= 0.9, row


def test_offline_engine_is_fully_faithful_on_the_debate_suite(debate):
    assert debate.metrics["cases"] >= 40
    assert debate.metrics["fabricated_citation_rate"] == 0.0, failed(debate)
    assert debate.metrics["citation_precision"] == 1.0, failed(debate)
    assert debate.metrics["citation_recall"] == 1.0, failed(debate)
    assert debate.passed, failed(debate)


def test_guard_catches_every_planted_unfaithful_citation(llm_replies):
    assert llm_replies.metrics["replies"] >= 20
    assert llm_replies.metrics["planted_caught"] == 1.0, failed(llm_replies)
    assert llm_replies.passed, failed(llm_replies)


def test_report_has_the_confusion_table_and_the_debate_metrics(
    calibration, debate, llm_replies, default_settings, tmp_path
):
    results = [calibration, debate, llm_replies]
    text = report_markdown(results, default_settings)
    assert "| negation | unfaithful |" in text and "| faithful-paraphrase | faithful |" in text
    assert "| citation_precision |" in text and "| planted_caught |" in text
    json_path, md_path = write_report(results, replace(default_settings, evals_dir=tmp_path))
    data = json.loads(json_path.read_text())
    assert [s["name"] for s in data["suites"]] == ["calibration", "debate", "llm-replies"]
    # same report apart from the time stamp line
    assert md_path.read_text().split("\n")[3:] == text.split("\n")[3:]


def test_cli_eval_exits_non_zero_when_a_threshold_is_missed(
    default_settings, tmp_path, monkeypatch
):
    from debate.cli import app

    evals = tmp_path / "evals"
    shutil.copytree(default_settings.evals_dir, evals, ignore=shutil.ignore_patterns("reports"))
    replies = yaml.safe_load((evals / "llm_replies.yaml").read_text())
    replies["replies"] = replies["replies"][:3]  # the exit code is the point here, not coverage
    (evals / "llm_replies.yaml").write_text(yaml.safe_dump(replies, allow_unicode=True))
    monkeypatch.setenv("DEBATE_EVALS_DIR", str(evals))
    monkeypatch.setenv("DEBATE_DATA_DIR", str(default_settings.data_dir))
    monkeypatch.delenv("DEBATE_LLM", raising=False)
    # The floor for three replies (one faithful sentence of them is lost: 0.90 kept)
    lenient = yaml.safe_load((evals / "thresholds.yaml").read_text())
    lenient["llm-replies"]["min_faithful_kept"] = 0.85
    (evals / "thresholds.yaml").write_text(yaml.safe_dump(lenient))
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", "--suite", "llm-replies"])
    assert ok.exit_code == 0, ok.output
    assert "planted_caught" in ok.output and len(list((evals / "reports").glob("*.md"))) == 1

    strict = yaml.safe_load((evals / "thresholds.yaml").read_text())
    strict["llm-replies"]["min_faithful_kept"] = 1.01  # impossible on purpose
    (evals / "thresholds.yaml").write_text(yaml.safe_dump(strict))
    missed = runner.invoke(app, ["eval", "--suite", "llm-replies"])
    assert missed.exit_code == 1, missed.output
    assert "FAIL" in missed.output
