"""`python -m bench.load`: see the package docstring. Prints a markdown section."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from bench.load import drivers
from bench.load.profile import profile
from bench.load.stack import (
    Target,
    children,
    cpu_seconds,
    gunicorn,
    peak_rss_mib,
    prepare,
    workers,
)
from domain.models import OutboxMessage, Question, Submission
from tests.support.servers import RedisServer, create_database, drop_database

RATE = 200  # submissions/s of the latency target
ROWS: list[str] = []
VERDICTS: list[str] = []
TRIED = """\
What was cut, from the profile of one submission (before → after). Earlier: three database
transactions per question became one; RQ's two Redis transactions per enqueue became one
pipeline; 14 Redis round trips became 5; the rate limit, the refused-token counter and the
token list's version became one Lua script call; the token is looked up once per 2 s per
process (a revocation reaches every process at once through the version in Redis); the outbox
row is inserted with a prepared SQLAlchemy Core statement; a repeat is found by the outbox's
unique key; RQ jobs are built by a pusher thread per web process; gunicorn workers switch
threads every 1 ms. This run's code (issue 13, second round; the profile above is of this
code, the previous run's "whole request" was 2.2 ms): the API is a Flask app of its own under
/api/, so none of the pages' extensions (session, sign-in, CSRF, Flask-Limiter, Talisman's
policy) run on its path; concurrent requests of a process share one outbox commit (group
commit, one INSERT for the batch); a process trusts a meeting's status for a second instead of
reading it per question; a reference costs one system call (was 16); the status URL is built
as a string; redis-py parses with hiredis; the pusher waits 10 ms for a burst to gather, and a
fresh batch job skips its existence check; SQLite's BEGIN goes straight to the driver.

Third round (issue 13; measured with user and system CPU and context switches per request
of the gunicorn workers under wrk, alternating old and new code in one sitting):
- **Rate-limit leases** (`intake/api/limits.py`): one Redis answer lets a process admit up to
  32 more requests of a token it knows (never more than an eighth of what the window has
  left, and only within 0.25 s of the answer), so most API requests make no Redis call and
  the limit is still never exceeded. About a fifth of the API's server CPU.
- **SQLite writers queue on `flock`**: two web processes writing at once met SQLite's busy
  handler, which sleeps 1, 2, 5 … 100 ms between tries; runs fell into a slow mode (about
  800 requests/s, 20 context switches a request) about one time in three. A lock file
  beside the database, taken after the process's own thread lock, wakes the next writer at
  once: the slow mode has not been seen since.
- **A lone row is one statement**: an INSERT … RETURNING that is its own transaction (no
  BEGIN, no COMMIT); one database call instead of three, on PostgreSQL one round trip
  instead of three. About a tenth. The write connections take their options once, from an
  engine made for them, not per transaction (the dialect checked them each time).

Fourth round (issue 13; same method, old and new code alternated three times each):
- **The group commit keeps its own connections** (`domain.db.HotWriter`): no pool checkout
  per commit and, on PostgreSQL, no `pool_pre_ping` round trip before each one (0.10 ms of
  CPU and 0.16 ms of wall time per insert, measured alone). A connection the server dropped
  is replaced and the write tried once more. PostgreSQL: 664–706 → 967–1,009 requests/s in
  one sitting; web CPU per request 1.34 → 1.09 ms in another.
- **A leader commits for the others**: the first request to find nobody committing commits
  every waiting row, wakes their requests and hands the lead to the oldest one still
  waiting. Before, the others queued on the committer's lock and woke one after another,
  each only to find its row already committed. SQLite: 0.96–0.99 against 1.03–1.09 ms of
  server CPU per request, 1,375–1,500 against 1,201–1,340 requests/s.

