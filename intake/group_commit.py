"""Outbox rows of concurrent requests committed together (group commit), in this process.

A request adds its row to the waiting list. If nobody is committing, it leads: it commits
every row waiting at that moment in one statement and one transaction, wakes their requests
and hands the lead on (see :class:`GroupCommit`); otherwise it sleeps until its row is done.
Alone, a request commits its own row with no thread hand-over, as one INSERT that is its own
transaction (no BEGIN, no COMMIT); in a burst, one commit serves many questions, and on
SQLite the writers of a process no longer take the file's lock one by one. The group keeps
its own connection open and runs a statement compiled once on the driver's connection
(``domain.hot_writer``): no pool checkout, no ping per commit on PostgreSQL, and little
Python per row. The sender is told "received" only after the commit of its row. A repeat
(the unique key) fails only its own request: the batch is then committed again row by row.
"""

from __future__ import annotations

import os
import threading
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from domain.models import OutboxMessage
from domain.runtime import Runtime

#: Rows of one statement (SQLite allows 32,766 parameters; a row has 7).
MAX_ROWS = 200
#: The columns of an outbox row a request gives (the id is the database's).
COLUMNS = ("channel", "external_id", "job_id", "payload", "created_at", "relayed_at", "attempts")
#: The unique key that tells the inserted rows apart (and refuses a repeat).
KEY = ("channel", "external_id")


class _Pending:
    """One request's row, what became of it, and the lock its thread sleeps on meanwhile."""

    __slots__ = ("done", "error", "params", "row_id", "wake")

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.done = False
        self.row_id = 0
        self.error: Exception | None = None
        # held from the start; released once: when the row is done, or to make its thread lead
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommit:
    """The waiting rows of one database, and who commits them (the leader).

    The first request to arrive when nobody leads becomes the leader: it commits everything
    waiting, its own row included, in one transaction, and wakes each request whose row
    that was. Then it hands the lead to the oldest request still waiting, if any, and
    answers its own sender: no request waits for more than its own batch and the one before.
    """

    def __init__(self, rt: Runtime) -> None:
        self.waiting: list[_Pending] = []
        self.leading = False
        self.lock = threading.Lock()  # guards ``waiting`` and ``leading``
        self.committer = threading.Lock()  # held while committing (``_forget`` waits on it)
        self.writer = rt.db.hot_writer()  # used only by the leader
        self.prepared = self.writer.prepare(cast(Table, OutboxMessage.__table__), COLUMNS, KEY)

    def insert(self, params: dict[str, Any]) -> int:
        """Commit one outbox row (column values) with the rows of concurrent requests.

        Returns its id once committed. Raises what the database raised for it: an
        ``IntegrityError`` for a repeat, an ``OperationalError`` when the database is away.
        """
        mine = _Pending(params)
        with self.lock:
            self.waiting.append(mine)
            follow, self.leading = self.leading, True
        if follow:
            mine.wake.acquire()  # until a leader committed the row, or handed this thread the lead
        if not mine.done:
            self._lead(mine)
        if mine.error is not None:
            raise mine.error
        return mine.row_id

    def _lead(self, mine: _Pending) -> None:
        with self.committer:
            while not mine.done:  # more than once only behind a backlog of MAX_ROWS rows
                with self.lock:
                    batch, self.waiting = self.waiting[:MAX_ROWS], self.waiting[MAX_ROWS:]
                self._commit(batch)
        with self.lock:
            if self.waiting:
                self.waiting[0].wake.release()  # the next leader; ``leading`` stays true
            else:
                self.leading = False

    def _commit(self, batch: list[_Pending]) -> None:
        """Insert ``batch`` with one statement; on a repeat, row by row. Never raises."""
        try:
            ids = self.writer.insert(self.prepared, [p.params for p in batch])
            for pending, row_id in zip(batch, ids, strict=True):
                pending.row_id = int(row_id)
        except IntegrityError as exc:
            if len(batch) == 1:
                _finish(batch, error=exc)
            else:
                for pending in batch:
                    self._commit([pending])
            return
        except Exception as exc:  # the database is away: every request hears of it
            _finish(batch, error=exc)
            return
        _finish(batch)


def insert_row(rt: Runtime, params: dict[str, Any]) -> int:
    """Commit one outbox row with those of concurrent requests (see :meth:`GroupCommit.insert`)."""
    key = (id(rt), os.getpid())  # a forked process starts with locks of its own
    group = _groups.get(key)
    if group is None:
        with _lock:
            group = _groups.get(key)
            if group is None:
                group = _groups[key] = GroupCommit(rt)
                rt.on_close.append(lambda: _forget(key))
    return group.insert(params)


def _forget(key: tuple[int, int]) -> None:
    group = _groups.pop(key, None)
    if group is not None:
        with group.committer:
            group.writer.close()


_groups: dict[tuple[int, int], GroupCommit] = {}
_lock = threading.Lock()


def _finish(batch: list[_Pending], error: Exception | None = None) -> None:
    for pending in batch:
        pending.error = error
        pending.done = True
        pending.wake.release()
