"""Enumerations stored as short strings (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum as SAEnum


class MeetingKind(StrEnum):
    PUBLIC = "public"
    FACEBOOK_LIVE = "facebook_live"
    THEMATIC = "thematic"


class MeetingStatus(StrEnum):
    OPEN = "open"  # open for questions in advance
    LIVE = "live"  # on air: live questions still accepted
    CLOSED = "closed"


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    EVENT = "event"
    API = "api"
    TWITTER = "twitter"
    FACEBOOK = "facebook"


class Phase(StrEnum):
    ADVANCE = "advance"
    LIVE = "live"


class QuestionKind(StrEnum):
    """What a collected item is: only questions go on to grouping by default."""

    QUESTION = "question"
    COMMENT = "comment"  # on-topic remark with no ask; staff may promote it
    NOISE = "noise"  # greetings, emoji, "can't hear"


class SubmissionStatus(StrEnum):
    PENDING = "pending"  # stored, not yet through the pipeline
    PROCESSED = "processed"


class QuestionStatus(StrEnum):
    NEW = "new"
    FLAGGED = "flagged"  # waiting in the moderation queue
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # kept, never deleted; not shown on the agenda
    ANSWERED_LIVE = "answered_live"
    ANSWERED_WRITTEN = "answered_written"


class AgendaStatus(StrEnum):
    PLANNED = "planned"
    ASKED = "asked"
    SKIPPED = "skipped"
    ANSWERED_WITHIN = "answered_within"  # covered by another item


class Coverage(StrEnum):
    """How a group ended the meeting; "not covered" groups get a written answer afterwards."""

    OPEN = "open"  # not yet decided (the meeting has not dealt with it)
    ASKED = "asked"  # put to the panel on the night
    ANSWERED_WITHIN = "answered_within"  # answered within another item
    NOT_COVERED = "not_covered"


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    CHAIR = "chair"


def str_enum(enum: type[StrEnum], length: int = 20) -> SAEnum:
    """A VARCHAR column with a CHECK constraint listing the enum's values."""
    return SAEnum(
        enum,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=True,
        name=enum.__name__.lower(),
    )
