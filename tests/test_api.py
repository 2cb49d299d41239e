"""Partner JSON API: tokens, validation, repeats, rate limit, status, OpenAPI, real worker."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from domain.models import ApiToken, Meeting, MeetingStatus, OutboxMessage, Question, Submission
from domain.runtime import Runtime
from intake.api import access, views
from intake.commands import create_api_token, list_api_tokens, revoke_api_token
from intake.forms import QUESTION_LIMIT
from intake.validation import EMAIL_LIMIT, EVENT_LIMIT, NAME_LIMIT, TOWN_LIMIT
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.processes import wait_for

SPEC = yaml.safe_load(views.SPEC_PATH.read_text())
REFERENCE = re.compile(r"^Q-[0-9A-Z]{4}-[0-9A-Z]{4}$")


# --- helpers ------------------------------------------------------------------------------


def cli_env(settings: dict[str, Any]) -> dict[str, str]:
    return {key.upper(): str(value) for key, value in settings.items()}


def issue(rt: Runtime, name: str = "Partner") -> tuple[int, str]:
    row, token = ApiToken.issue(name)
    with rt.db.transaction() as session:
        session.add(row)
        session.flush()
        return row.id, token


@pytest.fixture
def token(rt: Runtime) -> str:
    return issue(rt)[1]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def url(meeting: Meeting) -> str:
    return f"/api/v1/meetings/{meeting.id}/submissions"


def outbox_count(rt: Runtime) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = SPEC
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


_TYPES = {
    "object": dict,
    "string": str,
    "integer": int,
    "boolean": bool,
    "array": list,
    "null": type(None),
}


def check(instance: Any, schema: dict[str, Any], path: str = "$") -> None:
    """Validate ``instance`` against the subset of JSON Schema the OpenAPI document uses."""
    schema = resolve(schema)
    for sub in schema.get("allOf", []):
        check(instance, sub, path)
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(instance, _TYPES[k]) and not (k == "integer" and isinstance(instance, bool))
            for k in kinds
        )
        assert ok, f"{path}: {instance!r} is not {kinds}"
    if "const" in schema:
        assert instance == schema["const"], f"{path}: {instance!r} != {schema['const']!r}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{path}: {instance!r} not in {schema['enum']}"
    if isinstance(instance, str):
        if "pattern" in schema:
            assert re.search(schema["pattern"], instance), f"{path}: {instance!r} pattern"
        assert len(instance) <= schema.get("maxLength", len(instance)), f"{path}: too long"
        assert len(instance) >= schema.get("minLength", 0), f"{path}: too short"
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            assert key in instance, f"{path}: missing {key}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                check(value, props[key], f"{path}.{key}")
            elif extra is False:
                raise AssertionError(f"{path}: unexpected property {key}")
            elif isinstance(extra, dict):
                check(value, extra, f"{path}.{key}")


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    response = resolve(SPEC["paths"][path][method]["responses"][str(status)])
    return dict(response["content"]["application/json"]["schema"])


# For tests about HTTP, Redis or the document rather than the database: one database is enough.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

POST_PATH = "/meetings/{meeting_id}/submissions"
STATUS_PATH = "/submissions/{reference}"


# --- tokens -------------------------------------------------------------------------------


def test_create_api_token_prints_it_once_and_keeps_only_its_hash(
    rt: Runtime, settings: dict[str, Any], client: FlaskClient, meeting: Meeting
) -> None:
    runner = CliRunner()
    created = runner.invoke(create_api_token, ["West Mercia web chat"], env=cli_env(settings))
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("ofk_") and len(token) > 40

    with rt.db.transaction() as session:
        row = session.scalar(select(ApiToken))
        assert row is not None
        assert row.name == "West Mercia web chat"
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.created_at is not None and row.revoked_at is None
        stored = [row.name, row.token_hash]
    assert token not in stored

    listed = runner.invoke(list_api_tokens, [], env=cli_env(settings))
    assert "West Mercia web chat" in listed.output and "active" in listed.output
    assert token not in listed.output

    ok = client.post(url(meeting), json={"text": "Is the 101 line staffed?"}, headers=auth(token))
    assert ok.status_code == 201, ok.json

    revoked = runner.invoke(revoke_api_token, ["West Mercia web chat"], env=cli_env(settings))
    assert revoked.exit_code == 0, revoked.output
    refused = client.post(url(meeting), json={"text": "Another?"}, headers=auth(token))
    assert refused.status_code == 403
    assert refused.json == {"error": "forbidden", "message": "This token has been revoked"}
    again = runner.invoke(revoke_api_token, ["West Mercia web chat"], env=cli_env(settings))
    assert again.exit_code != 0 and "no active API token" in again.output


def test_missing_or_unknown_token_is_401_and_unknown_meeting_404(
    client: FlaskClient, meeting: Meeting, token: str, rt: Runtime
) -> None:
    body = {"text": "Why was the Bridgnorth front counter closed?"}
    missing = client.post(url(meeting), json=body)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.json["error"] == "unauthorized"
    wrong = client.post(url(meeting), json=body, headers=auth("ofk_not-a-real-token"))
    assert wrong.status_code == 401
    basic = client.post(url(meeting), json=body, headers={"Authorization": f"Basic {token}"})
    assert basic.status_code == 401

    unknown = client.post("/api/v1/meetings/999999/submissions", json=body, headers=auth(token))
    assert unknown.status_code == 404
    check(unknown.json, response_schema(POST_PATH, "post", 404))

    not_json = client.post(url(meeting), data="text=hello", headers=auth(token))
    assert not_json.status_code == 400
    assert not_json.json["error"] == "invalid_json"
    listed = client.post(url(meeting), json=["text"], headers=auth(token))
    assert listed.status_code == 400
    assert outbox_count(rt) == 0


# --- submissions --------------------------------------------------------------------------


def test_created_submission_answers_201_and_its_status_shows_no_personal_data(
    client: FlaskClient, meeting: Meeting, token: str, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = SPEC["paths"][POST_PATH]["post"]["requestBody"]["content"]["application/json"]["example"]
    body = {**body, "contact_email": "les.private@example.net"}
    response = client.post(url(meeting), json=body, headers=auth(token))
    assert response.status_code == 201, response.json
    check(response.json, response_schema(POST_PATH, "post", 201))
    assert REFERENCE.match(response.json["reference"])
    assert response.json["duplicate"] is False
    assert response.json["status_url"].endswith(f"/api/v1/submissions/{response.json['reference']}")
    assert response.headers["Location"] == response.json["status_url"]

    with rt.db.transaction() as session:
        row = session.scalar(select(OutboxMessage))
        assert row is not None
        assert row.channel == "api"
        token_id = session.scalar(select(ApiToken.id))
        assert row.external_id == f"token-{token_id}:{body['external_id']}"
        payload = row.payload
    assert payload["text"] == body["text"]
    assert payload["author_name"] == "Les" and payload["location"] == "Clun"
    assert payload["consent_publish"] is True
    assert payload["contact_email"] == "les.private@example.net"
    assert payload["received_at"].startswith("2025-08-14T09:30:00")  # stored in UTC
    # Personal data never reaches the logs.
    for secret in ("les.private@example.net", "sheep being stolen", "Clun"):
        assert secret not in caplog.text

    # Its status, without personal data, to token holders only.
    reference = response.json["reference"]
    status = client.get(f"/api/v1/submissions/{reference}", headers=auth(token))
    assert status.status_code == 200
    check(status.json, response_schema(STATUS_PATH, "get", 200))
    assert status.json == {"reference": reference, "status": "received", "meeting_id": meeting.id}
    for private in ("Les", "Clun", "les.private@example.net", "sheep"):
        assert private not in status.get_data(as_text=True)
    assert client.get(f"/api/v1/submissions/{reference}").status_code == 401
    missing = client.get("/api/v1/submissions/Q-0000-0000", headers=auth(token))
    assert missing.status_code == 404
    check(missing.json, response_schema(STATUS_PATH, "get", 404))
    assert client.get("/api/v1/submissions/nonsense", headers=auth(token)).status_code == 404


def test_repeating_an_external_id_is_harmless(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    _, first_token = issue(rt, "Partner A")
    _, second_token = issue(rt, "Partner B")
    body = {"text": "What is being done about fly-tipping?", "external_id": "case-77"}
    first = client.post(url(meeting), json=body, headers=auth(first_token))
    assert first.status_code == 201
    again = client.post(url(meeting), json={**body, "text": "changed"}, headers=auth(first_token))
    assert again.status_code == 200
    check(again.json, response_schema(POST_PATH, "post", 200))
    assert again.json["reference"] == first.json["reference"]
    assert again.json["duplicate"] is True
    assert outbox_count(rt) == 1
    # Ids are per partner: another token's "case-77" is a different question.
    other = client.post(url(meeting), json=body, headers=auth(second_token))
    assert other.status_code == 201
    assert other.json["reference"] != first.json["reference"]
    assert outbox_count(rt) == 2
    # Still answered the same way once the meeting has stopped taking questions.
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    late = client.post(url(meeting), json=body, headers=auth(first_token))
    assert late.status_code == 200 and late.json["reference"] == first.json["reference"]
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.OPEN
    # Without an external id every request is new.
    plain = {"text": "What is being done about fly-tipping?"}
    assert client.post(url(meeting), json=plain, headers=auth(first_token)).status_code == 201
    assert client.post(url(meeting), json=plain, headers=auth(first_token)).status_code == 201
    assert outbox_count(rt) == 4


def test_invalid_fields_and_closed_meetings_get_422_with_a_message_per_field(
    client: FlaskClient, meeting: Meeting, token: str, rt: Runtime
) -> None:
    response = client.post(
        url(meeting),
        json={
            "text": "   ",
            "author_name": "x" * (NAME_LIMIT + 1),
            "location": "y" * (TOWN_LIMIT + 1),
            "contact_email": "not-an-email",
            "consent_publish": "yes",
            "event_name": 42,
            "received_at": "14/08/2025",
            "external_id": "",
            "favourite_colour": "blue",
        },
        headers=auth(token),
    )
    assert response.status_code == 422
    check(response.json, response_schema(POST_PATH, "post", 422))
    assert response.json["error"] == "validation_failed"
    assert response.json["errors"] == {
        "text": "Enter the question",
        "author_name": f"Name must be {NAME_LIMIT} characters or fewer",
        "location": f"Town must be {TOWN_LIMIT} characters or fewer",
        "contact_email": "Enter an email address in the correct format, like name@example.com",
        "consent_publish": "Must be true or false",
        "event_name": "Must be a string",
        "received_at": "Must be a date and time with a time zone, like 2025-08-14T10:30:00+01:00",
        "external_id": "External id must be 1 to 150 printable characters",
        "favourite_colour": "Unknown field",
    }
    too_long = client.post(
        url(meeting), json={"text": "a" * (QUESTION_LIMIT + 1)}, headers=auth(token)
    )
    assert too_long.status_code == 422
    assert too_long.json["errors"] == {
        "text": f"Question must be {QUESTION_LIMIT} characters or fewer"
    }
    # Exactly at the limit is fine (the same rule as the public form).
    at_limit = client.post(url(meeting), json={"text": "a" * QUESTION_LIMIT}, headers=auth(token))
    assert at_limit.status_code == 201
    assert outbox_count(rt) == 1

    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    closed = client.post(url(meeting), json={"text": "Too late?"}, headers=auth(token))
    assert closed.status_code == 422
    assert closed.json["errors"] == {"meeting": "This meeting is not taking questions"}
    assert outbox_count(rt) == 1


@sqlite_only
def test_rate_limit_is_per_token(client: FlaskClient, meeting: Meeting, rt: Runtime) -> None:
    rt.settings = dataclasses.replace(rt.settings, api_rate_limit="3 per minute")
    _, busy = issue(rt, "Busy partner")
    _, quiet = issue(rt, "Quiet partner")
    for n in range(3):
        sent = client.post(url(meeting), json={"text": f"Question {n}?"}, headers=auth(busy))
        assert sent.status_code == 201
        assert sent.headers["X-RateLimit-Limit"] == "3"
    limited = client.post(url(meeting), json={"text": "One more?"}, headers=auth(busy))
    assert limited.status_code == 429
    check(limited.json, response_schema(POST_PATH, "post", 429))
    assert limited.json["error"] == "rate_limited"
    assert "Retry-After" in limited.headers
    other = client.post(url(meeting), json={"text": "Mine?"}, headers=auth(quiet))
    assert other.status_code == 201
    assert outbox_count(rt) == 4

    # Each guessed token would get its own allowance: refused tokens count per address.
    rt.settings = dataclasses.replace(rt.settings, api_rate_limit="600 per minute")
    for n in range(access.AUTH_FAILURES_PER_MINUTE):
        guess = client.post(url(meeting), json={"text": "?"}, headers=auth(f"ofk_guess{n}"))
        assert guess.status_code == 401
    blocked = client.post(url(meeting), json={"text": "?"}, headers=auth("ofk_guess-again"))
    assert blocked.status_code == 429
    check(blocked.json, response_schema(POST_PATH, "post", 429))


@sqlite_only
def test_api_is_csrf_exempt_but_staff_pages_are_not(
    app: Flask, client: FlaskClient, meeting: Meeting, token: str, rt: Runtime, staff_user: Any
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(url(meeting), json={"text": "Is CSRF needed?"}, headers=auth(token))
    assert response.status_code == 201
    assert outbox_count(rt) == 1
    # The staff card page in the same app still insists on a CSRF token.
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    app.config["WTF_CSRF_ENABLED"] = True
    card = client.post(
        "/triage/event-entry",
        data={"meeting": str(meeting.id), "event": "Ludlow Show", "question": "Forged?"},
    )
    assert card.status_code == 400
    assert outbox_count(rt) == 1


@sqlite_only
def test_openapi_document_is_served_and_matches_the_api(app: Flask, client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.yaml")
    assert served.status_code == 200
    assert served.mimetype == "application/yaml"
    doc = yaml.safe_load(served.get_data(as_text=True))
    assert doc["openapi"].startswith("3.1")
    as_json = client.get("/api/v1/openapi.json")
    assert as_json.status_code == 200 and as_json.json == doc

    # Every API route is documented with its methods, and nothing documented is missing.
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")): {
            m.lower() for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        }
        for rule in app.extensions["openfloor_api"].url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }
    documented = {path: set(ops) for path, ops in doc["paths"].items()}
    assert routes == documented

    # Documented limits are the validation's limits.
    fields = doc["components"]["schemas"]["SubmissionRequest"]["properties"]
    assert fields["text"]["maxLength"] == QUESTION_LIMIT
    assert fields["author_name"]["maxLength"] == NAME_LIMIT
    assert fields["location"]["maxLength"] == TOWN_LIMIT
    assert fields["contact_email"]["maxLength"] == EMAIL_LIMIT
    assert fields["event_name"]["maxLength"] == EVENT_LIMIT
    assert fields["external_id"]["maxLength"] == views.EXTERNAL_ID_LIMIT
    assert set(fields) == set(views.FIELDS)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


# --- end to end ---------------------------------------------------------------------------


def test_api_submission_is_processed_by_a_real_worker(
    client: FlaskClient, meeting: Meeting, token: str, rt: Runtime, worker: Any
) -> None:
    text = "Will there be more patrols on the Shrewsbury bypass at night?"
    sent = client.post(url(meeting), json={"text": text}, headers=auth(token))
    assert sent.status_code == 201
    reference = sent.json["reference"]

    def question() -> Any:
        with rt.db.transaction() as session:
            return session.scalar(
                select(Question.text)
                .join(Submission, Question.submission_id == Submission.id)
                .where(Submission.reference == reference, Submission.channel == "api")
            )

    assert wait_for(question, timeout=30) == text
    status = client.get(sent.json["status_url"], headers=auth(token))
    assert status.json["status"] == "processed"
