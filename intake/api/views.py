"""JSON API for partner systems: send a question, ask about its processing status.

Described in ``intake/api/openapi.yaml`` (served at ``/api/v1/openapi.yaml`` and ``.json``).
Authentication is ``Authorization: Bearer <token>`` (see ``openfloor create-api-token``);
the rate limit is per token. A repeat of an ``external_id`` already sent with the same
token is harmless: it answers 200 with the first submission's reference and stores nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from domain.models import (
    Channel,
    MeetingState,
    OutboxMessage,
    Submission,
    SubmissionStatus,
)
from domain.web.context import runtime
from intake import outbox
from intake.api.access import ApiError, TokenInfo, authenticate
from intake.forms import QUESTION_LIMIT
from intake.meeting_states import MeetingStates
from intake.submit import submit
from intake.validation import EMAIL_LIMIT, EVENT_LIMIT, NAME_LIMIT, TOWN_LIMIT, validate_submission

log = logging.getLogger(__name__)

bp = Blueprint("intake_api", __name__, url_prefix="/api/v1")

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
EXTERNAL_ID_LIMIT = 150
STRING_FIELDS = (
    "text",
    "external_id",
    "author_name",
    "location",
    "contact_email",
    "event_name",
    "received_at",
)
FIELDS = (*STRING_FIELDS, "consent_publish")
SENT_LIMITS = {
    "text": ("Question", QUESTION_LIMIT),
    "author_name": ("Name", NAME_LIMIT),
    "location": ("Town", TOWN_LIMIT),
    "contact_email": ("Email address", EMAIL_LIMIT),
    "event_name": ("Event name", EVENT_LIMIT),
}
# Validation's field names → this API's.
NAMES = {
    "text": "text",
    "name": "author_name",
    "town": "location",
    "email": "contact_email",
    "event": "event_name",
    "meeting": "meeting",
}
MAX_ID = 2**31 - 1
_REFERENCE = re.compile(r"^Q-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def _error_response(err: ApiError) -> Response:
    body: dict[str, Any] = {"error": err.code, "message": err.message}
    if err.errors is not None:
        body["errors"] = err.errors
    response = jsonify(body)
    response.status_code = err.status
    response.headers.update(err.headers)
    return response


def _api_error(err: ApiError) -> Response:
    return _error_response(err)


def http_error(exc: HTTPException) -> Response:
    """Any HTTP error (an unknown URL, a wrong method, a body too large) as a JSON error."""
    code = (exc.name or "error").lower().replace(" ", "_")
    # keep what the exception says of itself, e.g. a 405's Allow header (RFC 9110)
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    if exc.code == 429:
        code = "rate_limited"
        headers = {"Retry-After": "60"}
    return _error_response(
        ApiError(exc.code or 500, code, exc.description or exc.name, headers=headers)
    )


def _unexpected(exc: Exception) -> Response:
    # Only the type: messages of database errors carry the statement's parameters.
    log.error("API %s failed: %s", request.endpoint, type(exc).__name__)
    return _error_response(
        ApiError(500, "internal_error", "Something went wrong on our side; try again later")
    )


def _database_down(_exc: OperationalError) -> Response:
    return _error_response(
        ApiError(
            503,
            "unavailable",
            "The service cannot store questions at the moment; try again shortly",
            headers={"Retry-After": "30"},
        )
    )


def register_error_handlers(app: Flask) -> None:
    """Every error of the API app is answered in JSON, an unknown URL included."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)


@bp.after_request
def _rate_headers(response: Response) -> Response:
    response.headers.update(g.pop("api_rate_headers", {}))
    return response


def _status_url(reference: str) -> str:
    # From PUBLIC_URL, never the request's Host header (anyone can send any Host).
    # (a string, not url_for: this is built for every question, and the path is fixed)
    return f"{runtime().settings.public_url.rstrip('/')}{bp.url_prefix}/submissions/{reference}"


def _owner_prefixes(token: TokenInfo) -> tuple[str, str]:
    """External ids of this token's submissions start with one of these (see ``_key``)."""
    return f"token-{token.id}:", f"token-{token.id}/"


def _key(token: TokenInfo, external_id: str) -> str:
    """The stored external id: the partner's own id, or a unique one, namespaced by token.

    Two partners' ids never collide, and the status of a reference is told only to the token
    that sent it.
    """
    if external_id:
        return f"token-{token.id}:{external_id}"
    return f"token-{token.id}/{uuid.uuid4().hex}"


def _meeting(number: int) -> MeetingState | None:
    states: MeetingStates = current_app.extensions["openfloor_meetings"]
    return states.get(number)


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply") from None


