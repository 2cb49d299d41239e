"""``openfloor rehearse``: play a scripted broadcast through the real collectors and pipeline."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rq import Worker
from rq.job import JobStatus
from sqlalchemy import select

from domain.models import (
    CollectorSettings,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Question,
    QuestionKind,
    Submission,
)
from domain.queue import PIPELINE_QUEUE, queue
from domain.runtime import Runtime
from intake.social.jobs import run_collector
from openfloor.rehearsal.platform import Item, Platform
from openfloor.rehearsal.script import Step, broadcast
from openfloor.rehearsal.servers import FakePlatforms

#: The pipeline job (named by path: rehearsal does not import the workers).
PROCESS_JOB = "workers.jobs.process_pending"
VIDEO = "rehearsal-video"
PROMO = "rehearsal-promo"
SOURCES = ("x", "facebook")
SETTINGS = ("enabled", "x_account", "facebook_live_video_id", "facebook_post_ids")


class Collectors:
    """The two collectors, run as the collect worker runs them; can be restarted."""

    def __init__(self, rt: Runtime, meeting_id: int) -> None:
        self.rt, self.meeting_id = rt, meeting_id
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.runtime: Runtime | None = None

    def start(self) -> None:
        # a fresh runtime each time: nothing survives a restart but the database
        self.runtime = Runtime(settings=self.rt.settings, redis_url=self.rt.redis_url)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, args=(source,), daemon=True) for source in SOURCES
        ]
        for t in self.threads:
            t.start()

    def _loop(self, source: str) -> None:
        assert self.runtime is not None
        while not self.stop.is_set():
            try:
                run_collector(self.runtime, self.meeting_id, source, stop=self.stop)
            except Exception:  # recorded in the collector's health; the schedule runs it again
                self.stop.wait(1.0)

    def halt(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)
        if self.runtime is not None:
            self.runtime.close()


def prepare_meeting(rt: Runtime, slug: str | None) -> tuple[int, MeetingStatus, dict[str, Any]]:
    """The meeting to rehearse (a new one unless ``slug``), live, with collectors on the fakes.

    Returns its id, its status and collector settings before, to restore afterwards.
    """
    with rt.db.transaction() as session:
        if slug:
            meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
            if meeting is None:
                raise LookupError(f"no meeting {slug!r}")
        else:
            meeting = Meeting(
                slug=f"rehearsal-{datetime.now(UTC):%Y%m%d-%H%M%S}",
                title="Rehearsal", theme="Rural crime", kind=MeetingKind.FACEBOOK_LIVE,
                scheduled_start=datetime.now(UTC), hashtag="#AskThePCC",
            )  # fmt: skip
            session.add(meeting)
            session.flush()
        before = meeting.status
        meeting.status = MeetingStatus.LIVE
        settings = session.scalar(
            select(CollectorSettings).where(CollectorSettings.meeting_id == meeting.id)
        )
        if settings is None:
            settings = CollectorSettings(meeting_id=meeting.id, enabled=False)
            session.add(settings)
        saved = {k: getattr(settings, k) for k in SETTINGS}
        settings.enabled, settings.x_account = True, "RehearsalPCC"
        settings.facebook_live_video_id, settings.facebook_post_ids = VIDEO, PROMO
        return meeting.id, before, saved


def start_worker(rt: Runtime, log: Path) -> subprocess.Popen[bytes]:
    """A real `openfloor worker` on the ingest and pipeline queues, warmed up."""
    s = rt.settings
    env = {
        "DATABASE_URL": s.resolved_database_url(), "REDIS_URL": rt.redis_url,
        "QUEUE_PREFIX": s.queue_prefix, "INSTANCE_PATH": s.instance_path,
        "SECRET_KEY": s.secret_key, "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    with log.open("ab") as handle:
        proc = subprocess.Popen(
            [sys.executable, "-m", "openfloor", "worker", "--queue", "ingest", "--queue",
             "pipeline"], env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        names = {q for w in Worker.all(connection=rt.redis) for q in w.queue_names()}
        if f"{s.queue_prefix}-pipeline" in names:
            return proc
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not start (see {log})")


def warm_pipeline(rt: Runtime, meeting_id: int) -> None:
    """Run the meeting's pipeline once before the broadcast, as advance questions would have."""
    job = queue(rt.redis, rt.prefix, PIPELINE_QUEUE).enqueue(PROCESS_JOB, meeting_id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED):
            return
        time.sleep(0.2)


