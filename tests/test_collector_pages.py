"""Staff settings of the collectors, their health, and the board's banner when one fails."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AuditEvent,
    CollectorSettings,
    CollectorState,
    Meeting,
    MeetingStatus,
    StaffUser,
)
from domain.runtime import Runtime
from intake.social.credentials import MissingCredentials, token
from intake.social.jobs import run_collector
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD


def _sign_in(client: FlaskClient) -> None:
    response = client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def test_staff_set_what_each_meeting_collects(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _sign_in(client)
    page = client.get(f"/triage/meetings/{meeting.id}/collectors").get_data(as_text=True)
    assert "Social media collectors" in page and "No collector has run" in page
    assert "password" not in page.lower() and "bearer" not in page.lower()  # no credentials here

    bad = client.post(
        f"/triage/meetings/{meeting.id}/collectors",
        data={"x_account": "not a handle!", "facebook_live_video_id": "abc"},
    )
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "Enter an X handle like @PCC" in text and "A video id is digits" in text

    good = client.post(
        f"/triage/meetings/{meeting.id}/collectors",
        data={"enabled": "y", "hashtag": "AskThePCC", "x_account": "@WestMerciaPCC",
              "facebook_live_video_id": "1234567890", "facebook_post_ids": "111_222, 333\n444"},
    )  # fmt: skip
    assert good.status_code == 302
    with rt.db.transaction() as session:
        row = session.scalar(
            select(CollectorSettings).where(CollectorSettings.meeting_id == meeting.id)
        )
        assert row is not None and row.enabled and row.x_account == "WestMerciaPCC"
        assert row.post_ids() == ["111_222", "333", "444"]
        assert session.get(Meeting, meeting.id).hashtag == "#AskThePCC"  # type: ignore[union-attr]
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "collectors.update"))


def _failing(rt: Runtime, meeting_id: int, since: timedelta) -> None:
    with rt.db.transaction() as session:
        session.add(
            CollectorState(
                meeting_id=meeting_id, source="x", checkpoint={}, items_collected=12,
                last_success_at=datetime.now(UTC) - since, failing_since=datetime.now(UTC) - since,
                last_error="X answered 503",
            )
        )  # fmt: skip


def test_a_collector_failing_for_a_minute_while_live_puts_a_banner_on_the_board(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _sign_in(client)
    _failing(rt, meeting.id, timedelta(seconds=90))
    board = f"/triage/meetings/{meeting.id}"
    assert "collector-alert" not in client.get(board).get_data(as_text=True)  # open: no banner

    with rt.db.transaction() as session:
        session.get(Meeting, meeting.id).status = MeetingStatus.LIVE  # type: ignore[union-attr]
    page = client.get(board).get_data(as_text=True)
    assert 'id="collector-alert"' in page
    assert "X (Twitter) has failed since" in page and "X answered 503" in page

    health = client.get(f"{board}/collectors").get_data(as_text=True)
    assert "X answered 503" in health and ">12<" in health


def test_a_fresh_failure_shows_no_banner_yet(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _sign_in(client)
    _failing(rt, meeting.id, timedelta(seconds=20))
    with rt.db.transaction() as session:
        session.get(Meeting, meeting.id).status = MeetingStatus.LIVE  # type: ignore[union-attr]
    assert "collector-alert" not in client.get(f"/triage/meetings/{meeting.id}").get_data(
        as_text=True
    )


def test_credentials_come_from_the_environment_or_a_secrets_file(
    rt: Runtime, meeting: Meeting, tmp_path: Path
) -> None:
    secrets = tmp_path / "social.env"
    secrets.write_text("# from the vault\nX_BEARER_TOKEN = from-file\n")
    from_file = dataclasses.replace(rt.settings, social_secrets_file=str(secrets))
    assert token(from_file, "X_BEARER_TOKEN") == "from-file"
    from_env = dataclasses.replace(from_file, x_bearer_token="from-env")
    assert token(from_env, "X_BEARER_TOKEN") == "from-env"
    assert "from-env" not in repr(from_env)  # never in a log line
    with pytest.raises(MissingCredentials):
        token(from_file, "FACEBOOK_ACCESS_TOKEN")

    # a collector with no credentials reports it in its health instead of polling
    with rt.db.transaction() as session:
        session.add(CollectorSettings(meeting_id=meeting.id, facebook_live_video_id="1"))
    with pytest.raises(MissingCredentials):
        run_collector(rt, meeting.id, "facebook", stop=lambda: True)
    with rt.db.transaction() as session:
        state = session.scalar(select(CollectorState))
        assert state is not None and "FACEBOOK_ACCESS_TOKEN is not set" in state.last_error
