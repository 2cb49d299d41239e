"""Staff decisions about questions: merge, split, move, theme, moderation.

Each decision locks what it touched (the worker never changes it again), stamps
``decided_at`` so workers pick it up as feedback, writes an audit event, and tells live views.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain import events
from domain.models import Question, QuestionGroup, QuestionKind, QuestionStatus, Theme
from domain.models.audit import record
from domain.runtime import Runtime


class DecisionError(ValueError):
    """The decision does not make sense (wrong meeting, unknown record…)."""


def _question(session: Session, meeting_id: int, question_id: int) -> Question:
    q = session.get(Question, question_id)
    if q is None or q.meeting_id != meeting_id:
        raise DecisionError(f"question {question_id} is not in this meeting")
    return q


def _group(session: Session, meeting_id: int, group_id: int) -> QuestionGroup:
    g = session.get(QuestionGroup, group_id)
    if g is None or g.meeting_id != meeting_id:
        raise DecisionError(f"group {group_id} is not in this meeting")
    return g


def _lock(q: Question, *, group: bool = False, theme: bool = False) -> None:
    q.decided_at = datetime.now(UTC)
    q.group_locked = q.group_locked or group
    q.theme_locked = q.theme_locked or theme


def join_group(session: Session, meeting_id: int, q: Question, group_id: int) -> QuestionGroup:
    """Put ``q`` in the group ``group_id`` of its meeting, staff's decision (both locked)."""
    target = _group(session, meeting_id, group_id)
    q.group_id = target.id
    target.staff_locked = True
    _lock(q, group=True)
    return target


def move_question(
    rt: Runtime, meeting_id: int, question_id: int, group_id: int, actor_id: int
) -> int:
    """Put a question into another group (staff: 'this asks the same as that')."""
    with rt.db.transaction() as session:
        q = _question(session, meeting_id, question_id)
        before = q.group_id
        target = join_group(session, meeting_id, q, group_id)
        ev = record(session, "question.move", actor_id=actor_id, target_type="question",
                    target_id=q.id, meeting_id=meeting_id, from_group=before,
                    to_group=target.id)  # fmt: skip
        session.flush()
        event_id = ev.id
    _tell(rt, meeting_id, "questions.updated", question_ids=[question_id])
    return event_id


def split_question(rt: Runtime, meeting_id: int, question_id: int, actor_id: int) -> int:
    """Take a question out of its group into a new group of its own; returns the new group id."""
    with rt.db.transaction() as session:
        q = _question(session, meeting_id, question_id)
        before = q.group_id
        group = QuestionGroup(
            meeting_id=meeting_id, title=q.redacted_text, theme_id=q.theme_id, staff_locked=True
        )
        session.add(group)
        session.flush()
        q.group_id = group.id
        _lock(q, group=True)
        record(session, "question.split", actor_id=actor_id, target_type="question",
               target_id=q.id, meeting_id=meeting_id, from_group=before,
               to_group=group.id)  # fmt: skip
        new_id = group.id
    _tell(rt, meeting_id, "questions.updated", question_ids=[question_id])
    return new_id


def merge_groups(
    rt: Runtime, meeting_id: int, source_id: int, target_id: int, actor_id: int
) -> int:
    """Move every question of ``source`` into ``target`` (the source group is left empty)."""
    if source_id == target_id:
        raise DecisionError("a group cannot be merged into itself")
    now = datetime.now(UTC)
    with rt.db.transaction() as session:
        _group(session, meeting_id, source_id)
        target = _group(session, meeting_id, target_id)
        moved = session.scalars(select(Question.id).where(Question.group_id == source_id)).all()
        session.execute(
            update(Question)
            .where(Question.group_id == source_id)
            .values(group_id=target_id, group_locked=True, decided_at=now)
        )
        target.staff_locked = True
        ev = record(session, "group.merge", actor_id=actor_id, target_type="question_group",
                    target_id=target_id, meeting_id=meeting_id, source=source_id,
                    questions=len(moved), question_ids=list(moved))  # fmt: skip
        session.flush()
        event_id = ev.id
    _tell(rt, meeting_id, "questions.updated", question_ids=list(moved))
    return event_id


