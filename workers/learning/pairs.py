"""Labelled pairs from staff decisions: "these two ask the same thing" or "they do not".

Staff decisions are read from one meeting's *current* grouping (so an undone decision counts
as undone) and the groups each decided question was taken out of:

* a question staff moved, merged or split is **the same ask** as the other members of the
  group it is in now (at most :data:`MAX_POSITIVES` of them);
* it is **not the same ask** as the members still in a group it was taken out of, nor as its
  :data:`NEAR_NEGATIVES` nearest questions (by the model's cosine) that are in another group:
  staff looked at it and put it elsewhere, and near neighbours are what the model confuses.

Only ids, group keys and vectors come in; no text, no names (:class:`MeetingDecisions`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from workers.learning.layer import PairSet

#: "Same ask" partners kept per decided question (the first members of its group).
MAX_POSITIVES = 20
#: Nearest questions in other groups taken as "not the same ask" per decided question.
NEAR_NEGATIVES = 5


@dataclass
class MeetingDecisions:
    """One meeting as the learner sees it: vectors, current groups, staff's decisions.

    ``left`` maps each question staff placed (moved, merged, split) to the groups it was
    taken out of (empty when unknown).
    """

    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    group: dict[str, str] = field(default_factory=dict)
    left: dict[str, set[str]] = field(default_factory=dict)

    def decided(self, item_id: str, left_group: str | None = None) -> None:
        """Record that staff placed ``item_id``, taking it out of ``left_group`` if given."""
        groups = self.left.setdefault(item_id, set())
        if left_group is not None:
            groups.add(left_group)


def _members(group: Mapping[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item_id, key in group.items():
        out.setdefault(key, []).append(item_id)
    return out


def meeting_pairs(
    meeting: MeetingDecisions,
    *,
    max_positives: int = MAX_POSITIVES,
    near_negatives: int = NEAR_NEGATIVES,
) -> list[tuple[str, str, bool]]:
    """Labelled id pairs of one meeting (each unordered pair once, in a stable order)."""
    known = [i for i in meeting.group if i in meeting.vectors]
    group = {i: meeting.group[i] for i in known}
    members = _members(group)
    index = {item_id: n for n, item_id in enumerate(known)}
    matrix = np.array([meeting.vectors[i] for i in known], np.float32).reshape(len(known), -1)
    labels: dict[frozenset[str], tuple[str, str, bool]] = {}

    def add(a: str, b: str, same: bool) -> None:
        key = frozenset((a, b))
        if a != b and key not in labels:
            labels[key] = (a, b, same)

    for item_id in sorted(meeting.left, key=lambda i: (len(i), i)):
        if item_id not in index:
            continue
        own = group[item_id]
        mates = [m for m in members[own] if m != item_id]
        for mate in mates[:max_positives]:
            add(item_id, mate, True)
        for old in sorted(meeting.left[item_id]):
            for other in members.get(old, []):
                if group[other] != own:
                    add(item_id, other, False)
        if near_negatives:
            cos = matrix @ matrix[index[item_id]]
            taken = 0
            for n in np.argsort(-cos, kind="stable"):
                other = known[int(n)]
                if group[other] == own:
                    continue
                add(item_id, other, False)
                taken += 1
                if taken == near_negatives:
                    break
    return list(labels.values())


def derive_pairs(meetings: Sequence[MeetingDecisions], dim: int = 384) -> PairSet:
    """Every meeting's labelled pairs as vectors (pairs never cross meetings)."""
    a: list[np.ndarray] = []
    b: list[np.ndarray] = []
    y: list[bool] = []
    for meeting in meetings:
        for left, right, same in meeting_pairs(meeting):
            a.append(meeting.vectors[left])
            b.append(meeting.vectors[right])
            y.append(same)
    if not y:
        return PairSet.concat([], dim)
    return PairSet(np.asarray(a, np.float32), np.asarray(b, np.float32), np.asarray(y, dtype=bool))
