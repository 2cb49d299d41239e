"""Written answers to groups not covered on the night, and one delivery record per person."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, utcnow
from domain.models.enums import str_enum


class DeliveryStatus(StrEnum):
    """Where one person's copy of an answer is.

    ``claimed`` → ``handing_over`` → ``sent`` is the happy path. A sender that died while
    ``claimed`` never gave the message to the SMTP server, so it is safe to send again; one
    that died while ``handing_over`` may have (the server's reply was lost), so it becomes
    ``unconfirmed`` and only a person decides to send again.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    HANDING_OVER = "handing_over"
    SENT = "sent"
    FAILED = "failed"  # temporary failure; retried, and retryable from the staff page
    BOUNCED = "bounced"  # the server refused the address for good
    UNCONFIRMED = "unconfirmed"  # crash after the message was handed over: staff decide
    CANCELLED = "cancelled"  # the address was erased before the answer went


def recipient_key(address: str) -> str:
    """The key of one person's delivery: a digest of the normalised address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


#: States after which the address is no longer needed for this answer.
FINAL = (DeliveryStatus.SENT, DeliveryStatus.BOUNCED, DeliveryStatus.CANCELLED)


class WrittenAnswer(Base):
    """Staff's one answer to a not-covered group; a second, different person approves it."""

    __tablename__ = "written_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("question_group.id", ondelete="CASCADE"), unique=True
    )
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    written_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    deliveries: Mapped[list[AnswerDelivery]] = relationship(
        back_populates="answer", order_by="AnswerDelivery.id"
    )


class AnswerDelivery(Base):
    """One person's copy of one answer. The unique key makes "answered twice" impossible."""

    __tablename__ = "answer_delivery"
    __table_args__ = (UniqueConstraint("answer_id", "recipient_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("written_answer.id", ondelete="CASCADE"), index=True
    )
    # The person's first submission in the group; erasing it erases the address here too.
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL"), nullable=True, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), default="email")
    # sha256 of the normalised address: one row per person and answer, whatever the spelling.
    recipient_key: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A fresh token per claim: a sender whose claim expired can no longer record anything.
    claim_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The Message-ID header sent, so a server log can be searched for an unconfirmed send.
    message_id: Mapped[str] = mapped_column(String(200), default="")
    # The server's reply or the error (never the address).
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    answer: Mapped[WrittenAnswer] = relationship(back_populates="deliveries")
