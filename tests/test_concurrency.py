"""Simultaneous sessions against the running app (debate.tools.loadtest.concurrency, smaller than the
benchmark's 20 × 10): zero errors and zero cross-talk; latency is reported, not asserted."""

from __future__ import annotations

import pytest

from debate.tools.loadtest import concurrency

pytestmark = pytest.mark.slow


def test_five_sessions_at_once_have_no_errors_and_no_crosstalk(app):
    result = concurrency(app.url, sessions=5, turns=3, password=app.password, switch_share=0.5)
    assert result["errors"] == []
    assert result["crosstalk"] == 0
    assert result["missing_turns"] == 0
    assert result["turns_done"] == 5 * 3
    assert result["switching_sessions"] >= 2
    print(result)  # the latencies, for the log


@pytest.mark.parametrize(
    ("cores", "llm", "limit"), [(1, "", 2), (2, "", 2), (8, "", 8), (2, "m", 8)]
)
def test_turns_run_one_per_core_at_least_two_and_more_when_waiting_for_an_llm(
    default_settings, monkeypatch, cores, llm, limit
):
    """One slow turn must not hold the others (at least two at once); CPU-bound offline
    turns run one per core; turns that wait for an LLM run more at once."""
    from dataclasses import replace

    from debate.app.events import turn_limit

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)))
    assert turn_limit(replace(default_settings, llm=llm)) == limit
