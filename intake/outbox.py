"""Transactional outbox: a submission is durable before the sender sees a confirmation.

``record`` adds the message in the caller's transaction; ``relay`` pushes unsent messages to
Redis afterwards (straight after the request, and again from the scheduler), so a Redis
outage delays questions but never loses them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import OutboxMessage
from domain.queue import SubmissionMessage, push
from domain.runtime import Runtime

log = logging.getLogger(__name__)


def record(session: Session, message: SubmissionMessage) -> tuple[OutboxMessage, bool]:
    """Store ``message`` in the outbox; returns (row, created). A repeat returns the first row."""
    existing = find(session, message.channel, message.external_id)
    if existing is not None:
        return existing, False
    row = OutboxMessage(
        channel=message.channel,
        external_id=message.external_id,
        job_id=message.job_id,
        payload=message.to_dict(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        again = find(session, message.channel, message.external_id)
        if again is None:
            raise
        return again, False
    return row, True


def find(session: Session, channel: str, external_id: str) -> OutboxMessage | None:
    """The outbox row for (channel, external id), if any."""
    return session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.external_id == external_id
        )
    )


def relay(rt: Runtime, ids: list[int] | None = None, limit: int = 500) -> int:
    """Push unsent outbox messages to the queue; returns how many were sent.

    Stops quietly at the first Redis error: the rows stay unsent for the next attempt.
    """
    sent = 0
    with rt.db.transaction() as session:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.relayed_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if ids is not None:
            stmt = stmt.where(OutboxMessage.id.in_(ids))
        for row in session.scalars(stmt):
            row.attempts += 1
            try:
                push(rt.redis, rt.prefix, SubmissionMessage.from_dict(dict(row.payload)))
            except RedisError as exc:
                log.warning("queue unavailable, outbox message %s kept for retry: %s", row.id, exc)
                break
            row.relayed_at = datetime.now(UTC)
            sent += 1
    return sent
