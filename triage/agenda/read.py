"""Read model of a meeting's agenda: numbered sections and items with their attribution lines."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from domain.models import (
    SECTION_TITLES,
    AgendaItem,
    AgendaItemGroup,
    AgendaSection,
    Channel,
    Meeting,
    Phase,
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
)
from triage.attribution import Asker, attribution_line
from triage.compose import suggest

HIDDEN = (QuestionStatus.FLAGGED, QuestionStatus.REJECTED)


def visible(questions: list[Question]) -> list[Question]:
    """Members that may reach the agenda: moderated (not flagged or rejected) questions."""
    return [q for q in questions if q.status not in HIDDEN and q.kind != QuestionKind.NOISE]


def asker(q: Question) -> Asker:
    """What the attribution line may know about a question's sender."""
    s = q.submission
    identity = f"{s.channel.value}:{s.author_handle}" if s.author_handle else s.contact_email
    return Asker(
        name=s.author_name, location=s.location, consent=s.consent_publish,
        channel=s.channel.value, event_name=s.event_name if s.channel == Channel.EVENT else None,
        identity=identity, in_advance=s.phase == Phase.ADVANCE,
    )  # fmt: skip


def group_line(questions: list[Question], section: AgendaSection | None = None) -> str:
    """The attribution line of some questions, as read out in ``section``."""
    return attribution_line(
        [asker(q) for q in visible(questions)],
        mark_advance=section == AgendaSection.SOCIAL_MEDIA,
    )


def group_suggestion(group: QuestionGroup) -> str:
    """Suggested composed question: the clearest visible member, redacted."""
    return suggest([q.redacted_text for q in visible(group.questions)])


def group_label(group: QuestionGroup) -> str:
    """How staff recognise a group: its composed question, else the suggestion."""
    return group.composed_question or group_suggestion(group) or f"Group {group.id}"


@dataclass
class ItemView:
    """One numbered agenda item."""

    item: AgendaItem
    number: str
    groups: list[QuestionGroup]
    attribution: str
    question: str
    starts_at: int
    problems: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """The item's title, or else who asked."""
        return self.item.title or _capital(self.attribution)

    @property
    def ends_at(self) -> int:
        return self.starts_at + self.item.minutes


@dataclass
class SectionView:
    section: AgendaSection
    number: int
    title: str
    items: list[ItemView]


@dataclass
class AgendaView:
    """The whole agenda as staff build it."""

    meeting: Meeting
    sections: list[SectionView]
    unplaced: list[QuestionGroup]

    @property
    def items(self) -> list[ItemView]:
        return [i for s in self.sections for i in s.items]

    @property
    def total_minutes(self) -> int:
        return sum(i.item.minutes for i in self.items)

    @property
    def problems(self) -> list[str]:
        return [p for i in self.items for p in i.problems]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _item_question(item: AgendaItem, groups: list[QuestionGroup]) -> str:
    if item.question.strip():
        return item.question.strip()
    return "\n\n".join(g.composed_question.strip() for g in groups if g.composed_question.strip())


def _problems(number: str, item: AgendaItem, groups: list[QuestionGroup]) -> list[str]:
    found = [
        f"Item {number}: compose the question for “{group_label(g)[:60]}”"
        for g in groups
        if not g.composed_question.strip() and not item.question.strip()
    ]
    found += [
        f"Item {number}: “{group_label(g)[:60]}” has no questions left; take it out"
        for g in groups
        if not visible(g.questions)
    ]
    if not groups and not (item.question.strip() or item.title.strip()):
        found.append(f"Item {number} is empty: give it a title or a question")
    return found


def load_agenda(session: Session, meeting: Meeting, *, unplaced: bool = True) -> AgendaView:
    """Sections in running order with numbered items (1.1, 1.2 …) and the groups not placed
    (skipped with ``unplaced=False``: the chair's view refreshes often and does not show them)."""
    items = session.scalars(
        select(AgendaItem)
        .options(
            selectinload(AgendaItem.links)
            .joinedload(AgendaItemGroup.group)
            .selectinload(QuestionGroup.questions)
            .joinedload(Question.submission)
        )
        .where(AgendaItem.meeting_id == meeting.id)
        .order_by(AgendaItem.position, AgendaItem.id)
    ).all()
    by_section: dict[AgendaSection, list[AgendaItem]] = {s: [] for s in AgendaSection}
    for item in items:
        by_section[item.section].append(item)
    sections, clock = [], 0
    for n, section in enumerate(AgendaSection, start=1):
        views = []
        for m, item in enumerate(by_section[section], start=1):
            groups = [link.group for link in item.links]
            members = [q for g in groups for q in g.questions]
            number = f"{n}.{m}"
            views.append(ItemView(
                item=item, number=number, groups=groups,
                attribution=group_line(members, section) if groups else "",
                question=_item_question(item, groups), starts_at=clock,
                problems=_problems(number, item, groups),
            ))  # fmt: skip
            clock += item.minutes
        sections.append(SectionView(section, n, SECTION_TITLES[section], views))
    placed = {link.group_id for item in items for link in item.links}
    waiting = _unplaced(session, meeting.id, placed) if unplaced else []
    return AgendaView(meeting=meeting, sections=sections, unplaced=waiting)


def _unplaced(session: Session, meeting_id: int, placed: set[int]) -> list[QuestionGroup]:
    groups = session.scalars(
        select(QuestionGroup)
        .options(
            selectinload(QuestionGroup.questions).joinedload(Question.submission),
            joinedload(QuestionGroup.theme),
        )
        .where(QuestionGroup.meeting_id == meeting_id)
        .order_by(QuestionGroup.id)
    ).all()
    waiting = [g for g in groups if g.id not in placed and visible(g.questions)]
    return sorted(waiting, key=lambda g: -len(visible(g.questions)))


def snapshot(view: AgendaView) -> dict[str, Any]:
    """What publishing stores: redacted text and opt-in names only, nothing else."""
    m = view.meeting
    return {
        "meeting": {
            "title": m.title,
            "theme": m.theme,
            "venue": m.venue,
            "starts": m.scheduled_start.isoformat(),
            "length_minutes": m.length_minutes,
        },
        "sections": [
            {
                "number": s.number,
                "title": s.title,
                "items": [
                    {
                        "number": i.number,
                        "title": i.item.title,
                        "attribution": _capital(i.attribution),
                        "question": i.question,
                        "minutes": i.item.minutes,
                    }
                    for i in s.items
                ],
            }
            for s in view.sections
        ],
    }


def digest(content: dict[str, Any]) -> str:
    """A short fingerprint of an agenda, to notice it changed between looking and publishing."""
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:16]
