"""A question exactly as it was received from one channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow
from domain.models.enums import Channel, Phase, SubmissionStatus, str_enum


class Submission(Base):
    """Raw text and sender details as received; the unique key makes re-delivery harmless."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_submission_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    external_id: Mapped[str] = mapped_column(String(200))
    # Public reference shown to the sender (web/API) so they can ask about their question.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    raw_text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # Social handle ("@kath_s"): personal data, never shown on public screens.
    author_handle: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # Link to the post or comment on its platform.
    permalink: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Platform id of the post or comment this one replies to or quotes (conversation link).
    parent_external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    location: Mapped[str | None] = mapped_column(String(120), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    consent_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where a card was handed in, e.g. "Shropshire County Show".
    event_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    phase: Mapped[Phase] = mapped_column(str_enum(Phase), default=Phase.ADVANCE)
    status: Mapped[SubmissionStatus] = mapped_column(
        str_enum(SubmissionStatus), default=SubmissionStatus.PENDING
    )
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def public_name(self) -> str | None:
        """'Kath from Shifnal' (or 'someone from Wem') when the sender opted in; else None."""
        if not self.consent_publish or not (self.author_name or self.location):
            return None
        if self.author_name and self.location:
            return f"{self.author_name} from {self.location}"
        return self.author_name or f"someone from {self.location}"
