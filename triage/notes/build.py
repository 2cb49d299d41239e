"""What goes into the notes, in the order and numbering of the OPCC's meeting notes.

1 PUBLIC SESSION (1.1 "Kath from Shifnal, James from Kidderminster and Sue from Redditch", the
question, "Response:"), 2 HOLDING TO ACCOUNT, 3 SOCIAL MEDIA, END OF PUBLIC SESSION, actions
arising with owners, any other business, and the next meeting. Pure data: the DOCX is drawn by
``triage.notes.docx_export``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import AgendaSection, Coverage, Meeting, QuestionGroup
from triage.agenda.read import ItemView, group_label, group_line, load_agenda, visible

ACTION_LINE = re.compile(r"^\s*action(?:\s*\(([^)]*)\))?\s*:\s*(.+?)\s*$", re.IGNORECASE)
WRITTEN_ANSWER_OWNER = "OPCC"


@dataclass(frozen=True)
class Attendee:
    name: str
    capacity: str = ""


@dataclass
class NotesHeader:
    """What the agenda does not know: filled in by the minute-taker (or left as blanks)."""

    chair: str = ""
    minute_taker: str = ""
    present: list[Attendee] = field(default_factory=list)
    apologies: list[str] = field(default_factory=list)
    next_meeting: str = ""


@dataclass(frozen=True)
class NotesItem:
    number: str
    heading: str  # the attribution line, or the item's title
    question: str
    response: str  # what is known already; the minute-taker writes the rest


@dataclass(frozen=True)
class NotesSection:
    number: int
    title: str
    purpose: str
    items: list[NotesItem]


@dataclass(frozen=True)
class Action:
    text: str
    owner: str


@dataclass
class MeetingNotes:
    meeting: Meeting
    header: NotesHeader
    sections: list[NotesSection]
    actions: list[Action]
    other_business: list[NotesItem]


PURPOSES = {
    AgendaSection.PUBLIC_SESSION: (
        "PUBLIC SESSION",
        "To respond to questions submitted by the public in advance of the meeting",
    ),
    AgendaSection.HOLDING_TO_ACCOUNT: ("HOLDING TO ACCOUNT", ""),
    AgendaSection.SOCIAL_MEDIA: (
        "SOCIAL MEDIA",
        "To respond to any questions submitted via social media during the course of the meeting.",
    ),
}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _response(view: ItemView) -> str:
    coverage = {g.coverage for g in view.groups}
    if view.groups and coverage == {Coverage.NOT_COVERED}:
        return "Not reached in the meeting: a written answer will be sent (see actions arising)."
    if view.groups and coverage == {Coverage.ANSWERED_WITHIN}:
        return "Answered within another item."
    return ""


def build_notes(session: Session, meeting: Meeting, header: NotesHeader) -> MeetingNotes:
    """The notes draft of ``meeting`` from its agenda and how each group ended the meeting."""
    agenda = load_agenda(session, meeting)
    by_section = {s.section: s for s in agenda.sections}
    sections = []
    for n, section in enumerate(PURPOSES, start=1):
        title, purpose = PURPOSES[section]
        items = []
        for m, view in enumerate(by_section[section].items, start=1):
            number = f"{n}.{m}"
            heading = view.item.title or _capital(view.attribution)
            if view.item.title and view.attribution:
                heading = f"{view.item.title} ({view.attribution})"
            items.append(NotesItem(number, heading, view.question, _response(view)))
        if section == AgendaSection.SOCIAL_MEDIA:
            items += _taken_live(agenda.unplaced, n, len(items))
        sections.append(NotesSection(n, title, purpose, items))
    aob = [
        NotesItem("", v.item.title or _capital(v.attribution), v.question, "")
        for v in by_section[AgendaSection.AOB].items
    ]
    return MeetingNotes(meeting, header, sections, _actions(agenda.items, session, meeting), aob)


def _taken_live(unplaced: list[QuestionGroup], section: int, start: int) -> list[NotesItem]:
    """Questions the chair took from the live feed without an agenda item."""
    taken = [g for g in unplaced if g.coverage == Coverage.ASKED]
    return [
        NotesItem(
            f"{section}.{start + k}",
            _capital(group_line(g.questions, AgendaSection.SOCIAL_MEDIA)),
            g.composed_question.strip() or group_label(g),
            "",
        )
        for k, g in enumerate(taken, start=1)
    ]


def _actions(items: list[ItemView], session: Session, meeting: Meeting) -> list[Action]:
    found = []
    for view in items:
        for line in (view.item.notes or "").splitlines():
            match = ACTION_LINE.match(line)
            if match:
                found.append(Action(match.group(2), (match.group(1) or "").strip()))
    not_covered = session.scalars(
        select(QuestionGroup)
        .where(
            QuestionGroup.meeting_id == meeting.id,
            QuestionGroup.coverage == Coverage.NOT_COVERED,
        )
        .order_by(QuestionGroup.id)
    ).all()
    for group in not_covered:
        members = visible(group.questions)
        if not members:
            continue
        who = group_line(members) or "the people who asked"
        question = group.composed_question.strip() or group_label(group)
        short = question if len(question) <= 90 else question[:87].rstrip() + "…"
        found.append(Action(f"Written answer to {who}: “{short}”", WRITTEN_ANSWER_OWNER))
    return found
