"""Staff are told when questions are not flowing: queue down, no workers, or behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from domain.models import Meeting, OutboxMessage, StaffUser
from domain.queue import SubmissionMessage
from domain.queue_health import queue_status
from domain.runtime import Runtime
from intake import outbox
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.processes import start_openfloor, stop, wait_for
from tests.support.servers import RedisServer


def _sign_in(client: FlaskClient) -> None:
    response = client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def _waiting(rt: Runtime, meeting: Meeting, count: int, age: timedelta) -> None:
    """``count`` durable questions not yet relayed, the oldest ``age`` old."""
    with rt.db.transaction() as session:
        for n in range(count):
            outbox.record(session, SubmissionMessage(
                meeting_id=meeting.id, channel="web", external_id=f"qb-{n}", reference=f"QB-{n}",
                text="Why are there no PCSOs in Ludlow any more?",
                received_at=datetime.now(UTC).isoformat(),
            ))  # fmt: skip
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.external_id == "qb-0")
            .values(created_at=datetime.now(UTC) - age)
        )


def _banner(client: FlaskClient) -> str:
    html = client.get("/triage/meetings").get_data(as_text=True)
    if "data-queue-status" not in html:
        return ""
    return " ".join(html.split('data-queue-status="', 1)[1].split("</div>\n</div>")[0].split())


def test_no_banner_while_nothing_waits(
    client: FlaskClient, rt: Runtime, staff_user: StaffUser, meeting: Meeting
) -> None:
    _sign_in(client)
    assert _banner(client) == ""
    status = queue_status(rt)
    assert status.queue_up and status.waiting == 0 and status.problem is None


def test_banner_shows_backlog_when_no_worker_runs(
    client: FlaskClient, rt: Runtime, staff_user: StaffUser, meeting: Meeting
) -> None:
    _waiting(rt, meeting, 3, timedelta(minutes=2, seconds=5))
    _sign_in(client)
    banner = _banner(client)
    assert banner.startswith("workers-down")
    assert "No worker is processing questions" in banner
    assert "3 questions waiting, the oldest for 2 minutes" in banner
    # public pages never show it
    assert "data-queue-status" not in client.get(f"/meetings/{meeting.slug}/ask").get_data(
        as_text=True
    )


def test_banner_says_behind_when_a_worker_runs_but_work_is_old(
    client: FlaskClient,
    rt: Runtime,
    staff_user: StaffUser,
    meeting: Meeting,
    settings: dict[str, Any],
    tmp_path: Path,
) -> None:
    _waiting(rt, meeting, 2, timedelta(seconds=45))
    _sign_in(client)
    # a worker on the pipeline queue only: alive, but nothing relays the outbox to it
    worker = start_openfloor(["worker", "--queue", "pipeline"], settings, tmp_path / "w.log")
    try:
        wait_for(lambda: queue_status(rt).workers, timeout=60, interval=0.25)
        banner = _banner(client)
        assert banner.startswith("behind") and "The workers are behind." in banner
        assert "2 questions waiting, the oldest for 4" in banner  # 45 s and counting
    finally:
        stop(worker)


def test_banner_says_the_queue_is_down(
    client: FlaskClient,
    rt: Runtime,
    staff_user: StaffUser,
    meeting: Meeting,
    redis_server: RedisServer,
) -> None:
    _sign_in(client)
    _waiting(rt, meeting, 1, timedelta(seconds=5))
    redis_server.stop()
    try:
        banner = _banner(client)
    finally:
        redis_server.start()
    assert banner.startswith("queue-down")
    assert "The question queue (Redis) is not answering." in banner
    assert "1 question waiting, the oldest for" in banner
