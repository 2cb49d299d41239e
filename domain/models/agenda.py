"""The running order of a meeting: sections, items, the groups gathered into them, and what was
published."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base, utcnow
from domain.models.enums import AgendaStatus, str_enum
from domain.models.question import QuestionGroup


class AgendaSection(StrEnum):
    """The parts of a meeting, in the order they run."""

    INTRODUCTION = "introduction"
    PUBLIC_SESSION = "public_session"
    HOLDING_TO_ACCOUNT = "holding_to_account"
    SOCIAL_MEDIA = "social_media"
    AOB = "aob"
    CLOSE = "close"


SECTION_TITLES: dict[AgendaSection, str] = {
    AgendaSection.INTRODUCTION: "Introduction",
    AgendaSection.PUBLIC_SESSION: "Public session: questions submitted in advance",
    AgendaSection.HOLDING_TO_ACCOUNT: "Holding to account",
    AgendaSection.SOCIAL_MEDIA: "Social media: questions during the meeting",
    AgendaSection.AOB: "Any other business",
    AgendaSection.CLOSE: "Close",
}


class AgendaItem(Base):
    """One numbered item of the agenda (1.1, 1.2 …).

    An item gathers zero or more question groups (staff's call: several groups may be put as one
    question); an item with no group is typed by staff, like the PCC's own holding-to-account
    questions.
    """

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meeting.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[AgendaSection] = mapped_column(
        str_enum(AgendaSection, length=30), default=AgendaSection.PUBLIC_SESSION
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A heading such as "OCC performance" (holding to account); empty for public questions,
    # whose heading is the attribution line.
    title: Mapped[str] = mapped_column(String(200), default="")
    # Staff's wording for the item; empty means the groups' composed questions.
    question: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[AgendaStatus] = mapped_column(
        str_enum(AgendaStatus), default=AgendaStatus.PLANNED
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    links: Mapped[list[AgendaItemGroup]] = relationship(
        back_populates="item", order_by="AgendaItemGroup.position", cascade="all, delete-orphan"
    )


class AgendaItemGroup(Base):
    """A question group placed in an agenda item; a group sits in one item at most."""

    __tablename__ = "agenda_item_group"
    __table_args__ = (UniqueConstraint("group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("question_group.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    item: Mapped[AgendaItem] = relationship(back_populates="links")
    group: Mapped[QuestionGroup] = relationship()


class PublishedAgenda(Base):
    """A published version of a meeting's agenda: exactly what the public page and DOCX show."""

    __tablename__ = "published_agenda"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), nullable=True
    )
    # Redacted text and opt-in names only (built by triage.agenda_publish).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
