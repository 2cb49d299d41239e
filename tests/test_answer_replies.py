"""Replies on the original channel: a reply post on X and a comment reply on Facebook, against
the rehearsal's fake X and Graph API servers driven by the real clients (tweepy, httpx). Each
person is answered once; a deleted post is a visible refusal; retention keeps the post id until
the reply is posted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from domain.models import (
    AnswerDelivery,
    Channel,
    DeliveryStatus,
    Phase,
    Question,
    QuestionStatus,
    Submission,
    SubmissionStatus,
)
from domain.runtime import Runtime
from openfloor.rehearsal.fake_x import PCC_HANDLE
from openfloor.rehearsal.servers import FakePlatforms
from tests.support.meeting_run import MeetingRun, seed_meeting_run
from tests.support.smtp_server import SmtpServer
from tests.test_written_answers import write_and_approve
from workers.answers import recover_sends, send_answer
from workers.maintenance import erase_expired

VIDEO = "live_video_1"


@pytest.fixture
def settings(settings: dict[str, Any], smtp: SmtpServer, fakes: FakePlatforms) -> dict[str, Any]:
    return {**settings, **smtp.settings(), **fakes.settings(), "x_reply_token": "pcc-user-token",
            "retention_days": 1}  # fmt: skip


def on_the_platforms(rt: Runtime, run: MeetingRun, fakes: FakePlatforms) -> dict[str, str]:
    """Phil's post exists on X; Bob and Bob's second comment on the Facebook video join the
    not-covered live group; returns the platform ids."""
    phil = fakes.platform.post("Is rural speeding a priority? #PCCLive", author_handle="phil_j")
    bob = fakes.platform.post("Speeding on the A49 every night", object_id=VIDEO,
                              author_name="Bob Hill")  # fmt: skip
    again = fakes.platform.post("The A49 again!", object_id=VIDEO, author_name="Bob Hill")
    with rt.db.transaction() as session:
        sub = session.scalar(select(Submission).where(Submission.author_handle == "@phil_j"))
        assert sub is not None
        sub.external_id = phil.id
        for n, item in enumerate((bob, again)):
            extra = Submission(
                meeting_id=run.meeting_id, channel=Channel.FACEBOOK, external_id=item.id,
                reference=f"FB{n}", raw_text=item.text, author_name="Bob Hill",
                author_handle="fb:4242", received_at=datetime.now(UTC), phase=Phase.LIVE,
                status=SubmissionStatus.PROCESSED,
            )  # fmt: skip
            session.add(extra)
            session.flush()
            session.add(Question(submission_id=extra.id, meeting_id=run.meeting_id,
                                 text=item.text, redacted_text=item.text,
                                 status=QuestionStatus.ACCEPTED,
                                 group_id=run.groups["live_roads"]))  # fmt: skip
    return {"phil": phil.id, "bob": bob.id, "again": again.id}


def replies_to(fakes: FakePlatforms, post_id: str) -> list[str]:
    return [i.text for i in fakes.platform.items if i.parent_id == post_id]


def test_replies_on_x_and_facebook_once_each(app: Flask, rt: Runtime, fakes: FakePlatforms) -> None:
    run = seed_meeting_run(rt)
    ids = on_the_platforms(rt, run, fakes)
    answer = write_and_approve(app, run, "live_roads", "Rural speeding is a force priority.")
    assert send_answer(answer) == 2  # Phil on X; Bob once, though he commented twice
    assert send_answer(answer) == 0
    recover_sends()
    assert send_answer(answer) == 0
    [on_x] = replies_to(fakes, ids["phil"])
    [on_facebook] = replies_to(fakes, ids["bob"])
    assert replies_to(fakes, ids["again"]) == []
    assert "/meetings/rural-crime-live/answers" in on_x and len(on_x) <= 280
    assert on_facebook == on_x and "Phil" not in on_x
    reply = next(i for i in fakes.platform.items if i.parent_id == ids["phil"])
    assert reply.author_handle == PCC_HANDLE
    with rt.db.transaction() as session:
        rows = session.scalars(select(AnswerDelivery).where(AnswerDelivery.answer_id == answer))
        assert sorted((d.channel, d.status.value) for d in rows) == [
            ("facebook", "sent"), ("twitter", "sent")
        ]  # fmt: skip


def test_a_deleted_post_is_a_visible_refusal_and_retention_waits_for_replies(
    app: Flask, rt: Runtime, fakes: FakePlatforms
) -> None:
    run = seed_meeting_run(rt)
    ids = on_the_platforms(rt, run, fakes)
    fakes.platform.delete(ids["phil"])
    fakes.platform.fail_next("graph", 503)
    answer = write_and_approve(app, run, "live_roads", "Rural speeding is a force priority.")
    erase_expired()
    with rt.db.transaction() as session:
        handles = set(session.scalars(select(Submission.author_handle)))
    assert {"@phil_j", "fb:4242"} <= handles  # replies still owed
    with pytest.raises(Exception, match="failed for now"):
        send_answer(answer)
    with rt.db.transaction() as session:
        found = {d.channel: d for d in session.scalars(select(AnswerDelivery))}
    assert (
        found["twitter"].status == DeliveryStatus.BOUNCED and "400" in found["twitter"].last_error
    )
    assert found["facebook"].status == DeliveryStatus.FAILED
    send_answer(answer)  # the Graph API is back
    assert len(replies_to(fakes, ids["bob"])) == 1 and replies_to(fakes, ids["phil"]) == []
    erase_expired()
    with rt.db.transaction() as session:
        handles = set(session.scalars(select(Submission.author_handle)))
        addresses = set(session.scalars(select(AnswerDelivery.address)))
    assert handles == {None} and addresses == {None}
