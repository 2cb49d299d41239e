"""Read model of the staff board: compact group cards, filters, and the moderation queue.

Built from plain column rows (no ORM objects), so a meeting of thousands of questions loads in
one query per table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, or_, select, type_coerce
from sqlalchemy.orm import Session

from domain.models import (
    AgendaItem,
    AgendaItemGroup,
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
    Submission,
    Theme,
)
from triage.cards import Card, Member

CHANNEL_LABELS = {
    "web": "Web form",
    "email": "Email",
    "event": "Cards at events",
    "api": "Partner systems",
    "twitter": "X (Twitter)",
    "facebook": "Facebook",
}
STATUS_FILTERS = {
    "to-compose": "Needs a composed question",
    "composed": "Composed",
    "on-agenda": "On the agenda",
}


@dataclass
class Board:
    """Everything the board page shows."""

    cards: list[Card]  # this page's cards
    flagged: list[Member]
    total_cards: int
    total_questions: int
    themes: dict[int, str]
    channels: list[str]
    matching: int = 0  # cards passing the filters, on every page
    page: int = 1
    pages: int = 1

    @property
    def channel_options(self) -> list[tuple[str, str]]:
        """(value, label) of the channels this meeting's questions came through."""
        return [(c, CHANNEL_LABELS.get(c, c)) for c in self.channels]


@dataclass(frozen=True)
class Filters:
    """What staff chose in the filter panel (empty = everything)."""

    themes: frozenset[int] = frozenset()
    channels: frozenset[str] = frozenset()
    phases: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Filters:
        """Read ``?theme=3&channel=web&phase=live&status=composed`` (each may repeat)."""

        def many(name: str) -> list[str]:
            getlist = getattr(args, "getlist", None)
            return list(getlist(name)) if getlist else list(args.get(name, []))

        return cls(
            themes=frozenset(int(v) for v in many("theme") if v.isdigit()),
            channels=frozenset(many("channel")),
            phases=frozenset(many("phase")),
            statuses=frozenset(v for v in many("status") if v in STATUS_FILTERS),
        )

    @property
    def active(self) -> bool:
        """True if anything is filtered out."""
        return bool(self.themes or self.channels or self.phases or self.statuses)

    def keeps(self, card: Card) -> bool:
        """True if ``card`` passes every chosen filter."""
        if self.themes and card.theme_id not in self.themes:
            return False
        if self.channels and not self.channels & {m.channel for m in card.members}:
            return False
        if self.phases and not self.phases & card.phases:
            return False
        return not self.statuses or card.status in self.statuses


# Enums and JSON come back as plain strings: decoding 2,000 of each costs more than the page.
_COLUMNS = (
    Question.id,
    Question.group_id,
    Question.redacted_text,
    type_coerce(Question.status, String).label("status"),
    Question.theme_id,
    Question.match_kind,
    Question.group_locked,
    type_coerce(Question.flag_reasons, String).label("flag_reasons"),
    type_coerce(Question.suggestions, String).label("suggestions"),
    type_coerce(Submission.channel, String).label("channel"),
    type_coerce(Submission.phase, String).label("phase"),
    Submission.event_name,
    Submission.author_name,
    Submission.location,
    Submission.consent_publish,
    Submission.author_handle,
    Submission.contact_email,
)


_STATUS = {s.value: s for s in QuestionStatus}


def _member(row: Any) -> Member:
    # positional unpacking: attribute access on 2,000 rows costs more than the rest of the page
    (qid, gid, text, status, theme_id, match_kind, locked, flags, suggestions, channel, phase,
     event_name, name, place, consent, handle, email) = row  # fmt: skip
    asker = None
    if consent and (name or place):
        asker = f"{name} from {place}" if name and place else name or f"someone from {place}"
    person = None
    if name or place or handle or email:
        person = ((name or "").lower(), (place or "").lower(), handle or "", (email or "").lower())
    return Member(qid, gid, text, _STATUS[status], theme_id, channel, phase, event_name,
                  match_kind, locked, asker, place, person, flags, suggestions)  # fmt: skip


PAGE_SIZE = 60


