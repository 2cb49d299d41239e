"""What one collector run needs: the runtime, the meeting's settings and a stop signal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from domain.models import CollectorSettings, Meeting, MeetingStatus
from domain.runtime import Runtime
from intake.social import store
from intake.social.backoff import RateLimited


@dataclass
class Run:
    """A collector run for one meeting; ``should_stop`` ends a live loop (deadline, closing)."""

    rt: Runtime
    meeting_id: int
    source: str
    hashtag: str
    settings: CollectorSettings
    should_stop: Callable[[], bool]

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` in small steps; True if asked to stop meanwhile."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.should_stop():
                return True
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        return self.should_stop()

    def rate_limited(self, exc: RateLimited) -> bool:
        """Record the limit and wait it out; True if asked to stop meanwhile."""
        store.mark_rate_limited(self.rt, self.meeting_id, self.source, exc.until)
        return self.wait((exc.until - datetime.now(UTC)).total_seconds() + 0.5)


def meeting_status(rt: Runtime, meeting_id: int) -> MeetingStatus | None:
    """The meeting's current status (None if it is gone)."""
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        return meeting.status if meeting is not None else None


def load_run(
    rt: Runtime, meeting_id: int, source: str, should_stop: Callable[[], bool]
) -> Run | None:
    """The run's context, or None when the meeting has no enabled collector settings."""
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        settings = session.scalar(
            select(CollectorSettings).where(CollectorSettings.meeting_id == meeting_id)
        )
        if meeting is None or settings is None or not settings.enabled:
            return None
        session.expunge(settings)
        hashtag = meeting.hashtag
    return Run(rt, meeting_id, source, hashtag, settings, should_stop)
