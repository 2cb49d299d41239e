"""Public pages that tell rather than ask: start page, closed meeting, confirmation, privacy."""

from __future__ import annotations

from flask import abort, redirect, render_template, session, url_for

from domain.models import Meeting
from domain.web.context import runtime
from intake import antispam
from intake.forms import QuestionForm
from intake.public_blueprint import (
    RECEIPT_KEY,
    Page,
    app_secret,
    bp,
    find_meeting,
    open_meetings,
)


def closed_page(meeting: Meeting, form: QuestionForm | None = None, status: int = 200) -> Page:
    """A meeting not taking questions; with ``form``, the unsent text is shown and can move on."""
    later = open_meetings(exclude=meeting)
    next_meeting = later[0] if later else None
    html = render_template(
        "intake/closed.html",
        meeting=meeting,
        next_meeting=next_meeting,
        kept=form,
        form_token=antispam.issue(app_secret()).signed if form is not None else "",
    )
    return html, status


@bp.route("/ask")
def ask_any() -> Page:
    """Send people to the meeting currently taking questions."""
    meetings = open_meetings()
    if not meetings:
        return render_template("intake/no_meeting.html")
    return redirect(url_for("intake.ask", slug=meetings[0].slug))


@bp.route("/meetings/<slug>")
def meeting(slug: str) -> Page:
    """Start page: what the meeting is, its theme, when, and how to watch."""
    found = find_meeting(slug)
    if found is None:
        abort(404)
    later = [] if found.accepting_questions else open_meetings(exclude=found)
    return render_template(
        "intake/start.html", meeting=found, next_meeting=later[0] if later else None
    )


@bp.route("/meetings/<slug>/confirmation")
def confirmation(slug: str) -> Page:
    """Tell the sender their reference, what happens next and how to watch."""
    receipt = session.get(RECEIPT_KEY)
    if not isinstance(receipt, dict) or receipt.get("slug") != slug:
        return redirect(url_for("intake.meeting", slug=slug))
    found = find_meeting(slug)
    if found is None:
        abort(404)
    return render_template(
        "intake/confirmation.html",
        meeting=found,
        reference=str(receipt.get("reference", "")),
        by_email=bool(receipt.get("by_email")),
    )


@bp.route("/privacy")
def privacy() -> str:
    """What we collect, why, for how long, and how to have it erased."""
    return render_template("intake/privacy.html", retention_days=runtime().settings.retention_days)
