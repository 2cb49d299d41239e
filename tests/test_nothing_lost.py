"""Redis stops mid-meeting: questions keep coming in and every one is processed exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from domain.models import Meeting, Question, Submission
from domain.runtime import Runtime
from tests.support.forms import submit_question
from tests.support.processes import start_openfloor, stop, wait_for
from tests.support.servers import RedisServer


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """One test client sends 51 questions: lift the per-address limit for this module."""
    return {**settings, "form_rate_limit": "1000 per minute"}


def _count(rt: Runtime, model: Any) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_fifty_questions_survive_a_redis_outage(
    client, rt: Runtime, meeting: Meeting, redis_server: RedisServer, settings, tmp_path: Path
) -> None:
    worker = start_openfloor(["worker"], settings, tmp_path / "worker.log")
    scheduler = start_openfloor(["scheduler"], settings, tmp_path / "scheduler.log")
    try:
        # one question before the outage proves the pipe is up
        submit_question(client, meeting.slug, "Before the outage?")
        wait_for(lambda: _count(rt, Question) == 1, timeout=30)

        redis_server.stop()
        try:
            for n in range(50):
                response = submit_question(
                    client, meeting.slug, f"Question {n} about speeding on the A49 near Craven Arms"
                )
                assert response.status_code in (302, 303), response.data[:500]
                assert "confirmation" in response.headers["Location"]
        finally:
            redis_server.start()

        wait_for(lambda: _count(rt, Question) == 51, timeout=90, interval=0.25)
        # exactly once: no duplicates, even though the relay and retries may have repeated pushes
        with rt.db.transaction() as session:
            texts = session.scalars(select(Submission.raw_text)).all()
        assert len(texts) == len(set(texts)) == 51
        assert _count(rt, Submission) == 51
    finally:
        stop(worker)
        stop(scheduler)
