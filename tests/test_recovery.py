"""Work lost with a dying worker comes back: outbox re-relay, short pipeline locks, reaping."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

from domain.models import Meeting, OutboxMessage, Question, Submission
from domain.queue import INGEST_QUEUE, PIPELINE_QUEUE, SubmissionMessage, queue
from domain.runtime import Runtime, install
from domain.settings import load_settings
from intake import outbox
from tests.support.processes import start_openfloor, stop, wait_for
from tests.support.servers import RedisServer
from workers.jobs import schedule_processing
from workers.maintenance import purge_outbox
from workers.pipeline_lock import pipeline_lock


def _message(meeting_id: int, n: int) -> SubmissionMessage:
    return SubmissionMessage(
        meeting_id=meeting_id, channel="api", external_id=f"fault-{n}", reference=f"R-{n}",
        text=f"Question {n}: when will the Church Stretton speed cameras be working?",
        received_at=datetime.now(UTC).isoformat(),
    )  # fmt: skip


def _count(rt: Runtime, model: Any) -> int:
    with rt.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _record(rt: Runtime, message: SubmissionMessage) -> int:
    with rt.db.transaction() as session:
        row, _ = outbox.record(session, message)
        session.flush()
        return row.id


def _age(rt: Runtime, row_id: int, seconds: float) -> None:
    with rt.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(relayed_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


def test_a_relayed_message_whose_job_was_lost_is_relayed_again(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    message = _message(meeting.id, 93)
    row_id = _record(rt, message)
    assert outbox.relay(rt, ids=[row_id]) == 1
    # the job dies with its worker: gone from Redis, while the outbox row says "relayed"
    Job.fetch(
        f"{rt.prefix}-{message.job_id}", connection=rt.redis, serializer=JSONSerializer
    ).delete()
    assert outbox.rerelay(rt) == 0  # too early: it may still be on its way

    _age(rt, row_id, 2 * 3600)  # past the re-check and past the purge's one-hour cutoff
    assert purge_outbox() == 0  # kept: its submission is not stored yet
    assert outbox.rerelay(rt) == 1
    assert outbox.rerelay(rt) == 0  # the check moved on; the new job is waiting

    worker = start_openfloor(["worker", "--burst"], settings, tmp_path / "worker.log")
    assert worker.wait(timeout=120) == 0
    with rt.db.transaction() as session:
        stored = session.scalars(
            select(Submission.reference).where(Submission.external_id == "fault-93")
        ).all()
    assert stored == ["R-93"]
    # once stored, a re-relay pushes nothing, and the row can be purged
    _age(rt, row_id, 2 * 3600)
    assert outbox.rerelay(rt) == 0
    assert purge_outbox() == 1


def test_a_failed_ingest_job_is_replaced_on_re_relay(rt: Runtime, meeting: Meeting) -> None:
    message = _message(meeting.id, 7)
    row_id = _record(rt, message)
    outbox.relay(rt, ids=[row_id])
    job = Job.fetch(f"{rt.prefix}-{message.job_id}", connection=rt.redis, serializer=JSONSerializer)
    q = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    q.remove(job)
    job.set_status("failed")  # as RQ leaves an abandoned job with no retries left
    _age(rt, row_id, rt.settings.relay_recheck_seconds + 1)
    assert outbox.rerelay(rt) == 1
    assert job.id in q.get_job_ids()


def test_a_job_taken_by_a_worker_killed_before_it_started_is_relayed_again(
    rt: Runtime, meeting: Meeting
) -> None:
    # RQ takes a job off its queue, then marks it started: a worker killed in between leaves
    # the job "queued" on no queue (seen once in 50 kills on PostgreSQL, `make soak`)
    message = _message(meeting.id, 11)
    row_id = _record(rt, message)
    outbox.relay(rt, ids=[row_id])
    q = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    job = Job.fetch(f"{rt.prefix}-{message.job_id}", connection=rt.redis, serializer=JSONSerializer)
    rt.redis.lrem(q.key, 0, job.id)
    assert job.get_status() == "queued"
    _age(rt, row_id, rt.settings.relay_recheck_seconds + 1)
    assert outbox.rerelay(rt) == 1
    assert job.id in q.get_job_ids()
    _age(rt, row_id, rt.settings.relay_recheck_seconds + 1)
    assert outbox.rerelay(rt) == 0  # now really waiting on its queue


def test_a_pipeline_run_taken_by_a_killed_worker_does_not_block_the_next(
    rt: Runtime, meeting: Meeting
) -> None:
    install(rt)
    pipeline = queue(rt.redis, rt.prefix, PIPELINE_QUEUE)
    schedule_processing(meeting.id)
    schedule_processing(meeting.id)  # one run is waiting: no second one
    [orphan] = pipeline.get_job_ids()
    rt.redis.lrem(pipeline.key, 0, orphan)  # taken by a worker killed before it started
    schedule_processing(meeting.id)
    assert len(pipeline.get_job_ids()) == 1  # back on the queue, where a worker will take it


def test_the_pipeline_lock_is_renewed_while_a_batch_runs(
    rt: Runtime, settings: dict[str, Any]
) -> None:
    short = Runtime(
        settings=load_settings({}, {**settings, "pipeline_lock_seconds": 1}),
        redis_url=rt.redis_url,
    )
    try:
        with pipeline_lock(short, 1):
            time.sleep(2.5)  # longer than the lock's lifetime
            rival = short.redis.lock(f"{short.prefix}:pipeline-lock:1", timeout=1)
            assert not rival.acquire(blocking=False)
        assert short.redis.get(f"{short.prefix}:pipeline-lock:1") is None  # released
    finally:
        short.close()


def _hold_lock_forever(settings: dict[str, Any], redis_url: str, meeting_id: int) -> None:
    runtime = install(Runtime(settings=load_settings({}, settings), redis_url=redis_url))
    with pipeline_lock(runtime, meeting_id):
        time.sleep(3600)


def test_a_killed_workers_lock_and_job_do_not_hold_questions_back(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    # a worker process takes the meeting's pipeline lock mid-batch and is killed with -9
    ctx = multiprocessing.get_context("fork")
    holder = ctx.Process(target=_hold_lock_forever, args=(settings, rt.redis_url, meeting.id))
    holder.start()
    wait_for(lambda: rt.redis.get(f"{rt.prefix}:pipeline-lock:{meeting.id}"), timeout=20)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()

    ids = [_record(rt, _message(meeting.id, n)) for n in range(5)]
    outbox.relay(rt, ids=ids)
    started = time.monotonic()
    worker = start_openfloor(["worker"], settings, tmp_path / "worker.log")
    try:
        wait_for(lambda: _count(rt, Question) == 5, timeout=60, interval=0.25)
    finally:
        stop(worker)
    # the dead holder's lock lapsed within its short lifetime, not the old five minutes
    assert time.monotonic() - started < 60
    assert _count(rt, Submission) == 5


def test_a_worker_killed_mid_job_hands_its_job_back_at_once(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    ids = [_record(rt, _message(meeting.id, n)) for n in range(3)]
    # a slow batch elsewhere holds the meeting: the worker's pipeline job waits on the lock
    busy = rt.redis.lock(f"{rt.prefix}:pipeline-lock:{meeting.id}", timeout=120)
    assert busy.acquire(blocking=False)
    first = start_openfloor(["worker"], settings, tmp_path / "first.log")
    outbox.relay(rt, ids=ids)
    pipeline = StartedJobRegistry(queue=queue(rt.redis, rt.prefix, PIPELINE_QUEUE))
    wait_for(lambda: _count(rt, Submission) == 3 and pipeline.get_job_ids(), timeout=60)
    abandoned = pipeline.get_job_ids()
    first.send_signal(signal.SIGKILL)
    first.wait()
    busy.release()

    second = start_openfloor(["worker"], settings, tmp_path / "second.log")
    scheduler = start_openfloor(["scheduler"], settings, tmp_path / "scheduler.log")
    try:
        # handed back by the new worker, not four minutes later by RQ's own expiry
        wait_for(lambda: not pipeline.get_job_ids(cleanup=False), timeout=30)
        failed = FailedJobRegistry(queue=queue(rt.redis, rt.prefix, PIPELINE_QUEUE))
        assert set(abandoned) <= set(failed.get_job_ids())
        # its registration goes just after its jobs are handed back
        wait_for(lambda: first.pid not in {w.pid for w in Worker.all(connection=rt.redis)}, 5)
        wait_for(lambda: _count(rt, Question) == 3, timeout=60, interval=0.25)
    finally:
        stop(second)
        stop(scheduler)


def test_a_long_backlog_is_worked_in_jobs_that_each_stop_in_time(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    # one job for a backlog of any size would meet RQ's job timeout and be killed mid-batch,
    # with nothing queued to go on; each job here takes one batch of 2 and queues the next
    outbox.relay(rt, ids=[_record(rt, _message(meeting.id, n)) for n in range(5)])
    quick = {**settings, "worker_batch_size": 2, "pipeline_job_seconds": 0}
    worker = start_openfloor(["worker", "--burst"], quick, tmp_path / "worker.log")
    assert worker.wait(timeout=120) == 0
    assert _count(rt, Question) == 5
    finished = FinishedJobRegistry(queue=queue(rt.redis, rt.prefix, PIPELINE_QUEUE))
    assert len(finished.get_job_ids()) >= 3


def test_a_worker_whose_rq_loop_ends_on_an_error_starts_again(
    rt: Runtime, meeting: Meeting, settings: dict[str, Any], tmp_path: Path
) -> None:
    # RQ ends its loop, without raising, on an unexpected error of its own (in CI: a job
    # heartbeat meeting Redis mid-restart); a queue key of the wrong type makes one at once
    ingest = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    rt.redis.set(ingest.key, "not a list")
    worker = start_openfloor(["worker"], settings, tmp_path / "worker.log")
    try:
        wait_for(lambda: "found an unhandled exception" in _log(tmp_path), timeout=60)
        rt.redis.delete(ingest.key)
        outbox.relay(rt, ids=[_record(rt, _message(meeting.id, n)) for n in (1, 2)])
        wait_for(lambda: _stored(rt, {"fault-1", "fault-2"}), timeout=60, interval=0.25)
        assert worker.poll() is None
    finally:
        stop(worker)


def _log(tmp_path: Path) -> str:
    return (tmp_path / "worker.log").read_text(errors="replace")


def _stored(rt: Runtime, external_ids: set[str]) -> bool:
    with rt.db.transaction() as session:
        found = session.scalars(
            select(Submission.external_id).where(Submission.external_id.in_(external_ids))
        ).all()
    return set(found) == external_ids


def test_a_worker_told_to_stop_while_redis_is_away_stops(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    # as when `openfloor run` is killed and its children, Redis among them, are stopped at once
    (tmp_path / "redis").mkdir()
    private = RedisServer(tmp_path / "redis")  # the tests' shared Redis stays up
    private.start()
    client = Redis.from_url(private.url)
    worker = start_openfloor(
        ["worker", "--queue", "collect"], {**settings, "redis_url": private.url},
        tmp_path / "worker.log",
    )  # fmt: skip
    try:
        wait_for(lambda: Worker.all(connection=client), timeout=60)
        private.stop()
        wait_for(lambda: "could not connect to Redis" in _log(tmp_path), timeout=30)
        worker.terminate()
        assert worker.wait(timeout=20) == 0, _log(tmp_path)[-2000:]
    finally:
        client.close()
        stop(worker)
        private.stop()
