"""A public meeting that takes questions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow
from domain.models.enums import MeetingKind, MeetingStatus, str_enum


class Meeting(Base):
    """A holding-to-account meeting: public, Facebook Live or thematic."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind), default=MeetingKind.PUBLIC)
    status: Mapped[MeetingStatus] = mapped_column(
        str_enum(MeetingStatus), default=MeetingStatus.OPEN
    )
    scheduled_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    venue: Mapped[str] = mapped_column(String(200), default="")
    watch_url: Mapped[str] = mapped_column(String(500), default="")
    hashtag: Mapped[str] = mapped_column(String(80), default="")
    # How long the meeting runs; the agenda builder shows allotted minutes against it.
    length_minutes: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def accepting_questions(self) -> bool:
        """Questions are taken while open in advance and during the live broadcast."""
        return self.status in (MeetingStatus.OPEN, MeetingStatus.LIVE)


@dataclass(frozen=True)
class MeetingState:
    """What intake needs of a meeting, read without the ORM: its id and status."""

    id: int
    status: MeetingStatus

    @property
    def accepting_questions(self) -> bool:
        """As :attr:`Meeting.accepting_questions`."""
        return self.status in (MeetingStatus.OPEN, MeetingStatus.LIVE)
