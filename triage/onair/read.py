"""Read model of the chair's view: the item being dealt with, the next ones, the clock, the
questions staff forwarded and the live column (moderated, deduped, themed, newest first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from domain.models import (
    AgendaStatus,
    LiveSuggestion,
    Meeting,
    OnAir,
    Phase,
    Question,
    QuestionGroup,
    QuestionKind,
    StaffUser,
    Submission,
)
from triage.agenda.read import AgendaView, ItemView, asker, load_agenda, visible
from triage.attribution import attribution_line

LIVE_ENTRIES = 40
LIVE_SCAN = 200
NEXT_ITEMS = 4


@dataclass
class LiveEntry:
    """One live point on the chair's screen: the newest question of its group, with the rest."""

    question: Question
    question_ids: list[int]
    also_asked_by: int
    theme: str
    advance_count: int
    item_number: str | None
    suggested: bool

    @property
    def text(self) -> str:
        return self.question.redacted_text

    @property
    def joins(self) -> str:
        """'joins: Rural crime, 3 advance questions' when it matches an advance group."""
        if not self.advance_count:
            return ""
        plural = "question" if self.advance_count == 1 else "questions"
        label = self.theme or "an advance group"
        return f"joins: {label}, {self.advance_count} advance {plural}"


@dataclass
class Suggested:
    """A live question a person forwarded to the chair."""

    suggestion: LiveSuggestion
    question: Question
    by: str
    attribution: str


@dataclass
class ChairView:
    """Everything the chair's screen shows."""

    meeting: Meeting
    state: OnAir | None
    agenda: AgendaView
    current: ItemView | None
    upcoming: list[ItemView]
    done: list[ItemView]
    suggested: list[Suggested]
    live: list[LiveEntry] = field(default_factory=list)

    @property
    def started_at(self) -> datetime | None:
        """When the chair put the first item to the panel (aware, UTC)."""
        started = self.state.started_at if self.state else None
        if started is not None and started.tzinfo is None:  # SQLite hands back naive UTC
            started = started.replace(tzinfo=UTC)
        return started

    @property
    def used_minutes(self) -> int:
        """Whole minutes since the chair put the first item to the panel."""
        if self.started_at is None:
            return 0
        return int((datetime.now(UTC) - self.started_at).total_seconds() // 60)

    @property
    def planned_minutes(self) -> int:
        """Where the plan says the meeting should be: the start of the current item (or of the
        next one when nothing is on)."""
        if self.current is not None:
            return self.current.starts_at
        return self.upcoming[0].starts_at if self.upcoming else self.agenda.total_minutes

    @property
    def overlay_item(self) -> int | None:
        if self.state is None or not self.state.overlay_visible:
            return None
        return self.state.current_item_id


def load_chair(session: Session, meeting: Meeting) -> ChairView:
    """Build the chair's view of ``meeting`` from the database."""
    state = session.get(OnAir, meeting.id)
    agenda = load_agenda(session, meeting, unplaced=False)
    items = agenda.items
    current_id = state.current_item_id if state else None
    current = next((i for i in items if i.item.id == current_id), None)
    planned = [
        i for i in items if i.item.status == AgendaStatus.PLANNED and i.item.id != current_id
    ]
    done = [i for i in items if i.item.status != AgendaStatus.PLANNED]
    numbers = {g.id: i.number for i in items for g in i.groups}
    suggested = _suggested(session, meeting.id)
    forwarded = {s.question.id for s in suggested}
    return ChairView(
        meeting=meeting, state=state, agenda=agenda, current=current,
        upcoming=planned[:NEXT_ITEMS], done=done, suggested=suggested,
        live=live_entries(session, meeting.id, numbers, forwarded),
    )  # fmt: skip


def shown(q: Question) -> bool:
    """May this question reach the chair's screen? Moderated (not flagged or rejected) and a
    question (comments only once staff promote them, noise never)."""
    return bool(visible([q])) and q.kind == QuestionKind.QUESTION


def live_entries(
    session: Session, meeting_id: int, numbers: dict[int, str], forwarded: set[int]
) -> list[LiveEntry]:
    """Live questions grouped by point, newest point first."""
    rows = session.scalars(
        select(Question)
        .join(Submission, Question.submission_id == Submission.id)
        .options(joinedload(Question.submission), joinedload(Question.theme))
        .where(Question.meeting_id == meeting_id, Submission.phase == Phase.LIVE)
        .order_by(Question.id.desc())
        .limit(LIVE_SCAN)  # the newest points are what the chair needs; the board has the rest
    ).all()
    by_group: dict[object, list[Question]] = {}
    for q in rows:
        if shown(q):
            by_group.setdefault(q.group_id if q.group_id is not None else f"q{q.id}", []).append(q)
    keys = list(by_group)[:LIVE_ENTRIES]
    group_ids = [k for k in keys if isinstance(k, int)]
    groups = {
        g.id: g
        for g in session.scalars(
            select(QuestionGroup)
            .options(
                selectinload(QuestionGroup.questions).joinedload(Question.submission),
                joinedload(QuestionGroup.theme),
            )
            .where(QuestionGroup.id.in_(group_ids))
        )
    }
    entries = []
    for key in keys:
        live = by_group[key]
        newest = live[0]
        group = groups.get(key) if isinstance(key, int) else None
        members = visible(group.questions) if group else live
        askers = {_identity(q) for q in members}
        advance = [q for q in members if q.submission.phase == Phase.ADVANCE]
        theme = group.theme if group and group.theme else newest.theme
        entries.append(LiveEntry(
            question=newest, question_ids=[q.id for q in live],
            also_asked_by=max(len(askers) - 1, 0), theme=theme.label if theme else "",
            advance_count=len(advance), item_number=numbers.get(group.id) if group else None,
            suggested=any(q.id in forwarded for q in live),
        ))  # fmt: skip
    return entries


def _identity(q: Question) -> str:
    a = asker(q)
    return a.identity or f"{a.name or ''}|{a.location or ''}|{q.submission_id}"


def _suggested(session: Session, meeting_id: int) -> list[Suggested]:
    rows = session.execute(
        select(LiveSuggestion, Question, StaffUser.display_name)
        .join(Question, LiveSuggestion.question_id == Question.id)
        .outerjoin(StaffUser, LiveSuggestion.suggested_by == StaffUser.id)
        .options(joinedload(Question.submission))
        .where(LiveSuggestion.meeting_id == meeting_id, LiveSuggestion.handled_at.is_(None))
        .order_by(LiveSuggestion.suggested_at.desc(), LiveSuggestion.id.desc())
    ).all()
    return [
        Suggested(s, q, by or "staff", attribution_line([asker(q)]))
        for s, q, by in rows
        if visible([q])  # rejected after it was forwarded: it leaves the chair's list
    ]
