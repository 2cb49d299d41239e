"""Issue 13 security findings about staff sign-in and the public form's bot trap.

1. open redirect after sign-in; 2. sessions that outlive sign-out, a new password,
deactivation, and the idle and absolute limits; 5. a form token sending many questions;
6. account enumeration by timing, and the per-account lockout with back-off.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from domain.models import Meeting, OutboxMessage, StaffUser
from domain.runtime import Runtime
from domain.web.auth import SEEN_AT, SIGNED_IN_AT
from intake import antispam
from openfloor.cli import create_user
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.forms import forms
from triage import live

BOARD = "/triage/meetings"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
_addresses = itertools.count(1)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client from an address of its own: the sign-in limit (20 a minute per address)
    is counted across the tests of one process."""
    test_client = app.test_client()
    n = next(_addresses)
    test_client.environ_base["REMOTE_ADDR"] = f"10.13.{n // 250}.{n % 250 + 1}"
    return test_client


def use_settings(monkeypatch: pytest.MonkeyPatch, rt: Runtime, **changes: Any) -> None:
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, **changes))


def sign_in(client: FlaskClient, password: str = STAFF_PASSWORD, query: str = "") -> Any:
    return client.post(f"/triage/login{query}", data={"email": STAFF_EMAIL, "password": password})


def signed_in(client: FlaskClient) -> bool:
    response = client.get(BOARD)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of_cookie(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = client.application.test_client()
    other.environ_base.update(client.environ_base)
    other.set_cookie("session", cookie.value)
    return other


# --- 1. open redirect -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example/phish",  # browsers drop the tab: //evil.example/phish
        "/\n/x",  # was a 500
        "//evil.example/phish",
        "/\\evil.example",  # a backslash is a slash to browsers
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\u3000/evil.example",
    ],
)
@sqlite_only
def test_sign_in_never_sends_anyone_off_site(
    client: FlaskClient, staff_user: StaffUser, target: str
) -> None:
    response = sign_in(client, query="?" + urlencode({"next": target}))
    assert response.status_code == 302
    assert response.headers["Location"] == BOARD


@sqlite_only
def test_sign_in_follows_a_path_on_this_site(client: FlaskClient, staff_user: StaffUser) -> None:
    target = "/triage/import?meeting=3"
    response = sign_in(client, query="?" + urlencode({"next": target}))
    assert response.headers["Location"] == target


# --- 2. sessions end --------------------------------------------------------------------------


def test_signing_out_ends_copies_of_the_session(client: FlaskClient, staff_user: StaffUser) -> None:
    assert sign_in(client).status_code == 302
    copied = copy_of_cookie(client)
    assert signed_in(copied)
    client.post("/triage/logout")
    assert not signed_in(client)
    assert not signed_in(copied)
    # signing in again works, and a fresh sign-in is not ended by the old one's copy
    assert sign_in(client).status_code == 302
    assert signed_in(client)


def test_a_new_password_or_deactivation_ends_every_session(
    client: FlaskClient, staff_user: StaffUser, rt: Runtime, settings: dict[str, Any]
) -> None:
    assert sign_in(client).status_code == 302
    copied = copy_of_cookie(client)
    env = {key.upper(): str(value) for key, value in settings.items()}
    reset = CliRunner().invoke(
        create_user, [STAFF_EMAIL, "--password", "a brand new passphrase"], env=env
    )
    assert reset.exit_code == 0, reset.output
    assert not signed_in(client)
    assert not signed_in(copied)
    assert sign_in(client, "a brand new passphrase").status_code == 302
    assert signed_in(client)

    with rt.db.transaction() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == STAFF_EMAIL))
        assert user is not None
        user.deactivate()
    assert not signed_in(client)
    refused = sign_in(client, "a brand new passphrase")
    assert refused.status_code == 200 and "not right" in refused.text


