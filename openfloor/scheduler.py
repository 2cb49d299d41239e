"""The scheduler process: relays the outbox and enqueues periodic jobs on their interval."""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from domain.models import CollectorSettings, Meeting, MeetingStatus
from domain.queue import queue
from domain.runtime import Runtime
from intake.outbox import relay, rerelay
from workers.periodic import MEETING_JOBS, PERIODIC_JOBS

log = logging.getLogger(__name__)


def tick(rt: Runtime) -> int:
    """One round: relay unsent (and lost) questions, then enqueue every periodic job due."""
    sent = relay(rt)
    sent += rerelay(rt)
    for job in PERIODIC_JOBS:
        # SET NX with the interval as TTL: several schedulers still enqueue a job once per period
        if rt.redis.set(f"{rt.prefix}:periodic:{job.name}", "1", nx=True, ex=job.interval):
            queue(rt.redis, rt.prefix, job.queue).enqueue(job.job, result_ttl=600)
    for meeting_id, status in collecting_meetings(rt):
        for mjob in MEETING_JOBS:
            every = mjob.live_every if status == MeetingStatus.LIVE else mjob.open_every
            key = f"{rt.prefix}:periodic:{mjob.name}:{meeting_id}"
            if rt.redis.set(key, "1", nx=True, ex=every):
                queue(rt.redis, rt.prefix, mjob.queue).enqueue(
                    mjob.job, meeting_id, *mjob.args, result_ttl=600, failure_ttl=3600
                )
    return sent


def collecting_meetings(rt: Runtime) -> list[tuple[int, MeetingStatus]]:
    """Meetings open or live whose collectors are enabled (closed ones are never polled)."""
    with rt.db.transaction() as session:
        rows = session.execute(
            select(Meeting.id, Meeting.status)
            .join(CollectorSettings, CollectorSettings.meeting_id == Meeting.id)
            .where(
                CollectorSettings.enabled,
                Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]),
            )
        ).all()
    return [(int(mid), MeetingStatus(st)) for mid, st in rows]


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
