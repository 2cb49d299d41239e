"""What staff and the chair do on air. Each action is audited (ids only) and tells every open
chair view through the meeting's event stream; the overlay changes only by the chair's action."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from redis.exceptions import RedisError
from sqlalchemy import update
from sqlalchemy.orm import Session

from domain import events
from domain.models import (
    AgendaItem,
    AgendaItemGroup,
    AgendaSection,
    AgendaStatus,
    Coverage,
    LiveSuggestion,
    Meeting,
    OnAir,
    Question,
    QuestionGroup,
)
from domain.models.audit import record
from domain.runtime import Runtime
from triage.agenda import actions as agenda
from triage.agenda.read import load_agenda, visible
from triage.decisions import split_question

log = logging.getLogger(__name__)
CHANGED = "onair.changed"
OVERLAY = "overlay.changed"


class OnAirError(ValueError):
    """The action does not make sense now; the message says why."""


def state(session: Session, meeting_id: int) -> OnAir:
    """The meeting's on-air row, created on first use."""
    row = session.get(OnAir, meeting_id)
    if row is None:
        if session.get(Meeting, meeting_id) is None:
            raise OnAirError("That meeting does not exist.")
        row = OnAir(meeting_id=meeting_id, overlay_version=0, overlay_visible=False)
        session.add(row)
        session.flush()
    return row


def _question(session: Session, meeting_id: int, question_id: int) -> Question:
    q = session.get(Question, question_id)
    if q is None or q.meeting_id != meeting_id:
        raise OnAirError("That question is not in this meeting.")
    if not visible([q]):
        raise OnAirError("That question is waiting for moderation or was rejected.")
    return q


