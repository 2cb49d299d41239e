"""Inserts on the hottest path (every question's outbox row), with as little Python as it takes.

A question's outbox row is inserted at meeting-night rates, and SQLAlchemy's execution
machinery around one small INSERT costs more CPU than the database's own work (measured on
SQLite: 0.24 ms a row through ``Connection.execute``, 0.15 on the driver's connection, which
the database's own work is 0.04 of). So the statement is compiled once by SQLAlchemy for the
dialect (:class:`PreparedInsert`: the same SQL, the same type conversions) and run on the
driver's connection, kept open between writes (:class:`HotWriter`). Driver errors come back as
SQLAlchemy's own exception classes, so callers see what ``Connection.execute`` would raise.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError

#: Drivers whose connections :class:`PreparedInsert` runs on directly; others go through
#: SQLAlchemy's ``Connection.execute``.
DIRECT_DRIVERS = frozenset({"pysqlite", "psycopg"})


class SqliteWriter:
    """One hot-path writer at a time on a SQLite file, across threads and processes.

    SQLite has one writer at a time. Its busy handler makes a writer that finds the file
    locked sleep 1, 2, 5 … up to 100 ms between tries, so two web processes writing at once
    spend much of a burst asleep. Here this process's threads queue on a lock, then the
    process takes ``flock`` on a file beside the database: the kernel wakes the next writer
    the moment the lock is free. Only for short writes that wait on nothing else
    (:class:`HotWriter`): whoever holds it never waits for another lock.
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


class PreparedInsert:
    """``INSERT INTO table (columns) VALUES (…), (…) RETURNING id``, compiled by SQLAlchemy.

    :meth:`run` inserts rows (mappings of every column in ``columns``) as one statement,
    atomic by itself, and returns their ids in the rows' order. The database may return
    rows in any order, so each is told by ``key``, a unique key of plain values (a repeat
    inside the rows fails the statement on that key, as any repeat does).
    """

    def __init__(
        self, table: Table, columns: Sequence[str], key: Sequence[str], dialect: Dialect
    ) -> None:
        self.table, self.dialect = table, dialect
        self.columns, self.key = tuple(columns), tuple(key)
        self.direct = dialect.driver in DIRECT_DRIVERS
        # the dialect's own conversions (JSON to text, datetimes to SQLite's format …)
        self.processors: tuple[Callable[[Any], Any] | None, ...] = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )
        self._sql: dict[int, tuple[str, tuple[tuple[int, int], ...] | None]] = {}

    def statement(self, count: int) -> Insert:
        """The statement for ``count`` rows; bind ``r<row>_<column>``."""
        table = self.table
        rows = [
            {name: bindparam(_bind(i, name), type_=table.c[name].type) for name in self.columns}
            for i in range(count)
        ]
        return insert(table).values(rows).returning(table.c.id, *(table.c[k] for k in self.key))

    def _compiled(self, count: int) -> tuple[str, tuple[tuple[int, int], ...] | None]:
        """SQL for ``count`` rows, and for positional drivers each parameter's (row, column)."""
        found = self._sql.get(count)
        if found is None:
            compiled = self.statement(count).compile(dialect=self.dialect)
            names = {
                _bind(i, name): (i, j) for i in range(count) for j, name in enumerate(self.columns)
            }
            if set(compiled.binds) != set(names):  # e.g. a column default added a bind
                raise ValueError(f"{self.table.name}: give every column with a default")
            order = None
            if compiled.positional:
                order = tuple(names[n] for n in compiled.positiontup or ())
            found = self._sql[count] = (str(compiled), order)
        return found

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> tuple[str, Any]:
        """The SQL for ``rows`` and their values as the driver takes them."""
        sql, order = self._compiled(len(rows))
        pairs = tuple(zip(self.columns, self.processors, strict=True))
        values = [[row[k] if p is None else p(row[k]) for k, p in pairs] for row in rows]
        if order is not None:
            return sql, tuple(values[i][j] for i, j in order)
        return sql, {
            _bind(i, name): value
            for i, row_values in enumerate(values)
            for name, value in zip(self.columns, row_values, strict=True)
        }

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert ``rows`` with one statement on ``conn`` (in autocommit mode); their ids.

        Raises SQLAlchemy's ``DBAPIError`` subclasses (``IntegrityError`` for a repeat).
        """
        if self.direct:
            driver: Any = conn.connection.driver_connection
            sql, params = self.parameters(rows)
            try:
                returned = driver.execute(sql, params).fetchall()
            except self.dialect.loaded_dbapi.Error as exc:
                raise DBAPIError.instance(
                    sql,
                    None,
                    exc,
                    self.dialect.loaded_dbapi.Error,
                    hide_parameters=True,
                    connection_invalidated=self.dialect.is_disconnect(exc, driver, None),
                    dialect=self.dialect,
                ) from exc
        else:
            with conn.begin():
                returned = conn.execute(self.statement(len(rows)), self._named(rows)).fetchall()
        ids = {tuple(found[1:]): int(found[0]) for found in returned}
        return [ids[tuple(row[k] for k in self.key)] for row in rows]

    def _named(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return {_bind(i, name): row[name] for i, row in enumerate(rows) for name in self.columns}


def _bind(row: int, column: str) -> str:
    """The bind parameter of ``column`` in row ``row`` of a multi-row statement."""
    return f"r{row}_{column}"


class HotWriter:
    """A hot path's own connection, kept open between writes; one caller at a time.

    A write through the pool checks a connection out and back in each time, and on
    PostgreSQL pings it first (``pool_pre_ping``): a round trip per write, about a third of
    an insert's cost. Here the connection stays checked out, in autocommit mode. A connection
    found dead (the database restarted) is replaced and the write tried once more, which is
    safe for what these paths write: an insert that did commit is refused the second time by
    its unique key. On SQLite the writer lock (:class:`SqliteWriter`) is held during each write.
    """

    def __init__(self, autocommit: Engine, lock: SqliteWriter | None) -> None:
        self._engine = autocommit
        self._conn: Connection | None = None
        self._lock = lock

    @property
    def dialect(self) -> Dialect:
        """The database's dialect."""
        return self._engine.dialect

    def prepare(self, table: Table, columns: Sequence[str], key: Sequence[str]) -> PreparedInsert:
        """An insert of ``columns`` into ``table`` (``key``: a unique key) for this database."""
        return PreparedInsert(table, columns, key, self.dialect)

    def insert(self, prepared: PreparedInsert, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert ``rows`` with one statement; their ids, in order."""
        for attempt in (1, 2):
            conn = self.connection()
            try:
                with self.held():
                    return prepared.run(conn, rows)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    raise
                conn.invalidate()
                self.close()
        raise AssertionError("unreachable")

    def connection(self) -> Connection:
        """The open connection (opened again if it was closed or found dead)."""
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self._engine.connect()
        return self._conn

    def held(self) -> AbstractContextManager[None]:
        """The SQLite writer lock, held (nothing to hold on PostgreSQL)."""
        return self._lock.held() if self._lock else nullcontext()

    def close(self) -> None:
        """Give the connection back to the pool."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
