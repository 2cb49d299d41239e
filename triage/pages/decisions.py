"""Staff decisions on the board (forms that work without JavaScript), each with an undo.

A decision redirects back to the board with a banner naming what was done and an Undo button
(the flash category ``undo:<audit event id>``).
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from domain.models import AuditEvent, Meeting, Question, QuestionStatus
from domain.web.auth import staff_required
from domain.web.context import runtime
from domain.web.params import parse_id
from triage import decisions, undo
from triage.board import find_card, group_choices

ANCHOR = re.compile(r"#[A-Za-z][A-Za-z0-9_-]{0,63}")

bp = Blueprint(
    "triage_decisions",
    __name__,
    template_folder="../templates",
    url_prefix="/triage/meetings/<int:meeting_id>",
)


def _int(name: str) -> int | None:
    return parse_id(request.form.get(name))


def _back(meeting_id: int) -> Response:
    # Only a plain fragment: anything else (a CR/LF, a URL) would go into the Location header.
    anchor = request.form.get("anchor", "")
    if not ANCHOR.fullmatch(anchor):
        anchor = ""
    return redirect(url_for("triage.meeting", meeting_id=meeting_id) + anchor)


def _done(message: str, event_id: int | None) -> None:
    flash(message, f"undo:{event_id}" if event_id else "decision")


@bp.errorhandler(decisions.DecisionError)
def _bad_decision(exc: decisions.DecisionError) -> tuple[str, int]:
    return str(exc), 400


def _meeting(meeting_id: int) -> Meeting:
    mtg = runtime().db.session.get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    return mtg


def _choose_target(meeting_id: int, question_id: int, error: str = "") -> tuple[str, int]:
    session = runtime().db.session()
    q = session.get(Question, question_id)
    if q is None or q.meeting_id != meeting_id:
        abort(404)
    return render_template(
        "triage/choose_group.html",
        meeting=_meeting(meeting_id),
        what="question",
        text=q.redacted_text,
        action=url_for(".move", meeting_id=meeting_id, question_id=question_id),
        field="group_id",
        choices=group_choices(session, meeting_id, exclude=q.group_id, theme_id=q.theme_id),
        can_split=q.group_id is not None
        and (session.scalar(select(func.count()).where(Question.group_id == q.group_id)) or 0) > 1,
        error=error,
    ), 400 if error else 200


@bp.get("/questions/<int:question_id>/move")
@staff_required
def choose_move(meeting_id: int, question_id: int) -> tuple[str, int]:
    """Choose the group to move a question to (nothing chosen until staff choose)."""
    return _choose_target(meeting_id, question_id)


@bp.post("/questions/<int:question_id>/move")
@staff_required
def move(meeting_id: int, question_id: int) -> Response | tuple[str, int]:
    """Move a question into another group, or (``group_id=new``) into a new group of its own."""
    if request.form.get("group_id") == "new":
        return split(meeting_id, question_id)
    target = _int("group_id")
    if target is None:
        return _choose_target(meeting_id, question_id, "Choose the group to move the question to")
    event_id = decisions.move_question(runtime(), meeting_id, question_id, target, current_user.id)
    _done("Question moved.", event_id)
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/split")
@staff_required
def split(meeting_id: int, question_id: int) -> Response:
    """Take a question out of its group."""
    rt = runtime()
    decisions.split_question(rt, meeting_id, question_id, current_user.id)
    event_id = rt.db.session.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.action == "question.split", AuditEvent.target_id == question_id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    _done("Question split into its own group.", event_id)
    return _back(meeting_id)


def _choose_merge(meeting_id: int, group_id: int, error: str = "") -> tuple[str, int]:
    session = runtime().db.session()
    card = find_card(session, meeting_id, f"g{group_id}")
    if card is None:
        abort(404)
    return render_template(
        "triage/choose_group.html",
        meeting=_meeting(meeting_id),
        what="group",
        text=card.question,
        action=url_for(".merge", meeting_id=meeting_id, group_id=group_id),
        field="into",
        choices=group_choices(session, meeting_id, exclude=group_id, theme_id=card.theme_id),
        error=error,
    ), 400 if error else 200


@bp.get("/groups/<int:group_id>/merge")
@staff_required
def choose_merge(meeting_id: int, group_id: int) -> tuple[str, int]:
    """Choose the group to merge this one into."""
    return _choose_merge(meeting_id, group_id)


@bp.post("/groups/<int:group_id>/merge")
@staff_required
def merge(meeting_id: int, group_id: int) -> Response | tuple[str, int]:
    """Merge this group into another."""
    target = _int("into")
    if target is None:
        return _choose_merge(meeting_id, group_id, "Choose the group to merge into")
    event_id = decisions.merge_groups(runtime(), meeting_id, group_id, target, current_user.id)
    _done("Groups merged.", event_id)
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/theme")
@staff_required
def theme(meeting_id: int, question_id: int) -> Response:
    """Set a question's theme."""
    theme_id = _int("theme_id")
    if theme_id is None:
        abort(400, "theme_id is required")
    event_id = decisions.set_theme(runtime(), meeting_id, question_id, theme_id, current_user.id)
    _done("Theme changed.", event_id)
    return _back(meeting_id)


@bp.post("/groups/<int:group_id>/theme")
@staff_required
def group_theme(meeting_id: int, group_id: int) -> Response:
    """Set the theme of a group and its questions, from the group's card."""
    theme_id = _int("theme_id")
    if theme_id is None:
        abort(400, "theme_id is required")
    rt = runtime()
    event_id = decisions.set_group_theme(rt, meeting_id, group_id, theme_id, current_user.id)
    _done("Theme changed.", event_id)
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/status")
@staff_required
def status(meeting_id: int, question_id: int) -> Response:
    """Accept or reject a flagged question."""
    try:
        new = QuestionStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, "unknown status")
    event_id = decisions.set_status(runtime(), meeting_id, question_id, new, current_user.id)
    _done("Question " + ("accepted." if new == QuestionStatus.ACCEPTED else "updated."), event_id)
    return _back(meeting_id)


@bp.post("/undo/<int:event_id>")
@staff_required
def undo_decision(meeting_id: int, event_id: int) -> Response:
    """Reverse one decision (taken from the audit log)."""
    try:
        what = undo.undo(runtime(), meeting_id, event_id, current_user.id)
    except decisions.DecisionError as exc:
        flash(f"Not undone: {exc}", "error")
    else:
        flash(f"{what} undone.", "decision")
    return _back(meeting_id)
