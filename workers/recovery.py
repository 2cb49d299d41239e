"""Jobs abandoned by a worker that died (``kill -9``, out of memory) go back to their queue.

RQ itself notices an abandoned job only when its started-registry entry expires (the job's
timeout plus a minute) and a worker runs its ten-minute maintenance. On meeting night that is
too late: a worker whose process is gone is recognised at once, on its own host, by its pid.
"""

from __future__ import annotations

import logging
import os
import socket

from redis import Redis
from rq import Worker
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker

from domain.queue import INGEST_QUEUE, MAINTENANCE_QUEUE, PIPELINE_QUEUE, queue

log = logging.getLogger(__name__)


def reap_dead_workers(redis: Redis, prefix: str, me: str | None = None) -> int:
    """Hand back the jobs of dead workers on this host; returns how many jobs.

    ``me`` is the calling worker's name: another registration with this process's pid is
    a previous worker whose pid was reused (a restarted container), so it is dead too.
    An abandoned job is retried if it has retries left and failed otherwise (RQ's own
    handling), where the outbox re-relay and the stalled-meeting sweep pick it up.
    """
    dead = [w for w in Worker.all(connection=redis) if _dead_here(w, me)]
    if not dead:
        return 0
    names = {w.name for w in dead}
    handed_back = 0
    for name in (INGEST_QUEUE, PIPELINE_QUEUE, MAINTENANCE_QUEUE):
        q = queue(redis, prefix, name)
        registry = StartedJobRegistry(queue=q, serializer=JSONSerializer)
        expired: dict[bytes, int] = {}
        members: list[bytes] = list(redis.zrange(registry.key, 0, -1))  # type: ignore[arg-type]
        for member in members:
            text = member.decode()
            job_id = registry.parse_job_id(text)
            job = q.fetch_job(job_id)
            if job is None or job.worker_name in names:
                expired[member] = 0  # RQ treats an entry past its score as abandoned
        if expired:
            redis.zadd(registry.key, expired, xx=True)
            registry.cleanup()
            handed_back += len(expired)
    for w in dead:
        w.register_death()
    log.warning("reaped %d dead worker(s); %d abandoned job(s) handed back", len(dead), handed_back)
    return handed_back


def _dead_here(worker: BaseWorker, me: str | None) -> bool:
    if worker.hostname != socket.gethostname() or worker.name == me or worker.pid is None:
        return False
    if worker.pid == os.getpid():
        return me is not None
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
