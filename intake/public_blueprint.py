"""The public blueprint (``intake``): the meeting lookups and template helpers its pages share.

The pages are in :mod:`intake.meeting_pages` (start, confirmation, privacy, closed) and
:mod:`intake.question_pages` (the question and check-your-answers steps);
:mod:`intake.views` puts them together with the refusals that keep what was typed.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from domain.models import Meeting, MeetingKind, MeetingStatus
from domain.web.context import runtime
from intake import antispam
from intake.forms import QUESTION_LIMIT

log = logging.getLogger(__name__)

bp = Blueprint("intake", __name__, template_folder="templates")

LONDON = ZoneInfo("Europe/London")
RECEIPT_KEY = "intake_receipt"
KIND_LABELS = {
    MeetingKind.PUBLIC: "Public meeting",
    MeetingKind.FACEBOOK_LIVE: "Facebook Live public meeting",
    MeetingKind.THEMATIC: "Themed public meeting",
}

Page = str | Response | tuple[str, int]


def describe_when(value: datetime | None) -> str:
    """'Thursday 4 June 2026 at 7pm' in UK time (GOV.UK date and time style)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        clock = "midday"
    elif (local.hour, local.minute) == (0, 0):
        clock = "midnight"
    else:
        hour = local.hour % 12 or 12
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    return f"{local:%A} {local.day} {local:%B %Y} at {clock}"


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "when": describe_when,
        "kind_label": lambda m: KIND_LABELS.get(m.kind, "Public meeting"),
        "question_limit": QUESTION_LIMIT,
        "honeypot_field": antispam.HONEYPOT_FIELD,
        "token_field": antispam.TOKEN_FIELD,
    }


def app_secret() -> str:
    """The app's secret key, which signs form tokens and keys the rate-limit hash."""
    return str(current_app.secret_key)


def find_meeting(slug: str) -> Meeting | None:
    """The meeting with this slug, or None."""
    return runtime().db.session.scalar(select(Meeting).where(Meeting.slug == slug))


def meeting_quietly(slug: str) -> Meeting | None:
    """The meeting for an error page; None if the database cannot tell us."""
    try:
        return find_meeting(slug)
    except SQLAlchemyError as exc:
        log_database_error(exc)
        return None


def open_meetings(exclude: Meeting | None = None) -> list[Meeting]:
    """Meetings taking questions: the one on air first, then the soonest."""
    stmt = (
        select(Meeting)
        .where(Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]))
        .order_by(Meeting.scheduled_start, Meeting.id)
    )
    if exclude is not None:
        stmt = stmt.where(Meeting.id != exclude.id)
    meetings = list(runtime().db.session.scalars(stmt))
    return sorted(meetings, key=lambda m: m.status != MeetingStatus.LIVE)


def log_database_error(exc: SQLAlchemyError) -> None:
    """Log that the database failed, naming only the exception types."""
    # Never str(exc): SQLAlchemy puts the statement's parameters (the question) in it.
    orig = getattr(exc, "orig", None)
    log.error(
        "database unavailable for the public form: %s%s",
        type(exc).__name__,
        f" ({type(orig).__name__})" if orig is not None else "",
    )


def ensure_nonce() -> None:
    """CSRF and rate-limit errors are raised before Talisman makes the CSP nonce: make it."""
    if not getattr(request, "csp_nonce", None):
        setattr(request, "csp_nonce", secrets.token_urlsafe(18))  # noqa: B010