def set_theme(rt: Runtime, meeting_id: int, question_id: int, theme_id: int, actor_id: int) -> int:
    """Staff choose the theme of a question (the classifier learns from it)."""
    with rt.db.transaction() as session:
        q = _question(session, meeting_id, question_id)
        if session.get(Theme, theme_id) is None:
            raise DecisionError(f"theme {theme_id} does not exist")
        before = q.theme_id
        q.theme_id = theme_id
        _lock(q, theme=True)
        ev = record(session, "question.theme", actor_id=actor_id, target_type="question",
                    target_id=q.id, meeting_id=meeting_id, from_theme=before,
                    to_theme=theme_id)  # fmt: skip
        session.flush()
        event_id = ev.id
    _tell(rt, meeting_id, "questions.updated", question_ids=[question_id])
    return event_id


def set_group_theme(
    rt: Runtime, meeting_id: int, group_id: int, theme_id: int, actor_id: int
) -> int:
    """Staff choose the theme of a whole group (and so of each of its questions)."""
    with rt.db.transaction() as session:
        group = _group(session, meeting_id, group_id)
        if session.get(Theme, theme_id) is None:
            raise DecisionError(f"theme {theme_id} does not exist")
        members = session.scalars(select(Question).where(Question.group_id == group_id)).all()
        before = {str(q.id): q.theme_id for q in members}
        for q in members:
            q.theme_id = theme_id
            _lock(q, theme=True)
        ev = record(session, "group.theme", actor_id=actor_id, target_type="question_group",
                    target_id=group_id, meeting_id=meeting_id, from_theme=group.theme_id,
                    to_theme=theme_id, members=before)  # fmt: skip
        group.theme_id = theme_id
        group.staff_locked = True
        session.flush()
        event_id = ev.id
    _tell(rt, meeting_id, "questions.updated", question_ids=[q.id for q in members])
    return event_id


def set_status(
    rt: Runtime, meeting_id: int, question_id: int, status: QuestionStatus, actor_id: int
) -> int:
    """Accept or reject a flagged question (nothing is ever deleted), or mark it answered.

    An accepted question that waited in moderation without a group gets one of its own, so
    it is on the board like any other and later questions can join it.
    """
    with rt.db.transaction() as session:
        q = _question(session, meeting_id, question_id)
        before = q.status
        q.status = status
        q.decided_at = datetime.now(UTC)
        group_id = None
        if (
            before == QuestionStatus.FLAGGED
            and status not in (QuestionStatus.FLAGGED, QuestionStatus.REJECTED)
            and q.kind == QuestionKind.QUESTION
            and q.group_id is None
        ):
            group_id = own_group(session, q)
        ev = record(session, "question.status", actor_id=actor_id, target_type="question",
                    target_id=q.id, meeting_id=meeting_id, before=before.value,
                    after=status.value, to_group=group_id)  # fmt: skip
        session.flush()
        event_id = ev.id
    _tell(rt, meeting_id, "questions.updated", question_ids=[question_id])
    return event_id


def own_group(session: Session, q: Question) -> int:
    """Put ``q`` in a new group of its own, staff's decision (the worker keeps it there)."""
    group = QuestionGroup(
        meeting_id=q.meeting_id, title=q.redacted_text, theme_id=q.theme_id, staff_locked=True
    )
    session.add(group)
    session.flush()
    q.group_id = group.id
    q.group_locked = True
    return group.id


def rename_theme(rt: Runtime, theme_id: int, label: str, actor_id: int) -> None:
    """Give a (possibly discovered) theme a label staff prefer."""
    label = label.strip()
    if not label:
        raise DecisionError("a theme needs a label")
    with rt.db.transaction() as session:
        theme = session.get(Theme, theme_id)
        if theme is None:
            raise DecisionError(f"theme {theme_id} does not exist")
        clash = session.scalar(
            select(Theme.id).where(
                func.lower(Theme.label) == label[:120].lower(), Theme.id != theme_id
            )
        )
        if clash is not None:
            raise DecisionError("another theme already has that name")
        before = theme.label
        theme.label = label[:120]
        record(session, "theme.rename", actor_id=actor_id, target_type="theme",
               target_id=theme_id, before_length=len(before))  # fmt: skip


def _tell(rt: Runtime, meeting_id: int, type_: str, **data: object) -> None:
    events.publish(rt.redis, rt.prefix, meeting_id, type_, dict(data))
