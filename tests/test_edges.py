"""Edges that used to crash or could not fail (issue 9, item 6)."""

from __future__ import annotations

from debate.evals.suites import SuiteResult


def test_a_suite_without_thresholds_has_not_passed():
    assert not SuiteResult("empty", {"x": 1.0}).passed
    passing = SuiteResult("one", {"x": 1.0}, checks=[("x", ">=", 0.5, 1.0, True)])
    failing = SuiteResult("one", {"x": 0.1}, checks=[("x", ">=", 0.5, 0.1, False)])
    assert passing.passed and not failing.passed


def test_unknown_side_or_phase_in_spar_is_answered_and_the_debate_goes_on(default_settings):
    from tests.test_cli_spar import invoke

    result = invoke(
        ["spar", "serbia-russia", "--side", "attack"],
        default_settings.data_dir,
        stdin="/side foo\n/phase bar\nSerbia buys most of its gas from Russia.\n",
    )
    assert result.exit_code == 0, result.output
    assert "unknown side 'foo'" in result.output
    assert "unknown phase 'bar'" in result.output
    assert "[1]" in result.output  # the debate went on: the bot spoke, citing evidence
