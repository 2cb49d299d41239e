"""Admin pages (users, passwords, audit log) and the demo sign-in kept across restarts."""

from __future__ import annotations

import stat
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import AuditEvent, Role, StaffUser
from domain.runtime import Runtime
from openfloor.demo import DEMO_STAFF, demo_password, load_demo
from tests.conftest import ADMIN_EMAIL, STAFF_EMAIL, STAFF_PASSWORD


def _sign_in(client: FlaskClient, email: str, password: str = STAFF_PASSWORD) -> int:
    return client.post("/triage/login", data={"email": email, "password": password}).status_code


def test_admin_creates_a_user_and_resets_a_password(
    client: FlaskClient, rt: Runtime, admin_user: StaffUser, staff_user: StaffUser
) -> None:
    assert _sign_in(client, ADMIN_EMAIL) == 302
    page = client.get("/triage/users").get_data(as_text=True)
    assert STAFF_EMAIL in page and "Create an account" in page

    bad = client.post("/triage/users", data={"email": "nope", "role": "chair", "password": "x"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Enter an email address" in text and "at least 10 characters" in text
    assert 'value="nope"' in text  # what was typed is kept

    made = client.post("/triage/users", data={"email": "Chair@Example.org", "role": "chair",
                                              "display_name": "Cllr Chair",
                                              "password": "a long chair password"})  # fmt: skip
    assert made.status_code == 302
    dup = client.post("/triage/users", data={"email": "chair@example.org", "role": "staff",
                                             "password": "another long one"})  # fmt: skip
    assert "already an account" in dup.get_data(as_text=True)

    reset = client.post(f"/triage/users/{staff_user.id}/password", data={"password": "short"})
    assert reset.status_code == 400
    reset = client.post(f"/triage/users/{staff_user.id}/password",
                        data={"password": "a brand new password"})  # fmt: skip
    assert reset.status_code == 302
    # admins cannot lock themselves out
    selfie = client.post(f"/triage/users/{admin_user.id}", data={"role": "staff", "active": "yes"})
    assert selfie.status_code == 400

    other = client.application.test_client()
    assert _sign_in(other, "chair@example.org", "a long chair password") == 302
    assert other.get("/triage/users").status_code == 403  # a chair is not an admin
    assert _sign_in(other, STAFF_EMAIL) == 200  # the old password no longer works
    assert _sign_in(other, STAFF_EMAIL, "a brand new password") == 302

    client.post(f"/triage/users/{staff_user.id}", data={"role": "staff", "active": "no"})
    assert _sign_in(client.application.test_client(), STAFF_EMAIL, "a brand new password") == 200

    with rt.db.transaction() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        chair = session.scalar(select(StaffUser).where(StaffUser.email == "chair@example.org"))
        assert chair is not None and chair.role == Role.CHAIR
    assert {"user.create", "user.password_reset", "user.update"} <= set(actions)
    log = client.get("/triage/audit").get_data(as_text=True)
    assert "user.password_reset" in log and "a brand new password" not in log


def test_audit_log_is_admin_only(
    client: FlaskClient, staff_user: StaffUser, admin_user: StaffUser
) -> None:
    assert client.get("/triage/audit").status_code == 302
    _sign_in(client, STAFF_EMAIL)
    assert client.get("/triage/audit").status_code == 403
    assert "Audit log" not in client.get("/triage/meetings").get_data(as_text=True)
    admin = client.application.test_client()
    _sign_in(admin, ADMIN_EMAIL)
    page = admin.get("/triage/audit").get_data(as_text=True)
    assert "staff.login" in page and STAFF_EMAIL in page


def test_demo_sign_in_is_the_same_after_a_restart(rt: Runtime, tmp_path: Path) -> None:
    folder = str(tmp_path / "instance")
    password, new = demo_password(folder)
    assert new and len(password) >= 12
    assert stat.S_IMODE((tmp_path / "instance" / "demo-sign-in.txt").stat().st_mode) == 0o600
    load_demo(rt, staff_password=password, reset_password=new)

    again, new_again = demo_password(folder)  # the next `openfloor run`
    assert (again, new_again) == (password, False)
    summary = load_demo(rt, staff_password=again, reset_password=new_again)
    assert f"{DEMO_STAFF} / {password}" in summary
    with rt.db.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF))
        assert user is not None and user.check_password(password)

    fresh, made = demo_password(folder, reset=True)
    assert made and fresh != password
    load_demo(rt, staff_password=fresh, reset_password=made)
    with rt.db.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF))
        assert user is not None and user.check_password(fresh) and not user.check_password(password)
