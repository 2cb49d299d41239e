"""SQLAlchemy engine and session handling shared by the web app, workers and CLI."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


IMMEDIATE = "openfloor_sqlite_immediate"
#: Execution option: no BEGIN at all, each statement is its own transaction (SQLite).
AUTOCOMMIT = "openfloor_sqlite_autocommit"

T = TypeVar("T")


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
            options = conn.get_execution_options()
            if options.get(AUTOCOMMIT, False):
                return  # HotWriter.statement(): SQLite commits each statement by itself
            immediate = options.get(IMMEDIATE, False)
            # on the driver's connection: this runs for every transaction, and a statement
            # through SQLAlchemy costs as much again as the insert it precedes
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class SqliteWriter:
    """One hot-path writer at a time on a SQLite file, across threads and processes.

    SQLite has one writer at a time. Its busy handler makes a writer that finds the file
    locked sleep 1, 2, 5 … up to 100 ms between tries, so two web processes writing at once
    spend much of a burst asleep. Here this process's threads queue on a lock, then the
    process takes ``flock`` on a file beside the database: the kernel wakes the next writer
    the moment the lock is free. Only for short transactions that wait on nothing else
    (``Database.write``, ``Database.statement``): whoever holds it never waits for another
    lock.
    """

    def __init__(self, url: str) -> None:
        database = make_url(url).database
        memory = not database or database == ":memory:" or database.startswith("file::memory")
        self.path = None if memory else f"{database}-writelock"
        self._thread = threading.Lock()
        self._fd = -1
        self._pid = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock (this process's threads first, then the processes)."""
        with self._thread:
            fd = self._file()
            if fd < 0:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _file(self) -> int:
        if self.path is None:
            return -1
        if self._pid != os.getpid():  # a forked child must not share its parent's lock
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        """Close the lock file (the lock is free whenever no write is under way)."""
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = -1, 0


class Database:
    """Holds one engine and a scoped session; created unbound, bound by :meth:`bind`."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._writer: SqliteWriter | None = None
        self._immediate: Engine | None = None
        self._one_statement: Engine | None = None
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
        # set once: options set on each connection cost the dialect a check per transaction
        self._immediate = self._engine.execution_options(**{IMMEDIATE: True})
        one = {AUTOCOMMIT: True} if sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._one_statement = self._engine.execution_options(**one)
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
        if self._immediate is None or self._one_statement is None:
            raise RuntimeError("Database used before bind()")
        return HotWriter(self._one_statement, self._immediate, self._writer)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.session.remove()
        if self._engine is not None:
            self._engine.dispose()
        if self._writer is not None:
            self._writer.close()


class HotWriter:
    """A hot path's own connections, kept open between writes; one caller at a time.

    A write through the pool checks a connection out and back in each time, and on
    PostgreSQL pings it first (``pool_pre_ping``): a round trip per write, about a third of
    an insert's cost. Here the connections stay checked out. A connection found dead (the
    database restarted) is replaced and the write tried once more, which is safe for what
    these paths write: an insert that did commit is refused the second time by its unique key.
    On SQLite the writer lock (:class:`SqliteWriter`) is held during each write.
    """

    def __init__(self, one_statement: Engine, immediate: Engine, lock: SqliteWriter | None) -> None:
        self._engines = {True: one_statement, False: immediate}
        self._conns: dict[bool, Connection] = {}
        self._lock = lock

    def statement(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` where each statement is a transaction of its own: no BEGIN, no COMMIT.

        Not for a statement of many rows: SQLAlchemy may send it as one statement per row.
        """
        return self._run(work, one_statement=True)

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """``work(conn)`` in one write transaction, committed on success."""
        return self._run(work, one_statement=False)

    def _run(self, work: Callable[[Connection], T], *, one_statement: bool) -> T:
        for attempt in (1, 2):
            conn = self._conns.get(one_statement)
            if conn is None or conn.invalidated or conn.closed:
                conn = self._conns[one_statement] = self._engines[one_statement].connect()
            try:
                with self._lock.held() if self._lock else nullcontext(), conn.begin():
                    return work(conn)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise
                self._conns.pop(one_statement).close()
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Give the connections back to the pool."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
