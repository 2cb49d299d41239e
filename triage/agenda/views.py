"""The agenda builder pages (staff). Every form works without JavaScript; drag and drop and the
Alt+arrow keys are shortcuts for the same moves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain.models import SECTION_TITLES, AgendaSection, Meeting, Role
from domain.web.auth import roles_required, staff_required
from domain.web.context import runtime
from triage.agenda import actions
from triage.agenda.read import digest, group_label, load_agenda, snapshot, visible

bp = Blueprint("triage_agenda", __name__, url_prefix="/triage/meetings/<int:meeting_id>/agenda")

# Reading is for everyone signed in (chair included); changing is for staff (and admins).
edit_required = roles_required(Role.STAFF)


def can_edit() -> bool:
    """Whether the signed-in user may change agendas (the chair only reads them)."""
    return bool(current_user.is_authenticated and current_user.role in (Role.STAFF, Role.ADMIN))


def _meeting(meeting_id: int) -> Meeting:
    mtg = runtime().db.session().get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    return mtg


def _section(name: str = "section") -> AgendaSection:
    try:
        return AgendaSection(request.form.get(name, ""))
    except ValueError:
        raise actions.AgendaError("Choose a section of the agenda.") from None


def _int(name: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit():
        raise actions.AgendaError(f"Missing {name.replace('_', ' ')}.")
    return int(raw)


def _builder(meeting_id: int, *, error: str = "", draft: dict[str, Any] | None = None) -> str:
    session = runtime().db.session()
    view = load_agenda(session, _meeting(meeting_id))
    return render_template(
        "triage/agenda.html",
        meeting=view.meeting,
        view=view,
        sections=list(AgendaSection),
        section_titles=SECTION_TITLES,
        seen=digest(snapshot(view)),
        group_label=group_label,
        visible=visible,
        error=error,
        draft=draft or {},
        can_edit=can_edit(),
    )


def _back(meeting_id: int, item_id: int | None = None) -> Response:
    anchor = f"#item-{item_id}" if item_id else ""
    return redirect(url_for("triage_agenda.builder", meeting_id=meeting_id) + anchor)


@bp.errorhandler(actions.AgendaError)
def _refused(exc: actions.AgendaError) -> tuple[str, int]:
    meeting_id = (request.view_args or {}).get("meeting_id", 0)
    return _builder(meeting_id, error=str(exc), draft=request.form.to_dict()), 400


@bp.get("")
@staff_required
def builder(meeting_id: int) -> str:
    """Sections, numbered items, minutes against the meeting's length, groups not yet placed."""
    return _builder(meeting_id)


@bp.post("/groups/<int:group_id>/add")
@edit_required
def add_group(meeting_id: int, group_id: int) -> Response:
    """Put a group on the agenda as a new item."""
    item_id = actions.add_group(runtime(), meeting_id, group_id, _section(), current_user.id)
    flash("Added to the agenda.")
    return _back(meeting_id, item_id)


@bp.post("/groups/<int:group_id>/gather")
@edit_required
def gather(meeting_id: int, group_id: int) -> Response:
    """Add a group to an existing item."""
    item_id = _int("item_id")
    actions.gather(runtime(), meeting_id, group_id, item_id, current_user.id)
    flash("Group added to the item.")
    return _back(meeting_id, item_id)


@bp.post("/items")
@edit_required
def add_item(meeting_id: int) -> Response:
    """A staff-typed item with no group (the PCC's own questions)."""
    item_id = actions.add_item(
        runtime(), meeting_id, _section(), request.form.get("title", ""),
        request.form.get("question", ""), actions.minutes(request.form.get("minutes")),
        current_user.id,
    )  # fmt: skip
    flash("Item added.")
    return _back(meeting_id, item_id)


@bp.post("/items/<int:item_id>")
@edit_required
def update_item(meeting_id: int, item_id: int) -> Response:
    """Change an item's title, wording or minutes."""
    actions.update_item(
        runtime(), meeting_id, item_id, request.form.get("title", ""),
        request.form.get("question", ""), actions.minutes(request.form.get("minutes")),
        current_user.id,
    )  # fmt: skip
    flash("Item saved.")
    return _back(meeting_id, item_id)


@bp.post("/items/<int:item_id>/move")
@edit_required
def move(meeting_id: int, item_id: int) -> Response:
    """One place up or down."""
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        raise actions.AgendaError("Choose up or down.")
    actions.move(runtime(), meeting_id, item_id, step, current_user.id)
    return _back(meeting_id, item_id)


@bp.post("/items/<int:item_id>/delete")
@edit_required
def delete_item(meeting_id: int, item_id: int) -> Response:
    """Take an item off the agenda (its groups wait to be placed again)."""
    actions.delete_item(runtime(), meeting_id, item_id, current_user.id)
    flash("Item taken off the agenda.")
    return _back(meeting_id)


@bp.post("/items/<int:item_id>/groups/<int:group_id>/release")
@edit_required
def release(meeting_id: int, item_id: int, group_id: int) -> Response:
    """Take one group out of an item."""
    actions.release(runtime(), meeting_id, item_id, group_id, current_user.id)
    flash("Group taken out of the item.")
    return _back(meeting_id)


@bp.post("/order")
@edit_required
def order(meeting_id: int) -> tuple[Response, int] | Response:
    """Drag and drop: the whole order as JSON ``{"section": [item ids]}``."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, int) for i in ids) for ids in payload.values()
    ):
        return jsonify(error="Send {section: [item ids]}."), 400
    try:
        actions.reorder(runtime(), meeting_id, payload, current_user.id)
    except actions.AgendaError as exc:
        return jsonify(error=str(exc)), 409
    return jsonify(ok=True)


@bp.post("/length")
@edit_required
def length(meeting_id: int) -> Response:
    """The meeting's length in minutes."""
    actions.set_length(runtime(), meeting_id, actions.minutes(request.form.get("length")),
                       current_user.id)  # fmt: skip
    flash("Meeting length saved.")
    return _back(meeting_id)


@bp.post("/publish")
@edit_required
def publish(meeting_id: int) -> Response:
    """Publish the agenda as shown on the page."""
    version = actions.publish(runtime(), meeting_id, request.form.get("seen", ""),
                              current_user.id)  # fmt: skip
    flash(f"Agenda published (version {version}).")
    return _back(meeting_id)
