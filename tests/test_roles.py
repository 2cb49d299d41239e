"""The role matrix: every route of the app x {anonymous, chair, staff, admin} x {GET, POST}.

Routes are read from the url maps of the pages' app and the API app, so a route added anywhere is
walked too, and it must be
declared in ``triage/roles.py`` (the test names any that is not).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from domain.models import (
    AgendaItem,
    AuditEvent,
    Channel,
    Meeting,
    Question,
    QuestionGroup,
    Role,
    StaffUser,
    Submission,
)
from domain.runtime import Runtime
from domain.web.auth import SEEN_AT, SIGNED_IN_AT
from tests.conftest import add_user
from triage.roles import ACCESS, TOKEN, Caller

METHODS = ("GET", "POST")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Access rules do not depend on the database: SQLite only."""
    return sqlite_url


def _records(rt: Runtime, meeting: Meeting, users: dict[Caller, StaffUser]) -> dict[str, Any]:
    """One of each record a route can name, so allowed requests reach real data."""
    with rt.db.transaction() as session:
        group = QuestionGroup(meeting_id=meeting.id, title="sheep", theme_id=None)
        session.add(group)
        session.flush()
        sub = Submission(meeting_id=meeting.id, channel=Channel.WEB, external_id="roles-1",
                         reference="Q-ROLE-0001", raw_text="Sheep stolen near Clun?",
                         received_at=datetime.now(UTC))  # fmt: skip
        session.add(sub)
        session.flush()
        q = Question(submission_id=sub.id, meeting_id=meeting.id, text=sub.raw_text,
                     redacted_text=sub.raw_text, group_id=group.id)  # fmt: skip
        session.add(q)
        ev = AuditEvent(action="meeting.create", actor_id=None, target_type="meeting",
                        target_id=meeting.id, details={})  # fmt: skip
        session.add(ev)
        item = AgendaItem(meeting_id=meeting.id, title="Sheep", minutes=5)
        session.add(item)
        session.flush()
        return {
            "item_id": item.id,
            "outcome": "asked",
            "what": "hide",
            "meeting_id": meeting.id,
            "group_id": group.id,
            "question_id": q.id,
            "event_id": ev.id,
            "user_id": users[Caller.STAFF].id,
            "slug": meeting.slug,
            "reference": sub.reference,
            "filename": "openfloor.css",
            "token": "no-such-import",
        }


def _rules(app: Flask) -> list[tuple[Flask, Rule]]:
    """Every route of the pages' app and of the API app mounted under it."""
    apps = (app, app.extensions["openfloor_api"])
    return [(owner, rule) for owner in apps for rule in owner.url_map.iter_rules()]


def _session_id(rt: Runtime, user: StaffUser) -> str:
    with rt.db.transaction() as session:
        current = session.get(StaffUser, user.id)
        assert current is not None
        return current.get_id()


def _url(app: Flask, rule: Rule, values: dict[str, Any]) -> str:
    args = {}
    for name in rule.arguments:
        if name not in values:
            converter = rule._converters[name]  # werkzeug keeps the converters here
            values = {**values, name: 1 if isinstance(converter, IntegerConverter) else "x"}
        args[name] = values[name]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **args)


def _outcome(status: int, location: str) -> str:
    if status == 401:
        return "token"
    if status == 403:
        return "forbidden"
    if status in (301, 302, 303) and "/triage/login?next=" in location:
        return "sign-in"
    return "allowed"


def test_every_route_obeys_the_role_table(
    app: Flask, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    users = {
        Caller.STAFF: staff_user,
        Caller.CHAIR: add_user(rt, "chair@example.org", Role.CHAIR),
        Caller.ADMIN: add_user(rt, "admin@example.org", Role.ADMIN),
    }
    values = _records(rt, meeting, users)
    undeclared, wrong = [], []
    for owner, rule in _rules(app):
        declared = ACCESS.get(rule.endpoint)
        for method in METHODS:
            if method not in (rule.methods or ()):
                if declared and method in declared:
                    wrong.append(f"{rule.endpoint} {method}: declared but not routed")
                continue
            if declared is None or method not in declared:
                undeclared.append(f"{rule.endpoint} {method} ({rule.rule})")
                continue
            allowed = declared[method]
            url = _url(owner, rule, values)
            for who in Caller:
                client = app.test_client()
                if who != Caller.ANONYMOUS:
                    with client.session_transaction() as session:
                        # fresh from the database: sign-out or a password reset earlier in
                        # the walk ends the user's older sessions
                        session["_user_id"] = _session_id(rt, users[who])
                        session["_fresh"] = True
                        session[SIGNED_IN_AT] = session[SEEN_AT] = time.time()
                response = client.open(url, method=method, data={})
                got = _outcome(response.status_code, response.headers.get("Location", ""))
                response.close()
                if allowed == TOKEN:
                    expected = "token"
                elif who in allowed:
                    expected = "allowed"
                else:
                    expected = "sign-in" if who == Caller.ANONYMOUS else "forbidden"
                if got != expected:
                    wrong.append(
                        f"{method} {url} as {who.value}: {got} ({response.status_code}), "
                        f"table says {expected}"
                    )
    assert undeclared == [], "routes missing from triage/roles.py ACCESS: " + "; ".join(undeclared)
    assert wrong == []


def test_the_table_names_only_real_routes(app: Flask) -> None:
    endpoints = {rule.endpoint for _, rule in _rules(app)}
    assert set(ACCESS) - endpoints == set()


def test_matrix_in_words() -> None:
    """The promises of the issue, read straight from the table."""

    def who(endpoint: str, method: str) -> set[str]:
        return {c.value for c in ACCESS[endpoint][method]}

    assert who("triage_admin.audit", "GET") == {"admin"}
    assert who("triage_admin.users", "POST") == {"admin"}
    assert who("triage_meetings.new_meeting", "POST") == {"admin"}
    assert who("triage_decisions.merge", "POST") == {"staff", "admin"}
    assert who("intake_staff.event_entry", "POST") == {"staff", "admin"}
    assert who("triage.meeting", "GET") == {"chair", "staff", "admin"}
    assert who("triage_live.stream", "GET") == {"chair", "staff", "admin"}
    # the public reaches no staff page; the chair changes nothing outside the live view
    for endpoint, methods in ACCESS.items():
        if endpoint.startswith(("triage.", "triage_decisions", "triage_admin", "intake_staff")):
            assert "anonymous" not in {c.value for m in methods.values() for c in m}, endpoint
        if endpoint.startswith(("triage_decisions", "triage_admin", "triage_meetings")):
            assert "chair" not in who(endpoint, "POST") if "POST" in methods else True, endpoint