def play(platform: Platform, steps: list[Step], collectors: Collectors) -> list[Item]:
    """Play the script in real time; returns every item posted."""
    posted: list[Item] = []
    start = time.monotonic()
    for step in steps:
        time.sleep(max(0.0, start + step.at - time.monotonic()))
        if step.action == "comment":
            target = PROMO if step.on_post else VIDEO
            posted.append(platform.post(step.text, object_id=target, author_name=step.author))
        elif step.action == "post":
            handle = (step.author or "viewer").lower() + "_pcc"
            posted.append(platform.post(step.text, author_name=step.author, author_handle=handle))
        elif step.action == "delete":
            comments = [i for i in posted if i.object_id == VIDEO]
            if comments:  # deleted a moment after it was posted: it stays collected
                threading.Timer(2.0, platform.delete, args=(comments[-1].id,)).start()
        elif step.action == "x429":
            platform.fail_next("x", 429, reset_in=1)
        elif step.action == "graph500":
            platform.fail_next("graph", 500)
        elif step.action == "drop":
            platform.drop_streams()
        elif step.action == "restart":
            collectors.halt()
            collectors.start()
    return posted


def report(rt: Runtime, meeting_id: int, posted: list[Item]) -> dict[str, Any]:
    """The JSON summary: counts from the database, delays from appearance to question stored."""
    appeared = {i.id: i.appeared for i in posted}
    with rt.db.transaction() as session:
        subs = session.execute(
            select(Submission.external_id, Question.created_at, Question.kind, Question.group_id)
            .outerjoin(Question, Question.submission_id == Submission.id)
            .where(Submission.meeting_id == meeting_id)
        ).all()
    mine = [row for row in subs if row[0] in appeared]
    ids = [row[0] for row in mine]
    delays = sorted(
        (_utc(created).timestamp() - appeared[ext]) * 1000 for ext, created, _, _ in mine if created
    )
    return {
        "posted": len(posted),
        "stored": len(set(ids)),
        "stored_twice": len(ids) - len(set(ids)),
        "questions": sum(1 for _, _, kind, _ in mine if kind == QuestionKind.QUESTION),
        "chatter_forwarded": sum(
            1
            for _, _, kind, group in mine
            if kind is not None and kind != QuestionKind.QUESTION and group is not None
        ),
        "delay_ms_p50": round(_quantile(delays, 0.5)),
        "delay_ms_p95": round(_quantile(delays, 0.95)),
    }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


def rehearse(
    rt: Runtime,
    *,
    slug: str | None,
    comments: int,
    posts: int,
    seconds: float,
    log: Path,
    faults: bool = True,
) -> dict[str, Any]:
    """Run the whole rehearsal and return the summary (the meeting's status is restored)."""
    meeting_id, before, saved = prepare_meeting(rt, slug)
    worker = start_worker(rt, log)
    warm_pipeline(rt, meeting_id)
    with FakePlatforms() as fakes:
        settings = dataclasses.replace(rt.settings, **fakes.settings(), collector_window=3600.0)
        crt = Runtime(settings=settings, redis_url=rt.redis_url)
        collectors = Collectors(crt, meeting_id)
        collectors.start()
        try:
            posted = play(
                fakes.platform, broadcast(comments, posts, seconds, faults=faults), collectors
            )
            _wait_stored(rt, meeting_id, {i.id for i in posted}, timeout=timedelta(seconds=90))
        finally:
            collectors.halt()
            worker.terminate()
            worker.wait(30)
            crt.close()
    with rt.db.transaction() as session:  # the scheduler must not poll the fakes' ids for real
        row = session.scalar(
            select(CollectorSettings).where(CollectorSettings.meeting_id == meeting_id)
        )
        for key, value in (saved if slug else {"enabled": False}).items():
            setattr(row, key, value)
        if slug:
            session.get(Meeting, meeting_id).status = before  # type: ignore[union-attr]
    return report(rt, meeting_id, posted)


def _wait_stored(rt: Runtime, meeting_id: int, ids: set[str], timeout: timedelta) -> None:
    deadline = time.monotonic() + timeout.total_seconds()
    while time.monotonic() < deadline:
        with rt.db.transaction() as session:
            done = set(
                session.scalars(
                    select(Submission.external_id)
                    .join(Question, Question.submission_id == Submission.id)
                    .where(Submission.meeting_id == meeting_id)
                )
            )
        if ids <= done:
            return
        time.sleep(0.5)
