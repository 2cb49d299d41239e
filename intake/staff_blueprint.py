"""The staff intake blueprint (``intake_staff``, under /triage) and its shared meeting picker.

The pages themselves are in :mod:`intake.card_pages` and :mod:`intake.spreadsheet.pages`;
:mod:`intake.event_entry` puts them together and handles a page left open too long.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import select

from domain.models import Meeting, MeetingStatus
from domain.web.context import runtime
from domain.web.params import parse_id

bp = Blueprint("intake_staff", __name__, template_folder="templates", url_prefix="/triage")

TIMED_OUT = "This page was open too long, so nothing was saved."


def _open_meetings() -> list[Meeting]:
    return list(
        runtime().db.session.scalars(
            select(Meeting)
            .where(Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]))
            .order_by(Meeting.scheduled_start)
        )
    )


def meeting_choices(selected: str | None) -> list[tuple[str, str]]:
    """Meetings taking questions for the picker, plus ``selected`` if it has since closed."""
    choices = [("", "Choose a meeting")]
    choices += [(str(m.id), f"{m.title} ({m.scheduled_start:%-d %B %Y})") for m in _open_meetings()]
    if selected and selected not in {c[0] for c in choices}:
        # A meeting that stopped taking questions while the page was open: keep it chosen
        # so the check can say so, rather than silently switching meetings.
        closed = meeting_by_id(selected)
        if closed is not None:
            choices.append((selected, f"{closed.title} (closed)"))
    return choices


def meeting_by_id(value: Any) -> Meeting | None:
    """The meeting a form field names by id, or None."""
    meeting_id = parse_id(value)
    return None if meeting_id is None else runtime().db.session.get(Meeting, meeting_id)
