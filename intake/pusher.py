"""Questions from the outbox to the queue, off the request: a pusher thread per process.

A request commits its outbox row (marked as sent), hands the message to this process's
pusher thread through an in-memory queue (:func:`send`, no I/O) and answers. The thread
enqueues what has gathered as RQ jobs (:func:`push_batch`; a burst becomes batch jobs), so
building jobs costs the request nothing and is shared by the questions of a burst.

Nothing is lost on the way: if the jobs cannot be enqueued, the rows are handed back to the
scheduler's relay (``relayed_at`` cleared); if the process dies holding messages (killed, or
Redis losing its last writes), the outbox re-relay sends them again after
``RELAY_RECHECK_SECONDS``, since their submissions never appear. A process that exits
normally pushes what it holds first.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from domain.queue import BATCH_SIZE, SubmissionMessage, push_many
from domain.runtime import Runtime
from intake.outbox import hand_back

log = logging.getLogger(__name__)

#: After the first message, the thread waits this long for others to join its batch.
LINGER_SECONDS = 0.01
#: How long one wait lasts before the thread checks whether it should stop.
WAIT_SECONDS = 1.0

_lock = threading.Lock()
_threads: dict[int, _Pusher] = {}


def send(rt: Runtime, row_id: int, message: SubmissionMessage) -> None:
    """Hand a message committed by ``outbox.store`` to this process's pusher thread."""
    _pusher(rt).inbox.put((row_id, message))


def push_batch(
    rt: Runtime, batch: list[tuple[int, SubmissionMessage]], redis: Redis | None = None
) -> int:
    """Enqueue messages as jobs; on a Redis error hand their rows back to the relay.

    Returns how many were enqueued.
    """
    try:
        push_many(redis or rt.redis, rt.prefix, [m for _, m in batch], fresh=True)
    except RedisError as exc:
        ids = [row_id for row_id, _ in batch]
        log.warning("queue unavailable, %d outbox message(s) kept for retry: %s", len(ids), exc)
        hand_back(rt, ids)
        return 0
    return len(batch)


class _Pusher(threading.Thread):
    """Takes the messages of one runtime from its inbox and enqueues them."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(name="outbox-pusher", daemon=True)
        self.rt = rt
        self.pid = os.getpid()
        self.inbox: queue.SimpleQueue[tuple[int, SubmissionMessage] | None] = queue.SimpleQueue()
        # a client of its own: the runtime's may be closed while this one still pushes
        self.redis = Redis.from_url(rt.redis_url, socket_timeout=10, socket_connect_timeout=3)

    def run(self) -> None:
        try:
            while True:
                try:
                    first = self.inbox.get(timeout=WAIT_SECONDS)
                except queue.Empty:
                    continue
                if first is None:  # stop: push what is left and end
                    self.flush([], drain=True)
                    return
                # Every batch gathers for a while, not only the first of a burst: a push
                # costs about as much for one message as for ten, so pushing at once what
                # arrived during the last push would spend most of the thread's time on
                # batches of one or two.
                time.sleep(LINGER_SECONDS)
                self.flush([first])
        finally:
            self.redis.close()

    def flush(self, batch: list[tuple[int, SubmissionMessage]], *, drain: bool = False) -> None:
        """Push ``batch`` and what else waits, a batch job's worth at a time.

        Pushes again while a full batch waits; ``drain``: until nothing is left.
        """
        while True:
            while len(batch) < BATCH_SIZE:
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.inbox.put(None)  # for run(), after this batch
                    break
                batch.append(item)
            if not batch:
                return
            full = len(batch) == BATCH_SIZE
            try:
                push_batch(self.rt, batch, self.redis)
            except SQLAlchemyError as exc:
                # Redis and the database both away: the re-relay has these rows
                log.warning("outbox pusher: %s; left to the re-relay", type(exc).__name__)
            if not (full or drain):
                return  # the rest gathers during the next linger
            batch = []


def _pusher(rt: Runtime) -> _Pusher:
    pusher = _threads.get(id(rt))
    if pusher is not None and pusher.pid == os.getpid() and pusher.is_alive():
        return pusher
    with _lock:
        pusher = _threads.get(id(rt))
        if pusher is None or pusher.pid != os.getpid() or not pusher.is_alive():
            pusher = _threads[id(rt)] = _Pusher(rt)
            pusher.start()
            rt.on_close.append(lambda: _stop(rt, pusher))
        return pusher


def _stop(rt: Runtime, pusher: _Pusher) -> None:
    """The thread pushes what is left and ends."""
    pusher.inbox.put(None)
    pusher.join(timeout=10)
    with _lock:
        if _threads.get(id(rt)) is pusher:
            del _threads[id(rt)]


@atexit.register
def _flush_all() -> None:
    for pusher in list(_threads.values()):
        if pusher.pid == os.getpid() and pusher.is_alive():
            pusher.inbox.put(None)
            pusher.join(timeout=10)
