"""Questions and groups for the on-air tests, stored directly (the pipeline is tested elsewhere)."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient

from domain.models import (
    Channel,
    Meeting,
    Phase,
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
    Role,
    StaffUser,
    Submission,
    Theme,
)
from domain.runtime import Runtime
from tests.conftest import STAFF_PASSWORD

_serial = itertools.count(1)


def user(rt: Runtime, email: str, role: Role) -> None:
    """A signed-up account with the shared test password."""
    with rt.db.transaction() as session:
        account = StaffUser(email=email, display_name=role.value.title(), role=role)
        account.set_password(STAFF_PASSWORD)
        session.add(account)


def sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/triage/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.status_code


def theme(rt: Runtime, label: str) -> int:
    with rt.db.transaction() as session:
        row = Theme(slug=label.lower().replace(" ", "-"), label=label)
        session.add(row)
        session.flush()
        return row.id


def group(rt: Runtime, meeting: Meeting, theme_id: int | None = None) -> int:
    with rt.db.transaction() as session:
        row = QuestionGroup(meeting_id=meeting.id, theme_id=theme_id)
        session.add(row)
        session.flush()
        return row.id


def question(
    rt: Runtime, meeting: Meeting, text: str, *, group_id: int | None = None,
    phase: str = "live", status: str = "new", kind: str = "question", **sender: Any,
) -> int:  # fmt: skip
    """One stored question (with its submission) in ``group_id``; returns the question id."""
    n = next(_serial)
    with rt.db.transaction() as session:
        sub = Submission(
            meeting_id=meeting.id, channel=Channel(sender.get("channel", "facebook")),
            external_id=f"oa-{n}", reference=f"OA-{n}", raw_text=text,
            author_name=sender.get("name"), location=sender.get("town"),
            author_handle=sender.get("handle"), consent_publish=bool(sender.get("consent")),
            phase=Phase(phase),
        )  # fmt: skip
        session.add(sub)
        session.flush()
        q = Question(
            submission_id=sub.id, meeting_id=meeting.id, text=text,
            redacted_text=sender.get("redacted", text), group_id=group_id,
            status=QuestionStatus(status), kind=QuestionKind(kind),
        )  # fmt: skip
        session.add(q)
        session.flush()
        return q.id
