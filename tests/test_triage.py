"""Staff pages over HTTP: sign-in, meetings, status, the board and its decisions, audit."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import AuditEvent, Meeting, MeetingStatus, Question, StaffUser
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from tests.conftest import ADMIN_EMAIL, STAFF_EMAIL, STAFF_PASSWORD
from workers import processing
from workers.ingest import store_submission


def _sign_in(client: FlaskClient, email: str = STAFF_EMAIL) -> None:
    response = client.post("/triage/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def _questions(rt: Runtime, meeting: Meeting, *texts: tuple[str, str | None]) -> list[Question]:
    with rt.db.transaction() as session:
        for n, (text, place) in enumerate(texts):
            store_submission(session, SubmissionMessage(
                meeting_id=meeting.id, channel="web", external_id=f"tr-{n}", reference=f"TR-{n}",
                text=text, received_at=datetime.now(UTC).isoformat(), location=place,
                author_name="Kath" if n == 0 else None, consent_publish=n == 0,
            ))  # fmt: skip
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    with rt.db.transaction() as session:
        return list(session.scalars(select(Question).order_by(Question.id)))


def test_staff_pages_need_sign_in(client: FlaskClient, meeting: Meeting) -> None:
    for path in ("/triage/meetings", f"/triage/meetings/{meeting.id}", "/triage/meetings/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/triage/login" in response.headers["Location"]
    assert (
        client.post("/triage/login", data={"email": STAFF_EMAIL, "password": "no"}).status_code
        == 200
    )


def test_create_meeting_and_go_live(
    client: FlaskClient, rt: Runtime, admin_user: StaffUser
) -> None:
    _sign_in(client, ADMIN_EMAIL)
    bad = client.post("/triage/meetings/new", data={"title": ""})
    assert "Enter a title" in bad.get_data(as_text=True)
    created = client.post(
        "/triage/meetings/new",
        data={"title": "Road safety live", "theme": "Road safety", "kind": "facebook_live",
              "scheduled_start": "2026-12-01T19:00"},
    )  # fmt: skip
    assert created.status_code == 302
    with rt.db.transaction() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == "road-safety-live"))
        assert meeting is not None and meeting.status == MeetingStatus.OPEN
        meeting_id = meeting.id
    client.post(f"/triage/meetings/{meeting_id}/status", data={"status": "live"})
    client.post(f"/triage/meetings/{meeting_id}/status", data={"status": "closed"})
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.status == MeetingStatus.CLOSED
        assert meeting.closed_at is not None
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["meeting.create", "meeting.status", "meeting.status"]


def test_board_groups_and_decisions(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    qs = _questions(
        rt, meeting,
        ("Sheep are being stolen from farms near Clun. What is being done?", "Clun"),
        ("Sheep are being stolen from farms near Wem. What is being done?", "Wem"),
        ("How many officers will the new funding pay for?", None),
        ("Call 07700 900123, my neighbour John Smith deals drugs", None),
    )  # fmt: skip
    _sign_in(client)
    page = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    assert "Kath from Clun" in page
    assert "<dt>Places</dt><dd>Clun, Wem</dd>" in page
    assert "07700" not in page and "[phone number]" in page
    assert qs[0].group_id == qs[1].group_id != qs[2].group_id

    # merge the funding question's group into the sheep group, then split it out again
    r = client.post(f"/triage/meetings/{meeting.id}/groups/{qs[2].group_id}/merge",
                    data={"into": str(qs[0].group_id)})  # fmt: skip
    assert r.status_code == 302
    r = client.post(f"/triage/meetings/{meeting.id}/questions/{qs[2].id}/split")
    assert r.status_code == 302
    with rt.db.transaction() as session:
        moved = session.get(Question, qs[2].id)
        assert moved is not None and moved.group_locked
        assert moved.group_id not in (qs[0].group_id, qs[2].group_id)
        actions = session.scalars(select(AuditEvent.action)).all()
    assert {"group.merge", "question.split"} <= set(actions)
    # a question from another meeting cannot be touched through this one
    assert (
        client.post(f"/triage/meetings/{meeting.id + 99}/questions/{qs[0].id}/split").status_code
        == 400
    )
