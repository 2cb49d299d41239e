"""The per-meeting pipeline lock: short-lived and renewed while a batch runs.

A worker that dies (``kill -9``) stops renewing, so its lock frees itself within one lifetime
(``PIPELINE_LOCK_SECONDS``, default 15 s) instead of holding the meeting's questions back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError, RedisError
from redis.lock import Lock
from rq import get_current_job

from domain.runtime import Runtime

log = logging.getLogger(__name__)


@contextmanager
def pipeline_lock(rt: Runtime, meeting_id: int) -> Iterator[Lock]:
    """Hold the meeting's pipeline lock, renewing it until the block ends.

    Waits at most one lock lifetime (plus a margin) and never more than half the running
    job's timeout; a busy pipeline then raises, and the stalled-meeting sweep runs it again.
    """
    ttl = rt.settings.pipeline_lock_seconds
    job = get_current_job()
    wait = float(ttl + 5)
    if job is not None and job.timeout and job.timeout > 0:
        wait = min(wait, job.timeout / 2)
    lock = rt.redis.lock(
        f"{rt.prefix}:pipeline-lock:{meeting_id}",
        timeout=ttl,
        blocking_timeout=wait,
        thread_local=False,  # the renewing thread uses the same token
    )
    if not lock.acquire():
        raise TimeoutError(f"meeting {meeting_id} pipeline is busy")
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(lock, ttl, stop), daemon=True)
    renewer.start()
    try:
        yield lock
    finally:
        stop.set()
        renewer.join()
        try:
            lock.release()
        except LockError:
            log.warning("meeting %s: pipeline lock had expired before release", meeting_id)


def _renew(lock: Lock, ttl: int, stop: threading.Event) -> None:
    while not stop.wait(ttl / 3):
        try:
            lock.reacquire()
        except LockError:
            log.warning("pipeline lock lost while a batch ran")
            return
        except RedisError as exc:
            log.warning("could not renew the pipeline lock: %s", exc)
