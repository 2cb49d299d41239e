"""Worker throughput, end to end, and how the per-question cost grows with the meeting.

All on the real code path (workers.processing.process_batch, which the RQ pipeline job runs)
against a real database and a real Redis:

1. ``pipeline``: questions/s for the pipeline job over a burst of pending submissions,
   including the database write (batches of WORKER_BATCH_SIZE). Two kinds of burst: live
   comments (the live-phase Facebook/X texts of our labelled set: the burst that happens on
   meeting night) and the long advance mix (every text of the set with an opener, a place and
   a closer added: longer than any real channel, the worst case).
2. ``rq``: questions/s through a running, warmed-up `openfloor worker` process, from the
   first message pushed to the last question stored (RQ overhead, ingest writes, pipeline
   batches): live comments pushed as batch jobs of 100 (a collector's poll, an outbox
   backlog), and for reference one job per message (the web form's path, at human pace).
3. ``growth``: per-question cost of a 1,000-question batch when the meeting already holds
   ~1,000 questions versus ~N (default 100,000) — the index must keep it flat.

Run: `python -m bench.throughput [--growth 100000] [--json]`. Uses SQLite in a temp dir and
the embedded Redis unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.datasets import load_policing
from domain import events
from domain.migrate import upgrade
from domain.models import Meeting, MeetingStatus, Question, Submission
from domain.queue import BATCH_SIZE, SubmissionMessage, push, push_many
from domain.runtime import Runtime, install
from domain.settings import load_settings
from openfloor.app import resolve_redis_url
from openfloor.embedded import stop_embedded_redis
from workers import processing
from workers.warmup import warm_up

PLACES = [
    "Ludlow", "Shrewsbury", "Telford", "Oswestry", "Bridgnorth", "Hereford", "Leominster",
    "Ross-on-Wye", "Ledbury", "Kington", "Worcester", "Malvern", "Evesham", "Pershore",
    "Kidderminster", "Bromsgrove", "Redditch", "Droitwich", "Tenbury Wells", "Church Stretton",
    "Much Wenlock", "Wem", "Whitchurch", "Market Drayton", "Newport", "Shifnal", "Clun",
]  # fmt: skip
OPENERS = [
    "",
    "Hi, ",
    "Question for the PCC: ",
    "Dear Commissioner, ",
    "Quick one - ",
    "As a resident, ",
]
CLOSERS = ["", " Thanks.", " What is being done?", " Please answer on the night.", " #PCCLive", "?"]


def synthetic_texts(n: int, seed: int = 7) -> list[str]:
    """``n`` varied questions built from our own labelled set (places, openers, closers)."""
    rng = random.Random(seed)
    base = [q.text for q in load_policing()]
    out = []
    for i in range(n):
        text = rng.choice(base)
        place = rng.choice(PLACES)
        out.append(f"{rng.choice(OPENERS)}{text} (in {place}, #{i}){rng.choice(CLOSERS)}")
    return out


def live_texts(n: int, seed: int = 11) -> list[str]:
    """``n`` distinct live comments: our set's live-phase texts, each with a place and a number."""
    rng = random.Random(seed)
    base = [q.text for q in load_policing() or [] if q.extra.get("phase") == "live"]
    return [f"{rng.choice(base)} {rng.choice(PLACES)} {i}" for i in range(n)]


def _runtime(workdir: Path, prefix: str) -> Runtime:
    overrides: dict[str, Any] = {"instance_path": str(workdir), "queue_prefix": prefix}
    settings = load_settings(None, overrides)
    if not os.environ.get("DATABASE_URL"):
        settings = load_settings({}, {**overrides, "redis_url": settings.redis_url})
    upgrade(settings.resolved_database_url())
    return install(Runtime(settings=settings, redis_url=resolve_redis_url(settings)))


def _meeting(rt: Runtime) -> int:
    with rt.db.transaction() as session:
        m = Meeting(
            slug=f"bench-{time.time_ns()}",
            title="Benchmark",
            status=MeetingStatus.OPEN,
            scheduled_start=datetime.now(UTC),
        )
        session.add(m)
        session.flush()
        return m.id


def _insert_pending(rt: Runtime, meeting_id: int, texts: list[str], start: int = 0) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "meeting_id": meeting_id, "channel": "web", "external_id": f"b{meeting_id}-{start + i}",
            "reference": f"B{meeting_id}-{start + i}", "raw_text": t, "received_at": now,
            "phase": "advance", "status": "pending", "consent_publish": False, "created_at": now,
            "location": PLACES[(start + i) % len(PLACES)],
        }
        for i, t in enumerate(texts)
    ]  # fmt: skip
    with rt.db.transaction() as session:
        session.execute(insert(Submission), rows)


