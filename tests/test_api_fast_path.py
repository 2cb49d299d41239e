"""The API's fast path keeps its guarantees: token cache, one-call rate limits, the pusher."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from domain.models import ApiToken, Meeting, MeetingStatus, OutboxMessage, Submission
from domain.queue import INGEST_QUEUE, SubmissionMessage, queue
from domain.runtime import Runtime
from intake import pusher
from intake.api.access import TOKEN_CACHE_SECONDS, tokens_changed
from intake.meeting_states import CACHE_SECONDS
from openfloor.app import create_app
from tests.support.processes import wait_for
from tests.support.servers import free_port
from tests.test_api import auth, issue, url

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _revoke_in_database(rt: Runtime, token_id: int) -> None:
    with rt.db.transaction() as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=datetime.now(UTC))
        )


def _answered_within(check: Callable[[], bool], seconds: float) -> None:
    """``check`` comes true, and within ``seconds`` (plus a second of slack) from now."""
    started = time.monotonic()
    wait_for(check, timeout=seconds + 3)
    assert time.monotonic() - started <= seconds + 1


def _post(client: FlaskClient, meeting: Meeting, token: str) -> int:
    body = {"text": "Are rural patrols being cut?", "external_id": uuid.uuid4().hex}
    return client.post(url(meeting), json=body, headers=auth(token)).status_code


@sqlite_only
def test_revocation_reaches_a_warm_cache_at_once_through_redis(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    token_id, token = issue(rt)
    assert _post(client, meeting, token) == 201  # the token is now in this process's cache
    _revoke_in_database(rt, token_id)
    tokens_changed(rt)  # what `openfloor revoke-api-token` does after its commit
    assert _post(client, meeting, token) == 403


@sqlite_only
def test_revocation_unannounced_stops_the_token_within_the_cache_lifetime(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    token_id, token = issue(rt)
    assert _post(client, meeting, token) == 201
    _revoke_in_database(rt, token_id)  # Redis never told: only the cache's age protects
    _answered_within(lambda: _post(client, meeting, token) == 403, TOKEN_CACHE_SECONDS)
    # and it stays refused
    assert _post(client, meeting, token) == 403


@sqlite_only
def test_without_redis_limits_count_in_memory_and_rows_go_back_to_the_relay(
    settings: dict[str, Any], meeting: Meeting, rt: Runtime
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app(
        {**settings, "redis_url": dead, "api_rate_limit": "3 per minute", "testing": True},
        environ={},
    )
    _, token = issue(rt)
    client = app.test_client()
    try:
        codes = [_post(client, meeting, token) for _ in range(4)]
        assert codes == [201, 201, 201, 429]
    finally:
        app.extensions["openfloor"].close()  # the pusher ends after handing its rows back

    with rt.db.transaction() as session:
        rows = session.execute(select(OutboxMessage.relayed_at)).all()
    assert len(rows) == 3
    assert all(relayed_at is None for (relayed_at,) in rows)  # the scheduler relays them


def test_a_burst_goes_out_as_batch_jobs_and_every_question_is_stored_once(
    meeting: Meeting, rt: Runtime, worker: Any
) -> None:
    messages = [_message(meeting, n) for n in range(50)]
    ingest = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    for n, message in enumerate(messages):
        pusher.send(rt, n + 1, message)
    wait_for(lambda: _stored(rt) == 50, timeout=120)
    time.sleep(1)  # a duplicate would be stored by now
    assert _stored(rt) == 50
    jobs = ingest.finished_job_registry.count + ingest.count + ingest.started_job_registry.count
    assert 0 < jobs < 50  # batched: one job per question would be 50


def test_closing_the_runtime_pushes_what_the_pusher_still_holds(
    meeting: Meeting, settings: dict[str, Any]
) -> None:
    app = create_app({**settings, "testing": True}, environ={})
    rt: Runtime = app.extensions["openfloor"]
    message = SubmissionMessage(
        meeting_id=meeting.id, channel="api", external_id="last-one", reference="Q-LAST-0001",
        text="Will the last question be lost at shutdown?",
        received_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip
    observer = Runtime(settings=rt.settings, redis_url=rt.redis_url)
    try:
        pusher.send(rt, 1, message)
        rt.close()
        assert queue(observer.redis, observer.prefix, INGEST_QUEUE).count == 1
    finally:
        observer.close()


def _message(meeting: Meeting, n: int) -> SubmissionMessage:
    return SubmissionMessage(
        meeting_id=meeting.id, channel="api", external_id=f"burst-{n}",
        reference=f"Q-BRST-{n:04d}", text=f"Is burst question {n} about speeding?",
        received_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip


def _stored(rt: Runtime) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Submission)) or 0)


@sqlite_only
def test_a_meeting_closed_by_another_process_is_seen_within_a_second(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    _, token = issue(rt)
    assert _post(client, meeting, token) == 201  # this process now trusts "open" for a second
    with rt.db.transaction() as session:  # a Core update: what another process's change is
        session.execute(
            update(Meeting).where(Meeting.id == meeting.id).values(status=MeetingStatus.CLOSED)
        )
    _answered_within(lambda: _post(client, meeting, token) == 422, CACHE_SECONDS)


@sqlite_only
def test_a_meeting_closed_in_this_process_is_seen_at_once(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    _, token = issue(rt)
    assert _post(client, meeting, token) == 201
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED  # staff's page does this: the cache is emptied
    assert _post(client, meeting, token) == 422
