"""The collectors against fake X and Graph API servers speaking the real wire formats."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from domain.erasure import erased_external_id
from domain.models import (
    CollectorSettings,
    CollectorState,
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Submission,
)
from domain.queue import COLLECT_QUEUE, SubmissionMessage, queue
from domain.runtime import Runtime
from intake.social.backoff import ServerError
from intake.social.jobs import run_collector
from openfloor.rehearsal.platform import Platform
from openfloor.rehearsal.servers import FakePlatforms
from openfloor.scheduler import tick
from tests.support.processes import start_openfloor, stop, wait_for
from workers.ingest import store_submission
from workers.maintenance import erase_expired

VIDEO = "424242"
POST = "515151"
RTL = "متى ستعود الشرطة إلى دوريات القرى؟"  # right-to-left text
EMOJI = "🚜🐑 who is stopping the quad bike thefts near Clun? 👮‍♀️"


@pytest.fixture
def fakes() -> Iterator[FakePlatforms]:
    with FakePlatforms(Platform()) as running:
        yield running


@pytest.fixture
def crt(rt: Runtime, fakes: FakePlatforms, meeting: Meeting) -> Iterator[Runtime]:
    """A runtime pointed at the fakes, for a meeting with collectors configured."""
    settings = dataclasses.replace(rt.settings, **fakes.settings())
    runtime = Runtime(settings=settings, redis_url=rt.redis_url)
    with runtime.db.transaction() as session:
        session.get(Meeting, meeting.id).hashtag = "#AskThePCC"  # type: ignore[union-attr]
        session.add(
            CollectorSettings(meeting_id=meeting.id, x_account="WestMerciaPCC",
                              facebook_live_video_id=VIDEO, facebook_post_ids=POST)
        )  # fmt: skip
    yield runtime
    runtime.close()


def _set_status(rt: Runtime, meeting_id: int, status: MeetingStatus) -> None:
    with rt.db.transaction() as session:
        session.get(Meeting, meeting_id).status = status  # type: ignore[union-attr]


def _outbox(rt: Runtime, channel: str) -> list[dict[str, Any]]:
    with rt.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel))
        return [dict(r.payload) for r in rows]


def _state(rt: Runtime, meeting_id: int, source: str) -> CollectorState:
    with rt.db.transaction() as session:
        row = session.scalar(
            select(CollectorState).where(
                CollectorState.meeting_id == meeting_id, CollectorState.source == source
            )
        )
        assert row is not None
        session.expunge(row)
        return row


def _once(rt: Runtime, meeting_id: int, source: str) -> int:
    return run_collector(rt, meeting_id, source, stop=threading.Event())


def test_x_pages_keep_authors_and_links_and_a_restart_neither_misses_nor_repeats(
    crt: Runtime, fakes: FakePlatforms, meeting: Meeting
) -> None:
    p = fakes.platform
    first = p.post(RTL, author_name="سارة", author_handle="sara_w")
    for n in range(249):
        p.post(f"#AskThePCC question {n} about rural crime", author_name=f"Person {n}",
               author_handle=f"person{n}")  # fmt: skip
    reply = p.post(EMOJI, author_name="Kath", author_handle="kath_s", parent_id=first.id)

    assert _once(crt, meeting.id, "x") == 251  # three pages of 100
    assert p.requests["x"] == 3
    assert set(p.queries) == {"(#AskThePCC OR @WestMerciaPCC) -is:retweet"}
    payloads = {m["external_id"]: m for m in _outbox(crt, "twitter")}
    assert len(payloads) == 251
    assert payloads[first.id]["text"] == RTL and payloads[first.id]["author_name"] == "سارة"
    assert payloads[reply.id]["text"] == EMOJI
    assert payloads[reply.id]["author_handle"] == "@kath_s"
    assert payloads[reply.id]["parent_external_id"] == first.id
    assert payloads[reply.id]["permalink"] == f"https://x.com/kath_s/status/{reply.id}"
    assert payloads[reply.id]["phase"] == "advance"
    assert _state(crt, meeting.id, "x").checkpoint == {"since_id": reply.id}

    # a restart: a fresh runtime (new clients, no memory) resumes from the stored since_id
    restarted = Runtime(settings=crt.settings, redis_url=crt.redis_url)
    p.post("#AskThePCC one more after the restart", author_name="Al", author_handle="al")
    assert _once(restarted, meeting.id, "x") == 1
    assert _once(restarted, meeting.id, "x") == 0
    assert len(_outbox(crt, "twitter")) == 252
    assert _state(crt, meeting.id, "x").items_collected == 252
    restarted.close()


def test_x_429_waits_for_the_reset_and_5xx_is_retried(
    crt: Runtime, fakes: FakePlatforms, meeting: Meeting
) -> None:
    p = fakes.platform
    p.post("#AskThePCC first", author_name="A", author_handle="a")
    p.fail_next("x", 503)
    p.fail_next("x", 502)
    assert _once(crt, meeting.id, "x") == 1  # two 5xx retried within the poll

    for _ in range(4):  # more 5xx than the retries: the poll fails, the health says why
        p.fail_next("x", 500)
    with pytest.raises(ServerError):
        _once(crt, meeting.id, "x")
    failed = _state(crt, meeting.id, "x")
    assert failed.failing_since is not None and failed.last_error == "X answered 500"

    p.post("#AskThePCC second", author_name="B", author_handle="b")
    p.fail_next("x", 429, reset_in=2)
    assert _once(crt, meeting.id, "x") == 0
    limited = _state(crt, meeting.id, "x")
    assert limited.rate_limited_until is not None
    until = limited.rate_limited_until
    assert (until if until.tzinfo else until.replace(tzinfo=UTC)) > datetime.now(UTC)
    asked = p.requests["x"]
    assert _once(crt, meeting.id, "x") == 0  # open: the next run skips the limited window
    assert p.requests["x"] == asked

    # live: the collector waits until x-rate-limit-reset, then carries on by itself
    _set_status(crt, meeting.id, MeetingStatus.LIVE)
    p.fail_next("x", 429, reset_in=2)
    p.post("#AskThePCC third", author_name="C", author_handle="c")
    stop = threading.Event()
    started = time.monotonic()
    worker = threading.Thread(target=run_collector, args=(crt, meeting.id, "x"),
                              kwargs={"stop": stop})  # fmt: skip
    worker.start()
    wait_for(lambda: len(_outbox(crt, "twitter")) == 3, timeout=20)
    waited = time.monotonic() - started
    stop.set()
    worker.join(10)
    assert waited >= 1.0  # not before the reset
    healthy = _state(crt, meeting.id, "x")
    assert healthy.failing_since is None and healthy.last_error == ""


def test_facebook_pages_deleted_comments_and_comments_without_from(
    crt: Runtime, fakes: FakePlatforms, meeting: Meeting
) -> None:
    p = fakes.platform
    promo = p.post("Will the PCC look at hare coursing?", object_id=POST, author_name="Les")
    gone = p.post("posted then deleted", object_id=VIDEO, author_name="Oops")
    for n in range(230):
        p.post(f"Comment {n}: what about speeding in Pershore?", object_id=VIDEO)  # no from
    answer = p.post(RTL, object_id=VIDEO, author_name="Nadia", parent_id=promo.id)
    p.delete(gone.id)

    assert _once(crt, meeting.id, "facebook") == 232
    payloads = {m["external_id"]: m for m in _outbox(crt, "facebook")}
    assert gone.id not in payloads
    assert payloads[promo.id]["author_name"] == "Les"
    anonymous = [m for m in payloads.values() if m["text"].startswith("Comment 7:")]
    assert anonymous[0]["author_name"] == "a Facebook viewer"
    assert payloads[answer.id]["text"] == RTL
    assert payloads[answer.id]["parent_external_id"] == promo.id
    assert payloads[answer.id]["permalink"].endswith(answer.id)

    # a comment deleted after it was collected is kept; the next poll adds only new ones
    kept = p.post(EMOJI, object_id=VIDEO)
    assert _once(crt, meeting.id, "facebook") == 1
    p.delete(kept.id)
    assert _once(crt, meeting.id, "facebook") == 0
    assert kept.id in {m["external_id"] for m in _outbox(crt, "facebook")}


def test_facebook_live_stream_drops_and_polling_catches_up_without_gaps_or_repeats(
    crt: Runtime, fakes: FakePlatforms, meeting: Meeting
) -> None:
    p = fakes.platform
    _set_status(crt, meeting.id, MeetingStatus.LIVE)
    stop = threading.Event()
    worker = threading.Thread(target=run_collector, args=(crt, meeting.id, "facebook"),
                              kwargs={"stop": stop})  # fmt: skip
    worker.start()
    wait_for(lambda: len(p.streams) == 1, timeout=20)
    posted = [p.post(f"Live question {n}?", object_id=VIDEO, author_name="V") for n in range(20)]
    wait_for(lambda: len(_outbox(crt, "facebook")) == 20, timeout=20)

    p.drop_streams()
    posted += [p.post(f"While the stream is down {n}", object_id=VIDEO) for n in range(15)]
    wait_for(lambda: len(p.streams) == 1, timeout=20)  # reconnected
    posted += [p.post(f"After reconnecting {n} 🙂", object_id=VIDEO) for n in range(10)]
    wait_for(lambda: len(_outbox(crt, "facebook")) == 45, timeout=20)
    stop.set()
    worker.join(10)
    collected = [m["external_id"] for m in _outbox(crt, "facebook")]
    assert sorted(collected) == sorted(i.id for i in posted)  # each once
    assert all(m["phase"] == "live" for m in _outbox(crt, "facebook"))
    state = _state(crt, meeting.id, "facebook")
    assert state.items_collected == 45
    assert int(state.checkpoint[VIDEO]["since"]) >= int(posted[-1].created.timestamp()) - 1


def test_the_scheduler_runs_collectors_often_while_live_and_never_once_closed(
    crt: Runtime, meeting: Meeting
) -> None:
    collect = queue(crt.redis, crt.prefix, COLLECT_QUEUE)
    tick(crt)
    assert sorted(tuple(j.args) for j in collect.jobs) == [
        (meeting.id, "facebook"),
        (meeting.id, "x"),
    ]
    tick(crt)  # open: every few minutes, so nothing new yet
    assert collect.count == 2
    collect.empty()
    _set_status(crt, meeting.id, MeetingStatus.CLOSED)
    for key in crt.redis.scan_iter(f"{crt.prefix}:periodic:collect-*"):
        crt.redis.delete(key)
    tick(crt)
    assert collect.count == 0


def test_a_collected_handle_is_stored_for_staff_and_erased_with_the_rest(
    crt: Runtime, rt: Runtime, fakes: FakePlatforms, meeting: Meeting
) -> None:
    post = fakes.platform.post("#AskThePCC why so few patrols?", author_name="Kath",
                               author_handle="kath_s")  # fmt: skip
    assert _once(crt, meeting.id, "x") == 1
    message = SubmissionMessage.from_dict(_outbox(crt, "twitter")[0])
    with rt.db.transaction() as session:
        store_submission(session, message)
    with rt.db.transaction() as session:
        sub = session.scalar(select(Submission).where(Submission.external_id == post.id))
        assert sub is not None and sub.author_handle == "@kath_s" and sub.permalink
        assert sub.public_name() is None  # never published without an opt-in
        m = session.get(Meeting, meeting.id)
        assert m is not None
        m.status, m.closed_at = MeetingStatus.CLOSED, datetime.now(UTC) - timedelta(days=400)
    assert erase_expired() == 1
    with rt.db.transaction() as session:
        assert session.scalar(select(Submission).where(Submission.external_id == post.id)) is None
        erased_id = erased_external_id("twitter", post.id)  # the platform's id goes too
        sub = session.scalar(select(Submission).where(Submission.external_id == erased_id))
        assert sub is not None
        assert (sub.author_name, sub.author_handle, sub.permalink) == (None, None, None)


def test_a_collect_worker_runs_the_scheduled_jobs(
    crt: Runtime,
    fakes: FakePlatforms,
    meeting: Meeting,
    settings: dict[str, Any],
    tmp_path: Path,
) -> None:
    p = fakes.platform
    p.post("#AskThePCC what about rural patrols?", author_name="A", author_handle="a")
    p.post("Is anyone answering 101 tonight?", object_id=VIDEO)
    proc = start_openfloor(
        ["worker", "--queue", COLLECT_QUEUE], {**settings, **fakes.settings()},
        tmp_path / "collector.log",
    )  # fmt: skip
    try:
        tick(crt)  # the scheduler's round: one collect job per source for the open meeting
        wait_for(lambda: len(_outbox(crt, "twitter")) + len(_outbox(crt, "facebook")) == 2,
                 timeout=60)  # fmt: skip
    finally:
        stop(proc)
    assert _state(crt, meeting.id, "x").items_collected == 1
    assert _state(crt, meeting.id, "facebook").items_collected == 1
