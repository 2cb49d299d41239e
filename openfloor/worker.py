"""The RQ worker process: one runtime, models loaded once, jobs run in-process."""

from __future__ import annotations

import logging

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from domain.queue import INGEST_QUEUE, MAINTENANCE_QUEUE, PIPELINE_QUEUE, queue
from domain.runtime import Runtime

log = logging.getLogger(__name__)
ALL_QUEUES = [INGEST_QUEUE, PIPELINE_QUEUE, MAINTENANCE_QUEUE]


def run_worker(rt: Runtime, *, burst: bool = False, queues: list[str] | None = None) -> bool:
    """Work the queues until stopped (or empty, with ``burst``).

    SimpleWorker runs jobs in this process rather than a fork per job: the embedding model and
    the per-meeting indexes stay warm, which is what makes batch throughput possible. Jobs are
    idempotent, so a crash mid-job only means a retry.
    """
    logging.basicConfig(level=rt.settings.log_level)
    from workers.warmup import warm_up

    warm_up()
    qs = [queue(rt.redis, rt.prefix, name) for name in (queues or ALL_QUEUES)]
    w = SimpleWorker(qs, connection=rt.redis, serializer=JSONSerializer)
    return bool(w.work(burst=burst, with_scheduler=True, logging_level=rt.settings.log_level))
