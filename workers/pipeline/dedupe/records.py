"""What a :class:`~workers.pipeline.dedupe.DedupeIndex` remembers: placed questions and groups.

Each placed question keeps its group, hashes, place-masked text, theme and the decision that
placed it, and saves to (and loads from) a JSON-able row; groups keep their members and the
cannot-link pairs that staff splits leave behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workers.pipeline.grouping import Suggestion
from workers.pipeline.match_rules import MatchDecision, MatchKind


@dataclass
class PlacedItem:
    """What the index remembers of one placed question."""

    item_id: str
    group: str
    text_hash: str
    masked: str
    location: str | None
    decision: MatchDecision
    theme: str | None = None
    staff_placed: bool = False
    split_from: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The saved, JSON-able form of this record."""
        return {
            "id": self.item_id,
            "group": self.group,
            "hash": self.text_hash,
            "masked": self.masked,
            "location": self.location,
            "theme": self.theme,
            "kind": self.decision.kind.value,
            "score": self.decision.score,
            "matched": self.decision.matched_item_id,
            "first_group": self.decision.group_key,
            "staff_placed": self.staff_placed,
            "split_from": self.split_from,
            "suggestions": [s.to_dict() for s in self.decision.suggestions],
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PlacedItem:
        """Rebuild a record saved by :meth:`to_row`."""
        suggestions = tuple(
            Suggestion(s["group"], s["member"], s["score"]) for s in row.get("suggestions", [])
        )
        decision = MatchDecision(
            row["id"], MatchKind(row["kind"]), row["first_group"], row["score"], row["matched"],
            suggestions,
        )  # fmt: skip
        return cls(
            row["id"], row["group"], row["hash"], row["masked"], row["location"], decision,
            row["theme"], row["staff_placed"], row["split_from"],
        )  # fmt: skip


@dataclass
class GroupMembers:
    """Members of every group, and the pairs of groups staff split apart."""

    members: dict[str, list[str]] = field(default_factory=dict)
    cannot_link: set[frozenset[str]] = field(default_factory=set)

    def add(self, group: str, item_id: str) -> None:
        """Put ``item_id`` in ``group``."""
        self.members.setdefault(group, []).append(item_id)

    def remove(self, group: str, item_id: str) -> None:
        """Take ``item_id`` out of ``group``."""
        self.members[group].remove(item_id)
