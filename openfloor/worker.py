"""The RQ worker process: one runtime, models loaded once, jobs run in-process."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq import SimpleWorker, Worker
from rq.exceptions import StopRequested
from rq.serializers import JSONSerializer

from domain.queue import (
    ANSWERS_QUEUE,
    COLLECT_QUEUE,
    INGEST_QUEUE,
    MAINTENANCE_QUEUE,
    PIPELINE_QUEUE,
    queue,
)
from domain.runtime import Runtime
from workers.recovery import reap_dead_workers

log = logging.getLogger(__name__)
ALL_QUEUES = [INGEST_QUEUE, PIPELINE_QUEUE, ANSWERS_QUEUE, MAINTENANCE_QUEUE]


class _Worker(SimpleWorker):
    """A SimpleWorker that remembers whether a signal asked it to stop.

    RQ's loop also ends, without raising, after an unexpected error of its own (a heartbeat
    meeting a Redis that is restarting); only a signal is a reason to leave ``run_worker``.
    """

    stop_signalled = False

    def request_stop(self, signum: int, frame: object) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)


def run_worker(rt: Runtime, *, burst: bool = False, queues: list[str] | None = None) -> bool:
    """Work the queues until stopped (or empty, with ``burst``).

    SimpleWorker runs jobs in this process rather than a fork per job: the embedding model and
    the per-meeting indexes stay warm, which is what makes batch throughput possible. Jobs are
    idempotent, so a crash mid-job only means a retry.
    """
    logging.basicConfig(level=rt.settings.log_level)
    from workers.warmup import warm_up

    if queues != [COLLECT_QUEUE]:  # a collector worker needs no embedding model
        warm_up()
    delay = 0.5
    w: _Worker | None = None
    try:
        while True:
            started = time.monotonic()
            try:
                qs = [queue(rt.redis, rt.prefix, name) for name in (queues or ALL_QUEUES)]
                w = _Worker(qs, connection=rt.redis, serializer=JSONSerializer)  # connects
                # a worker restarted after a crash first hands back what its predecessor held
                reap_dead_workers(rt.redis, rt.prefix, me=w.name)
                # RQ logs two lines per job at INFO; only its warnings are worth a terminal.
                worked = w.work(burst=burst, with_scheduler=True, logging_level="WARNING")
                if burst or w.stop_signalled:
                    return bool(worked)
                log.warning("RQ's loop ended on an error (above); starting again in %.1fs", delay)
            except RedisError as exc:
                if w is not None and w.stop_signalled:
                    # told to stop while Redis was away: RQ's goodbye to Redis failed
                    log.warning("stopped with Redis unreachable (%s)", exc)
                    return False
                # Redis restarting (or a failover) must not take the worker down: queued jobs
                # are safe in Redis's append-only file, and the outbox keeps what never got
                # there.
                log.warning("lost Redis (%s); reconnecting in %.1fs", exc, delay)
            time.sleep(delay)
            # back off while failures follow each other; a worker that ran a while starts afresh
            delay = 0.5 if time.monotonic() - started > 60 else min(delay * 2, 10.0)
    except StopRequested:
        # a signal between two of RQ's loops, met by the last loop's handler (still set)
        log.warning("stopped while waiting for Redis")
        return False


def healthy_workers_here(rt: Runtime, max_age: int) -> int:
    """How many RQ workers on this host sent a heartbeat in the last ``max_age`` seconds."""
    cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
    host = socket.gethostname()
    count = 0
    for w in Worker.all(connection=rt.redis):
        beat = w.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        if w.hostname == host and beat is not None and beat >= cutoff:
            count += 1
    return count
