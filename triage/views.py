"""Staff board: meetings and their questions as compact group cards."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.board import STATUS_FILTERS, Filters, load_board
from triage.undo import UNDOABLE, recent_decisions

bp = Blueprint("triage", __name__, template_folder="templates", url_prefix="/triage")


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
    """The board of one meeting: moderation queue, then group cards, filtered."""
    session = runtime().db.session()
    mtg = session.get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    filters = Filters.from_args(request.args)
    board = load_board(session, meeting_id, filters)
    return render_template(
        "triage/meeting.html",
        meeting=mtg,
        board=board,
        filters=filters,
        status_filters=STATUS_FILTERS,
        recent=recent_decisions(session, meeting_id),
        undoable=UNDOABLE,
    )
