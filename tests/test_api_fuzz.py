"""Schemathesis against /api/v1/openapi.yaml: no 500s, every answer matches the description."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from domain.models import ApiToken, Meeting
from domain.runtime import Runtime
from intake.api.views import SPEC_PATH

# the same file the app serves at /api/v1/openapi.yaml (a test below checks they are equal)
schema = schemathesis.openapi.from_path(SPEC_PATH)


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Fuzzing sends hundreds of requests with one token: lift the per-token limit."""
    return {**settings, "api_rate_limit": "100000 per minute"}


@pytest.fixture
def bearer(rt: Runtime) -> dict[str, str]:
    row, token = ApiToken.issue("Fuzzer")
    with rt.db.transaction() as session:
        session.add(row)
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is never luck
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_match_its_description(
    case: Any, app: Flask, meeting: Meeting, bearer: dict[str, str]
) -> None:
    # hypothesis picks the path parameters: let most cases reach the meeting and its
    # validation (not only a 404), and a few go without a token
    picked = zlib.crc32(repr((case.path_parameters, case.body)).encode())
    meeting_id = (case.path_parameters or {}).get("meeting_id")
    if isinstance(meeting_id, int) and picked % 4 != 0:
        case.path_parameters["meeting_id"] = meeting.id
    headers = bearer if picked % 7 != 0 else {}
    # in-process over WSGI for this test's app (and for the checks that replay a request)
    case.operation.schema.app = app
    case.operation.app = app
    # 422 for schema-valid text that fails the question checks (only invisible characters,
    # say) is documented, so "schema-valid means accepted" is not a check of this API
    # ignored_auth replays the request "without" auth but keeps headers passed here, so it
    # reports the valid token's 201; tokens are enforced by tests/test_api.py instead
    # the token goes into the case itself, so schemathesis re-checks the case as changed here
    # (a case drawn as "no Authorization header" is no longer a negative one once it has one)
    case.headers = {**(case.headers or {}), **headers}
    case.call_and_validate(app=app, excluded_checks=[positive_data_acceptance, ignored_auth])


def test_the_fuzzed_description_is_the_served_one(client: Any) -> None:
    assert client.get("/api/v1/openapi.yaml").get_data(as_text=True) == SPEC_PATH.read_text()
