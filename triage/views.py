"""Staff board: meetings and their questions."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.board import active_themes, load_board
from triage.queue_banner import humane_age, pipe_status

bp = Blueprint("triage", __name__, template_folder="templates", url_prefix="/triage")
# every staff page (triage and intake staff) includes the queue banner from triage/base.html
bp.app_context_processor(lambda: {"pipe_status": pipe_status, "humane_age": humane_age})


@bp.route("/")
@bp.route("/meetings")
@staff_required
def meetings() -> str:
    """All meetings, newest first."""
    rows = runtime().db.session.scalars(select(Meeting).order_by(Meeting.scheduled_start.desc()))
    return render_template("triage/meetings.html", meetings=rows.all())


@bp.route("/meetings/<int:meeting_id>")
@staff_required
def meeting(meeting_id: int) -> str:
    """Questions stored for one meeting."""
    session = runtime().db.session()
    mtg = session.get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    groups, flagged = load_board(session, meeting_id)
    total = sum(len(g.questions) for g in groups) + len(flagged)
    return render_template(
        "triage/meeting.html",
        meeting=mtg,
        groups=groups,
        flagged=flagged,
        total=total,
        themes=active_themes(session),
    )
