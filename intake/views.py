"""Public pages: the question form and its confirmation."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from domain.models import Meeting, MeetingStatus
from domain.web.context import runtime
from intake.forms import QuestionForm
from intake.submit import submit

bp = Blueprint("intake", __name__, template_folder="templates")


def _next_open_meeting() -> Meeting | None:
    return runtime().db.session.scalar(
        select(Meeting)
        .where(Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]))
        .order_by(Meeting.scheduled_start)
    )


@bp.route("/ask")
def ask_any() -> Response:
    """Send people to the meeting currently taking questions."""
    meeting = _next_open_meeting()
    if meeting is None:
        return Response(render_template("intake/no_meeting.html"), status=200)
    return redirect(url_for("intake.ask", slug=meeting.slug))


@bp.route("/meetings/<slug>/ask", methods=["GET", "POST"])
def ask(slug: str) -> str | Response:
    """The question form."""
    rt = runtime()
    meeting = rt.db.session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        abort(404)
    form = QuestionForm()
    if form.validate_on_submit():
        receipt = submit(
            rt,
            meeting,
            channel="web",
            text=form.question.data or "",
            author_name=form.name.data,
            location=form.town.data,
        )
        session["last_reference"] = receipt.reference
        return redirect(url_for("intake.confirmation", slug=slug))
    return render_template("intake/ask.html", meeting=meeting, form=form)


@bp.route("/meetings/<slug>/confirmation")
def confirmation(slug: str) -> str:
    """Tell the sender their reference and what happens next."""
    meeting = runtime().db.session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        abort(404)
    return render_template(
        "intake/confirmation.html", meeting=meeting, reference=session.get("last_reference")
    )


@bp.route("/privacy")
def privacy() -> str:
    """What we collect, why, for how long, and how to have it erased."""
    return render_template("intake/privacy.html", retention_days=runtime().settings.retention_days)
