"""The queue contract: one typed JSON message that every intake channel pushes.

Intake never imports the workers: jobs are named by their import path, and RQ's JSON
serializer is used so a message is plain data, never a pickle.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from domain.models.enums import Channel, Phase

INGEST_QUEUE = "ingest"
PIPELINE_QUEUE = "pipeline"
MAINTENANCE_QUEUE = "maintenance"
ANSWERS_QUEUE = "answers"
SEND_ANSWER_JOB = "workers.answers.send_answer"
#: A temporary SMTP failure is tried again after these delays (seconds), then left for staff.
SEND_RETRY_INTERVALS = [15, 60, 300, 900]
#: Social collectors (long-lived while a meeting is live): workers of their own.
COLLECT_QUEUE = "collect"
INGEST_JOB = "workers.jobs.ingest_submission"
INGEST_BATCH_JOB = "workers.jobs.ingest_batch"
#: Messages per batch job when a backlog is pushed (outbox catch-up, collectors, imports).
BATCH_SIZE = 100
# Retries back off from seconds to minutes: a database hiccup must not lose a question.
RETRY_INTERVALS = [2, 10, 30, 120, 600]
TEXT_LIMIT = 2000


class InvalidMessage(ValueError):
    """A message that does not fit the contract."""


# built once: iterating an Enum per message cost 2 % of an API request's CPU
_CHANNELS = frozenset(c.value for c in Channel)
_PHASES = frozenset(p.value for p in Phase)


@dataclass(frozen=True)
class SubmissionMessage:
    """One question as received, on its way from intake to the workers."""

    meeting_id: int
    channel: str
    external_id: str
    reference: str
    text: str
    received_at: str  # ISO 8601, UTC
    phase: str = Phase.ADVANCE.value
    author_name: str | None = None
    location: str | None = None
    contact_email: str | None = None
    consent_publish: bool = False
    event_name: str | None = None
    # Social channels: the sender's handle (personal data), a link to the post or comment, and
    # the platform id of the post it replies to or quotes. received_at is the platform's time.
    author_handle: str | None = None
    permalink: str | None = None
    parent_external_id: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in _CHANNELS:
            raise InvalidMessage(f"unknown channel {self.channel!r}")
        if self.phase not in _PHASES:
            raise InvalidMessage(f"unknown phase {self.phase!r}")
        if not self.external_id:
            raise InvalidMessage("external_id is required")
        if not self.text or not self.text.strip():
            raise InvalidMessage("text is empty")

    @property
    def job_id(self) -> str:
        """Job id derived from (channel, external id): a repeated push is a no-op."""
        return job_id_for(self.channel, self.external_id)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        # every field is a str, int, bool or None: a shallow copy is asdict() without its cost
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionMessage:
        """Parse a message, ignoring unknown keys from newer producers."""
        try:
            return cls(**{k: v for k, v in data.items() if k in _FIELD_NAMES})
        except TypeError as exc:
            raise InvalidMessage(str(exc)) from exc


_FIELD_NAMES = tuple(f.name for f in fields(SubmissionMessage))


def job_id_for(channel: str, external_id: str) -> str:
    """RQ job ids allow letters, digits, '-' and '_': hash the external id into one."""
    digest = hashlib.sha256(f"{channel}\x00{external_id}".encode()).hexdigest()[:32]
    return f"sub-{channel}-{digest}"


def queue(redis: Redis, prefix: str, name: str) -> Queue:
    """An RQ queue using the JSON serializer."""
    return Queue(f"{prefix}-{name}", connection=redis, serializer=JSONSerializer)


def push(redis: Redis, prefix: str, message: SubmissionMessage, *, fresh: bool = False) -> bool:
    """Enqueue ``message`` for ingestion. Returns False if that job is already known.

    ``fresh``: the message was just stored for the first time, so its job cannot exist yet
    and the existence check (one Redis round trip) is skipped; a repeat would be harmless.
    """
    # RQ's job keys are global to the Redis database: the prefix keeps deployments apart
    return _enqueue(
        redis, prefix, INGEST_JOB, message.to_dict(), f"{prefix}-{message.job_id}",
        f"ingest {message.channel} submission", check=not fresh,
    )  # fmt: skip


def repush(redis: Redis, prefix: str, message: SubmissionMessage) -> bool:
    """Enqueue ``message`` again unless its job is still waiting or running.

    For a message whose submission never appeared: its job may be gone (expired, or lost
    with Redis's last writes), failed, finished without storing it, or orphaned by a worker
    killed as it took the job. Returns True if pushed.
    """
    job_id = f"{prefix}-{message.job_id}"
    try:
        job = Job.fetch(job_id, connection=redis, serializer=JSONSerializer)
    except NoSuchJobError:
        return push(redis, prefix, message)
    if job.get_status(refresh=False) == JobStatus.STARTED or is_waiting(redis, job):
        return False
    job.delete()
    return push(redis, prefix, message)


def is_waiting(redis: Redis, job: Job) -> bool:
    """Will a worker still take ``job``: is it really on its queue or in a waiting registry?

    The status alone can lie. A worker killed between taking a job off its queue and marking
    it started leaves it "queued" on no queue, and trusting that status would leave the work
    waiting for ever. (A started job of a dead worker is reaped by workers.recovery.)
    """
    status = job.get_status(refresh=False)
    q = Queue(job.origin, connection=redis, serializer=JSONSerializer)
    if status == JobStatus.QUEUED:
        return redis.lpos(q.key, job.id) is not None
    if status == JobStatus.SCHEDULED:
        return redis.zscore(q.scheduled_job_registry.key, job.id) is not None
    if status == JobStatus.DEFERRED:
        return redis.zscore(q.deferred_job_registry.key, job.id) is not None
    return False


def push_many(
    redis: Redis, prefix: str, messages: Sequence[SubmissionMessage], *, fresh: bool = False
) -> int:
    """Enqueue a backlog as batch jobs of up to BATCH_SIZE messages; returns jobs enqueued.

    A single message keeps its own job (and job id). A batch's job id is derived from its
    messages' ids, so pushing the same batch again is a no-op; a message that ends up in two
    different batches is stored once, by the submission's unique key. ``fresh``: as for
    :func:`push`, the messages were just stored for the first time.
    """
    if len(messages) == 1:
        return int(push(redis, prefix, messages[0], fresh=fresh))
    enqueued = 0
    for start in range(0, len(messages), BATCH_SIZE):
        chunk = messages[start : start + BATCH_SIZE]
        digest = hashlib.sha256("\n".join(m.job_id for m in chunk).encode()).hexdigest()[:32]
        enqueued += _enqueue(
            redis, prefix, INGEST_BATCH_JOB, [m.to_dict() for m in chunk],
            f"{prefix}-batch-{digest}", f"ingest {len(chunk)} submissions", check=not fresh,
        )  # fmt: skip
    return enqueued


def _enqueue(
    redis: Redis,
    prefix: str,
    func: str,
    payload: Any,
    job_id: str,
    about: str,
    *,
    check: bool = True,
) -> bool:
    if check and Job.exists(job_id, connection=redis):
        return False
    # one transaction, one round trip (RQ alone makes two when it opens its own pipelines)
    with redis.pipeline() as pipe:
        queue(redis, prefix, INGEST_QUEUE).enqueue(
            func,
            payload,
            job_id=job_id,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=about,  # no personal data in job metadata
            pipeline=pipe,
        )
        pipe.execute()
    return True


def enqueue_send_answer(redis: Redis, prefix: str, answer_id: int) -> str:
    """Queue the sending of one approved answer; returns the job id.

    Enqueuing twice is harmless: every person's delivery is claimed before it is sent.
    """
    job = queue(redis, prefix, ANSWERS_QUEUE).enqueue(
        SEND_ANSWER_JOB,
        answer_id,
        job_id=f"{prefix}-send-answer-{answer_id}-{uuid.uuid4().hex[:12]}",
        retry=Retry(max=len(SEND_RETRY_INTERVALS), interval=SEND_RETRY_INTERVALS),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"send written answer {answer_id}",
    )
    return str(job.id)
