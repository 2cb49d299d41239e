"""Store queued submission messages; the database's unique key is the last word on repeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.models import Channel, Meeting, Phase, Submission
from domain.queue import SubmissionMessage


class UnknownMeeting(LookupError):
    """The message names a meeting that does not exist."""


def store_submission(session: Session, message: SubmissionMessage) -> tuple[int, bool]:
    """Insert the submission unless (channel, external id) is already stored.

    Returns ``(submission_id, created)``. Safe under at-least-once delivery: a second
    delivery, even racing the first in another worker, finds the existing row.
    """
    existing = _find(session, message)
    if existing is not None:
        return existing, False
    if session.get(Meeting, message.meeting_id) is None:
        raise UnknownMeeting(message.meeting_id)
    sub = _row(message)
    try:
        with session.begin_nested():
            session.add(sub)
    except IntegrityError:
        found = _find(session, message)
        if found is None:
            raise
        return found, False
    return sub.id, True


def store_submissions(
    session: Session, messages: Sequence[SubmissionMessage]
) -> list[tuple[int, bool]]:
    """Insert a batch of submissions in one flush; returns ``(id, created)`` per message.

    One query finds the ones already stored (a repeated delivery, or the same message twice in
    the batch); the rest are inserted together. If another worker races us to one of them, the
    batch falls back to :func:`store_submission` row by row, which the unique key settles.
    """
    keys = {(m.channel, m.external_id) for m in messages}
    stored = _find_many(session, keys)
    meetings = {m.meeting_id for m in messages}
    for missing in sorted(meetings - known_meetings(session, meetings)):
        raise UnknownMeeting(missing)
    fresh: dict[tuple[str, str], Submission] = {}
    for m in messages:
        key = (m.channel, m.external_id)
        if key not in stored and key not in fresh:
            fresh[key] = _row(m)
    try:
        with session.begin_nested():
            session.add_all(fresh.values())
    except IntegrityError:
        return [store_submission(session, m) for m in messages]
    result: list[tuple[int, bool]] = []
    for m in messages:
        key = (m.channel, m.external_id)
        row = fresh.pop(key, None)  # only the first message with a key created its row
        result.append((row.id, True) if row is not None else (stored[key], False))
        if row is not None:
            stored[key] = row.id
    return result


def known_meetings(session: Session, meeting_ids: set[int]) -> set[int]:
    """The ones of ``meeting_ids`` that exist."""
    if not meeting_ids:
        return set()
    return set(session.scalars(select(Meeting.id).where(Meeting.id.in_(meeting_ids))))


def _row(message: SubmissionMessage) -> Submission:
    return Submission(
        meeting_id=message.meeting_id,
        channel=Channel(message.channel),
        external_id=message.external_id,
        reference=message.reference,
        raw_text=message.text,
        author_name=message.author_name,
        location=message.location,
        contact_email=message.contact_email,
        consent_publish=message.consent_publish,
        event_name=message.event_name,
        author_handle=message.author_handle,
        permalink=message.permalink,
        parent_external_id=message.parent_external_id,
        phase=Phase(message.phase),
        received_at=datetime.fromisoformat(message.received_at),
    )


def _find(session: Session, message: SubmissionMessage) -> int | None:
    return session.scalar(
        select(Submission.id).where(
            Submission.channel == Channel(message.channel),
            Submission.external_id == message.external_id,
        )
    )


def _find_many(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    rows = session.execute(
        select(Submission.channel, Submission.external_id, Submission.id).where(
            tuple_(Submission.channel, Submission.external_id).in_(
                [(Channel(c), e) for c, e in keys]
            )
        )
    )
    return {(channel.value, ext): sid for channel, ext, sid in rows}
