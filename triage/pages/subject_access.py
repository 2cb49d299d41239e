"""Staff pages for subject access requests and erasure (UK GDPR articles 15 and 17).

Every request is a POST, so an email address or handle never lands in an access log or the
browser history; the audit log keeps a digest of it, never the value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, flash, render_template, request
from flask_login import current_user
from sqlalchemy.orm import Session

from domain.models import Role
from domain.models.audit import record
from domain.web.auth import roles_required
from domain.web.context import runtime
from triage.subject_access import Identifier, NotReady, erase, find, waiting_in_outbox

bp = Blueprint("triage_rights", __name__, template_folder="../templates", url_prefix="/triage")

HINT = "Enter an email address (like name@example.org) or a social handle (like @name)"


def _identifier() -> tuple[str, Identifier | None]:
    raw = request.form.get("who", "")
    return raw, Identifier.parse(raw)


def _find_audited(session: Session, ident: Identifier, action: str) -> list[dict[str, Any]]:
    """What is held about ``ident``; the look-up itself is audited (by digest, never value)."""
    records = find(session, ident)
    record(
        session,
        action,
        actor_id=current_user.id,
        target_type="person",
        identifier_kind=ident.kind,
        identifier_digest=ident.digest(),
        found=len(records),
    )
    return records


@bp.route("/data-rights", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def search() -> str | tuple[str, int]:
    """Find everything held about one person."""
    if request.method == "GET":
        return render_template("triage/data_rights.html", who="", records=None)
    raw, ident = _identifier()
    if ident is None:
        return render_template("triage/data_rights.html", who=raw, records=None, error=HINT), 400
    with runtime().db.transaction() as session:
        records = _find_audited(session, ident, "data.search")
        waiting = waiting_in_outbox(session, ident)
    return render_template(
        "triage/data_rights.html", who=raw, ident=ident, records=records, waiting=waiting
    )


@bp.route("/data-rights/export", methods=["POST"])
@roles_required(Role.STAFF)
def export() -> Response | tuple[str, int]:
    """Everything held about one person, as a JSON file to send them."""
    raw, ident = _identifier()
    if ident is None:
        return render_template("triage/data_rights.html", who=raw, records=None, error=HINT), 400
    with runtime().db.transaction() as session:
        records = _find_audited(session, ident, "data.export")
    body = {
        "controller": "Office of the Police and Crime Commissioner",
        "exported_at": datetime.now(UTC).isoformat(),
        "identifier": {"kind": ident.kind, "value": ident.value},
        "submissions": records,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": "attachment; filename=subject-access.json",
            "Cache-Control": "no-store",
        },
    )


@bp.route("/data-rights/erase", methods=["POST"])
@roles_required(Role.STAFF)
def erase_person() -> tuple[str, int] | str:
    """Erase one person's data; the questions stay, without anything that identifies them."""
    raw, ident = _identifier()
    if ident is None:
        return render_template("triage/data_rights.html", who=raw, records=None, error=HINT), 400
    if request.form.get("confirm") != "yes":
        error = "Tick the box to confirm the person asked for their data to be erased"
        with runtime().db.transaction() as session:
            records = find(session, ident)
        return render_template(
            "triage/data_rights.html", who=raw, ident=ident, records=records, error=error
        ), 400
    try:
        with runtime().db.transaction() as session:
            count = erase(session, ident, actor_id=current_user.id)
    except NotReady as exc:
        error = f"Not erased yet: {exc}. Try again in a minute."
        return render_template("triage/data_rights.html", who=raw, records=None, error=error), 409
    flash(f"Erased {count} submission(s). The questions stay, without personal data.")
    return render_template("triage/data_rights.html", who="", records=None, erased=count)
