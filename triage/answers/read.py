"""Read models: the staff work queue of not-covered groups, and the public answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from domain.models import (
    AnswerDelivery,
    Coverage,
    DeliveryStatus,
    Question,
    QuestionGroup,
    WrittenAnswer,
)
from triage.agenda.read import group_label, group_line, visible


@dataclass(frozen=True)
class AskerRow:
    """One member question as staff see it in the queue (no address in clear)."""

    name: str
    channel: str
    contact: str


@dataclass
class QueueEntry:
    """A not-covered group, who asked, and where its answer is."""

    group: QuestionGroup
    question: str
    attribution: str
    askers: list[AskerRow]
    answer: WrittenAnswer | None
    deliveries: list[AnswerDelivery] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.answer is None:
            return "to write"
        if self.answer.approved_at is None:
            return "to approve"
        if any(d.status != DeliveryStatus.SENT for d in self.deliveries):
            return "sending"
        return "answered"


def mask(address: str | None) -> str:
    """'k•••@example.org': enough for staff to tell people apart, not to copy an address."""
    if not address:
        return "erased"
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


def _contact(q: Question) -> str:
    s = q.submission
    if s.contact_email:
        return "email"
    if s.channel.value in ("twitter", "facebook"):
        return "reply on X" if s.channel.value == "twitter" else "reply on Facebook"
    return "none: the public answers page only"


def work_queue(session: Session, meeting_id: int) -> list[QueueEntry]:
    """Every group marked not covered, with its askers, channels and answer."""
    groups = session.scalars(
        select(QuestionGroup)
        .options(selectinload(QuestionGroup.questions).joinedload(Question.submission))
        .where(
            QuestionGroup.meeting_id == meeting_id,
            QuestionGroup.coverage == Coverage.NOT_COVERED,
        )
        .order_by(QuestionGroup.id)
    ).all()
    answers = {
        a.group_id: a
        for a in session.scalars(
            select(WrittenAnswer)
            .options(selectinload(WrittenAnswer.deliveries))
            .where(WrittenAnswer.meeting_id == meeting_id)
        )
    }
    entries = []
    for group in groups:
        members = visible(group.questions)
        if not members:
            continue
        answer = answers.get(group.id)
        askers = [
            AskerRow(
                name=q.submission.author_name or "(no name)",
                channel=q.submission.channel.value,
                contact=_contact(q),
            )
            for q in members
        ]
        entries.append(
            QueueEntry(
                group=group,
                question=group_label(group),
                attribution=group_line(members),
                askers=askers,
                answer=answer,
                deliveries=list(answer.deliveries) if answer else [],
            )
        )
    return entries


@dataclass(frozen=True)
class PublicAnswer:
    question: str
    attribution: str
    answer: str


def published_answers(session: Session, meeting_id: int) -> list[PublicAnswer]:
    """Approved answers with the redacted composed question; names only for those who opted in."""
    answers = session.scalars(
        select(WrittenAnswer)
        .where(WrittenAnswer.meeting_id == meeting_id, WrittenAnswer.approved_at.is_not(None))
        .order_by(WrittenAnswer.approved_at, WrittenAnswer.id)
    ).all()
    out = []
    for answer in answers:
        group = session.scalar(
            select(QuestionGroup)
            .options(
                selectinload(QuestionGroup.questions).joinedload(Question.submission),
                joinedload(QuestionGroup.theme),
            )
            .where(QuestionGroup.id == answer.group_id)
        )
        if group is None:
            continue
        line = group_line(group.questions)
        out.append(
            PublicAnswer(
                question=group.composed_question.strip() or group_label(group),
                attribution=line[:1].upper() + line[1:],
                answer=answer.body,
            )
        )
    return out
