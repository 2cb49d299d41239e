"""The scheduler process: relays the outbox and enqueues periodic jobs on their interval."""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from domain.queue import queue
from domain.runtime import Runtime
from intake.outbox import relay, rerelay
from workers.periodic import PERIODIC_JOBS

log = logging.getLogger(__name__)


def tick(rt: Runtime) -> int:
    """One round: relay unsent (and lost) questions, then enqueue every periodic job due."""
    sent = relay(rt)
    sent += rerelay(rt)
    for job in PERIODIC_JOBS:
        # SET NX with the interval as TTL: several schedulers still enqueue a job once per period
        if rt.redis.set(f"{rt.prefix}:periodic:{job.name}", "1", nx=True, ex=job.interval):
            queue(rt.redis, rt.prefix, job.queue).enqueue(job.job, result_ttl=600)
    return sent


def run_scheduler(rt: Runtime, *, once: bool = False) -> None:
    """Loop forever (or once); survives Redis and database outages by retrying."""
    logging.basicConfig(level=rt.settings.log_level)
    while True:
        try:
            sent = tick(rt)
            if sent:
                log.info("relayed %d queued question(s)", sent)
        except (RedisError, SQLAlchemyError) as exc:
            log.warning("scheduler round failed, will retry: %s", exc)
        if once:
            return
        time.sleep(rt.settings.relay_interval)
