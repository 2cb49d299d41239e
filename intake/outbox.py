"""Transactional outbox: a submission is durable before the sender sees a confirmation.

``record`` adds the message in the caller's transaction; ``relay`` pushes unsent messages to
Redis afterwards (straight after the request, and again from the scheduler), so a Redis
outage delays questions but never loses them. A relayed message that has still not become a
submission after ``relay_recheck_seconds`` (its job died with a worker, or with a Redis that
lost its last writes) is relayed again by ``rerelay``; the job id and the submission's unique
key make that harmless.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from domain.models import OutboxMessage, Submission
from domain.queue import BATCH_SIZE, SubmissionMessage, push_many, repush
from domain.runtime import Runtime
from intake.group_commit import insert_row

log = logging.getLogger(__name__)
#: Re-relays of one message before it is left to an operator (a meeting deleted, say).
MAX_ATTEMPTS = 20


def record(session: Session, message: SubmissionMessage) -> tuple[OutboxMessage, bool]:
    """Store ``message`` in the outbox for the relay; returns (row, created).

    A repeat returns the first row. In the caller's transaction (channels that store more
    than the message at once); a single question's fast path is :func:`store`.
    """
    # insert first: a repeat is rare, and the unique key finds it without a query per question
    row = OutboxMessage(
        channel=message.channel,
        external_id=message.external_id,
        job_id=message.job_id,
        payload=message.to_dict(),
        relayed_at=None,
        attempts=0,
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


def store(rt: Runtime, message: SubmissionMessage) -> tuple[int, str, bool]:
    """Commit ``message`` to the outbox as being sent; returns (row id, reference, created).

    The hot path of every intake channel: the row is committed together with those of
    concurrent requests of this process (``intake.group_commit``), with no ORM unit of work.
    A repeat of (channel, external id) is refused by the unique key and answered with the
    first row. The caller hands the message to the queue straight after
    (``intake.pusher.send``); should the process die first, the re-relay sends it later.
    """
    now = datetime.now(UTC)
    try:
        row_id = insert_row(
            rt,
            {
                "channel": message.channel,
                "external_id": message.external_id,
                "job_id": message.job_id,
                "payload": message.to_dict(),
                "created_at": now,
                "relayed_at": now,
                "attempts": 1,
            },
        )
        return row_id, message.reference, True
    except IntegrityError:
        with rt.db.transaction() as session:
            first = find(session, message.channel, message.external_id)
            if first is None:
                raise
            return first.id, str(first.payload["reference"]), False


def hand_back(rt: Runtime, ids: list[int]) -> None:
    """Give rows stored as sent back to the scheduler's relay (their push failed)."""
    if ids:
        with rt.db.transaction() as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(relayed_at=None)
            )


def find(session: Session, channel: str, external_id: str) -> OutboxMessage | None:
    """The outbox row for (channel, external id), if any."""
    return session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == channel, OutboxMessage.external_id == external_id
        )
    )


def relay(rt: Runtime, ids: list[int] | None = None, limit: int = 500) -> int:
    """Push unsent outbox messages to the queue; returns how many were sent.

    No transaction is held while talking to Redis. A crash between the push and the mark
    only means a repeat push, which the job id and the submission's unique key absorb.
    Stops quietly at the first Redis error: the rows stay unsent for the next attempt.
    """
    with rt.db.transaction() as session:
        stmt = (
            select(OutboxMessage.id, OutboxMessage.payload)
            .where(OutboxMessage.relayed_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if ids is not None:
            stmt = stmt.where(OutboxMessage.id.in_(ids))
        pending = [(row_id, dict(payload)) for row_id, payload in session.execute(stmt)]
    sent: list[int] = []
    failed: int | None = None
    # a backlog (scheduler catch-up, a spreadsheet import) goes as batch jobs
    for start in range(0, len(pending), BATCH_SIZE):
        chunk = pending[start : start + BATCH_SIZE]
        try:
            push_many(rt.redis, rt.prefix, [SubmissionMessage.from_dict(p) for _, p in chunk])
        except RedisError as exc:
            failed = chunk[0][0]
            log.warning("queue unavailable, outbox message %s kept for retry: %s", failed, exc)
            break
        sent.extend(row_id for row_id, _ in chunk)
    if sent or failed is not None:
        now = datetime.now(UTC)
        with rt.db.transaction() as session:
            if sent:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent))
                    .values(relayed_at=now, attempts=OutboxMessage.attempts + 1)
                )
            if failed is not None:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == failed)
                    .values(attempts=OutboxMessage.attempts + 1)
                )
    return len(sent)


def rerelay(rt: Runtime, limit: int = 500) -> int:
    """Relay again the relayed messages whose submission has not appeared; returns how many.

    A message whose job is still waiting or running is left alone; one whose job is gone or
    failed gets a fresh job. Each attempt pushes the next check another interval away.
    """
    now = datetime.now(UTC)
    cutoff = now - timedelta(seconds=rt.settings.relay_recheck_seconds)
    with rt.db.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.payload)
            .where(
                OutboxMessage.relayed_at.is_not(None),
                OutboxMessage.relayed_at < cutoff,
                OutboxMessage.attempts < MAX_ATTEMPTS,
                ~_stored(),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    checked: list[int] = []
    pushed = 0
    for row_id, payload in rows:
        try:
            pushed += repush(rt.redis, rt.prefix, SubmissionMessage.from_dict(dict(payload)))
        except RedisError as exc:
            log.warning("queue unavailable, outbox message %s kept for retry: %s", row_id, exc)
            break
        checked.append(row_id)
    if checked:
        with rt.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(checked))
                .values(relayed_at=now, attempts=OutboxMessage.attempts + 1)
            )
    if pushed:
        log.warning("relayed %d message(s) again: their submissions had not appeared", pushed)
    return pushed


def _stored() -> ColumnElement[bool]:
    """SQL condition: the outbox row's submission is stored."""
    return exists().where(
        Submission.channel == OutboxMessage.channel,
        Submission.external_id == OutboxMessage.external_id,
    )
