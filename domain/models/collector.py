"""Per-meeting social collector settings, and each collector's checkpoint and health."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow


class CollectorSettings(Base):
    """What to collect for one meeting (the hashtag is the meeting's own). No credentials."""

    __tablename__ = "collector_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # X account whose mentions are collected, without the "@".
    x_account: Mapped[str] = mapped_column(String(80), default="")
    facebook_live_video_id: Mapped[str] = mapped_column(String(80), default="")
    # Promotional posts before the broadcast, one Graph object id per line.
    facebook_post_ids: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def post_ids(self) -> list[str]:
        """The promotional post ids, cleaned."""
        return [p for p in self.facebook_post_ids.replace(",", "\n").split() if p]


class CollectorState(Base):
    """Durable checkpoint and health of one collector ("x" or "facebook") for one meeting."""

    __tablename__ = "collector_state"
    __table_args__ = (UniqueConstraint("meeting_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    # since_id for X; per Graph object {"since": unix time, "ids": [...]} for Facebook.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    items_collected: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set at the first failure after a success; cleared by the next success.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(300), default="")
    rate_limited_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
