"""Workers killed mid-stream: nothing lost, nothing doubled, nothing stuck (under a minute).

The longer versions (50 kills in 1,000 questions, Redis and PostgreSQL restarts, a web
restart, workers away for five minutes) are in tests/test_soak.py, run by `make soak`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from domain.models import Meeting
from domain.runtime import Runtime
from tests.support.faults import api_token, deployment, fault_settings
from tests.support.stream import Stream, assert_exactly_once


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Fast safety nets and no rate refusals."""
    return fault_settings(settings)


def test_kill_9_of_a_worker_five_times_during_a_stream(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    with deployment(settings, tmp_path) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=150, rate=15).start()
        time.sleep(2)
        for n in range(5):  # as in the issue: five kills, seconds apart, mid-jobs
            d.kill_worker(n % 2)
            time.sleep(1.5)
        stream.join()
        # safety nets run every few seconds here; on a loaded 2-core CI machine running the
        # suite in two processes, catching up after five kills has taken over a minute
        assert_exactly_once(rt, stream, timeout=150)
