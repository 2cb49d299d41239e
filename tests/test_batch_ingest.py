"""A backlog travels as batch jobs: one transaction per batch, nothing lost, nothing doubled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from domain.models import Meeting, OutboxMessage, Question, Submission
from domain.queue import BATCH_SIZE, INGEST_QUEUE, SubmissionMessage, push_many, queue
from domain.runtime import Runtime
from intake import outbox
from tests.support.processes import wait_for
from workers.ingest import UnknownMeeting, store_submissions


def _message(meeting_id: int, n: int, text: str | None = None) -> SubmissionMessage:
    return SubmissionMessage(
        meeting_id=meeting_id, channel="facebook", external_id=f"fb-{n}", reference=f"F-{n}",
        text=text or f"Comment {n}: what is being done about hare coursing near Clun?",
        received_at=datetime.now(UTC).isoformat(), phase="live",
    )  # fmt: skip


def _count(rt: Runtime, model: Any) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_store_submissions_inserts_new_and_recognises_repeats(
    rt: Runtime, meeting: Meeting
) -> None:
    first = [_message(meeting.id, n) for n in range(3)]
    with rt.db.transaction() as session:
        stored = store_submissions(session, first)
    assert [created for _, created in stored] == [True, True, True]

    # a redelivery overlapping the first batch, with one message twice inside it
    again = [first[1], _message(meeting.id, 3), _message(meeting.id, 3), first[2]]
    with rt.db.transaction() as session:
        repeat = store_submissions(session, again)
    assert [created for _, created in repeat] == [False, True, False, False]
    assert repeat[0][0] == stored[1][0] and repeat[3][0] == stored[2][0]
    assert repeat[1][0] == repeat[2][0]
    assert _count(rt, Submission) == 4


def test_a_batch_naming_an_unknown_meeting_is_refused_whole(rt: Runtime, meeting: Meeting) -> None:
    with pytest.raises(UnknownMeeting), rt.db.transaction() as session:
        store_submissions(session, [_message(meeting.id, 1), _message(meeting.id + 99, 2)])
    assert _count(rt, Submission) == 0


def test_push_many_enqueues_one_job_per_batch_and_is_idempotent(
    rt: Runtime, meeting: Meeting
) -> None:
    messages = [_message(meeting.id, n) for n in range(BATCH_SIZE * 2 + 5)]
    assert push_many(rt.redis, rt.prefix, messages) == 3
    assert push_many(rt.redis, rt.prefix, messages) == 0  # the same backlog again: no-op
    assert queue(rt.redis, rt.prefix, INGEST_QUEUE).count == 3


def test_an_outbox_backlog_is_relayed_as_batches_and_stored_by_a_real_worker(
    rt: Runtime, meeting: Meeting, worker: Any
) -> None:
    total = BATCH_SIZE + 40
    with rt.db.transaction() as session:
        for n in range(total):
            outbox.record(session, _message(meeting.id, n))
    assert outbox.relay(rt) == total
    assert _count(rt, OutboxMessage) == total

    wait_for(lambda: _count(rt, Question) == total, timeout=120, interval=0.25)
    assert _count(rt, Submission) == total
    assert outbox.relay(rt) == 0  # nothing left unsent


def test_a_bad_message_keeps_its_batch_stored_and_waits_in_the_failed_registry(
    rt: Runtime, meeting: Meeting, worker: Any
) -> None:
    good = [_message(meeting.id, n).to_dict() for n in range(5)]
    bad = {**_message(meeting.id, 99).to_dict(), "channel": "carrier-pigeon"}
    stray = _message(meeting.id + 99, 98).to_dict()  # a meeting that does not exist
    q = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    batch = [good[0], bad, *good[1:3], stray, *good[3:]]
    job = q.enqueue("workers.jobs.ingest_batch", batch, job_id=f"{rt.prefix}-bad-batch")

    wait_for(lambda: _count(rt, Submission) == 5, timeout=60, interval=0.25)
    registry = FailedJobRegistry(queue=q)
    wait_for(lambda: job.id in registry.get_job_ids(), timeout=60, interval=0.25)
    job.refresh()
    # the malformed and the stray questions are kept whole for an operator
    assert bad in job.args[0] and stray in job.args[0]
    assert _count(rt, Submission) == 5


def test_a_stale_pipeline_guard_does_not_leave_questions_waiting(
    rt: Runtime, meeting: Meeting, worker: Any
) -> None:
    # a guard naming a pipeline job that no longer exists (lost in a Redis restart)
    rt.redis.set(f"{rt.prefix}:pipeline-queued:{meeting.id}", "process-lost-job", ex=300)
    push_many(rt.redis, rt.prefix, [_message(meeting.id, n) for n in range(3)])
    wait_for(lambda: _count(rt, Question) == 3, timeout=60, interval=0.25)
