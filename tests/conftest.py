"""Fixtures: real Redis, real SQLite and PostgreSQL, real workers, a live app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.migrate import upgrade
from domain.models import Meeting, MeetingKind, MeetingStatus, Role, StaffUser
from domain.runtime import Runtime, install
from domain.web.extensions import limiter
from openfloor.app import create_app
from openfloor.rehearsal.servers import FakePlatforms
from tests.support.processes import LiveServer, start_openfloor, stop
from tests.support.servers import (
    RedisServer,
    create_database,
    drop_database,
    postgres_admin_url,
)
from tests.support.smtp_server import SmtpServer

STAFF_EMAIL = "officer@example.org"
STAFF_PASSWORD = "correct horse battery"
ADMIN_EMAIL = "admin@example.org"
CHAIR_EMAIL = "chair@example.org"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Our own redis-server for the whole run (tests may stop and restart it)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[str]:
    """Admin URL of a PostgreSQL server (local, or started from the pgserver wheel)."""
    with postgres_admin_url() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database: every database test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'openfloor.sqlite3'}"
        upgrade(url)
        yield url
        return
    admin = request.getfixturevalue("postgres_admin")
    url, name = create_database(admin)
    upgrade(url)
    yield url
    drop_database(admin, name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh migrated SQLite database, for tests that are not about the database."""
    url = f"sqlite:///{tmp_path / 'openfloor.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def settings(database_url: str, redis_server: RedisServer, tmp_path: Path) -> dict[str, Any]:
    """Setting overrides shared by the app and the child processes of one test."""
    return {
        "database_url": database_url,
        "redis_url": redis_server.url,
        "instance_path": str(tmp_path / "instance"),
        "queue_prefix": f"t{uuid.uuid4().hex[:10]}",
        "secret_key": "test-secret",
        "relay_interval": 0.2,
        "min_fill_seconds": 0,
    }


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[Flask]:
    """The application bound to the test's database and Redis."""
    application = create_app({**settings, "testing": True}, environ={})
    application.config["WTF_CSRF_ENABLED"] = False
    install(application.extensions["openfloor"])
    # The limiter is one object for the process and keeps the first app's key prefix, so
    # counters (20 sign-ins a minute…) would carry over from earlier tests: start at zero.
    limiter.reset()
    yield application
    application.extensions["openfloor"].close()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    """The app's runtime (database and Redis clients)."""
    runtime: Runtime = app.extensions["openfloor"]
    return runtime


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Test client."""
    return app.test_client()


@pytest.fixture
def meeting(rt: Runtime) -> Meeting:
    """A Facebook Live meeting open for questions."""
    with rt.db.transaction() as session:
        m = Meeting(
            slug="rural-crime",
            title="Rural crime – Facebook Live",
            theme="Rural crime",
            kind=MeetingKind.FACEBOOK_LIVE,
            status=MeetingStatus.OPEN,
            venue="Hindlip",
            scheduled_start=datetime.now(UTC) + timedelta(days=7),
        )
        session.add(m)
    return m


@pytest.fixture
def staff_user(rt: Runtime) -> StaffUser:
    """A signed-up OPCC officer."""
    with rt.db.transaction() as session:
        user = StaffUser(email=STAFF_EMAIL, display_name="Officer", role=Role.STAFF)
        user.set_password(STAFF_PASSWORD)
        session.add(user)
    return user


def add_user(rt: Runtime, email: str, role: Role, password: str = STAFF_PASSWORD) -> StaffUser:
    """Create a staff account with ``role``."""
    with rt.db.transaction() as session:
        user = StaffUser(email=email, display_name=role.value.capitalize(), role=role)
        user.set_password(password)
        session.add(user)
    return user


@pytest.fixture
def admin_user(rt: Runtime) -> StaffUser:
    """An admin (manages users and meetings, reads the audit log)."""
    return add_user(rt, ADMIN_EMAIL, Role.ADMIN)


@pytest.fixture
def chair_user(rt: Runtime) -> StaffUser:
    """The meeting's chair (reads everything, changes nothing)."""
    return add_user(rt, CHAIR_EMAIL, Role.CHAIR)


@pytest.fixture
def worker(settings: dict[str, Any], tmp_path: Path) -> Iterator[Any]:
    """A real `openfloor worker` process."""
    proc = start_openfloor(["worker"], settings, tmp_path / "worker.log")
    yield proc
    stop(proc)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The app served over real HTTP."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for the written-answer tests."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def fakes() -> Iterator[FakePlatforms]:
    """The rehearsal's fake X and Graph API servers on 127.0.0.1."""
    with FakePlatforms() as platforms:
        yield platforms
