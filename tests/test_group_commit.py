"""Outbox rows of concurrent requests are committed together; each request hears its fate."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.hot_writer import PreparedInsert
from domain.models import Meeting, OutboxMessage
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from intake import group_commit, outbox
from openfloor.app import create_app
from tests.test_api import auth, issue, url


def _message(meeting: Meeting, external_id: str) -> SubmissionMessage:
    return SubmissionMessage(
        meeting_id=meeting.id, channel="api", external_id=external_id,
        reference=f"Q-{uuid.uuid4().hex[:4].upper()}-{uuid.uuid4().hex[:4].upper()}",
        text="Why are there no PCSOs in Clun any more?", received_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip


def _together(count: int, call: Any) -> list[Any]:
    """Run ``call(n)`` on ``count`` threads released at once; their results (or errors)."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = call(n)
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_rows_share_commits_and_repeats_get_the_first_row(
    meeting: Meeting, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = []
    real_commit = group_commit.GroupCommit._commit

    def counted(self: group_commit.GroupCommit, batch: list[Any]) -> None:
        commits.append(len(batch))
        real_commit(self, batch)

    monkeypatch.setattr(group_commit.GroupCommit, "_commit", counted)
    # 40 senders; every fourth repeats the external id of the one before it
    ids = [f"ext-{n - n % 4 // 3}" if n % 4 == 3 else f"ext-{n}" for n in range(40)]
    messages = [_message(meeting, ids[n]) for n in range(40)]
    results = _together(40, lambda n: outbox.store(rt, messages[n]))
    assert not [r for r in results if isinstance(r, Exception)]
    by_external: dict[str, set[tuple[int, str]]] = {}
    for n, (row_id, reference, _created) in enumerate(results):
        by_external.setdefault(ids[n], set()).add((row_id, reference))
    # one row and one reference per external id, whoever came first
    assert all(len(answers) == 1 for answers in by_external.values())
    assert sum(created for _, _, created in results) == len(by_external) == 30
    with rt.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 30
    assert max(commits) > 1  # some requests shared a transaction


def test_a_long_stream_from_many_threads_leaves_nobody_waiting(
    meeting: Meeting, rt: Runtime
) -> None:
    """16 threads sending 40 questions each: the lead passes from request to request and
    every one of them returns with its own row (the id of the row holding its question)."""
    answers: dict[int, str] = {}

    def sender(n: int) -> None:
        for k in range(40):
            row_id, _, created = outbox.store(rt, _message(meeting, f"s{n}-{k}"))
            assert created
            answers[row_id] = f"s{n}-{k}"

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not [t for t in threads if t.is_alive()]
    group = group_commit._groups[(id(rt), os.getpid())]
    assert not group.waiting and not group.leading
    with rt.db.transaction() as session:
        stored = dict(session.execute(select(OutboxMessage.id, OutboxMessage.external_id)).all())
    assert len(stored) == 640
    assert answers == stored


def test_a_database_error_reaches_every_waiting_request(meeting: Meeting, rt: Runtime) -> None:
    """The outbox table gone (a real error of the real database, for every insert): each
    waiting request hears of it, nobody is left waiting, and it works again afterwards."""

    def rename(old: str, new: str) -> None:
        with rt.db.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    outbox.store(rt, _message(meeting, "before"))  # the group and its connections exist
    rename("outbox_message", "outbox_away")
    try:
        results = _together(8, lambda n: outbox.store(rt, _message(meeting, f"down-{n}")))
    finally:
        rename("outbox_away", "outbox_message")
    # each request is told (the API answers 503 or 500, the form keeps the person's text)
    assert all(isinstance(r, DBAPIError) for r in results), results
    assert not group_commit._groups[(id(rt), os.getpid())].waiting  # nobody left behind
    row_id, _, created = outbox.store(rt, _message(meeting, "after"))
    assert created and row_id > 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_the_server_dropped_is_replaced_without_an_error(
    meeting: Meeting, rt: Runtime
) -> None:
    """The group keeps its connections open (no ping before each write): after PostgreSQL
    ends them (a restart, an idle timeout), the next write reconnects and succeeds."""
    for n in range(3):
        outbox.store(rt, _message(meeting, f"before-{n}"))
    with rt.db.engine.connect() as admin:
        ended = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert ended >= 1  # the group's connection among them
    row_id, _, created = outbox.store(rt, _message(meeting, "after"))
    assert created and row_id > 0
    with rt.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_a_repeat_alone_raises_the_unique_key_error(meeting: Meeting, rt: Runtime) -> None:
    first = _message(meeting, "once")
    outbox.store(rt, first)
    params = {"channel": "api", "external_id": "once", "job_id": "j", "payload": {},
              "created_at": datetime.now(UTC), "relayed_at": None, "attempts": 0}  # fmt: skip
    with pytest.raises(IntegrityError):
        group_commit.insert_row(rt, params)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_app_answers_json_with_its_own_headers(
    client: FlaskClient, meeting: Meeting, rt: Runtime, settings: dict[str, Any]
) -> None:
    _, token = issue(rt)
    body = {"text": "Is the Ludlow front counter closing?", "external_id": "h-1"}
    created = client.post(url(meeting), json=body, headers=auth(token))
    assert created.status_code == 201
    assert created.headers["X-Content-Type-Options"] == "nosniff"
    assert created.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in created.headers  # no session on the API
    assert "Strict-Transport-Security" not in created.headers  # plain HTTP here
    over_https = client.post(
        url(meeting), json={**body, "external_id": "h-2"}, headers=auth(token),
        base_url="https://localhost",
    )  # fmt: skip
    assert over_https.headers["Strict-Transport-Security"].startswith("max-age=")
    for path in ("/api/v1/nowhere", "/api", "/api/v2/meetings"):
        missing = client.get(path, headers=auth(token))
        assert missing.status_code == 404 and missing.json["error"] == "not_found", path
    # pages keep theirs: the policy and the pages' error page
    assert "Content-Security-Policy" in client.get("/privacy").headers

    forced = create_app({**settings, "force_https": True, "testing": True}, environ={})
    try:
        plain = forced.test_client().post(url(meeting), json=body, headers=auth(token))
        assert plain.status_code == 403 and plain.json["error"] == "https_required"
    finally:
        forced.extensions["openfloor"].close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_write_holds_a_lock_other_processes_queue_on(rt: Runtime) -> None:
    """Writers of several processes queue on ``flock`` (woken at once), not SQLite's busy
    handler (which sleeps up to 100 ms between tries)."""
    writer = rt.db._writer
    assert writer is not None and writer.path is not None
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n"
        "    sys.exit(3)\n"
    )

    def other_process_may_write() -> bool:
        code = subprocess.run([sys.executable, "-c", probe, writer.path], check=False).returncode
        assert code in (0, 3)
        return code == 0

    class Probe(PreparedInsert):
        """Inserts nothing: tells whether another process could write meanwhile."""

        def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
            return [int(other_process_may_write())]

    hot = rt.db.hot_writer()
    probe_insert = Probe(
        cast(Table, OutboxMessage.__table__), group_commit.COLUMNS, group_commit.KEY, hot.dialect
    )
    try:
        assert hot.insert(probe_insert, [{}]) == [0]
        assert other_process_may_write()
    finally:
        hot.close()