@bp.post("/meetings/<meeting_id>/submissions")
def create_submission(meeting_id: str) -> tuple[Response, int, dict[str, str]]:
    """Store one question for a meeting."""
    token = authenticate()
    rt = runtime()
    # any id in the path is answered in JSON (an <int:> route would 404 in HTML on "-1")
    number = int(meeting_id) if re.fullmatch(r"[0-9]{1,10}", meeting_id) else None
    if number is not None and number > MAX_ID:
        number = None  # past PostgreSQL's integer: no such meeting, not a database error
    meeting = _meeting(number) if number is not None else None
    if meeting is None:
        raise ApiError(404, "not_found", f"There is no meeting {meeting_id}")
    body = _json_body()
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "invalid_json",
            "Send a JSON object with 'Content-Type: application/json'",
        )

    errors: dict[str, str] = {}
    for key in body:
        if key not in FIELDS:
            errors[key] = "Unknown field"
    values: dict[str, str | None] = {}
    for key in STRING_FIELDS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = "Must be a string"
            value = None
        values[key] = value
    # as the OpenAPI schema says: lengths count as sent, before control characters are removed
    for key, (label, limit) in SENT_LIMITS.items():
        value = values[key]
        if value is not None and len(value) > limit:
            errors[key] = f"{label} must be {limit} characters or fewer"
    consent = body.get("consent_publish", False)
    if consent is None:
        consent = False
    if not isinstance(consent, bool):
        errors["consent_publish"] = "Must be true or false"
        consent = False

    external_id = (values["external_id"] or "").strip()
    if values["external_id"] is not None and not (
        0 < len(external_id) <= EXTERNAL_ID_LIMIT and external_id.isprintable()
    ):
        errors["external_id"] = f"External id must be 1 to {EXTERNAL_ID_LIMIT} printable characters"
    received_at = _received_at(values["received_at"], errors)
    stored_id = _key(token, external_id)
    result = validate_submission(
        text=values["text"],
        name=values["author_name"],
        town=values["location"],
        email=values["contact_email"],
        consent=consent,
        event=values["event_name"],
        meeting=meeting,
    )
    for key, message in result.messages(NAMES).items():
        errors.setdefault(key, message)
    if errors or result.clean is None:
        if external_id and "external_id" not in errors:
            # A repeat is answered as the first time was, even if the meeting has closed
            # since. A valid repeat is found by the outbox's unique key in submit().
            first = outbox.find(rt.db.session(), Channel.API.value, stored_id)
            if first is not None:
                return _receipt(str(first.payload["reference"]), duplicate=True)
        raise ApiError(422, "validation_failed", "The submission has errors", errors=errors)

    clean = result.clean
    receipt = submit(
        rt,
        meeting,
        channel=Channel.API.value,
        text=clean.text,
        external_id=stored_id,  # namespaced by token so two partners' ids never collide
        author_name=clean.author_name,
        location=clean.location,
        contact_email=clean.contact_email,
        consent_publish=clean.consent_publish,
        event_name=clean.event_name,
        received_at=received_at,
    )
    return _receipt(receipt.reference, duplicate=receipt.duplicate)


def _receipt(reference: str, *, duplicate: bool) -> tuple[Response, int, dict[str, str]]:
    """201 with a Location for a new submission; 200 for a repeat."""
    status_url = _status_url(reference)
    payload = {
        "reference": reference,
        "status": "received",
        "status_url": status_url,
        "duplicate": duplicate,
    }
    if duplicate:
        return jsonify(payload), 200, {}
    return jsonify(payload), 201, {"Location": status_url}


def _received_at(value: str | None, errors: dict[str, str]) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is not None:
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC moment
            errors["received_at"] = "Must be a date and time between the years 1 and 9999 in UTC"
            return None
    errors["received_at"] = (
        "Must be a date and time with a time zone, like 2025-08-14T10:30:00+01:00"
    )
    return None


@bp.get("/submissions/<reference>")
def submission_status(reference: str) -> Response:
    """Whether a submission is received (waiting) or processed. No personal data.

    Only the token that sent a submission learns about it: any other reference, sent by
    another partner or another channel, is answered exactly like one that does not exist.
    """
    token = authenticate()
    ref = reference.strip().upper()
    missing = ApiError(404, "not_found", "There is no submission with that reference")
    if not _REFERENCE.match(ref):
        raise missing
    mine = _owner_prefixes(token)
    session = runtime().db.session
    stored = session.execute(
        select(Submission.status, Submission.meeting_id, Submission.external_id).where(
            Submission.reference == ref, Submission.channel == Channel.API
        )
    ).first()
    if stored is not None:
        if not stored.external_id.startswith(mine):
            raise missing
        status = "processed" if stored.status == SubmissionStatus.PROCESSED else "received"
        return jsonify({"reference": ref, "status": status, "meeting_id": stored.meeting_id})
    waiting = session.execute(
        select(OutboxMessage.external_id, OutboxMessage.payload).where(
            OutboxMessage.payload["reference"].as_string() == ref,
            OutboxMessage.channel == Channel.API.value,
        )
    ).first()
    if waiting is None or not waiting.external_id.startswith(mine):
        raise missing
    meeting_id = waiting.payload["meeting_id"]
    return jsonify({"reference": ref, "status": "received", "meeting_id": meeting_id})


@cache
def _spec_text() -> str:
    return SPEC_PATH.read_text(encoding="utf-8")


@bp.get("/openapi.yaml")
def openapi_yaml() -> Response:
    """The OpenAPI 3.1 description."""
    return Response(_spec_text(), mimetype="application/yaml")


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The same description as JSON."""
    return jsonify(yaml.safe_load(_spec_text()))