Why runs of the same code differed by up to a half: wrk opens its 16 connections at once and
the two gunicorn workers raced to accept them from one shared socket; a run whose connections
landed mostly on one worker left that worker short of a core and contending for its GIL (CPU
seconds of the two workers 4.5 / 9.4 at 1,104 requests/s against 8.8 / 7.6 at 1,630 in the
same server; the last run before the fix: 0.0 / 10.9 at 914). Fifth round (issue 13): each
worker now listens on a socket of its own (`SO_REUSEPORT`, `openfloor.server`), and the kernel
spreads new connections over them by their addresses, so real clients too are shared evenly;
`openfloor web` refuses, with a message, a port another server already listens on (the same
option would otherwise let a second server share it). The bare endpoint runs the same way.
Since then the two workers' CPU seconds are within a tenth of each other in every run (8.3 /
8.0, 8.4 / 7.7, 7.4 / 7.0, 7.5 / 7.0), and the two API runs agree. Tried in the same round and
dropped: a longer or shorter wait for the pusher's batch (30 ms and 3 ms, alternated with the
old code: within the noise or worse), more processes or fewer threads (2 x 4, 4 x 4, 2 x 2:
the API's own throughput stayed at 1,400–1,600 requests/s; only the bare endpoint's moved),
freezing the start-up objects out of the garbage collector, and sending `Location` without
Werkzeug's IRI conversion (4 µs: the profiler had overstated it tenfold).

Sixth round (issue 13; old and new code alternated in one sitting with
`python -m bench.load.compare`, 6 s runs, on a machine whose bare endpoint moved between 4,100
and 5,600 requests/s from run to run):
- **The outbox row goes to the driver's connection** (`domain.hot_writer.PreparedInsert`):
  SQLAlchemy compiles the INSERT once for each number of rows and lends its type conversions;
  the statement runs on the psycopg or sqlite3 connection itself, and a driver error comes
  back as SQLAlchemy's own exception class (a repeat is still an `IntegrityError`, a dropped
  connection is still replaced). A batch of concurrent rows is one `INSERT … VALUES (…), (…)
  RETURNING id, channel, external_id`, its rows told apart by the unique key, where
  SQLAlchemy had sent psycopg a pipeline of one statement a row: 0.08 → 0.03 ms of CPU a row
  in batches of four, measured alone. In one process the insert inside a request went from
  0.24 to 0.15 ms on SQLite, the whole request from 0.73 to 0.61 ms.
- **The pusher gathers before every batch**: after a push it used to push at once whatever
  had arrived meanwhile, mostly one or two messages, and one message costs a full RQ enqueue
  (0.36 ms of CPU, against 0.04 a message in tens). It now waits its 10 ms before every
  batch: the pusher's CPU per question fell from 0.11 to 0.06 ms in one process.
