"""The figures the OPCC reports to the Police and Crime Panel after a public meeting.

"39 questions were submitted in advance … 30 comments were made during the live stream,
constituting 16 questions, bringing the total number of questions to 55", the themes addressed,
and what was answered in writing afterwards. Computed only from what erasure keeps (channel,
phase, event, theme, group, coverage, times), so the figures are the same after retention.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import (
    AnswerDelivery,
    Coverage,
    DeliveryStatus,
    Meeting,
    Phase,
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
    Submission,
    Theme,
    WrittenAnswer,
)

NOT_COUNTED = (QuestionStatus.REJECTED,)
NOT_ON_AGENDA = (QuestionStatus.REJECTED, QuestionStatus.FLAGGED)
UNTHEMED = "No theme"
Pairs = list[tuple[Submission, Question]]


@dataclass
class ReportFigures:
    """Everything the report page, its charts and its DOCX show."""

    advance_total: int
    advance_by_channel: dict[str, int]
    advance_by_event: dict[str, int]
    live_comments: int
    live_questions: int
    themes_raised: dict[str, int]
    themes_addressed: list[str]
    groups_total: int
    asked_on_night: int
    answered_within: int
    not_covered: int
    answered_afterwards: int
    outstanding: int
    emails_sent: int
    replies_sent: int  # replies posted on X or Facebook
    not_delivered: int
    days_to_answer: list[float]
    broadcast_minutes: int
    # every counted question (advance and live) by the channel it came from
    questions_by_channel: dict[str, int] = field(default_factory=dict)
    comments_per_minute: list[int] = field(default_factory=list)

    @property
    def total_questions(self) -> int:
        return self.advance_total + self.live_questions

    @property
    def median_days_to_answer(self) -> float | None:
        return round(statistics.median(self.days_to_answer), 1) if self.days_to_answer else None

    @property
    def longest_days_to_answer(self) -> float | None:
        return round(max(self.days_to_answer), 1) if self.days_to_answer else None

    def as_dict(self) -> dict[str, object]:
        """Plain data (for tests and comparisons before and after erasure)."""
        return {
            **dict(self.__dict__),
            "total_questions": self.total_questions,
            "median_days_to_answer": self.median_days_to_answer,
        }


def broadcast_window(meeting: Meeting) -> tuple[datetime, datetime]:
    """When the meeting was on air: scheduled start to closing (or its planned length)."""
    start = _aware(meeting.scheduled_start)
    end = _aware(meeting.closed_at) if meeting.closed_at else None
    if end is None or end <= start:
        end = start + timedelta(minutes=meeting.length_minutes)
    return start, end


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def compute(session: Session, meeting: Meeting) -> ReportFigures:
    """The report's figures for one meeting."""
    rows: Pairs = [
        (s, q)
        for s, q in session.execute(
            select(Submission, Question)
            .join(Question, Question.submission_id == Submission.id)
            .where(Submission.meeting_id == meeting.id)
        ).all()
    ]
    themes = {t.id: t.label for t in session.scalars(select(Theme))}
    groups = {
        g.id: g
        for g in session.scalars(
            select(QuestionGroup).where(QuestionGroup.meeting_id == meeting.id)
        )
    }
    advance = [
        (s, q)
        for s, q in rows
        if s.phase == Phase.ADVANCE and q.status not in NOT_COUNTED and q.kind != QuestionKind.NOISE
    ]
    live = [(s, q) for s, q in rows if s.phase == Phase.LIVE]
    live_asks = [
        q for _, q in live if q.kind == QuestionKind.QUESTION and q.status not in NOT_ON_AGENDA
    ]
    live_questions = len({q.group_id for q in live_asks if q.group_id}) + sum(
        1 for q in live_asks if q.group_id is None
    )
    counted = [q for _, q in advance] + live_asks
    by_channel = Counter(s.channel.value for s, _ in advance) + Counter(
        s.channel.value
        for s, q in live
        if q.kind == QuestionKind.QUESTION and q.status not in NOT_ON_AGENDA
    )
    raised = Counter(themes.get(_theme_of(q, groups) or -1, UNTHEMED) for q in counted)
    on_agenda = [g for g in groups.values() if _members(g, rows)]
    coverage = Counter(g.coverage for g in on_agenda)
    addressed = sorted(
        {
            themes.get(_group_theme(g, rows) or -1, UNTHEMED)
            for g in on_agenda
            if g.coverage in (Coverage.ASKED, Coverage.ANSWERED_WITHIN)
        }
    )
    answers = session.scalars(
        select(WrittenAnswer).where(WrittenAnswer.meeting_id == meeting.id)
    ).all()
    approved = [
        a
        for a in answers
        if a.approved_at is not None
        and a.group_id in groups
        and groups[a.group_id].coverage == Coverage.NOT_COVERED
    ]
    deliveries = session.scalars(
        select(AnswerDelivery).where(AnswerDelivery.answer_id.in_([a.id for a in answers]))
    ).all()
    start, end = broadcast_window(meeting)
    minutes = max(1, int((end - start).total_seconds() // 60))
    per_minute = [0] * minutes
    for s, _ in live:
        offset = int((_aware(s.received_at) - start).total_seconds() // 60)
        per_minute[min(max(offset, 0), minutes - 1)] += 1
    return ReportFigures(
        advance_total=len(advance),
        advance_by_channel=dict(Counter(s.channel.value for s, _ in advance).most_common()),
        advance_by_event=dict(
            Counter(s.event_name for s, _ in advance if s.event_name).most_common()
        ),
        live_comments=len(live),
        live_questions=live_questions,
        themes_raised=dict(raised.most_common()),
        themes_addressed=addressed,
        groups_total=len(on_agenda),
        asked_on_night=coverage[Coverage.ASKED],
        answered_within=coverage[Coverage.ANSWERED_WITHIN],
        not_covered=coverage[Coverage.NOT_COVERED],
        answered_afterwards=len(approved),
        outstanding=coverage[Coverage.NOT_COVERED] - len(approved),
        emails_sent=sum(
            d.status == DeliveryStatus.SENT and d.channel == "email" for d in deliveries
        ),
        replies_sent=sum(
            d.status == DeliveryStatus.SENT and d.channel != "email" for d in deliveries
        ),
        not_delivered=sum(d.status != DeliveryStatus.SENT for d in deliveries),
        days_to_answer=sorted(
            round((_aware(a.approved_at) - end).total_seconds() / 86400, 2)
            for a in approved
            if a.approved_at is not None
        ),
        broadcast_minutes=minutes,
        questions_by_channel=dict(by_channel.most_common()),
        comments_per_minute=per_minute,
    )


def _members(group: QuestionGroup, rows: Pairs) -> list[Question]:
    return [
        q
        for _, q in rows
        if q.group_id == group.id and q.status not in NOT_ON_AGENDA and q.kind != QuestionKind.NOISE
    ]


def _theme_of(q: Question, groups: dict[int, QuestionGroup]) -> int | None:
    if q.theme_id is not None:
        return q.theme_id
    group = groups.get(q.group_id) if q.group_id else None
    return group.theme_id if group else None


def _group_theme(group: QuestionGroup, rows: Pairs) -> int | None:
    if group.theme_id is not None:
        return group.theme_id
    found = Counter(q.theme_id for q in _members(group, rows) if q.theme_id is not None)
    return found.most_common(1)[0][0] if found else None
