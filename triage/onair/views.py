"""The chair's view: read by the chair, staff and admins; staff forward live questions; the
chair (and admins) run the on-air actions. Every form works without JavaScript."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from domain import events
from domain.models import Meeting, OnAir, Role
from domain.web.auth import roles_required, staff_required
from domain.web.context import runtime
from triage.agenda.actions import AgendaError
from triage.onair import actions
from triage.onair.read import load_chair

bp = Blueprint(
    "triage_chair", __name__, template_folder="../templates",
    url_prefix="/triage/meetings/<int:meeting_id>/chair",
)  # fmt: skip

chair_required = roles_required(Role.CHAIR)
forward_required = roles_required(Role.STAFF)


def _meeting(meeting_id: int) -> Meeting:
    mtg = runtime().db.session().get(Meeting, meeting_id)
    if mtg is None:
        abort(404)
    return mtg


def _role() -> str:
    return str(current_user.role.value)


def _context(meeting_id: int) -> dict[str, Any]:
    rt = runtime()
    meeting = _meeting(meeting_id)
    after = events.last_id(rt.redis, rt.prefix, meeting_id)
    chair = load_chair(rt.db.session(), meeting)
    return {
        "meeting": meeting, "chair": chair, "after": after,
        "can_run": _role() in ("chair", "admin"), "can_forward": _role() in ("staff", "admin"),
        "overlay_secret": chair.state.overlay_secret if chair.state else None,
    }  # fmt: skip


@bp.get("")
@staff_required
def view(meeting_id: int) -> str:
    """The chair's screen (the same for everyone signed in, with the actions their role has)."""
    return render_template("triage/chair.html", **_context(meeting_id))


@bp.get("/regions")
@staff_required
def regions(meeting_id: int) -> tuple[str, int, dict[str, str]]:
    """Only the parts that change, for the page's live refresh."""
    html = render_template("triage/chair/regions.html", **_context(meeting_id))
    return html, 200, {"Cache-Control": "no-store"}


def _back(meeting_id: int, anchor: str = "") -> Response:
    return redirect(url_for("triage_chair.view", meeting_id=meeting_id) + anchor, code=303)


def _int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() else None


@bp.errorhandler(actions.OnAirError)
@bp.errorhandler(AgendaError)
def _refused(exc: ValueError) -> Response:
    flash(str(exc), "error")
    return _back((request.view_args or {}).get("meeting_id", 0))


@bp.post("/questions/<int:question_id>/suggest")
@forward_required
def suggest(meeting_id: int, question_id: int) -> Response:
    """Staff forward a live question to the chair."""
    actions.suggest(runtime(), meeting_id, question_id, current_user.id)
    flash("Forwarded to the chair.")
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/dismiss")
@chair_required
def dismiss(meeting_id: int, question_id: int) -> Response:
    """The chair sets a forwarded question aside."""
    actions.dismiss(runtime(), meeting_id, question_id, current_user.id)
    return _back(meeting_id)


@bp.post("/questions/<int:question_id>/pull")
@chair_required
def pull(meeting_id: int, question_id: int) -> Response:
    """Put a live question on the agenda (social media section)."""
    item_id = actions.pull(runtime(), meeting_id, question_id, current_user.id)
    flash("Added to the agenda.")
    return _back(meeting_id, f"#item-{item_id}")


@bp.post("/questions/<int:question_id>/ask")
@chair_required
def ask(meeting_id: int, question_id: int) -> Response:
    """Put a live question to the panel now (it goes on the overlay)."""
    actions.ask_now(runtime(), meeting_id, question_id, current_user.id)
    return _back(meeting_id)


@bp.post("/items/<int:item_id>/start")
@chair_required
def start(meeting_id: int, item_id: int) -> Response:
    """Put an agenda item to the panel now (it goes on the overlay)."""
    actions.start(runtime(), meeting_id, item_id, current_user.id)
    return _back(meeting_id)


@bp.post("/items/<int:item_id>/<any(asked, skipped, within):outcome>")
@chair_required
def finish(meeting_id: int, item_id: int, outcome: str) -> Response:
    """Mark an item asked, skipped, or answered within another item."""
    actions.finish(runtime(), meeting_id, item_id, outcome, current_user.id, _int("within"))
    return _back(meeting_id)


@bp.post("/items/<int:item_id>/reopen")
@chair_required
def reopen(meeting_id: int, item_id: int) -> Response:
    """Undo a mark."""
    actions.reopen(runtime(), meeting_id, item_id, current_user.id)
    return _back(meeting_id)


@bp.post("/overlay/<any(show, hide):what>")
@chair_required
def overlay(meeting_id: int, what: str) -> Response:
    """Take the lower third off screen or put it back."""
    actions.show_overlay(runtime(), meeting_id, what == "show", current_user.id)
    return _back(meeting_id)


@bp.post("/overlay/secret")
@forward_required
def overlay_secret(meeting_id: int) -> Response:
    """Make (or replace) the overlay URL."""
    _meeting(meeting_id)
    actions.new_overlay_secret(runtime(), meeting_id, current_user.id)
    flash("New overlay address made; any older one no longer works.")
    return _back(meeting_id, "#overlay")


@bp.post("/overlay/revoke")
@forward_required
def overlay_revoke(meeting_id: int) -> Response:
    """Revoke the overlay URL."""
    _meeting(meeting_id)
    actions.revoke_overlay(runtime(), meeting_id, current_user.id)
    flash("Overlay address revoked.")
    return _back(meeting_id, "#overlay")


def overlay_state(secret: str) -> OnAir | None:
    """The on-air row an overlay secret opens, or None (unknown or revoked)."""
    if not secret:
        return None
    session = runtime().db.session()
    return session.query(OnAir).filter(OnAir.overlay_secret == secret).one_or_none()
