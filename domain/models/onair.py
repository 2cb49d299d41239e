"""The meeting on air: what the chair is dealing with, what the overlay shows, and the live
questions staff forwarded to the chair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow


class OnAir(Base):
    """One row per meeting once the chair's view is used.

    The overlay columns are a copy of what the chair chose to put on screen (redacted text,
    opt-in names only): the public overlay page reads these and nothing else.
    """

    __tablename__ = "on_air"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True
    )
    current_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL"), nullable=True
    )
    # When the chair put the first item to the panel: the clock of "time used".
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Secret part of the overlay URL; NULL once revoked.
    overlay_secret: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    overlay_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    overlay_question: Mapped[str] = mapped_column(Text, default="")
    overlay_attribution: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every overlay change so the page animates out the old and in the new.
    overlay_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LiveSuggestion(Base):
    """A live question a member of staff forwarded to the chair (only a person puts one here)."""

    __tablename__ = "live_suggestion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="CASCADE"), unique=True
    )
    suggested_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    suggested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set when the chair pulled it into the agenda, asked it, or set it aside.
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