def _item(session: Session, meeting_id: int, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise OnAirError("That item is not on this meeting's agenda.")
    return item


def suggest(rt: Runtime, meeting_id: int, question_id: int, actor_id: int) -> None:
    """Staff forward a live question they have read to the chair."""
    with rt.db.transaction() as session:
        _question(session, meeting_id, question_id)
        row = session.query(LiveSuggestion).filter_by(question_id=question_id).one_or_none()
        if row is None:
            session.add(LiveSuggestion(meeting_id=meeting_id, question_id=question_id,
                                       suggested_by=actor_id))  # fmt: skip
        else:
            row.handled_at, row.suggested_by = None, actor_id
        record(session, "onair.suggest", actor_id=actor_id, target_type="question",
               target_id=question_id)  # fmt: skip
    tell(rt, meeting_id)


def dismiss(rt: Runtime, meeting_id: int, question_id: int, actor_id: int) -> None:
    """The chair sets a forwarded question aside (it stays on the board)."""
    with rt.db.transaction() as session:
        _handled(session, question_id)
        record(session, "onair.dismiss", actor_id=actor_id, target_type="question",
               target_id=question_id)  # fmt: skip
    tell(rt, meeting_id)


def _handled(session: Session, question_id: int) -> None:
    session.execute(
        update(LiveSuggestion)
        .where(LiveSuggestion.question_id == question_id, LiveSuggestion.handled_at.is_(None))
        .values(handled_at=datetime.now(UTC))
    )


def pull(rt: Runtime, meeting_id: int, question_id: int, actor_id: int) -> int:
    """Put a live question's group on the agenda (social media section); returns the item id.

    A group already on the agenda is not added twice: its item is returned.
    """
    with rt.db.transaction() as session:
        q = _question(session, meeting_id, question_id)
        group_id, text = q.group_id, q.redacted_text
        if group_id is not None:
            existing = session.query(AgendaItemGroup).filter_by(group_id=group_id).one_or_none()
            if existing is not None:
                _handled(session, question_id)
                return existing.agenda_item_id
    if group_id is None:
        group_id = split_question(rt, meeting_id, question_id, actor_id)
    with rt.db.transaction() as session:
        group = session.get(QuestionGroup, group_id)
        if group is not None and not group.composed_question.strip():
            group.composed_question = text
    item_id = agenda.add_group(rt, meeting_id, group_id, AgendaSection.SOCIAL_MEDIA, actor_id)
    with rt.db.transaction() as session:
        _handled(session, question_id)
    tell(rt, meeting_id)
    return item_id


def ask_now(rt: Runtime, meeting_id: int, question_id: int, actor_id: int) -> int:
    """Pull a live question into the agenda and put it to the panel at once."""
    item_id = pull(rt, meeting_id, question_id, actor_id)
    start(rt, meeting_id, item_id, actor_id)
    return item_id


def start(rt: Runtime, meeting_id: int, item_id: int, actor_id: int) -> None:
    """The chair puts an item to the panel: it becomes current and goes on the overlay."""
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        view = next(i for i in load_agenda(session, meeting).items if i.item.id == item.id)
        row = state(session, meeting_id)
        now = datetime.now(UTC)
        row.current_item_id = item.id
        row.started_at = row.started_at or now
        heading = view.item.title if not view.groups else view.heading
        _put_on_overlay(row, view.question or view.item.title, heading)
        row.updated_at = now
        record(session, "onair.start", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id)  # fmt: skip
    tell(rt, meeting_id, overlay=True)


def _put_on_overlay(row: OnAir, question: str, attribution: str) -> None:
    row.overlay_question = question.strip()
    row.overlay_attribution = attribution.strip()
    row.overlay_visible = bool(row.overlay_question)
    row.overlay_version = (row.overlay_version or 0) + 1


OUTCOMES = {
    "asked": (AgendaStatus.ASKED, Coverage.ASKED),
    "skipped": (AgendaStatus.SKIPPED, None),
    "within": (AgendaStatus.ANSWERED_WITHIN, Coverage.ANSWERED_WITHIN),
}


def finish(
    rt: Runtime, meeting_id: int, item_id: int, outcome: str, actor_id: int,
    within: int | None = None,
) -> None:  # fmt: skip
    """Mark an item asked, skipped, or answered within another item; record its groups'
    coverage (a skipped item's groups stay open and end the meeting not covered)."""
    if outcome not in OUTCOMES:
        raise OnAirError("Choose asked, skipped or answered within another item.")
    status, coverage = OUTCOMES[outcome]
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        if outcome == "within":
            if within is None or within == item_id:
                raise OnAirError("Choose the other item this one was answered within.")
            other = _item(session, meeting_id, within)
            item.notes = f"answered within item {other.id}"
        now = datetime.now(UTC)
        item.status = status
        item.asked_at = now if outcome == "asked" else item.asked_at
        for link in item.links:
            link.group.coverage = coverage or Coverage.OPEN
            link.group.covered_at = now if coverage else None
        row = state(session, meeting_id)
        was_current = row.current_item_id == item.id
        if was_current:
            row.current_item_id = None
            if row.overlay_visible:
                row.overlay_visible = False
                row.overlay_version += 1
            row.updated_at = now
        record(session, f"onair.{outcome}", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id, within=within)  # fmt: skip
    tell(rt, meeting_id, overlay=was_current)


def reopen(rt: Runtime, meeting_id: int, item_id: int, actor_id: int) -> None:
    """Undo a mark: the item is planned again and its groups open."""
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        item.status = AgendaStatus.PLANNED
        item.notes = ""
        for link in item.links:
            link.group.coverage, link.group.covered_at = Coverage.OPEN, None
        record(session, "onair.reopen", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id)  # fmt: skip
    tell(rt, meeting_id)


def show_overlay(rt: Runtime, meeting_id: int, visible_: bool, actor_id: int) -> None:
    """The chair takes the lower third off screen, or puts the current item back on."""
    with rt.db.transaction() as session:
        row = state(session, meeting_id)
        if visible_ and not row.overlay_question:
            raise OnAirError("Nothing to show: put an item to the panel first.")
        if row.overlay_visible != visible_:
            row.overlay_visible = visible_
            row.overlay_version += 1
        record(session, "onair.overlay", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id, visible=visible_)  # fmt: skip
    tell(rt, meeting_id, overlay=True)


def new_overlay_secret(rt: Runtime, meeting_id: int, actor_id: int) -> str:
    """A fresh overlay URL secret (the old one, if any, stops working)."""
    secret = secrets.token_urlsafe(24)
    with rt.db.transaction() as session:
        state(session, meeting_id).overlay_secret = secret
        record(session, "overlay.secret", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id)  # fmt: skip
    tell(rt, meeting_id, overlay=True)
    return secret


def revoke_overlay(rt: Runtime, meeting_id: int, actor_id: int) -> None:
    """Staff revoke the overlay URL: the page and its stream answer 404 from now on."""
    with rt.db.transaction() as session:
        state(session, meeting_id).overlay_secret = None
        record(session, "overlay.revoke", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id)  # fmt: skip
    tell(rt, meeting_id, overlay=True)


def close_coverage(session: Session, meeting_id: int) -> int:
    """When the meeting closes, every group still open becomes not covered; returns how many."""
    result = session.execute(
        update(QuestionGroup)
        .where(QuestionGroup.meeting_id == meeting_id, QuestionGroup.coverage == Coverage.OPEN)
        .values(coverage=Coverage.NOT_COVERED, covered_at=datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def on_close(session: Session, meeting_id: int) -> int:
    """The meeting closes: open groups become not covered, and the overlay is taken down (its
    copy of names is erased and its address revoked). Returns the groups marked not covered."""
    row = session.get(OnAir, meeting_id)
    if row is not None:
        row.overlay_secret, row.current_item_id = None, None
        row.overlay_question, row.overlay_attribution = "", ""
        row.overlay_visible = False
        row.overlay_version = (row.overlay_version or 0) + 1
    return close_coverage(session, meeting_id)


def tell(rt: Runtime, meeting_id: int, *, overlay: bool = False) -> None:
    """Tell open chair views (and, for overlay changes, the overlay) to refresh."""
    try:
        events.publish(rt.redis, rt.prefix, meeting_id, CHANGED, {})
        if overlay:
            events.publish(rt.redis, rt.prefix, meeting_id, OVERLAY, {})
    except RedisError:  # the change is stored; views catch up on their next refresh
        log.warning("could not tell live views of meeting %s", meeting_id)
