"""SQLAlchemy engine and session handling shared by the web app, workers and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from domain.hot_writer import HotWriter, SqliteWriter

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


IMMEDIATE = "openfloor_sqlite_immediate"


class Base(DeclarativeBase):
    """Declarative base of every openfloor table."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored naive-UTC on SQLite by SQLAlchemy)."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout for concurrent workers.

    ``hide_parameters``: a database error message never carries a question, name or email.
    """
    kwargs.setdefault("hide_parameters", True)
    # A pooled connection per web thread (8 by default): with fewer, every request past the
    # fifth opens and closes a connection of its own (PRAGMAs, or a PostgreSQL login).
    kwargs.setdefault("pool_size", 12)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # autocommit mode for the PRAGMAs, then hand transaction control back to SQLAlchemy
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # pysqlite's own transaction handling is broken for SAVEPOINT, so BEGIN ourselves.
            # Write transactions (Database.transaction) BEGIN IMMEDIATE: taking the write lock
            # up front means a read-then-write can never fail with SQLITE_BUSY_SNAPSHOT when
            # another process commits in between. Request-scoped reads stay deferred.
            immediate = conn.get_execution_options().get(IMMEDIATE, False)
            # on the driver's connection: this runs for every transaction, and a statement
            # through SQLAlchemy costs as much again as the insert it precedes
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """Holds one engine and a scoped session; created unbound, bound by :meth:`bind`."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._writer: SqliteWriter | None = None
        self._autocommit: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(cast(Any, self._make_session))

    def _make_session(self) -> Session:
        if self._factory is None:
            raise RuntimeError("Database used before bind(); call create_app() or bind(url)")
        return self._factory()

    def bind(self, url: str, **kwargs: Any) -> Database:
        """Connect lazily to ``url`` (no I/O happens until the first query)."""
        if self._engine is not None:
            self.session.remove()
            self._engine.dispose()
        sqlite = url.startswith("sqlite")
        self._engine = make_engine(url, **kwargs)
        # SQLite's connections are in autocommit mode already (see make_engine); set once:
        # options set on each connection cost the dialect a check per transaction
        self._autocommit = (
            self._engine if sqlite else self._engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._factory = sessionmaker(bind=self._engine, expire_on_commit=False)
        if self._writer is not None:
            self._writer.close()
        self._writer = SqliteWriter(url) if sqlite else None
        return self

    @property
    def engine(self) -> Engine:
        """The bound engine."""
        if self._engine is None:
            raise RuntimeError("Database used before bind()")
        return self._engine

    def new_session(self) -> Session:
        """A fresh session not tied to the scoped registry (for jobs and threads)."""
        return self._make_session()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.new_session()
        try:
            with session.begin():
                session.connection(execution_options={IMMEDIATE: True})
                yield session
        finally:
            session.close()

    def hot_writer(self) -> HotWriter:
        """Connections of their own for one hot path's writes (see :class:`HotWriter`)."""
        if self._autocommit is None:
            raise RuntimeError("Database used before bind()")
        return HotWriter(self._autocommit, self._writer)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.session.remove()
        if self._engine is not None:
            self._engine.dispose()
        if self._writer is not None:
            self._writer.close()
