"""Staff sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from domain.models import StaffUser
from domain.models.audit import record
from domain.web.auth import start_session
from domain.web.context import runtime
from domain.web.extensions import limiter
from triage import login_guard

bp = Blueprint("triage_auth", __name__, template_folder="../templates")

REFUSED = "Email address or password is not right"


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


def _locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many wrong passwords for this account. Try again in {minutes} {unit}"


@bp.route("/triage/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login() -> str | Response:
    """Sign in with email and password."""
    form = LoginForm()
    if form.validate_on_submit():
        rt = runtime()
        secret = str(current_app.secret_key)
        session = rt.db.session
        email = (form.email.data or "").strip().lower()
        locked = login_guard.locked_for(rt, email, secret)
        if locked:
            form.password.errors = [_locked_message(locked)]
            return render_template("triage/login.html", form=form)
        user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
        if login_guard.password_matches(user, form.password.data or ""):
            assert user is not None
            login_guard.record_success(rt, email, secret)
            login_user(user)
            start_session()
            # its own write transaction (BEGIN IMMEDIATE on SQLite): upgrading this request's
            # read to a write fails with "database is locked" while collectors and workers write
            with rt.db.transaction() as tx:
                record(tx, "staff.login", actor_id=user.id, target_type="staff_user",
                       target_id=user.id)  # fmt: skip
            target = login_guard.safe_next(request.args.get("next"))
            return redirect(target or url_for("triage.meetings"))
        login_guard.record_failure(rt, email, secret)
        form.password.errors = [REFUSED]
    return render_template("triage/login.html", form=form)


@bp.route("/triage/logout", methods=["POST"])
def logout() -> Response:
    """Sign out: ends every session of this user, including copies of the cookie."""
    if current_user.is_authenticated:
        with runtime().db.transaction() as session:
            user = session.get(StaffUser, current_user.id)
            if user is not None:
                user.end_sessions()
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("triage_auth.login"))
