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


# 0 … 2**31 - 1 spelt out, so a bigger id matches no route at all. (Refusing it later, in
# ``to_python``, makes Werkzeug answer 405 where a GET and a POST route share the path.)
_ID_REGEX = (
    r"(?:0|[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    r"|21474836[0-3][0-9]|214748364[0-7])"
)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id too big for the database is simply no match (404)."""

    regex = _ID_REGEX

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
