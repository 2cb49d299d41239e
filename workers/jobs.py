"""RQ jobs: module-level, typed, taking plain data, idempotent, raising on failure.

Each job is a thin wrapper over a service module and uses the process runtime installed by
``openfloor worker``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from typing import Any

from redis import Redis
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from domain import events
from domain.queue import PIPELINE_QUEUE, InvalidMessage, SubmissionMessage, is_waiting, queue
from domain.runtime import current
from workers import processing
from workers.ingest import UnknownMeeting, known_meetings, store_submission, store_submissions

log = logging.getLogger(__name__)
PROCESS_JOB = "workers.jobs.process_pending"


def ingest_submission(message: dict[str, Any]) -> int:
    """Store one submission message and make sure the meeting's pipeline job is queued."""
    rt = current()
    msg = SubmissionMessage.from_dict(message)
    with rt.db.transaction() as session:
        submission_id, created = store_submission(session, msg)
    log.info("ingested submission %s (new=%s, channel=%s)", submission_id, created, msg.channel)
    if created:
        events.publish(
            rt.redis, rt.prefix, msg.meeting_id, "submission.received",
            {"submission_id": submission_id, "channel": msg.channel},
        )  # fmt: skip
    schedule_processing(msg.meeting_id)
    return submission_id


def ingest_batch(messages: list[dict[str, Any]]) -> list[int]:
    """Store a batch of submission messages in one transaction, then queue their pipelines.

    Good messages are stored even if one in the batch is malformed or names a meeting that
    does not exist; the job then fails, so that message stays, whole, in RQ's failed registry
    for an operator (a retry stores nothing twice).
    """
    rt = current()
    parsed: list[SubmissionMessage] = []
    invalid = 0
    for raw in messages:
        try:
            parsed.append(SubmissionMessage.from_dict(raw))
        except InvalidMessage:
            invalid += 1
    with rt.db.transaction() as session:
        known = known_meetings(session, {m.meeting_id for m in parsed})
        unknown = [m for m in parsed if m.meeting_id not in known]
        parsed = [m for m in parsed if m.meeting_id in known]
        stored = store_submissions(session, parsed) if parsed else []
    ids = [sid for sid, _ in stored]
    if parsed:
        pairs = zip(parsed, stored, strict=True)
        new_per_meeting = Counter(m.meeting_id for m, (_, new) in pairs if new)
        log.info("ingested %d submissions (%d new)", len(stored), new_per_meeting.total())
        for meeting_id in dict.fromkeys(m.meeting_id for m in parsed):
            if new_per_meeting[meeting_id]:
                events.publish(
                    rt.redis, rt.prefix, meeting_id, "submission.received",
                    {"count": new_per_meeting[meeting_id]},
                )  # fmt: skip
            schedule_processing(meeting_id)
    if invalid:
        raise InvalidMessage(f"{invalid} of {len(messages)} messages in the batch are malformed")
    if unknown:
        raise UnknownMeeting(sorted({m.meeting_id for m in unknown}))
    return ids


def schedule_processing(meeting_id: int, token: str | None = None) -> None:
    """Queue one pipeline job per meeting unless one is already waiting.

    Its id ends with the calling job's (``token`` for a job queuing its own follow-up).
    """
    rt = current()
    job_id = f"process-{meeting_id}-{token or _token()}"
    guard = f"{rt.prefix}:pipeline-queued:{meeting_id}"
    # The guard names the waiting job and is cleared by the job when it starts, so work
    # arriving during a run queues exactly one follow-up run. A guard whose job is gone (lost
    # with a Redis restart, or a worker that died) does not count: work is never left waiting.
    if not rt.redis.set(guard, job_id, nx=True, ex=300):
        waiting = rt.redis.get(guard)
        if waiting is not None and _still_queued(rt.redis, _text(waiting)):
            return
        rt.redis.set(guard, job_id, ex=300)
    queue(rt.redis, rt.prefix, PIPELINE_QUEUE).enqueue(
        PROCESS_JOB, meeting_id, job_id=job_id, result_ttl=600
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _still_queued(redis: Redis, job_id: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return is_waiting(redis, job)


def process_pending(meeting_id: int) -> int:
    """Run the pipeline over the meeting's pending submissions, in batches; returns the count.

    A long backlog is left to a follow-up job after ``pipeline_job_seconds``: one job never
    meets RQ's timeout, which would kill it mid-batch with nobody queued to go on.
    """
    rt = current()
    rt.redis.delete(f"{rt.prefix}:pipeline-queued:{meeting_id}")
    total = 0
    started = time.monotonic()
    while True:
        done = processing.process_batch(rt, meeting_id, rt.settings.worker_batch_size)
        total += done
        if done < rt.settings.worker_batch_size:
            return total
        if time.monotonic() - started >= rt.settings.pipeline_job_seconds:
            schedule_processing(meeting_id, token=uuid.uuid4().hex[:12])
            log.info("meeting %s: %d processed, the rest left to the next job", meeting_id, total)
            return total


def _token() -> str:
    job = get_current_job()
    return job.id[-12:] if job is not None else "direct"
