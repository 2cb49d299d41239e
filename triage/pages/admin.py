"""Admin pages: staff accounts (create, role, reset password) and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from domain.models import AuditEvent, Role, StaffUser
from domain.models.audit import record
from domain.web.auth import roles_required
from domain.web.context import runtime

bp = Blueprint("triage_admin", __name__, template_folder="../templates", url_prefix="/triage")

MIN_PASSWORD = 10
AUDIT_PAGE = 100
ROLE_LABELS = {
    Role.STAFF: "Staff: moderate, group, compose and publish agendas, enter cards",
    Role.CHAIR: "Chair: reads everything and runs the live view",
    Role.ADMIN: "Admin: also manages users, meetings and settings, reads the audit log",
}


def _users_page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    users = runtime().db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template(
        "triage/users.html",
        users=users,
        roles=ROLE_LABELS,
        errors=errors or {},
        form=request.form if errors else {},
        min_password=MIN_PASSWORD,
    ), status


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users() -> tuple[str, int] | Response:
    """List staff accounts; POST creates one."""
    if request.method == "GET":
        return _users_page()
    email = request.form.get("email", "").strip().lower()
    name = request.form.get("display_name", "").strip()
    role = request.form.get("role", "")
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = "Enter an email address, like name@example.org"
    if role not in {r.value for r in Role}:
        errors["role"] = "Choose a role"
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Enter a password of at least {MIN_PASSWORD} characters"
    session = runtime().db.session
    if not errors and session.scalar(
        select(StaffUser.id).where(func.lower(StaffUser.email) == email)
    ):
        errors["email"] = "There is already an account with this email address"
    if errors:
        return _users_page(errors, 400)
    with runtime().db.transaction() as tx:
        user = StaffUser(email=email, display_name=name[:120] or email, role=Role(role))
        user.set_password(password)
        tx.add(user)
        tx.flush()
        record(tx, "user.create", actor_id=current_user.id, target_type="staff_user",
               target_id=user.id, role=role)  # fmt: skip
    flash(f"Account created for {email}.")
    return redirect(url_for(".users"))


def _user(user_id: int) -> StaffUser:
    user = runtime().db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>")
@roles_required(Role.ADMIN)
def update_user(user_id: int) -> Response | tuple[str, int]:
    """Change a user's role or switch the account off (never your own)."""
    user = _user(user_id)
    role = request.form.get("role", user.role.value)
    active = request.form.get("active", "yes" if user.active else "no") == "yes"
    if role not in {r.value for r in Role}:
        abort(400, "unknown role")
    if user.id == current_user.id and (role != Role.ADMIN.value or not active):
        return _users_page({"self": "You cannot take away your own admin access"}, 400)
    with runtime().db.transaction() as tx:
        row = tx.get(StaffUser, user_id)
        assert row is not None
        before = (row.role.value, row.active)
        row.role, row.active = Role(role), active
        record(tx, "user.update", actor_id=current_user.id, target_type="staff_user",
               target_id=user_id, before_role=before[0], role=role, before_active=before[1],
               active=active)  # fmt: skip
    flash(f"Account {user.email} updated.")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for a user (tell them it in person or by phone)."""
    user = _user(user_id)
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD:
        return _users_page(
            {f"password-{user_id}": f"Enter a password of at least {MIN_PASSWORD} characters"},
            400,
        )
    with runtime().db.transaction() as tx:
        row = tx.get(StaffUser, user_id)
        assert row is not None
        row.set_password(password)
        record(tx, "user.password_reset", actor_id=current_user.id, target_type="staff_user",
               target_id=user_id)  # fmt: skip
    flash(f"New password set for {user.email}.")
    return redirect(url_for(".users"))


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit() -> str:
    """The audit log, newest first, a page at a time (``?before=<event id>``)."""
    session = runtime().db.session
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    before = request.args.get("before", "")
    if before.isdigit():
        query = query.where(AuditEvent.id < int(before))
    rows = session.scalars(query).all()
    actors = dict(
        session.execute(
            select(StaffUser.id, StaffUser.email).where(
                StaffUser.id.in_({r.actor_id for r in rows if r.actor_id is not None})
            )
        ).all()
    )
    older = rows[-1].id if len(rows) == AUDIT_PAGE else None
    return render_template("triage/audit.html", events=rows, actors=actors, older=older)
