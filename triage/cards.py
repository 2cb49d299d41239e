"""The board's cards: a group of questions as staff see it, and each question in it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from domain.models import QuestionStatus
from triage.card_text import clearest, people_line


@dataclass(slots=True)
class Member:
    """One question inside a card."""

    id: int
    group_id: int | None
    text: str
    status: QuestionStatus
    theme_id: int | None
    channel: str
    phase: str
    event_name: str | None
    match_kind: str | None
    placed_by_staff: bool
    asker: str | None
    location: str | None
    # Same name/town/handle/email = same person (never shown; only to list people once).
    person: tuple[str, ...] | None = None
    # JSON as stored, decoded only for the few questions whose card shows it.
    flag_reasons_json: str | list[Any] | None = None
    suggestions_json: str | list[Any] | None = None

    @property
    def flag_reasons(self) -> list[dict[str, Any]]:
        """Why the question is in the moderation queue."""
        return _decode(self.flag_reasons_json)

    @property
    def urgent(self) -> bool:
        """Possibly an emergency happening now: listed first, the sender told to call 999."""
        return any(f.get("urgent") for f in self.flag_reasons if isinstance(f, dict))

    @property
    def suggestions(self) -> list[dict[str, Any]]:
        """Candidate groups from the worker, best first."""
        return _decode(self.suggestions_json)


def _decode(raw: str | list[Any] | None) -> list[dict[str, Any]]:
    # SQLite hands the JSON back as text; psycopg has already decoded PostgreSQL's json
    value = json.loads(raw) if isinstance(raw, str) and raw else raw
    return value if isinstance(value, list) else []


@dataclass
class Card:
    """A group as a compact card: the question to ask, count, channels, places and theme."""

    group_id: int | None
    composed: str
    theme_id: int | None
    theme_label: str
    on_agenda: bool
    members: list[Member] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Element id: ``g12``, or ``q34`` for a question not in any group."""
        return f"g{self.group_id}" if self.group_id is not None else f"q{self.members[0].id}"

    @cached_property
    def question(self) -> str:
        """The composed question, else the clearest member's redacted text."""
        return self.composed or clearest([m.text for m in self.members])

    @cached_property
    def askers(self) -> str:
        """Who asked, each person once: 'Kath from Shifnal, Alex from Ludlow and 2 others'."""
        seen: set[tuple[str, ...]] = set()
        askers: list[str | None] = []
        for m in self.members:
            if m.person is not None:
                if m.person in seen:
                    continue
                seen.add(m.person)
            askers.append(m.asker)
        return people_line(askers)

    @property
    def places(self) -> list[str]:
        """Distinct towns, in order (kept even when the question is the same)."""
        return list(dict.fromkeys(m.location for m in self.members if m.location))

    @property
    def channels(self) -> list[str]:
        """Distinct channels, an event card naming its event."""
        return list(
            dict.fromkeys(
                f"{m.channel} ({m.event_name})" if m.event_name else m.channel for m in self.members
            )
        )

    @property
    def phases(self) -> set[str]:
        """Advance and/or live."""
        return {m.phase for m in self.members}

    @property
    def status(self) -> str:
        """The status filter value of the card."""
        if self.on_agenda:
            return "on-agenda"
        return "composed" if self.composed else "to-compose"
