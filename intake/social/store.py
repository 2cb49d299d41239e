"""Collected items into the outbox, with the collector's checkpoint in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import CollectorState, Meeting
from domain.runtime import Runtime
from intake import outbox
from intake.social.items import Collected, to_message

log = logging.getLogger(__name__)
#: Seconds between health writes while polls find nothing new.
HEALTH_EVERY = 10


def state_row(session: Session, meeting_id: int, source: str) -> CollectorState:
    """The collector's state row, created on first use."""
    row = _find(session, meeting_id, source)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = CollectorState(meeting_id=meeting_id, source=source, checkpoint={})
            session.add(row)
    except IntegrityError:
        row = _find(session, meeting_id, source)
        if row is None:
            raise
    return row


def _find(session: Session, meeting_id: int, source: str) -> CollectorState | None:
    return session.scalar(
        select(CollectorState).where(
            CollectorState.meeting_id == meeting_id, CollectorState.source == source
        )
    )


def load_checkpoint(rt: Runtime, meeting_id: int, source: str) -> dict[str, Any]:
    """The durable checkpoint (a copy) of one collector."""
    with rt.db.transaction() as session:
        return dict(state_row(session, meeting_id, source).checkpoint or {})


def save(
    rt: Runtime,
    meeting_id: int,
    source: str,
    items: Sequence[Collected],
    checkpoint: dict[str, Any] | None,
) -> int:
    """Record ``items`` in the outbox and the new checkpoint, atomically; relay at once.

    Returns how many items were new. An item seen before (overlapping pages, the stream and
    the catch-up poll both delivering it) is recognised by (channel, external id).
    """
    new_ids: list[int] = []
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            raise LookupError(f"meeting {meeting_id} does not exist")
        for item in items:
            message = to_message(meeting, item)
            if message is None:
                continue
            row, created = outbox.record(session, message)
            if created:
                new_ids.append(row.id)
        state = state_row(session, meeting_id, source)
        if checkpoint is not None and checkpoint != state.checkpoint:
            state.checkpoint = checkpoint
        state.items_collected += len(new_ids)
        if new_ids or _stale(state):  # an empty poll writes nothing unless health needs it
            _mark_success(state)
    if new_ids:
        outbox.relay(rt, ids=new_ids)
        log.info("meeting %s: %s collected %d new item(s)", meeting_id, source, len(new_ids))
    return len(new_ids)


def _stale(state: CollectorState) -> bool:
    last = state.last_success_at
    if last is None or state.failing_since is not None or state.last_error:
        return True
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return datetime.now(UTC) - last > timedelta(seconds=HEALTH_EVERY)


def _mark_success(state: CollectorState) -> None:
    state.last_success_at = datetime.now(UTC)
    state.failing_since = None
    state.last_error = ""


def mark_failure(
    rt: Runtime, meeting_id: int, source: str, error: str, *, limited_until: datetime | None = None
) -> None:
    """Record a failed poll (the message must carry no personal data: status codes, kinds)."""
    with rt.db.transaction() as session:
        state = state_row(session, meeting_id, source)
        if state.failing_since is None:
            state.failing_since = datetime.now(UTC)
        state.last_error = error[:300]
        if limited_until is not None:
            state.rate_limited_until = limited_until
    log.warning("meeting %s: %s collector: %s", meeting_id, source, error)


def limited_for(rt: Runtime, meeting_id: int, source: str) -> float:
    """Seconds left of a rate limit the platform announced (0 when polling may go ahead)."""
    with rt.db.transaction() as session:
        until = state_row(session, meeting_id, source).rate_limited_until
    if until is None:
        return 0.0
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    return max(0.0, (until - datetime.now(UTC)).total_seconds())


def mark_rate_limited(rt: Runtime, meeting_id: int, source: str, until: datetime) -> None:
    """A rate limit is not a failure: record when polling may resume."""
    with rt.db.transaction() as session:
        state_row(session, meeting_id, source).rate_limited_until = until
    log.info("meeting %s: %s rate limited until %s", meeting_id, source, until.isoformat())