def load_board(
    session: Session,
    meeting_id: int,
    filters: Filters | None = None,
    page: int = 1,
    page_size: int | None = PAGE_SIZE,
    only_group: int | None = None,
) -> Board:
    """Cards (largest first) passing ``filters``, a page of them, and the moderation queue.

    ``page_size`` None gives every card on one page.
    """
    filters = filters or Filters()
    themes = theme_labels(session)
    groups = {
        row.id: row
        for row in session.execute(
            select(QuestionGroup.id, QuestionGroup.composed_question, QuestionGroup.theme_id).where(
                QuestionGroup.meeting_id == meeting_id
            )
        )
    }
    on_agenda = set(
        session.scalars(
            select(AgendaItemGroup.group_id)
            .join(AgendaItem, AgendaItem.id == AgendaItemGroup.agenda_item_id)
            .where(AgendaItem.meeting_id == meeting_id)
        )
    )
    query = (
        select(*_COLUMNS)
        .join(Submission, Submission.id == Question.submission_id)
        .where(
            Question.meeting_id == meeting_id,
            Question.status != QuestionStatus.REJECTED,
            # comments and noise are listed apart (triage/chatter.py) unless flagged
            or_(Question.kind == QuestionKind.QUESTION, Question.status == QuestionStatus.FLAGGED),
        )
        .order_by(Question.id)
    )
    if only_group is not None:  # one card's questions
        query = query.where(Question.group_id == only_group)
    rows = session.execute(query)
    cards: dict[Any, Card] = {}
    flagged: list[Member] = []
    for row in rows:
        member = _member(row)
        if member.status == QuestionStatus.FLAGGED:
            flagged.append(member)
            continue
        key = member.group_id if member.group_id is not None else f"q{member.id}"
        card = cards.get(key)
        if card is None:
            group = groups.get(member.group_id) if member.group_id is not None else None
            card = cards[key] = Card(
                group_id=member.group_id,
                composed=(group.composed_question or "").strip() if group else "",
                theme_id=group.theme_id if group else None,
                theme_label="",
                on_agenda=member.group_id in on_agenda,
            )
        card.members.append(member)
    for card in cards.values():
        if card.theme_id is None:
            card.theme_id = _most_common(m.theme_id for m in card.members)
        card.theme_label = themes.get(card.theme_id, "") if card.theme_id else ""
    ordered = sorted(cards.values(), key=lambda c: (-len(c.members), c.members[0].id))
    shown = [c for c in ordered if filters.keeps(c)]
    size = page_size or max(1, len(shown))
    pages = max(1, -(-len(shown) // size))
    page = min(max(1, page), pages)
    return Board(
        cards=shown[(page - 1) * size : page * size],
        matching=len(shown),
        page=page,
        pages=pages,
        flagged=sorted(flagged, key=lambda m: not m.urgent),
        total_cards=len(ordered),
        total_questions=sum(len(c.members) for c in ordered) + len(flagged),
        themes=themes,
        channels=sorted({m.channel for c in ordered for m in c.members}),
    )


def _most_common(values: Iterable[int | None]) -> int | None:
    counts = Counter(v for v in values if v is not None)
    return counts.most_common(1)[0][0] if counts else None


def theme_labels(session: Session) -> dict[int, str]:
    """Active themes by id, in label order."""
    return dict(
        session.execute(
            select(Theme.id, Theme.label).where(Theme.active).order_by(Theme.label)
        ).all()
    )


def group_choices(
    session: Session, meeting_id: int, exclude: int | None, theme_id: int | None = None
) -> list[Card]:
    """Groups a question or group can go to, named by their question (composed or clearest).

    Groups of the same theme come first, then the rest; largest first within each.
    """
    board = load_board(session, meeting_id, page_size=None)
    cards = [c for c in board.cards if c.group_id is not None and c.group_id != exclude]
    return sorted(cards, key=lambda c: theme_id is None or c.theme_id != theme_id)


def find_card(session: Session, meeting_id: int, key: str) -> Card | None:
    """The card ``g<group id>`` or ``q<question id>`` of a meeting, or None."""
    group = int(key[1:]) if key.startswith("g") and key[1:].isdigit() else None
    board = load_board(session, meeting_id, page_size=None, only_group=group)
    cards = board.cards + [
        Card(group_id=None, composed="", theme_id=m.theme_id, theme_label="", on_agenda=False,
             members=[m])
        for m in board.flagged
    ]  # fmt: skip
    return next((c for c in cards if c.key == key), None)