@sqlite_only
def test_signing_out_ends_an_open_event_stream(
    client: FlaskClient, staff_user: StaffUser, meeting: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_MS", 200)
    assert sign_in(client).status_code == 302
    copied = copy_of_cookie(client)
    stream = copied.get(f"/triage/meetings/{meeting.id}/events", buffered=False)
    assert stream.status_code == 200
    chunks = iter(stream.response)
    assert b"retry" in next(chunks)
    assert b"keep-alive" in next(chunks)  # open, and still open after a heartbeat
    client.post("/triage/logout")
    deadline = time.monotonic() + 10
    tail = b""
    for chunk in chunks:  # ends by itself: the generator returns
        tail += chunk
        assert time.monotonic() < deadline
    assert tail.endswith(b": signed out\n\n")
    stream.close()


@sqlite_only
def test_sessions_end_when_idle_and_after_the_absolute_limit(
    client: FlaskClient, staff_user: StaffUser, rt: Runtime
) -> None:
    idle = rt.settings.session_idle_minutes * 60
    longest = rt.settings.session_max_hours * 3600
    assert sign_in(client).status_code == 302

    # Busy a little under the idle limit: still signed in, and the idle clock restarts.
    with client.session_transaction() as s:
        s[SEEN_AT] = time.time() - idle + 60
    assert signed_in(client)
    with client.session_transaction() as s:
        assert time.time() - s[SEEN_AT] < 10

    # Idle past the limit (what a copied cookie replayed later looks like): signed out.
    with client.session_transaction() as s:
        s[SEEN_AT] = time.time() - idle - 1
    assert not signed_in(client)

    # Active all along, but signed in longer ago than the absolute limit: signed out.
    assert sign_in(client).status_code == 302
    with client.session_transaction() as s:
        s[SIGNED_IN_AT] = time.time() - longest - 1
        s[SEEN_AT] = time.time()
    assert not signed_in(client)

    # A session cookie from before these limits (no sign-in time) does not count either.
    assert sign_in(client).status_code == 302
    with client.session_transaction() as s:
        del s[SIGNED_IN_AT]
    assert not signed_in(client)


# --- 6. sign-in timing and lockout ------------------------------------------------------------


def _refusal_seconds(client: FlaskClient, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/triage/login", data={"email": email, "password": "wrong guess"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and "not right" in response.text
    return elapsed


@sqlite_only
def test_an_unknown_email_costs_as_long_to_refuse_as_a_known_one(
    client: FlaskClient, staff_user: StaffUser
) -> None:
    # Not a speed target: the refusal must cost one password hash either way (an unknown
    # email used to be answered ~10 times faster, which told whether an account exists).
    # Interleaved, so a busy machine slows both kinds alike; below the account lockout.
    client.post("/triage/login", data={"email": "warm@example.org", "password": "x"})
    known, unknown = [], []
    for n in range(4):
        known.append(_refusal_seconds(client, STAFF_EMAIL))
        unknown.append(_refusal_seconds(client, f"nobody{n}@example.org"))
    assert statistics.median(unknown) > 0.4 * statistics.median(known)


@sqlite_only
def test_wrong_passwords_lock_the_account_with_back_off(
    client: FlaskClient, staff_user: StaffUser, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, rt, login_free_attempts=3, login_lockout_seconds=1.0)
    for _ in range(3):
        assert "not right" in sign_in(client, "wrong guess").text
    locked = sign_in(client)  # even the right password waits
    assert locked.status_code == 200
    assert "Too many wrong passwords for this account. Try again in 1 minute" in locked.text
    # From another address too: the lock is per account, not per address.
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert "Too many wrong passwords" in sign_in(elsewhere).text

    time.sleep(1.1)  # the first lock (1 s) is over; one more failure locks for 2 s
    assert "not right" in sign_in(client, "wrong guess").text
    time.sleep(1.1)
    assert "Too many wrong passwords" in sign_in(client).text
    time.sleep(1.1)
    assert sign_in(client).status_code == 302  # and success clears the count
    client.post("/triage/logout")
    assert "not right" in sign_in(client, "wrong guess").text


@sqlite_only
def test_an_unknown_email_is_locked_out_the_same_way(
    client: FlaskClient, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, rt, login_free_attempts=2)
    data = {"email": "nobody@example.org", "password": "wrong guess"}
    answers = [client.post("/triage/login", data=data).text for _ in range(3)]
    assert ["not right" in a for a in answers] == [True, True, False]
    assert "Too many wrong passwords" in answers[2]


# --- 5. single-use form token -----------------------------------------------------------------


def _check_page(client: FlaskClient, slug: str, question: str) -> dict[str, str]:
    """The hidden fields of the check page's send form, after the question page."""
    page = client.get(f"/meetings/{slug}/ask").text
    fields = {**forms(page)[-1]["fields"], "question": question}
    fields.pop("submit", None)
    checked = client.post(f"/meetings/{slug}/ask", data=fields).text
    send = next(f for f in forms(checked) if f["action"].endswith("/send"))
    return dict(send["fields"])


def _outbox_count(rt: Runtime) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count(OutboxMessage.id))) or 0)


def test_a_form_token_sends_one_question(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    fields = _check_page(client, meeting.slug, "Why was the rural crime team cut?")
    first = client.post(f"/meetings/{meeting.slug}/send", data=fields)
    assert first.status_code == 303
    with client.session_transaction() as s:
        reference = s["intake_receipt"]["reference"]

    # The same token with other questions (a script after one wait): nothing stored, and
    # each gets the neutral confirm page with a fresh token.
    tokens = set()
    for n in range(5):
        reused = client.post(
            f"/meetings/{meeting.slug}/send", data={**fields, "question": f"Spam number {n}?"}
        )
        assert reused.status_code == 200
        assert "Please confirm you want to send this question" in reused.text
        fresh = next(f for f in forms(reused.text) if f["action"].endswith("/send"))
        tokens.add(fresh["fields"][antispam.TOKEN_FIELD])
    assert _outbox_count(rt) == 1
    assert fields[antispam.TOKEN_FIELD] not in tokens

    # The same question again (a double click, a retry) is a repeat with the same reference.
    again = client.post(f"/meetings/{meeting.slug}/send", data=fields)
    assert again.status_code == 303
    with client.session_transaction() as s:
        assert s["intake_receipt"]["reference"] == reference
    assert _outbox_count(rt) == 1

    # A person whose second question was asked to confirm sends it with the fresh token.
    fresh_fields = {**fields, antispam.TOKEN_FIELD: tokens.pop(), "question": "And quad bikes?"}
    assert client.post(f"/meetings/{meeting.slug}/send", data=fresh_fields).status_code == 303
    assert _outbox_count(rt) == 2


@sqlite_only
def test_a_form_token_older_than_a_day_is_not_accepted(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    fields = _check_page(client, meeting.slug, "Are speed cameras moving to the A49?")
    old = antispam.issue("test-secret", now=time.time() - antispam.TOKEN_MAX_AGE - 60)
    response = client.post(
        f"/meetings/{meeting.slug}/send", data={**fields, antispam.TOKEN_FIELD: old.signed}
    )
    assert response.status_code == 200 and _outbox_count(rt) == 0
