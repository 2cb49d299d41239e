"""Staff changes to the agenda. Each one is audited (ids only) and tells live views."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import events
from domain.models import (
    AgendaItem,
    AgendaItemGroup,
    AgendaSection,
    Meeting,
    PublishedAgenda,
    QuestionGroup,
)
from domain.models.audit import record
from domain.runtime import Runtime
from triage.agenda.read import digest, load_agenda, snapshot

MAX_MINUTES = 600
log = logging.getLogger(__name__)


class AgendaError(ValueError):
    """The change does not make sense; the message says why, for staff."""


def _meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise AgendaError("That meeting does not exist.")
    return meeting


def _item(session: Session, meeting_id: int, item_id: int) -> AgendaItem:
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise AgendaError("That agenda item is not on this meeting's agenda.")
    return item


def _group(session: Session, meeting_id: int, group_id: int) -> QuestionGroup:
    group = session.get(QuestionGroup, group_id)
    if group is None or group.meeting_id != meeting_id:
        raise AgendaError("That question group is not in this meeting.")
    if session.scalar(select(AgendaItemGroup.id).where(AgendaItemGroup.group_id == group_id)):
        raise AgendaError("That question group is already on the agenda.")
    return group


def _section_items(session: Session, meeting_id: int, section: AgendaSection) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, AgendaItem.section == section)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )


def _renumber(items: list[AgendaItem]) -> None:
    for n, item in enumerate(items):
        item.position = n


def minutes(raw: str | int | None) -> int:
    """Minutes typed by staff, checked."""
    try:
        value = int(str(raw).strip() or 0)
    except ValueError:
        raise AgendaError("Minutes must be a whole number, like 5.") from None
    if not 0 <= value <= MAX_MINUTES:
        raise AgendaError(f"Minutes must be between 0 and {MAX_MINUTES}.")
    return value


def add_group(
    rt: Runtime, meeting_id: int, group_id: int, section: AgendaSection, actor_id: int
) -> int:
    """Put a group on the agenda as a new item at the end of ``section``; returns the item id."""
    with rt.db.transaction() as session:
        _meeting(session, meeting_id)
        _group(session, meeting_id, group_id)
        position = len(_section_items(session, meeting_id, section))
        item = AgendaItem(meeting_id=meeting_id, section=section, position=position, minutes=5)
        item.links.append(AgendaItemGroup(group_id=group_id, position=0))
        session.add(item)
        session.flush()
        record(session, "agenda.add_group", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id, group=group_id, section=section.value)  # fmt: skip
        item_id = item.id
    tell(rt, meeting_id)
    return item_id


def gather(rt: Runtime, meeting_id: int, group_id: int, item_id: int, actor_id: int) -> None:
    """Add a group to an existing item: several groups put as one question."""
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        _group(session, meeting_id, group_id)
        item.links.append(AgendaItemGroup(group_id=group_id, position=len(item.links)))
        record(session, "agenda.gather", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id, group=group_id)  # fmt: skip
    tell(rt, meeting_id)


def release(rt: Runtime, meeting_id: int, item_id: int, group_id: int, actor_id: int) -> None:
    """Take a group off an item (back to the groups waiting); an item left empty goes too."""
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        link = next((link for link in item.links if link.group_id == group_id), None)
        if link is None:
            raise AgendaError("That question group is not in this agenda item.")
        item.links.remove(link)
        removed = not item.links and not (item.title.strip() or item.question.strip())
        if removed:
            session.delete(item)
            session.flush()
            _renumber(_section_items(session, meeting_id, item.section))
        record(session, "agenda.release", actor_id=actor_id, target_type="agenda_item",
               target_id=item_id, group=group_id, item_removed=removed)  # fmt: skip
    tell(rt, meeting_id)


def add_item(
    rt: Runtime, meeting_id: int, section: AgendaSection, title: str, question: str,
    minutes_: int, actor_id: int,
) -> int:  # fmt: skip
    """An item typed by staff with no group (the PCC's own holding-to-account questions)."""
    title, question = title.strip(), question.strip()
    if not (title or question):
        raise AgendaError("Enter a title or a question for the new item.")
    if len(title) > 200:
        raise AgendaError("The title must be 200 characters or fewer.")
    with rt.db.transaction() as session:
        _meeting(session, meeting_id)
        position = len(_section_items(session, meeting_id, section))
        item = AgendaItem(meeting_id=meeting_id, section=section, position=position,
                          title=title, question=question, minutes=minutes_)  # fmt: skip
        session.add(item)
        session.flush()
        record(session, "agenda.add_item", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id, section=section.value)  # fmt: skip
        item_id = item.id
    tell(rt, meeting_id)
    return item_id


def update_item(
    rt: Runtime, meeting_id: int, item_id: int, title: str, question: str, minutes_: int,
    actor_id: int,
) -> None:  # fmt: skip
    """Change an item's title, wording or minutes."""
    if len(title.strip()) > 200:
        raise AgendaError("The title must be 200 characters or fewer.")
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        if not item.links and not (title.strip() or question.strip()):
            raise AgendaError("An item with no question group needs a title or a question.")
        item.title, item.question, item.minutes = title.strip(), question.strip(), minutes_
        record(session, "agenda.update", actor_id=actor_id, target_type="agenda_item",
               target_id=item.id, minutes=minutes_)  # fmt: skip
    tell(rt, meeting_id)


def delete_item(rt: Runtime, meeting_id: int, item_id: int, actor_id: int) -> None:
    """Take an item off the agenda; its groups wait to be placed again."""
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        section = item.section
        session.delete(item)
        session.flush()
        _renumber(_section_items(session, meeting_id, section))
        record(session, "agenda.delete", actor_id=actor_id, target_type="agenda_item",
               target_id=item_id)  # fmt: skip
    tell(rt, meeting_id)


def move(rt: Runtime, meeting_id: int, item_id: int, step: int, actor_id: int) -> None:
    """One place up (-1) or down (+1); past the end of a section it goes into the next one."""
    order = list(AgendaSection)
    with rt.db.transaction() as session:
        item = _item(session, meeting_id, item_id)
        items = _section_items(session, meeting_id, item.section)
        at = items.index(item)
        target = at + step
        if 0 <= target < len(items):
            items[at], items[target] = items[target], items[at]
            _renumber(items)
        else:
            s = order.index(item.section) + step
            if not 0 <= s < len(order):
                raise AgendaError("That item is already at the end of the agenda.")
            items.remove(item)
            _renumber(items)
            others = _section_items(session, meeting_id, order[s])
            item.section = order[s]
            # down from the last place: first of the next section; up from the first: last
            others = [item, *others] if step > 0 else [*others, item]
            _renumber(others)
        record(session, "agenda.move", actor_id=actor_id, target_type="agenda_item",
               target_id=item_id, step=step, section=item.section.value)  # fmt: skip
    tell(rt, meeting_id)


def reorder(rt: Runtime, meeting_id: int, order: dict[str, list[int]], actor_id: int) -> None:
    """Set every item's section and position at once (drag and drop sends the whole order)."""
    try:
        wanted = {AgendaSection(s): ids for s, ids in order.items()}
    except ValueError:
        raise AgendaError("Unknown agenda section.") from None
    with rt.db.transaction() as session:
        items = {
            i.id: i
            for i in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id))
        }
        listed = [i for ids in wanted.values() for i in ids]
        if sorted(listed) != sorted(items):
            raise AgendaError("The agenda changed while you were moving items: reload the page.")
        for section, ids in wanted.items():
            for n, item_id in enumerate(ids):
                items[item_id].section, items[item_id].position = section, n
        record(session, "agenda.reorder", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id, items=len(listed))  # fmt: skip
    tell(rt, meeting_id)