def _drain(rt: Runtime, meeting_id: int) -> int:
    total = 0
    while True:
        done = processing.process_batch(rt, meeting_id, rt.settings.worker_batch_size)
        total += done
        if done == 0:
            return total


def measure_pipeline(rt: Runtime, texts: list[str]) -> dict[str, float]:
    """Questions/s of the pipeline job over a burst of pending submissions."""
    meeting_id = _meeting(rt)
    _insert_pending(rt, meeting_id, texts)
    _drain_warm = processing.process_batch(rt, meeting_id, 32)  # index/themes state loaded
    started = time.perf_counter()
    done = _drain(rt, meeting_id) + _drain_warm
    seconds = time.perf_counter() - started
    return {
        "questions": done,
        "seconds": seconds,
        "per_second": (done - _drain_warm) / seconds,
        "ms_per_stage": stage_costs(rt, meeting_id, done),
    }


def stage_costs(rt: Runtime, meeting_id: int, questions: int, after: str = "0") -> dict[str, float]:
    """Milliseconds per question in each pipeline stage, from the batches' published timings
    (the events after stream id ``after``)."""
    totals: dict[str, float] = {}
    for event in events.read(rt.redis, rt.prefix, meeting_id, after, count=100_000):
        for stage, seconds in event.data.get("stages", {}).items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    return {stage: 1000 * total / max(questions, 1) for stage, total in totals.items()}


def measure_embedding_only(texts: list[str]) -> dict[str, float]:
    """Baseline in the same run: the embedding model alone on what the pipeline embeds (the
    normalised, place-masked text of each question), in calls of 256 after one warm call."""
    from workers.pipeline.dedupe import mask_location
    from workers.pipeline.embedding import default_embedder
    from workers.pipeline.normalise import normalise

    texts = [
        mask_location(normalise(t).match_text, PLACES[i % len(PLACES)]) for i, t in enumerate(texts)
    ]  # the same locations as _insert_pending gives
    n = len(texts)
    embedder = default_embedder()
    embedder.embed(texts[:256])
    started = time.perf_counter()
    for start in range(0, n, 256):
        embedder.embed(texts[start : start + 256])
    seconds = time.perf_counter() - started
    return {"questions": n, "seconds": seconds, "per_second": n / seconds}


