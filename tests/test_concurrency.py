"""Simultaneous sessions against the running app (debate.loadtest.concurrency, smaller than the
benchmark's 20 × 10): zero errors and zero cross-talk; latency is reported, not asserted."""

from __future__ import annotations

import pytest

from debate.loadtest import concurrency
from tests.test_app_security import AppServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory, embedder):
    server = AppServer(tmp_path_factory.mktemp("concurrency")).start()
    yield server
    server.stop()


def test_five_sessions_at_once_have_no_errors_and_no_crosstalk(app):
    result = concurrency(app.url, sessions=5, turns=3, password=app.password, switch_share=0.5)
    assert result["errors"] == []
    assert result["crosstalk"] == 0
    assert result["missing_turns"] == 0
    assert result["turns_done"] == 5 * 3
    assert result["switching_sessions"] >= 2
    print(result)  # the latencies, for the log


def test_the_queue_lets_turns_run_side_by_side():
    """One slow turn must not hold the others: turns share a limit above one."""
    from debate.app.events import TURN_LIMIT

    assert TURN_LIMIT >= 4
