"""Undo a staff decision from its audit event.

Every board decision is in the audit log with what it changed (``from_group``/``to_group``,
``from_theme``/``to_theme``, ``before``/``after``, the questions a merge moved). Undo puts
things back only if they are still as the decision left them; otherwise it says which later
decision to undo first. An undo is itself an audit event (``decision.undo``) naming the event
it undid, and an event is undone at most once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import events
from domain.models import AuditEvent, Question, QuestionGroup, QuestionStatus
from domain.models.audit import record
from domain.runtime import Runtime
from triage.decisions import DecisionError

UNDOABLE = {
    "question.move": "Move",
    "question.split": "Split",
    "group.merge": "Merge",
    "question.theme": "Theme change",
    "group.theme": "Theme change",
    "question.status": "Moderation",
}
CHANGED = "This has changed since; undo the later decision first."


def undone_ids(session: Session, event_ids: list[int]) -> set[int]:
    """Which of ``event_ids`` have been undone already."""
    if not event_ids:
        return set()
    return set(
        session.scalars(
            select(AuditEvent.target_id).where(
                AuditEvent.action == "decision.undo",
                AuditEvent.target_type == "audit_event",
                AuditEvent.target_id.in_(event_ids),
            )
        )
    )


def recent_decisions(
    session: Session, meeting_id: int, limit: int = 5, scan: int = 1000
) -> list[AuditEvent]:
    """The latest undoable decisions about a meeting that have not been undone, newest first.

    Looks at the latest ``scan`` decisions of all meetings (older ones stay undoable from the
    banner or by id, but are not listed).
    """
    found: list[AuditEvent] = []
    before: int | None = None
    for _ in range(max(1, scan // 200)):
        if len(found) >= limit:
            break
        query = select(AuditEvent).where(AuditEvent.action.in_(list(UNDOABLE)))
        if before is not None:
            query = query.where(AuditEvent.id < before)
        page = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(200)))
        if not page:
            break
        before = page[-1].id
        mine = [e for e in page if (e.details or {}).get("meeting_id") == meeting_id]
        done = undone_ids(session, [e.id for e in mine])
        found += [e for e in mine if e.id not in done]
    return found[:limit]


def undo(rt: Runtime, meeting_id: int, event_id: int, actor_id: int) -> str:
    """Reverse decision ``event_id`` of ``meeting_id``; returns what was undone."""
    with rt.db.transaction() as session:
        ev = session.get(AuditEvent, event_id)
        details: dict[str, Any] = dict(ev.details or {}) if ev is not None else {}
        if ev is None or ev.action not in UNDOABLE or details.get("meeting_id") != meeting_id:
            raise DecisionError("there is no such decision to undo in this meeting")
        if undone_ids(session, [event_id]):
            raise DecisionError("that decision has already been undone")
        touched = _REVERSE[ev.action](session, meeting_id, ev, details)
        record(session, "decision.undo", actor_id=actor_id, target_type="audit_event",
               target_id=event_id, meeting_id=meeting_id, undid=ev.action)  # fmt: skip
        what = UNDOABLE[ev.action]
    events.publish(rt.redis, rt.prefix, meeting_id, "questions.updated", {"question_ids": touched})
    return what


def _question(session: Session, meeting_id: int, question_id: int | None) -> Question:
    q = session.get(Question, question_id) if question_id is not None else None
    if q is None or q.meeting_id != meeting_id:
        raise DecisionError("the question of that decision is gone")
    return q


def _stamp(q: Question) -> None:
    q.decided_at = datetime.now(UTC)


def _regroup(session: Session, meeting_id: int, ev: AuditEvent, d: dict[str, Any]) -> list[int]:
    q = _question(session, meeting_id, ev.target_id)
    if q.group_id != d.get("to_group"):
        raise DecisionError(CHANGED)
    q.group_id = d.get("from_group")
    q.group_locked = True
    _stamp(q)
    return [q.id]


def _unmerge(session: Session, meeting_id: int, ev: AuditEvent, d: dict[str, Any]) -> list[int]:
    ids = [int(i) for i in d.get("question_ids", [])]
    moved = list(session.scalars(select(Question).where(Question.id.in_(ids)))) if ids else []
    if not ids or len(moved) != len(ids) or any(q.group_id != ev.target_id for q in moved):
        raise DecisionError(CHANGED)
    source = session.get(QuestionGroup, d.get("source"))
    if source is None:
        raise DecisionError("the group merged away is gone")
    for q in moved:
        q.group_id = source.id
        _stamp(q)
    return ids


def _retheme(session: Session, meeting_id: int, ev: AuditEvent, d: dict[str, Any]) -> list[int]:
    q = _question(session, meeting_id, ev.target_id)
    if q.theme_id != d.get("to_theme"):
        raise DecisionError(CHANGED)
    q.theme_id = d.get("from_theme")
    _stamp(q)
    return [q.id]


def _regroup_theme(
    session: Session, meeting_id: int, ev: AuditEvent, d: dict[str, Any]
) -> list[int]:
    group = session.get(QuestionGroup, ev.target_id)
    if group is None or group.meeting_id != meeting_id or group.theme_id != d.get("to_theme"):
        raise DecisionError(CHANGED)
    group.theme_id = d.get("from_theme")
    touched = []
    for raw_id, theme_id in (d.get("members") or {}).items():
        q = session.get(Question, int(raw_id))
        if q is not None and q.theme_id == d.get("to_theme"):
            q.theme_id = theme_id
            _stamp(q)
            touched.append(q.id)
    return touched


def _restatus(session: Session, meeting_id: int, ev: AuditEvent, d: dict[str, Any]) -> list[int]:
    q = _question(session, meeting_id, ev.target_id)
    if q.status.value != d.get("after"):
        raise DecisionError(CHANGED)
    if d.get("to_group") is not None:  # accepting it gave it a group of its own: back out
        if q.group_id != d["to_group"]:
            raise DecisionError(CHANGED)
        q.group_id, q.group_locked = None, False
    q.status = QuestionStatus(d["before"])
    _stamp(q)
    return [q.id]


_REVERSE = {
    "question.move": _regroup,
    "question.split": _regroup,
    "group.merge": _unmerge,
    "question.theme": _retheme,
    "group.theme": _regroup_theme,
    "question.status": _restatus,
}