def measure_rq(rt: Runtime, texts: list[str], batched: bool) -> dict[str, float]:
    """Questions/s through a running worker process: messages pushed → questions stored.

    The worker is started and warmed up first (one question through the whole pipe), as on a
    meeting night; the clock then runs from the first push to the last question stored.
    """
    meeting_id = _meeting(rt)
    now = datetime.now(UTC).isoformat()
    messages = [
        SubmissionMessage(
            meeting_id=meeting_id, channel="facebook", external_id=f"rq-{meeting_id}-{i}",
            reference=f"R{meeting_id}-{i}", text=text, received_at=now, phase="live",
        )
        for i, text in enumerate(["Warm-up: is anyone there?", *texts])
    ]  # fmt: skip
    env = {
        **os.environ,
        "DATABASE_URL": rt.settings.resolved_database_url(),
        "REDIS_URL": rt.redis_url,
        "QUEUE_PREFIX": rt.prefix,
        "INSTANCE_PATH": rt.settings.instance_path,
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen([sys.executable, "-m", "openfloor", "worker"], env=env)
    try:
        push(rt.redis, rt.prefix, messages[0])
        _wait_for_questions(rt, meeting_id, 1, worker)
        started = time.perf_counter()
        if batched:
            push_many(rt.redis, rt.prefix, messages[1:])
        else:
            for message in messages[1:]:
                push(rt.redis, rt.prefix, message)
        stored = _wait_for_questions(rt, meeting_id, len(messages), worker) - 1
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return {"questions": stored, "seconds": seconds, "per_second": stored / seconds}


def _wait_for_questions(
    rt: Runtime, meeting_id: int, count: int, worker: subprocess.Popen[bytes]
) -> int:
    query = select(func.count()).select_from(Question).where(Question.meeting_id == meeting_id)
    while True:
        with rt.db.transaction() as session:
            stored = int(session.scalar(query) or 0)
        if stored >= count:
            return stored
        if worker.poll() is not None:
            raise RuntimeError(f"the worker stopped with exit code {worker.returncode}")
        time.sleep(0.02)


def measure_growth(rt: Runtime, size: int, probe: int = 1000) -> dict[str, Any]:
    """Per-question cost of a ``probe``-question batch at ~probe and at ~``size`` questions."""
    meeting_id = _meeting(rt)
    texts = synthetic_texts(size + probe, seed=3)
    _insert_pending(rt, meeting_id, texts[:probe])
    processing.process_batch(rt, meeting_id, 32)
    mark = events.last_id(rt.redis, rt.prefix, meeting_id)
    t0 = time.perf_counter()
    small_done = _drain(rt, meeting_id)
    small = (time.perf_counter() - t0) / max(small_done, 1)
    small_stages = stage_costs(rt, meeting_id, small_done, mark)
    chunk = 5000
    for start in range(probe, size, chunk):
        _insert_pending(rt, meeting_id, texts[start : min(start + chunk, size)], start)
        _drain(rt, meeting_id)
    _insert_pending(rt, meeting_id, texts[size : size + probe], size)
    mark = events.last_id(rt.redis, rt.prefix, meeting_id)
    t0 = time.perf_counter()
    large_done = _drain(rt, meeting_id)
    large = (time.perf_counter() - t0) / max(large_done, 1)
    return {
        "size": size,
        "ms_per_question_at_1k": small * 1000,
        "ms_per_question_at_size": large * 1000,
        "ratio": large / small,
        "stages_at_1k": small_stages,
        "stages_at_size": stage_costs(rt, meeting_id, large_done, mark),
    }


def mean_tokens(texts: list[str]) -> float:
    """Mean word-piece count of ``texts`` under the embedder's tokenizer (what costs time)."""
    from tokenizers import Tokenizer

    from workers.pipeline.embedding import TOKENIZER_PATH

    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.no_padding()  # the file pads to 128; the embedder does not
    return sum(len(e.ids) for e in tokenizer.encode_batch(texts)) / max(len(texts), 1)


def markdown(results: dict[str, Any]) -> str:
    """The results as a markdown table."""
    g = results["growth"]
    rows = ["| measurement | result |", "| --- | --- |"]
    for kind in ("live", "advance"):
        e, p = results[f"embedding_only_{kind}"], results[f"pipeline_{kind}"]
        about = f"{kind} burst (mean {results[f'tokens_{kind}']:.0f} tokens)"
        rows.append(
            f"| baseline: embedding model alone, {about} | {e['per_second']:.0f} questions/s |"
        )
        rows.append(
            f"| pipeline job, {about}, {p['questions']} questions "
            f"| {p['per_second']:.0f} questions/s |"
        )
        stages = ", ".join(f"{k} {v:.2f}" for k, v in p["ms_per_stage"].items())
        rows.append(f"| where the time goes, {kind} (ms per question) | {stages} |")
    r, s = results["rq_batched"], results["rq_single"]
    rows.append(
        f"| real worker, {r['questions']} live comments in batch jobs of {BATCH_SIZE} "
        f"| {r['per_second']:.0f} questions/s |"
    )
    rows.append(
        f"| real worker, {s['questions']} live comments, one job each "
        f"| {s['per_second']:.0f} questions/s |"
    )
    if g:
        at_size = f"{g['ms_per_question_at_size']:.2f} ms ({g['ratio']:.2f}x)"
        rows.append(f"| per question at 1,000 | {g['ms_per_question_at_1k']:.2f} ms |")
        rows.append(f"| per question at {g['size']:,} | {at_size} |")
        for label, key in (("1,000", "stages_at_1k"), (f"{g['size']:,}", "stages_at_size")):
            stages = ", ".join(f"{k} {v:.2f}" for k, v in g[key].items())
            rows.append(f"| where the time goes at {label} (ms per question) | {stages} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the measurements and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=5000, help="questions for the pipeline run")
    parser.add_argument("--rq", type=int, default=2000, help="questions through a real worker")
    parser.add_argument("--growth", type=int, default=100_000, help="meeting size to compare")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warm_up()
    with (
        tempfile.TemporaryDirectory(prefix="openfloor-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        stack.callback(stop_embedded_redis, tmp)  # started by _runtime unless REDIS_URL is set
        rt = _runtime(Path(tmp), f"bench{os.getpid()}")
        bursts = {
            "live": live_texts(args.burst, seed=1),
            "advance": synthetic_texts(args.burst, seed=1),
        }
        results: dict[str, Any] = {"database": rt.settings.resolved_database_url().split(":")[0]}
        for kind, texts in bursts.items():
            results[f"tokens_{kind}"] = mean_tokens(texts)
            results[f"embedding_only_{kind}"] = measure_embedding_only(texts[:2000])
            results[f"pipeline_{kind}"] = measure_pipeline(rt, texts)
        results["rq_batched"] = measure_rq(rt, live_texts(args.rq, seed=2), batched=True)
        results["rq_single"] = measure_rq(rt, live_texts(args.rq // 4, seed=3), batched=False)
        results["growth"] = measure_growth(rt, args.growth) if args.growth else None
        rt.close()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(markdown(results))
    return results


if __name__ == "__main__":
    main()
