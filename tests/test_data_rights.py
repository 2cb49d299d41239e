"""Subject access, erasure and retention: nothing identifying is left, the counts are unchanged."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AuditEvent,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Question,
    Role,
    StaffUser,
    Submission,
)
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from intake import outbox
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from workers import processing
from workers.ingest import store_submission
from workers.maintenance import erase_expired

EMAIL = "Kath.Jones@Example.org"
HANDLE = "@kath_shifnal"


def _sign_in(client: FlaskClient, email: str = STAFF_EMAIL) -> None:
    response = client.post("/triage/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def _seed(rt: Runtime, meeting: Meeting) -> None:
    """Kath asks by the form (with email) and on X (with handle); two others ask too."""
    sent = [
        ("web", "w1", "Call me on 07700 900123 about the speeding in Shifnal please?", EMAIL),
        ("web", "w2", "Why are burglaries in Wem never solved?", "sue@example.org"),
        ("twitter", "1790000000000000001", "Any news on rural crime patrols? #PCCLive", None),
        ("twitter", "1790000000000000002", "What about the racing at night in Redditch?", None),
    ]
    with rt.db.transaction() as session:
        for channel, ext, text, email in sent:
            message = SubmissionMessage(
                meeting_id=meeting.id, channel=channel, external_id=ext, reference=f"R-{ext[-4:]}",
                text=text, received_at=datetime.now(UTC).isoformat(), author_name="Kath",
                location="Shifnal", contact_email=email, consent_publish=True,
                phase="live" if channel == "twitter" else "advance",
            )  # fmt: skip
            outbox.record(session, message)
            sub_id, _ = store_submission(session, message)
            sub = session.get(Submission, sub_id)
            assert sub is not None
            if ext.endswith("1") and channel == "twitter":
                sub.author_handle = HANDLE
                sub.permalink = f"https://x.com/kath_shifnal/status/{ext}"
            if ext.endswith("2") and channel == "twitter":
                sub.author_handle = "@someone_else"
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)


def _figures(rt: Runtime) -> dict[str, object]:
    """What the meeting report counts: by channel, phase, theme, group and status."""
    with rt.db.transaction() as session:
        rows = session.execute(select(Submission, Question).join(Question)).all()
        return {
            "channel": Counter(s.channel.value for s, _ in rows),
            "phase": Counter(s.phase.value for s, _ in rows),
            "theme": Counter(q.theme_id for _, q in rows),
            "groups": len({q.group_id for _, q in rows}),
            "status": Counter(q.status.value for _, q in rows),
        }


@pytest.fixture
def chair(rt: Runtime) -> StaffUser:
    with rt.db.transaction() as session:
        user = StaffUser(email="pcc@example.org", display_name="PCC", role=Role.CHAIR)
        user.set_password(STAFF_PASSWORD)
        session.add(user)
    return user


def test_find_export_and_erase_by_email_and_handle(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _seed(rt, meeting)
    before = _figures(rt)
    _sign_in(client)

    page = client.post("/triage/data-rights", data={"who": " kath.jones@example.ORG "})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "1 submission(s) held" in html
    assert "07700 900123" in html  # the person gets their own words back, unredacted

    exported = client.post("/triage/data-rights/export", data={"who": HANDLE.upper()})
    assert exported.headers["Content-Disposition"].startswith("attachment")
    body = json.loads(exported.get_data(as_text=True))
    [held] = body["submissions"]
    assert held["social_handle"] == HANDLE and held["link"].endswith("0001")

    unconfirmed = client.post("/triage/data-rights/erase", data={"who": EMAIL})
    assert unconfirmed.status_code == 400
    for who in (EMAIL, "kath_shifnal"):
        done = client.post("/triage/data-rights/erase", data={"who": who, "confirm": "yes"})
        assert done.status_code == 200 and "Erased 1 submission(s)" in done.get_data(as_text=True)

    with rt.db.transaction() as session:
        subs = {s.external_id: s for s in session.scalars(select(Submission))}
        mine = [s for s in subs.values() if s.erased_at is not None]
        assert len(mine) == 2
        for sub in mine:
            assert (sub.author_name, sub.location, sub.contact_email) == (None, None, None)
            assert (sub.author_handle, sub.permalink) == (None, None)
            assert "07700" not in sub.raw_text
        assert "1790000000000000001" not in subs  # the platform id is gone
        assert subs["w2"].contact_email == "sue@example.org"  # nobody else's data touched
        assert subs["1790000000000000002"].author_handle == "@someone_else"
        texts = [q.text for q in session.scalars(select(Question))]
        assert not any("07700" in t for t in texts)
        outbox_keys = {row.external_id for row in session.scalars(select(OutboxMessage))}
        assert outbox_keys == {"w2", "1790000000000000002"}
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action.like("data.%"))).all()
    assert [a.action for a in audit] == ["data.search", "data.export", "data.erase", "data.erase"]
    dumped = json.dumps([a.details for a in audit]).lower()
    assert "kath" not in dumped and "example.org" not in dumped
    assert _figures(rt) == before
    again = client.post("/triage/data-rights", data={"who": EMAIL})
    assert "0 submission(s) held" in again.get_data(as_text=True)


def test_erasure_waits_for_questions_still_in_the_pipe(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    with rt.db.transaction() as session:
        outbox.record(session, SubmissionMessage(
            meeting_id=meeting.id, channel="web", external_id="p1", reference="R-P1",
            text="Is anyone patrolling Clun at night?", received_at=datetime.now(UTC).isoformat(),
            contact_email=EMAIL,
        ))  # fmt: skip
    _sign_in(client)
    page = client.post("/triage/data-rights", data={"who": EMAIL})
    assert "1 still being processed" in page.get_data(as_text=True)
    refused = client.post("/triage/data-rights/erase", data={"who": EMAIL, "confirm": "yes"})
    assert refused.status_code == 409 and "Try again" in refused.get_data(as_text=True)
    with rt.db.transaction() as session:
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.external_id == "p1"))


def test_bad_identifier_and_roles(
    client: FlaskClient, rt: Runtime, staff_user: StaffUser, chair: StaffUser
) -> None:
    assert client.get("/triage/data-rights").status_code == 302  # anonymous: sign in first
    _sign_in(client, "pcc@example.org")
    assert client.post("/triage/data-rights", data={"who": EMAIL}).status_code == 403
    client.post("/triage/logout")
    _sign_in(client)
    bad = client.post("/triage/data-rights", data={"who": "two words"})
    assert bad.status_code == 400 and "Enter an email address" in bad.get_data(as_text=True)


def test_retention_erases_handles_and_social_ids_and_keeps_the_figures(
    app: Flask, rt: Runtime, meeting: Meeting
) -> None:
    _seed(rt, meeting)
    before = _figures(rt)
    with rt.db.transaction() as session:
        mtg = session.get(Meeting, meeting.id)
        assert mtg is not None
        mtg.status = MeetingStatus.CLOSED
        mtg.closed_at = datetime.now(UTC) - timedelta(days=rt.settings.retention_days + 1)
    assert erase_expired() == 4
    assert erase_expired() == 0  # idempotent
    with rt.db.transaction() as session:
        for sub in session.scalars(select(Submission)):
            held = (sub.author_name, sub.location, sub.contact_email, sub.author_handle)
            assert held == (None, None, None, None) and sub.permalink is None
            assert sub.channel.value == "web" or sub.external_id.startswith("erased:")
    assert _figures(rt) == before
