"""Periodic jobs, declared as data; `openfloor scheduler` enqueues each one on its interval."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    """A job path and how often (seconds) it runs."""

    name: str
    job: str
    interval: int
    queue: str = "maintenance"


PERIODIC_JOBS: tuple[Periodic, ...] = (
    Periodic("requeue-stalled", "workers.maintenance.requeue_stalled", 30),
    Periodic("purge-outbox", "workers.maintenance.purge_outbox", 3600),
    Periodic("erase-expired-personal-data", "workers.maintenance.erase_expired", 3600),
    Periodic("recover-answer-sends", "workers.answers.recover_sends", 60),
)
