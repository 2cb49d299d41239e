"""Rate-limit leases: far from the limit few Redis calls, near it every one, never over it."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from domain.models import Meeting
from domain.runtime import Runtime
from intake.api import access, limits
from tests.test_api import auth, issue, url

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _send(client: FlaskClient, meeting: Meeting, token: str) -> tuple[int, str]:
    body = {"text": "Are speed checks planned on the A44?", "external_id": uuid.uuid4().hex}
    response = client.post(url(meeting), json=body, headers=auth(token))
    return response.status_code, response.headers.get("X-RateLimit-Remaining", "")


def _count_redis_answers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count this process's rate-limit calls to Redis (the real function still runs; the
    server's own statistics would count the parallel tests' calls too)."""
    calls = [0]
    real = access.count_request

    def counted(*args: Any, **kwargs: Any) -> limits.Verdict:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(access, "count_request", counted)
    return calls


@sqlite_only
def test_far_from_the_limit_one_redis_answer_admits_many_requests(
    client: FlaskClient, meeting: Meeting, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.settings = dataclasses.replace(rt.settings, api_rate_limit="1000 per minute")
    _, token = issue(rt)
    # A lease admits requests for FRESH_SECONDS after its Redis answer; on a loaded machine 40
    # requests can take longer than that, so here an answer stays fresh for a minute.
    fresh = limits.FRESH_SECONDS
    monkeypatch.setattr(limits, "FRESH_SECONDS", 60.0)
    assert _send(client, meeting, token)[0] == 201  # the token is now known to this process
    calls = _count_redis_answers(monkeypatch)
    answers = [_send(client, meeting, token) for _ in range(40)]
    assert [code for code, _ in answers] == [201] * 40
    # the headers still count every request, one by one
    assert [int(left) for _, left in answers] == list(range(998, 958, -1))
    assert calls[0] <= 40 // 8  # a lease is up to 32 requests

    monkeypatch.setattr(limits, "FRESH_SECONDS", fresh)
    time.sleep(limits.FRESH_SECONDS + 0.05)  # an old answer no longer admits anyone
    calls[0] = 0
    assert _send(client, meeting, token)[0] == 201
    assert calls[0] == 1


@sqlite_only
def test_near_the_limit_every_request_asks_redis_and_the_limit_is_exact(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    rt.settings = dataclasses.replace(rt.settings, api_rate_limit="20 per minute")
    _, token = issue(rt)
    codes = [_send(client, meeting, token)[0] for _ in range(25)]
    assert codes == [201] * 20 + [429] * 5


@sqlite_only
def test_leases_of_several_processes_never_admit_more_than_the_limit(
    client: FlaskClient, meeting: Meeting, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.settings = dataclasses.replace(rt.settings, api_rate_limit="40 per minute")
    _, token = issue(rt)
    tables: list[dict[str, object]] = [{}, {}, {}]  # the lease tables of three web processes
    admitted = 0
    for n in range(60):
        monkeypatch.setattr(limits, "_leases", tables[n % 3])
        admitted += _send(client, meeting, token)[0] == 201
    # what a process leased but did not spend is lost to the window: a few short, never over
    assert 40 - 3 * 40 // limits.LEASE_SHARE <= admitted <= 40
    for table in tables:
        monkeypatch.setattr(limits, "_leases", table)
        assert _send(client, meeting, token)[0] == 429
