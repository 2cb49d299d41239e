"""What the staff board shows about the social collectors of a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import CollectorState, Meeting, MeetingStatus

#: A collector failing this long while the meeting is live puts a banner on the board.
ALERT_AFTER = timedelta(minutes=1)
LABELS = {"x": "X (Twitter)", "facebook": "Facebook"}


@dataclass(frozen=True)
class Health:
    """One collector's health, ready for a template."""

    source: str
    label: str
    last_success_at: datetime | None
    items_collected: int
    last_error: str
    failing_since: datetime | None
    rate_limited_until: datetime | None
    alert: bool


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def collector_health(session: Session, meeting: Meeting) -> list[Health]:
    """Every collector that has run for ``meeting``, with ``alert`` set when it needs a person."""
    now = datetime.now(UTC)
    rows = session.scalars(
        select(CollectorState)
        .where(CollectorState.meeting_id == meeting.id)
        .order_by(CollectorState.source)
    ).all()
    out = []
    for row in rows:
        failing = _utc(row.failing_since)
        limited = _utc(row.rate_limited_until)
        alert = (
            meeting.status == MeetingStatus.LIVE
            and failing is not None
            and now - failing >= ALERT_AFTER
        )
        out.append(
            Health(
                source=row.source,
                label=LABELS.get(row.source, row.source),
                last_success_at=_utc(row.last_success_at),
                items_collected=row.items_collected,
                last_error=row.last_error,
                failing_since=failing,
                rate_limited_until=limited if limited and limited > now else None,
                alert=alert,
            )
        )
    return out
