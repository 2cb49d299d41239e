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
    # daily; it trains only when staff made LEARNED_LAYER_MIN_DECISIONS new grouping decisions
    Periodic("retrain-learned-layer", "workers.learning.jobs.retrain_layer", 86400),
)


@dataclass(frozen=True)
class MeetingPeriodic:
    """A job run per meeting: often while it is live, rarely while open, never once closed."""

    name: str
    job: str
    args: tuple[str, ...]
    live_every: int
    open_every: int
    queue: str = "collect"


#: Social collectors, for meetings whose collector settings are enabled. A live run streams or
#: polls for ``COLLECTOR_WINDOW`` seconds under a lock; the 5-second schedule starts the next.
MEETING_JOBS: tuple[MeetingPeriodic, ...] = (
    MeetingPeriodic("collect-x", "intake.social.jobs.collect", ("x",), 5, 300),
    MeetingPeriodic("collect-facebook", "intake.social.jobs.collect", ("facebook",), 5, 300),
)
