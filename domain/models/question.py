"""Questions (cleaned, moderated submissions) and the groups answered as one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, utcnow
from domain.models.enums import Coverage, QuestionKind, QuestionStatus, str_enum
from domain.models.submission import Submission
from domain.models.theme import Theme


class QuestionGroup(Base):
    """A set of questions the chair answers as one agenda question."""

    __tablename__ = "question_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text, default="")
    # The single question the chair will ask for the whole group (written or accepted by staff).
    composed_question: Mapped[str] = mapped_column(Text, default="")
    coverage: Mapped[Coverage] = mapped_column(str_enum(Coverage), default=Coverage.OPEN)
    # When coverage was last decided (asked / answered within / not covered).
    covered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"), nullable=True)
    # True once staff edited the group; the worker never re-homes its members.
    staff_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    theme: Mapped[Theme | None] = relationship()
    questions: Mapped[list[Question]] = relationship(back_populates="group", order_by="Question.id")


class Question(Base):
    """The cleaned form of one submission, with moderation flags, theme and group."""

    __tablename__ = "question"
    __table_args__ = (
        Index("ix_question_meeting_status", "meeting_id", "status"),
        Index("ix_question_meeting_hash", "meeting_id", "match_hash"),
        # the worker's catch-up reads staff decisions newer than the last it saw
        Index("ix_question_meeting_decided", "meeting_id", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), unique=True
    )
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    # What is shown on screen, published or exported: personal data replaced.
    redacted_text: Mapped[str] = mapped_column(Text)
    match_hash: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[QuestionStatus] = mapped_column(
        str_enum(QuestionStatus), default=QuestionStatus.NEW
    )
    kind: Mapped[QuestionKind] = mapped_column(
        str_enum(QuestionKind), default=QuestionKind.QUESTION
    )
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    flag_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_group.id", ondelete="SET NULL"), nullable=True, index=True
    )
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"), nullable=True)
    match_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    match_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Best candidate groups when the evidence was not strong enough to join one:
    # [{"group_id": 12, "score": 0.61}, ...], best first.
    suggestions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    theme_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Set when staff moved/merged/split this question: workers never change it again.
    group_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    theme_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # When staff last decided about this question; workers pick decisions up incrementally.
    decided_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    written_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    submission: Mapped[Submission] = relationship()
    group: Mapped[QuestionGroup | None] = relationship(back_populates="questions")
    theme: Mapped[Theme | None] = relationship()

    def suggests(self, group_id: int) -> bool:
        """Whether ``group_id`` is among the groups the worker suggested for this question."""
        return any(s.get("group_id") == group_id for s in self.suggestions or [])
