"""Issue 13 security findings about hostile input and the partner API.

3. every input that gave a 500 is a clear 4xx, and the API always answers JSON;
4. links in API answers come from PUBLIC_URL, never the Host header;
7. an API token reads the status of its own submissions only.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import ApiToken, Meeting, Question, StaffUser
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.forms import submit_question
from workers import processing
from workers.ingest import store_submission

HUGE = "9223372036854775808"  # 2**63: past SQLite's and PostgreSQL's integers
PAST_INT4 = "2147483648"  # 2**31: past PostgreSQL's integer column
_addresses = itertools.count(1)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client from an address of its own (the sign-in limit is per address)."""
    test_client = app.test_client()
    n = next(_addresses)
    test_client.environ_base["REMOTE_ADDR"] = f"10.31.{n // 250}.{n % 250 + 1}"
    return test_client


def issue(rt: Runtime, name: str) -> str:
    row, token = ApiToken.issue(name)
    with rt.db.transaction() as session:
        session.add(row)
    return token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_url(meeting_id: int | str) -> str:
    return f"/api/v1/meetings/{meeting_id}/submissions"


def sign_in(client: FlaskClient) -> None:
    response = client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    return body


# --- 3. 500s on input -------------------------------------------------------------------------


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_received_at_out_of_range_is_a_validation_error(
    client: FlaskClient, meeting: Meeting, rt: Runtime, received_at: str
) -> None:
    token = issue(rt, "Partner")
    body = {"text": "Is the 101 line staffed at night?", "received_at": received_at}
    response = client.post(api_url(meeting.id), json=body, headers=auth(token))
    answer = assert_json_error(response, 422)
    assert "between the years 1 and 9999" in answer["errors"]["received_at"]


