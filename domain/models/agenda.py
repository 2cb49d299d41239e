"""The running order of a meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, utcnow
from domain.models.enums import AgendaStatus, str_enum
from domain.models.question import QuestionGroup


class AgendaItem(Base):
    """One question group placed on a meeting's agenda."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("question_group.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[AgendaStatus] = mapped_column(
        str_enum(AgendaStatus), default=AgendaStatus.PLANNED
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    group: Mapped[QuestionGroup] = relationship()
