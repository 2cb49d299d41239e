"""Staff board: meetings and their questions as compact group cards."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from redis.exceptions import RedisError
from sqlalchemy import select

from domain import events
from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.board import STATUS_FILTERS, Filters, find_card, load_board
from triage.queue_banner import humane_age, pipe_status
from triage.roles import allowed
from triage.undo import UNDOABLE, recent_decisions

bp = Blueprint("triage", __name__, template_folder="../templates", url_prefix="/triage")
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
    """The board of one meeting: moderation queue, then group cards, filtered."""
    rt = runtime()
    session = rt.db.session()
    mtg = session.get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    try:  # the live view resumes from here: nothing published after this render is missed
        after = events.last_id(rt.redis, rt.prefix, meeting_id)
    except RedisError:
        after = "$"
    filters = Filters.from_args(request.args)
    page = request.args.get("page", "1")
    board = load_board(session, meeting_id, filters, int(page) if page.isdigit() else 1)
    return render_template(
        "triage/meeting.html",
        meeting=mtg,
        board=board,
        filters=filters,
        status_filters=STATUS_FILTERS,
        recent=recent_decisions(session, meeting_id),
        undoable=UNDOABLE,
        stream_after=after,
    )


@bp.route("/meetings/<int:meeting_id>/cards/<key>/questions")
@staff_required
def card_questions(meeting_id: int, key: str) -> str:
    """The questions of one card: a fragment for the board (``X-Fragment``) or a page."""
    session = runtime().db.session()
    mtg = session.get(Meeting, meeting_id)
    card = find_card(session, meeting_id, key) if mtg is not None else None
    if card is None:
        abort(404)
    fragment = request.headers.get("X-Fragment") == "members"
    return render_template(
        "triage/_members.html" if fragment else "triage/card_questions.html",
        meeting=mtg,
        card=card,
        edit=allowed("triage_decisions.move", "POST"),
    )
