"""A partner system sending questions through the real API while the tests break things.

It behaves as a careful partner does: each question has its own ``external_id``; on a
connection error or a 503 it waits and sends the same question again (repeats are harmless).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import exists, func, select

from domain.models import OutboxMessage, Question, Submission, SubmissionStatus
from domain.runtime import Runtime
from tests.support.processes import wait_for

RETRY_STATUSES = {502, 503, 504}


@dataclass
class Stream:
    """Send ``count`` questions at ``rate`` per second from a background thread."""

    base_url: str
    meeting_id: int
    token: str
    count: int
    rate: float = 15.0
    prefix: str = "fault"
    references: dict[str, str] = field(default_factory=dict)
    statuses: Counter[int | str] = field(default_factory=Counter)
    sent: int = 0
    _thread: threading.Thread | None = None

    def start(self) -> Stream:
        """Begin sending."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float = 600) -> None:
        """Wait until every question has been answered with a reference."""
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"stream stuck after {self.sent} questions"

    def _run(self) -> None:
        path = f"/api/v1/meetings/{self.meeting_id}/submissions"
        headers = {"Authorization": f"Bearer {self.token}"}
        start = time.monotonic()
        with httpx.Client(base_url=self.base_url, timeout=15) as client:
            for n in range(self.count):
                delay = start + n / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ext = f"{self.prefix}-{n}"
                body = {"text": f"Question {n}: when will the A49 speed cameras work?",
                        "external_id": ext}  # fmt: skip
                self.references[ext] = self._send(client, path, headers, body)
                self.sent += 1

    def _send(self, client: httpx.Client, path: str, headers: dict[str, str], body: dict) -> str:  # type: ignore[type-arg]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                response = client.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.statuses[type(exc).__name__] += 1
                time.sleep(0.3)
                continue
            self.statuses[response.status_code] += 1
            if response.status_code in RETRY_STATUSES:
                assert response.json()["message"], "a retry must come with a clear message"
                time.sleep(0.3)
                continue
            assert response.status_code in (200, 201), (response.status_code, response.text)
            return str(response.json()["reference"])
        raise AssertionError(f"{body['external_id']} was never accepted")


def count(rt: Runtime, model: object, *where: object) -> int:
    """Rows of ``model`` matching ``where``."""
    with rt.db.transaction() as session:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(stmt) or 0)


def assert_exactly_once(rt: Runtime, stream: Stream, timeout: float = 240) -> None:
    """Every question answered is stored once, processed, and under the reference given."""
    assert len(stream.references) == stream.count
    assert 500 not in stream.statuses, stream.statuses
    try:
        wait_for(lambda: count(rt, Question) >= stream.count, timeout=timeout, interval=0.5)
    except AssertionError as exc:  # say where the missing ones are stuck
        with rt.db.transaction() as session:
            unstored = session.scalars(
                select(OutboxMessage.external_id).where(
                    ~exists().where(
                        Submission.channel == OutboxMessage.channel,
                        Submission.external_id == OutboxMessage.external_id,
                    )
                )
            ).all()
        pending = count(rt, Submission, Submission.status == SubmissionStatus.PENDING)
        raise AssertionError(
            f"{exc}: {count(rt, Question)} questions of {stream.count}; "
            f"{pending} submissions pending; outbox rows never stored: {unstored[:10]}"
        ) from exc
    with rt.db.transaction() as session:
        stored = session.execute(select(Submission.external_id, Submission.reference)).all()
    by_ext = Counter(ext.rsplit(":", 1)[1] for ext, _ in stored)
    assert set(by_ext) == set(stream.references), "a question was lost"
    assert max(by_ext.values()) == 1, "a question was stored twice"
    assert {ref for _, ref in stored} == set(stream.references.values())
    assert count(rt, Question) == stream.count
    assert count(rt, Submission, Submission.status == SubmissionStatus.PENDING) == 0