def set_length(rt: Runtime, meeting_id: int, length: int, actor_id: int) -> None:
    """How many minutes the meeting runs."""
    if length < 1:
        raise AgendaError("The meeting length must be at least 1 minute.")
    with rt.db.transaction() as session:
        meeting = _meeting(session, meeting_id)
        meeting.length_minutes = length
        record(session, "meeting.length", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id, minutes=length)  # fmt: skip


def publish(rt: Runtime, meeting_id: int, seen_digest: str, actor_id: int) -> int:
    """Publish the agenda exactly as staff last saw it; returns the new version number."""
    with rt.db.transaction() as session:
        view = load_agenda(session, _meeting(session, meeting_id))
        if view.problems:
            raise AgendaError("Not published: " + "; ".join(view.problems) + ".")
        if not view.items:
            raise AgendaError("Not published: the agenda has no items yet.")
        content = snapshot(view)
        if digest(content) != seen_digest:
            raise AgendaError(
                "Not published: the agenda changed since this page was loaded "
                "(a question arrived or someone edited it). Check it and publish again."
            )
        last = session.scalar(
            select(func.max(PublishedAgenda.version)).where(
                PublishedAgenda.meeting_id == meeting_id
            )
        )
        version = (last or 0) + 1
        session.add(PublishedAgenda(meeting_id=meeting_id, version=version,
                                    published_by=actor_id, content=content))  # fmt: skip
        record(session, "agenda.publish", actor_id=actor_id, target_type="meeting",
               target_id=meeting_id, version=version)  # fmt: skip
    tell(rt, meeting_id, "agenda.published")
    return version


def tell(rt: Runtime, meeting_id: int, type_: str = "agenda.updated", **data: object) -> None:
    """Tell live views; the change is already saved, so an event bus outage only delays them."""
    try:
        events.publish(rt.redis, rt.prefix, meeting_id, type_, dict(data))
    except RedisError:
        log.warning("event bus unavailable: %s for meeting %s not sent", type_, meeting_id)
