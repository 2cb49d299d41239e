"""One theme per duplicate group: members that ask the same thing share a theme.

The classifier themes each question on its own; a group's members then vote. A lone
question's theme is often a near miss between two themes, while the group as a whole
leans clearly one way, and staff file the agenda question (the group) under one theme.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["group_theme"]


def group_theme(ballots: Sequence[str | None], staff: Sequence[str] = ()) -> str | None:
    """The theme a group's members share.

    Args:
        ballots: the members' own themes, the group's first member first (``None`` for a
            member without a theme, which does not vote).
        staff: themes staff chose for members of the group; they outvote the classifier.

    Returns:
        The most common staff theme if any, else the most common ballot; a tie goes to the
        theme of the earlier member. ``None`` when nobody voted.
    """
    for votes in (staff, ballots):
        counts: dict[str, int] = {}
        for slug in votes:
            if slug is not None:
                counts[slug] = counts.get(slug, 0) + 1
        if counts:
            return max(counts, key=lambda s: counts[s])  # max keeps the first of equals
    return None
