"""The API's view of meetings: each web process trusts a meeting's status for a second.

Every API question needs its meeting's status (open, live or closed: whether it is taken,
and as an advance or a live question). Reading it from the database per question was a
fifth of the API's cost, and the status changes a few times a meeting. A change made in this
process (staff opening, going live, closing) empties the cache at once; one made in another
process is seen within :data:`CACHE_SECONDS` — a question sent in the second after a meeting
closes may still be taken, as one sent the second before would have been.
"""

from __future__ import annotations

import threading
import time
import weakref

from sqlalchemy import bindparam, event, select

from domain.db import Database
from domain.models import Meeting, MeetingState, MeetingStatus

#: How long a status read from the database is trusted.
CACHE_SECONDS = 1.0
#: Beyond this many meetings the cache starts again (ids come from URLs).
MAX_MEETINGS = 1024

_SELECT = select(Meeting.id, Meeting.status).where(Meeting.id == bindparam("meeting_id"))
_caches: weakref.WeakSet[MeetingStates] = weakref.WeakSet()


class MeetingStates:
    """Meeting statuses read from one database, each kept :data:`CACHE_SECONDS`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = threading.Lock()
        self.known: dict[int, tuple[float, MeetingState | None]] = {}
        _caches.add(self)

    def get(self, meeting_id: int) -> MeetingState | None:
        """The meeting's id and status, or None if there is no such meeting."""
        now = time.monotonic()
        hit = self.known.get(meeting_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self.db.engine.connect() as conn:
            row = conn.execute(_SELECT, {"meeting_id": meeting_id}).first()
        state = MeetingState(id=row.id, status=MeetingStatus(row.status)) if row else None
        with self.lock:
            if len(self.known) >= MAX_MEETINGS:
                self.known.clear()
            self.known[meeting_id] = (now + CACHE_SECONDS, state)
        return state

    def clear(self) -> None:
        """Forget every status (one has changed in this process)."""
        with self.lock:
            self.known.clear()


@event.listens_for(Meeting.status, "set")
def _status_changed(*_args: object) -> None:
    for cache in list(_caches):
        cache.clear()
