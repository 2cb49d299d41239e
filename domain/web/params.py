"""Ids from URLs and forms: only plain ASCII digits that fit the database's integer column.

``str.isdigit`` accepts "²" and "٣", which ``int()`` then refuses or reads as something else,
and ids past 2**31 - 1 make PostgreSQL (int4) and SQLite (int8) raise; both were 500s.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(raw: object) -> int | None:
    """The id ``raw`` names, or None if it is not one (empty, not ASCII digits, too big)."""
    text = str(raw if raw is not None else "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id too big for the database is simply no match (404)."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
