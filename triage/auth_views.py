"""Staff sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from domain.models import StaffUser
from domain.models.audit import record
from domain.web.context import runtime
from domain.web.extensions import limiter

bp = Blueprint("triage_auth", __name__, template_folder="templates")


class LoginForm(FlaskForm):
    """Email and password."""

    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[DataRequired("Enter your email address")],
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[DataRequired("Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("triage.meetings")


@bp.route("/triage/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login() -> str | Response:
    """Sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        session = runtime().db.session
        email = (form.email.data or "").strip().lower()
        user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if user is not None and user.active and user.check_password(form.password.data or ""):
            login_user(user)
            # its own write transaction (BEGIN IMMEDIATE on SQLite): upgrading this request's
            # read to a write fails with "database is locked" while collectors and workers write
            with runtime().db.transaction() as tx:
                record(tx, "staff.login", actor_id=user.id, target_type="staff_user",
                       target_id=user.id)  # fmt: skip
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = ["Email address or password is not right"]
    return render_template("triage/login.html", form=form)


@bp.route("/triage/logout", methods=["POST"])
def logout() -> Response:
    """Sign out."""
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("triage_auth.login"))
