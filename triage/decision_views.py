"""POST endpoints for staff decisions on the board (forms work without JavaScript)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain.models import QuestionStatus
from domain.web.auth import staff_required
from domain.web.context import runtime
from domain.web.params import parse_id
from triage import decisions

ANCHOR = re.compile(r"#[A-Za-z][A-Za-z0-9_-]{0,63}")

bp = Blueprint("triage_decisions", __name__, url_prefix="/triage/meetings/<int:meeting_id>")


def _int(name: str) -> int:
    value = parse_id(request.form.get(name))
    if value is None:
        abort(400, f"{name} must be the number of one of this meeting's records")
    return value


def _back(meeting_id: int) -> Response:
    # Only a plain fragment: anything else (a CR/LF, a URL) would go into the Location header.
    anchor = request.form.get("anchor", "")
    if not ANCHOR.fullmatch(anchor):
        anchor = ""
    return redirect(url_for("triage.meeting", meeting_id=meeting_id) + anchor)


@bp.errorhandler(decisions.DecisionError)
def _bad_decision(exc: decisions.DecisionError) -> tuple[str, int]:
    return str(exc), 400


@bp.post("/questions/<int:question_id>/move")
@staff_required
def move(meeting_id: int, question_id: int) -> Response:
    """Move a question into another group."""
    decisions.move_question(runtime(), meeting_id, question_id, _int("group_id"), current_user.id)
    flash("Question moved.")
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/split")
@staff_required
def split(meeting_id: int, question_id: int) -> Response:
    """Take a question out of its group."""
    decisions.split_question(runtime(), meeting_id, question_id, current_user.id)
    flash("Question split into its own group.")
    return _back(meeting_id)


@bp.post("/groups/<int:group_id>/merge")
@staff_required
def merge(meeting_id: int, group_id: int) -> Response:
    """Merge this group into another."""
    decisions.merge_groups(runtime(), meeting_id, group_id, _int("into"), current_user.id)
    flash("Groups merged.")
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/theme")
@staff_required
def theme(meeting_id: int, question_id: int) -> Response:
    """Set a question's theme."""
    decisions.set_theme(runtime(), meeting_id, question_id, _int("theme_id"), current_user.id)
    flash("Theme changed.")
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/status")
@staff_required
def status(meeting_id: int, question_id: int) -> Response:
    """Accept or reject a flagged question."""
    try:
        new = QuestionStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, "unknown status")
    decisions.set_status(runtime(), meeting_id, question_id, new, current_user.id)
    flash("Question " + ("accepted." if new == QuestionStatus.ACCEPTED else "updated."))
    return _back(meeting_id)