- The outbox's `job_id` lost its unique index: it is a hash of (channel, external id), which
  is unique already (raw SQLite insert 0.042 → 0.028 ms, measured alone); and a message's
  channel and phase are checked against sets built once (iterating the enums was 2 % of an API
  request's CPU under load).
- The insert and the pusher together, old and new code alternated twice in one sitting:
  SQLite 1,395 and 1,181 → 1,506 and 1,564 requests/s (server CPU 1.18 and 1.41 → 1.15 and
  1.10 ms a request); PostgreSQL 1,019 and 1,085 → 1,298 and 1,285 requests/s (1.50 and 1.39
  → 1.18 and 1.16 ms). In earlier sittings on SQLite, the pusher alone: 1,371 and 1,119 →
  1,401 and 1,500; with a lone row on the driver too: 1,647 and 1,505 → 1,754 and 1,668.

The ratios move with the machine and with what its neighbours take. The same intake code on
2026-12-03 gave PostgreSQL 28 % on a 2-core Xeon, 20 % on an AVX2-only EPYC, and 25 % then
23 % in two runs on an AVX-512 EPYC, where the bare endpoint itself moved between 3,636 and
6,367 requests/s from one run to the next (the hypervisor took up to 2.8 s of CPU in 10 s).
Where PostgreSQL's extra cost lies, measured on that EPYC: an API request cost the web
processes 0.1–0.3 ms more CPU than on SQLite, and the PostgreSQL server 0.12–0.17 ms of its
own on the same two cores; one round trip costs the client 0.06–0.18 ms of CPU (libpq alone
running `SELECT 1`, most of it the sleep and wake-up), and under wrk most commits carried one
to three rows, since the next commit starts as soon as the last ends. Tried and not kept: a
1 ms wait before each commit to gather bigger batches (alternated with the shipped code:
1,376 and 897 requests/s against 1,218 and 1,099, within the noise). The code's own part is
what the same-sitting comparisons above and the in-process figures show.

What remains, sampled with py-spy on both workers under wrk (the thread holding the GIL, SQLite,
this code): Flask around the view 28 %, gunicorn's parsing and dispatch 25 %, the group commit
11 % (15 % on PostgreSQL), the rest of `submit` (reference, message) 8 %, the receipt 6 %, the
pusher thread 6 %, the JSON body 5 %, the token 5 %, validation 2.5 %. Flask and gunicorn are
what the bare endpoint pays too; the API's own work is spread thinly over the rest.

Seventh round (issue 13; a 2-core AVX-512 Xeon on which `python -m bench.load.compare` gave the
bare endpoint 7,500–8,300 requests/s, the API 2,110–2,250 on SQLite, 28–29 %, and 1,530–1,720 on
PostgreSQL, 19–21 %). Where the web tier's CPU goes under wrk, PostgreSQL, found by answering at
once after each stage (temporary code, not kept; web CPU per request): the API app answering
straight away 0.29 ms (the bare endpoint 0.22), after the token 0.35, after the body and
validation 0.44, after the outbox commit 0.80–0.84, the whole request with the pusher 0.87–0.90.
The commit costs 0.36–0.42 ms of web CPU under load against 0.16 in one thread alone, and brings
7–10 of a request's 12 voluntary context switches (SQLite: 0.32 ms and 5): a request waiting for
its batch sleeps on a lock and, once woken, waits again for the GIL, which the leader still
holds. Sleeping on a lock, and waiting for the GIL once it is given, make 29 % of the workers'
context switches (`perf record -e sched:sched_switch`). Commits carried 2.4 and 3.3 rows on
average in the two workers, so the round trip itself is already shared. Tried and not kept,
alternated with the shipped code: libpq's own prepared-statement call instead of psycopg's
`execute` (0.09 ms less per request in one thread; under load 0.87 against 0.90 ms, about 3 %,
not worth a second driver path); a connection per thread with no group commit (0.98–1.00 against
0.90–0.92 ms, 6–14 % fewer requests/s); 4 workers × 4 threads (the API unchanged at 1,653
requests/s, the bare endpoint slower); a 5 ms GIL switch interval (within the noise; 0.2 ms was
worse). Most of what was left was threads sleeping and waking to take the GIL back; the eighth
round cuts it.

Eighth round (issue 13, the same machine): **each gunicorn worker keeps to a core of its own**
(`openfloor.server`: gunicorn's `pre_fork` picks the core with the fewest live workers and
`post_fork` pins the new worker to it, when the workers are at least as many as the cores). A
worker runs one Python thread at a time, so one core is all it can use. Left free to move, its
threads are woken on the other core while the GIL's holder runs on this one, and wake only to
wait again (the GIL's known behaviour on several cores, and what the context switches above
show). The bare endpoint runs with the same hooks and the same 1 ms switch interval
(`bench/load/bare_gunicorn.py`), so the two servers still differ only by their application.
Alternated in one sitting with `python -m bench.load.compare --database postgresql --seconds 8`,
both servers' workers pinned from outside: the bare endpoint 8,773 and 8,837 against 8,004 and
8,109 requests/s unpinned; the API 2,287 and 2,335 against 1,599 and 1,603 (web CPU 0.71–0.72
against 0.93 ms a request), 26 % against 20 %. With the hooks as shipped: PostgreSQL 28.0 % and
27.9 % (the API 2,479 and 2,409 requests/s, 0.67–0.69 ms), SQLite 31.1 % and 30.1 % (2,714 and
2,629, 0.66–0.68 ms).
"""


def _row(db: str, what: str, r: drivers.Result, note: str = "") -> None:
    note = "; ".join(x for x in (note, r.note, f"load average {os.getloadavg()[0]:.1f}") if x)
    ROWS.append(
        f"| {db} | {what} | {r.per_second:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
        f"{r.errors} | {note} |"
    )


@contextlib.contextmanager
def private_postgres(workdir: Path) -> Iterator[str]:
    """A private PostgreSQL (pgserver wheel), so a shared server is never loaded."""
    import pgserver

    server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _count(target: Target, model: object) -> int:
    rt = target.runtime()
    try:  # a read: a write transaction would queue behind the busy workers for nothing
        with rt.db.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]
    finally:
        rt.close()


def measure(target: Target, seconds: int, extra: list[str]) -> None:
    """All runs against one database."""
    db = target.label
    path = f"/api/v1/meetings/{target.meeting_id}/submissions"
    logs = target.workdir
    bare, bare_cpu = _bare(target, logs, seconds)
    _row(db, "bare Flask JSON endpoint, 16 connections", bare,
         f"server CPU {bare_cpu:.2f} ms/request")  # fmt: skip
    with gunicorn(target, "openfloor", logs / "web.log") as (url, proc):
        drivers.full_speed(url, path, target.token, 2)  # warm-up
        # Latency at fixed rates first, before the full-speed runs fill the tables with tens of
        # thousands of rows and leave the database to catch up on them: measured after them,
        # PostgreSQL's p99 at 200/s was 132 ms with the load generator itself sending up to
        # 180 ms late on the shared two cores; run alone, 4 to 17 ms.
        for rate in (RATE // 4, RATE // 2, RATE):
            fixed = drivers.fixed_rate(url, path, target.token, rate, seconds)
            _row(db, f"API at a fixed {rate}/s (open loop)", fixed,
                 "target: p99 < 50 ms" if rate == RATE else "")  # fmt: skip
        VERDICTS.append(
            f"- {db}: p99 at {RATE} submissions/s {fixed.p99_ms:,.0f} ms (target 50 ms: "
            + ("met" if fixed.p99_ms < 50 and not fixed.errors else
               f"missed by {fixed.p99_ms - 50:,.0f} ms; {fixed.per_second:.0f}/s were answered")
            + ")"
        )  # fmt: skip
        # Two runs, each with wrk's own 16 new connections: which gunicorn worker accepts
        # which connection is a race, and a run whose connections land mostly on one worker
        # leaves it short of a core (the CPU split shows it). Each side counts its faster run.
        apis = [_api_run(url, path, target, proc.pid, seconds) for _ in range(2)]
        # the bare endpoint again: a share against one bare run slowed by something else on
        # the machine would flatter the API, so the faster of the two bare runs counts
        again, again_cpu = _bare(target, logs, seconds)
        _row(db, "bare Flask JSON endpoint again, after the API runs", again,
             f"server CPU {again_cpu:.2f} ms/request")  # fmt: skip
        best = max(bare.per_second, again.per_second)
        api = max((run for run, _ in apis), key=lambda r: r.per_second)
        share = api.per_second / best if best else 0
        VERDICTS.append(
            f"- {db}: API throughput {share:.0%} of the bare endpoint's faster run, its own "
            "faster run counting (target 25 %: "
            + ("met" if share >= 0.25 else f"missed by {25 - share * 100:.0f} points")
            + ")"
        )
        for n, (run, note) in enumerate(apis, 1):
            _row(db, f"API, 16 connections, run {n}", run,
                 f"{run.per_second / best if best else 0:.0%} of bare; {note}")  # fmt: skip
        form = drivers.form_users(url, target.slug, 32, seconds, 1.0)
        _row(db, "form: GET, 1 s pause, POST, POST check page; 32 people", form,
             "requests/s = questions sent; latency of the POSTs")  # fmt: skip
        web_rss = peak_rss_mib(proc.pid)
    backlog = _count(target, Submission) or 0
    waiting = drivers_backlog(target)
    extra.append(f"- {db}: peak RSS of `openfloor web` (master + 2 workers) {web_rss:.0f} MiB")
    procs = workers(target, 2, logs / "workers.log")
    try:
        rate, total, rss = _drain(target, procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    extra.append(
        f"- {db}: two `openfloor worker` processes drained the backlog of {waiting:,} queued "
        f"questions ({backlog:,} already stored) into {total:,} questions at "
        f"**{rate:.0f} questions/s**; peak RSS {rss:.0f} MiB for both"
    )


def _api_run(
    url: str, path: str, target: Target, pid: int, seconds: int
) -> tuple[drivers.Result, str]:
    """One full-speed API run; its note gives server CPU per request and each worker's CPU."""
    kids = children(pid)
    before, each = cpu_seconds(pid), [cpu_seconds(k) for k in kids]
    run = drivers.full_speed(url, path, target.token, seconds)
    per_request = (cpu_seconds(pid) - before) / max(run.requests, 1) * 1000
    split = " / ".join(f"{cpu_seconds(k) - b:.1f}" for k, b in zip(kids, each, strict=True))
    return run, f"server CPU {per_request:.2f} ms/request; CPU s of each worker {split}"


def _bare(target: Target, logs: Path, seconds: int) -> tuple[drivers.Result, float]:
    """The bare endpoint at full speed, and its server CPU per request (ms)."""
    with gunicorn(target, "bare", logs / "bare.log") as (url, bare_proc):
        drivers.full_speed(url, "/bare", "", 2)  # warm-up
        before = cpu_seconds(bare_proc.pid)
        bare = drivers.full_speed(url, "/bare", "", seconds)
        cpu = (cpu_seconds(bare_proc.pid) - before) / max(bare.requests, 1) * 1000
    return bare, cpu


def drivers_backlog(target: Target) -> int:
    """Questions in the outbox not yet stored (the web runs had no workers).

    Counted from the database: one RQ job may carry a batch of up to 100 questions.
    """
    return _count(target, OutboxMessage) - _count(target, Submission)


def _drain(target: Target, procs: list) -> tuple[float, int, float]:  # type: ignore[type-arg]
    """Wait until every queued submission is a question.

    Questions/s from the first submission the workers stored (their models are loaded by
    then) to the last question: ingest jobs and pipeline batches together.
    """
    already = _count(target, Submission)
    expected = drivers_backlog(target) + already
    first_at: float | None = None
    last = 0
    rss = 0.0
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        rss = max(rss, sum(peak_rss_mib(p.pid) for p in procs))
        if first_at is None and _count(target, Submission) > already:
            first_at = time.monotonic()
        last = _count(target, Question)
        if last >= expected:
            break
        time.sleep(0.2)
    span = (time.monotonic() - first_at) if first_at else 0.0
    return (last / span if span else 0.0), last, rss


def main() -> None:
    """Run both databases and print the markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openfloor-load-"))
    extra: list[str] = []
    try:
        (work / "profile").mkdir()
        profile_lines = profile(work / "profile")
        for label in args.databases.split(","):
            wd = work / label
            wd.mkdir()
            redis = RedisServer(wd)
            redis.start()
            try:
                if label == "sqlite":
                    target = prepare(label, f"sqlite:///{wd / 'openfloor.sqlite3'}", wd, redis)
                    measure(target, args.seconds, extra)
                else:
                    with private_postgres(wd) as admin:
                        url, _name = create_database(admin)
                        measure(prepare(label, url, wd, redis), args.seconds, extra)
                        drop_database(admin, _name)
            finally:
                redis.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tool = "wrk 16 connections, 2 threads" if drivers.have_wrk() else "asyncio closed loop"
    tool += "; fixed rates with an asyncio open-loop generator on raw keep-alive connections"
    print(
        "gunicorn gthread, 2 workers x 8 threads for both servers, each worker kept to a core of "
        f"its own, threads switched every 1 ms; full-speed runs with {tool}"
        f", {args.seconds} s each after a 2 s warm-up; each API request is a new question "
        "(unique `external_id`); private Redis; PostgreSQL from the `pgserver` wheel. No worker "
        "runs during the web runs (the backlog is drained afterwards). Rate limits are raised "
        "so nothing is refused, but still counted on Redis.\n"
    )
    print("| database | run | requests/s | p50 ms | p99 ms | errors | note |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(ROWS))
    print()
    print("\n".join(extra))
    print("\n**Targets**\n")
    print("\n".join(VERDICTS))
    print()
    print(TRIED)
    print(
        "\n**One API submission, profiled** (`bench/load/profile.py`: CPU ms per phase, "
        "in-process on SQLite, mean of 300 after 30 warm-up requests; phases overlap where "
        "one calls the other):\n"
    )
    print("| phase | CPU ms |")
    print("|---|---|")
    print("\n".join(profile_lines))


if __name__ == "__main__":
    main()
