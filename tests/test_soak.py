"""Meeting night under pressure, the long versions (`make soak`; excluded from `make test`).

Each test streams questions through the real API of a running openfloor while something
breaks, then checks that every answered question is stored exactly once and processed.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.migrate import upgrade
from domain.models import Meeting, MeetingKind, MeetingStatus
from domain.queue_health import queue_status
from domain.runtime import Runtime, install
from domain.settings import load_settings
from tests.support.faults import api_token, deployment, fault_settings
from tests.support.servers import RedisServer, create_database
from tests.support.stream import Stream, assert_exactly_once

pytestmark = pytest.mark.soak


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Fast safety nets and no rate refusals."""
    return fault_settings(settings)


def test_fifty_worker_kills_during_a_thousand_questions(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    with deployment(settings, tmp_path) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=1000, rate=15).start()
        for n in range(50):
            time.sleep(1.2)
            d.kill_worker(n % 2)
        stream.join()
        try:
            assert_exactly_once(rt, stream, timeout=300)
        except AssertionError as exc:  # the logs go with pytest's temp folder: keep the gist
            raise AssertionError(f"{exc}\n{d.problems()}") from exc


@contextmanager
def own_runtime(settings: dict[str, Any]) -> Iterator[tuple[Runtime, Meeting]]:
    """A runtime and an open meeting on this test's own Redis or database."""
    runtime = install(
        Runtime(settings=load_settings({}, settings), redis_url=settings["redis_url"])
    )
    with runtime.db.transaction() as session:
        meeting = Meeting(
            slug="soak", title="Soak", theme="Roads", kind=MeetingKind.FACEBOOK_LIVE,
            status=MeetingStatus.OPEN, venue="Hindlip",
            scheduled_start=datetime.now(UTC) + timedelta(days=7),
        )  # fmt: skip
        session.add(meeting)
    try:
        yield runtime, meeting
    finally:
        runtime.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test alone (it is killed with -9)."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_redis_killed_and_restarted_during_a_stream(
    own_redis: RedisServer, settings: dict[str, Any], tmp_path: Path
) -> None:
    settings = {**settings, "redis_url": own_redis.url}
    with own_runtime(settings) as (rt, meeting), deployment(settings, tmp_path) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=300, rate=15).start()
        time.sleep(6)
        assert own_redis.proc is not None
        own_redis.proc.send_signal(signal.SIGKILL)  # not a clean stop: the last writes may go
        own_redis.proc.wait()
        time.sleep(4)
        own_redis.start()
        stream.join()
        assert_exactly_once(rt, stream, timeout=240)


@pytest.fixture
def private_postgres() -> Iterator[Any]:
    """A private PostgreSQL from the pgserver wheel: the test restarts it.

    Its data lives outside pytest's temporary folders, which only root may enter: the server
    runs as pgserver's own unprivileged user.
    """
    datadir = Path(tempfile.mkdtemp(prefix="openfloor-soak-pg-"))
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(datadir, cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_postgresql_restarted_during_a_stream(
    private_postgres: Any, settings: dict[str, Any], tmp_path: Path
) -> None:
    from pgserver._commands import pg_ctl

    url, _ = create_database(private_postgres.get_uri())
    upgrade(url)
    settings = {**settings, "database_url": url}
    with own_runtime(settings) as (rt, meeting), deployment(settings, tmp_path) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=300, rate=15).start()
        time.sleep(6)
        # an immediate stop is a crash for PostgreSQL: it recovers from its WAL on start
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=private_postgres.pgdata,
               user=private_postgres.system_user)  # fmt: skip
        time.sleep(2)
        private_postgres.ensure_postgres_running()
        stream.join()
        assert_exactly_once(rt, stream, timeout=240)


def test_web_process_restarted_during_a_stream(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    with deployment(settings, tmp_path) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=300, rate=15).start()
        for _ in range(2):
            time.sleep(5)
            d.kill_web()
            d.start_web()
        stream.join()
        assert_exactly_once(rt, stream, timeout=120)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_away_during_a_burst_then_the_backlog_drains(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    pause = float(os.environ.get("SOAK_WORKER_PAUSE", "300"))
    with deployment(settings, tmp_path, workers=0) as d:
        stream = Stream(d.url, meeting.id, api_token(rt), count=600, rate=40).start()
        stream.join()  # the burst is accepted with no worker running
        status = queue_status(rt)
        assert status.problem == "workers-down" and status.waiting == 600
        time.sleep(max(0.0, pause - 15))
        status = queue_status(rt)
        assert status.waiting == 600 and (status.oldest_seconds or 0) >= pause - 30
        d.start_worker()
        d.start_worker()
        assert_exactly_once(rt, stream, timeout=300)
        assert queue_status(rt).problem is None
