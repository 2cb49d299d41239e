"""Erasing a person's data while keeping the counts a meeting report needs.

A submission row is never deleted: its channel, phase, meeting, theme and group stay, so the
report's figures (questions by channel, themes raised, answered, outstanding) are the same after
erasure. What identifies a person goes: name, town, email, social handle, permalink, the
platform's own id for the post (replaced by a one-way digest that keeps the row unique), and the
original wording, replaced by the redacted text the public pages already show.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from domain.models import AnswerDelivery, Channel, OutboxMessage, Question, Submission

# Social posts are identified by the platform's id, which leads straight to the person.
SOCIAL_CHANNELS = (Channel.TWITTER, Channel.FACEBOOK)
ERASED_PREFIX = "erased:"


def erased_external_id(channel: str, external_id: str) -> str:
    """A one-way stand-in for a platform id: unique per post, not reversible to it."""
    if external_id.startswith(ERASED_PREFIX):
        return external_id
    digest = hashlib.sha256(f"{channel}\x00{external_id}".encode()).hexdigest()
    return ERASED_PREFIX + digest[:48]


def erase_submissions(session: Session, where: ColumnElement[bool]) -> list[int]:
    """Erase personal data of the not-yet-erased submissions matching ``where``; their ids.

    Idempotent: erased rows are skipped. Runs inside the caller's transaction.
    """
    rows = session.execute(
        select(Submission.id, Submission.channel, Submission.external_id).where(
            where, Submission.erased_at.is_(None)
        )
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    now = datetime.now(UTC)
    session.execute(
        update(Submission)
        .where(Submission.id.in_(ids))
        .values(
            author_name=None,
            location=None,
            contact_email=None,
            author_handle=None,
            permalink=None,
            parent_external_id=None,
            consent_publish=False,
            erased_at=now,
        )
    )
    social = [row for row in rows if row.channel in SOCIAL_CHANNELS]
    for row in social:
        session.execute(
            update(Submission)
            .where(Submission.id == row.id)
            .values(external_id=erased_external_id(row.channel.value, row.external_id))
        )
    # The wording may name people or give a number; keep only what the public already sees.
    for question in session.scalars(select(Question).where(Question.submission_id.in_(ids))):
        question.text = question.redacted_text
        submission = session.get(Submission, question.submission_id)
        if submission is not None:
            submission.raw_text = question.redacted_text
    # A written answer's delivery record keeps its status for the report, not the address.
    for delivery in session.scalars(
        select(AnswerDelivery).where(AnswerDelivery.submission_id.in_(ids))
    ):
        delivery.address = None
        delivery.recipient_key = f"{ERASED_PREFIX}{delivery.id}"
    # The outbox copy of a stored submission duplicates its personal data.
    keys = [(row.channel.value, row.external_id) for row in rows]
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        session.query(OutboxMessage).filter(
            or_(
                *(
                    (OutboxMessage.channel == channel) & (OutboxMessage.external_id == ext)
                    for channel, ext in chunk
                )
            )
        ).delete(synchronize_session=False)
    session.flush()
    return ids