def test_deeply_nested_json_is_refused(client: FlaskClient, meeting: Meeting, rt: Runtime) -> None:
    token = issue(rt, "Partner")
    deep = "[" * 50_000 + "]" * 50_000
    response = client.post(
        api_url(meeting.id),
        data=deep,
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert assert_json_error(response, 400)["error"] == "invalid_json"
    nested_object = '{"text": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = client.post(
        api_url(meeting.id),
        data=nested_object,
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert assert_json_error(response, 400)["error"] == "invalid_json"


def test_ids_too_big_for_the_database_are_not_found(
    client: FlaskClient, meeting: Meeting, rt: Runtime, staff_user: StaffUser
) -> None:
    token = issue(rt, "Partner")
    for meeting_id in (HUGE, PAST_INT4):
        response = client.post(api_url(meeting_id), json={"text": "Hello?"}, headers=auth(token))
        assert assert_json_error(response, 404)["error"] == "not_found"
    sign_in(client)
    for meeting_id in (HUGE, PAST_INT4):
        assert client.get(f"/triage/meetings/{meeting_id}").status_code == 404
        moved = client.post(
            f"/triage/meetings/{meeting.id}/questions/{meeting_id}/move", data={"group_id": "1"}
        )
        assert moved.status_code == 404


def test_the_api_answers_json_for_unknown_paths_and_methods(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    assert assert_json_error(client.get("/api/v1/nothing-here"), 404)["error"] == "not_found"
    assert assert_json_error(client.get("/api/v1"), 404)["error"] == "not_found"
    wrong_method = client.get(api_url(meeting.id))
    assert assert_json_error(wrong_method, 405)["error"] == "method_not_allowed"
    # pages outside the API keep their HTML
    assert client.get("/no-such-page").mimetype == "text/html"


def _question(rt: Runtime, meeting: Meeting) -> Question:
    with rt.db.transaction() as session:
        store_submission(session, SubmissionMessage(
            meeting_id=meeting.id, channel="web", external_id="sec-1", reference="SEC-1",
            text="Why are there no police in Ludlow at night?",
            received_at=datetime.now(UTC).isoformat(),
        ))  # fmt: skip
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    with rt.db.transaction() as session:
        question = session.scalar(select(Question))
        assert question is not None and question.group_id is not None
        return question


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staff_forms_with_odd_numbers_and_anchors_are_4xx(
    client: FlaskClient, meeting: Meeting, rt: Runtime, staff_user: StaffUser
) -> None:
    question = _question(rt, meeting)
    sign_in(client)
    base = f"/triage/meetings/{meeting.id}"
    for group_id in ("²", "٣", HUGE, "-1", "1.0", ""):
        moved = client.post(f"{base}/questions/{question.id}/move", data={"group_id": group_id})
        assert moved.status_code == 400, group_id
    for target in ("²", HUGE):
        merged = client.post(f"{base}/groups/{question.group_id}/merge", data={"into": target})
        assert merged.status_code == 400

    # An anchor with a CR/LF (header injection) or a URL is dropped; a plain one is kept.
    for anchor in ("#q\r\nSet-Cookie: a=b", "#q\nx", "//evil.example", "@evil.example"):
        split = client.post(f"{base}/questions/{question.id}/split", data={"anchor": anchor})
        assert split.status_code == 302
        assert split.headers["Location"] == base
        assert "Set-Cookie" not in split.headers or "a=b" not in split.headers["Set-Cookie"]
    kept = client.post(f"{base}/questions/{question.id}/split", data={"anchor": "#question-7"})
    assert kept.headers["Location"] == f"{base}#question-7"


def test_a_meeting_named_by_odd_digits_is_a_form_error(
    client: FlaskClient, meeting: Meeting, rt: Runtime, staff_user: StaffUser
) -> None:
    sign_in(client)
    for chosen in ("²", HUGE):
        card = client.post(
            "/triage/event-entry",
            data={"meeting": chosen, "event": "Shropshire County Show", "question": "Hello there?"},
        )
        assert card.status_code == 200
        assert "Select the meeting" in card.text
        upload = client.post(
            "/triage/import",
            data={
                "meeting": chosen,
                "file": (io.BytesIO(b"Question\nIs 101 staffed?\n"), "cards.csv"),
            },
            content_type="multipart/form-data",
        )
        assert upload.status_code == 200
        assert "Select the meeting" in upload.text
        # the pages that pre-select a meeting from the address
        assert client.get(f"/triage/event-entry?meeting={chosen}").status_code == 200
        assert client.get(f"/triage/import?meeting={chosen}").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unknown_import_without_a_csrf_token_is_not_found(
    client: FlaskClient, app: Flask, staff_user: StaffUser
) -> None:
    sign_in(client)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/triage/import/no-such-import", data={})
    assert response.status_code == 404


# --- 4. links from PUBLIC_URL -----------------------------------------------------------------


def test_api_links_come_from_public_url_not_the_host_header(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    token = issue(rt, "Partner")
    public = rt.settings.public_url.rstrip("/")
    for external_id in ("case-1", None):
        body: dict[str, Any] = {"text": "Is the 101 line staffed at night?"}
        if external_id:
            body["external_id"] = external_id
        response = client.post(
            api_url(meeting.id),
            json=body,
            headers={**auth(token), "Host": "evil.example", "X-Forwarded-Host": "evil.example"},
        )
        assert response.status_code == 201
        reference = response.json["reference"]
        assert response.json["status_url"] == f"{public}/api/v1/submissions/{reference}"
        assert response.headers["Location"] == response.json["status_url"]
    repeat = client.post(
        api_url(meeting.id),
        json={"text": "again", "external_id": "case-1"},
        headers={**auth(token), "Host": "evil.example"},
    )
    assert repeat.status_code == 200 and "evil" not in repeat.json["status_url"]


# --- 7. API tokens read only their own submissions ------------------------------------------


def test_a_token_reads_the_status_of_its_own_submissions_only(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    mine, theirs = issue(rt, "Partner A"), issue(rt, "Partner B")
    keyed = client.post(
        api_url(meeting.id), json={"text": "Keyed?", "external_id": "a-1"}, headers=auth(mine)
    ).json["reference"]
    plain = client.post(api_url(meeting.id), json={"text": "Plain?"}, headers=auth(mine)).json[
        "reference"
    ]
    web = submit_question(client, meeting.slug, "Sent on the public form?")
    assert web.status_code == 303
    with client.session_transaction() as s:
        web_reference = s["intake_receipt"]["reference"]

    # Waiting in the outbox, and once stored as submissions: the same answers.
    for _ in range(2):
        for reference in (keyed, plain):
            own = client.get(f"/api/v1/submissions/{reference}", headers=auth(mine))
            assert own.status_code == 200 and own.json["reference"] == reference
            other = client.get(f"/api/v1/submissions/{reference}", headers=auth(theirs))
            assert assert_json_error(other, 404)["error"] == "not_found"
        # a reference from another channel is not any token's to read
        for token in (mine, theirs):
            answer = client.get(f"/api/v1/submissions/{web_reference}", headers=auth(token))
            assert assert_json_error(answer, 404)["error"] == "not_found"
        _store_outbox(rt)


def _store_outbox(rt: Runtime) -> None:
    """Store every outbox message as a submission, as the ingest worker does."""
    from domain.models import OutboxMessage

    with rt.db.transaction() as session:
        for row in session.scalars(select(OutboxMessage)):
            store_submission(session, SubmissionMessage.from_dict(dict(row.payload)))
            session.delete(row)
