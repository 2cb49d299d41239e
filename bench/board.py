"""The staff board at meeting size: page load and decisions at the server, 2,000 questions.

A meeting of N questions (default 2,000) in groups of skewed sizes (a few of 20+, many of one
or two), from every channel, some flagged, is written straight to the database; then the real
app (``create_app``, the Flask test client, so the time is the server's: routing, access
check, queries, template, no network) serves:

* the board page (all cards) and a filtered board page;
* a merge (POST, answered with a redirect), a move and an undo;
* a merge followed by the board page it redirects to (what staff wait for).

Target: the board loads and a merge answers in under 300 ms at the server.

Run: `python -m bench.board [--questions 2000] [--repeat 15] [--json]`. SQLite in a temp
dir and the embedded Redis unless DATABASE_URL / REDIS_URL are set.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from domain.migrate import upgrade
from domain.models import (
    Channel,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Phase,
    Question,
    QuestionGroup,
    QuestionStatus,
    Role,
    StaffUser,
    Submission,
    Theme,
)
from domain.runtime import Runtime
from domain.settings import load_settings
from domain.web.auth import SEEN_AT, SIGNED_IN_AT
from openfloor.app import create_app
from openfloor.embedded import stop_embedded_redis
from triage.board import PAGE_SIZE
from workers.theme_store import seed_taxonomy

TARGET_MS = 300.0
PLACES = ["Ludlow", "Shrewsbury", "Telford", "Oswestry", "Hereford", "Worcester", "Malvern",
          "Kidderminster", "Redditch", "Wem", "Shifnal", "Clun", "Bromsgrove"]  # fmt: skip
NAMES = ["Kath", "James", "Sue", "Roy", "Steve", "Linda", "Alex", "Priya", "Tom", "Jo"]
TOPICS = ["speeding on the A49", "anti-social behaviour in the park", "rural burglary",
          "drug dealing near the school", "farm machinery theft", "police response times",
          "neighbourhood officers", "knife crime", "shoplifting in the high street",
          "off-road bikes on the common"]  # fmt: skip


def group_sizes(total: int, rng: random.Random) -> list[int]:
    """Skewed group sizes summing to ``total`` (like a real meeting: few big, many small)."""
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(min(int(rng.paretovariate(1.3)), 40, total - sum(sizes)))
    return sizes


def build_meeting(rt: Runtime, questions: int, seed: int = 7) -> tuple[int, list[int]]:
    """Write a meeting of ``questions`` questions; returns its id and its group ids."""
    rng = random.Random(seed)
    with rt.db.transaction() as session:
        seed_taxonomy(session)
        themes = list(session.scalars(select(Theme.id)))
        meeting = Meeting(slug="bench-board", title="Board at meeting size", theme="Policing",
                          kind=MeetingKind.FACEBOOK_LIVE, status=MeetingStatus.LIVE,
                          scheduled_start=datetime.now(UTC) + timedelta(days=1))  # fmt: skip
        session.add(meeting)
        session.flush()
        meeting_id = meeting.id
        sizes = group_sizes(questions, rng)
        group_ids = []
        for size in sizes:
            theme = rng.choice(themes)
            composed = f"What will you do about {rng.choice(TOPICS)}?" if rng.random() < 0.3 else ""
            group = QuestionGroup(meeting_id=meeting_id, theme_id=theme, composed_question=composed)
            session.add(group)
            session.flush()
            group_ids += [group.id] * size
        now = datetime.now(UTC)
        channels = list(Channel)
        subs = []
        for n in range(questions):
            named = rng.random() < 0.6
            subs.append({
                "meeting_id": meeting_id, "channel": rng.choice(channels),
                "external_id": f"bench-{n}", "reference": f"Q-BEN-{n:05d}",
                "raw_text": f"Question {n} about {rng.choice(TOPICS)} in {rng.choice(PLACES)}?",
                "author_name": rng.choice(NAMES) if named else None,
                "location": rng.choice(PLACES) if rng.random() < 0.7 else None,
                "consent_publish": named and rng.random() < 0.7,
                "phase": Phase.LIVE if rng.random() < 0.3 else Phase.ADVANCE,
                "received_at": now,
            })  # fmt: skip
        session.execute(insert(Submission), subs)
        sub_ids = list(
            session.scalars(
                select(Submission.id)
                .where(Submission.meeting_id == meeting_id)
                .order_by(Submission.id)
            )
        )
        rows = []
        for n, (sub_id, sub) in enumerate(zip(sub_ids, subs, strict=True)):
            flagged = rng.random() < 0.015
            rows.append({
                "submission_id": sub_id, "meeting_id": meeting_id, "text": sub["raw_text"],
                "redacted_text": sub["raw_text"], "group_id": group_ids[n],
                "status": QuestionStatus.FLAGGED if flagged else QuestionStatus.NEW,
                "flags": ["abuse"] if flagged else [],
                "flag_reasons": [{"code": "abuse", "reason": "bench"}] if flagged else [],
                "theme_id": rng.choice(themes), "match_kind": "paraphrase",
            })  # fmt: skip
        session.execute(insert(Question), rows)
        staff = StaffUser(email="bench@example.org", display_name="Bench", role=Role.STAFF)
        staff.set_password("bench password")
        session.add(staff)
    return meeting_id, sorted(set(group_ids))


class Clock:
    """Wall-clock and CPU milliseconds of the timed blocks (CPU: this process only, so other
    work on a shared machine does not count)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._start = (0.0, 0.0)

    def start(self) -> None:
        """Start a timed block."""
        self._start = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        """End the timed block."""
        self.wall.append((time.perf_counter() - self._start[0]) * 1000)
        self.cpu.append((time.process_time() - self._start[1]) * 1000)


def timed(call: Callable[[], Any], repeat: int) -> Clock:
    """Timings of ``repeat`` calls (each asserted to succeed by ``call``)."""
    clock = Clock()
    for _ in range(repeat):
        clock.start()
        call()
        clock.stop()
    return clock


def summary(name: str, clock: Clock) -> dict[str, Any]:
    """Median, 90th percentile and worst wall time, and median CPU time."""
    ordered = sorted(clock.wall)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"what": name, "n": len(ordered), "median_ms": statistics.median(ordered),
            "p90_ms": p90, "max_ms": ordered[-1],
            "cpu_median_ms": statistics.median(clock.cpu)}  # fmt: skip


def run(questions: int, repeat: int) -> dict[str, Any]:
    """Build the meeting, serve the board and decisions, return the figures."""
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="openfloor-bench-board-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        env = load_settings()
        url = env.database_url or f"sqlite:///{Path(tmp) / 'board.sqlite3'}"
        config = {"database_url": url, "instance_path": tmp, "secret_key": "bench",
                  "queue_prefix": f"benchboard{int(time.time())}", "testing": True}  # fmt: skip
        if env.redis_url:
            config["redis_url"] = env.redis_url
        upgrade(load_settings(None, config).resolved_database_url())
        app = create_app(config)
        if not env.redis_url:  # create_app started the embedded Redis in ``tmp``: stop it after
            stack.callback(stop_embedded_redis, tmp)
        app.config["WTF_CSRF_ENABLED"] = False
        rt: Runtime = app.extensions["openfloor"]
        started = time.perf_counter()
        meeting_id, groups = build_meeting(rt, questions)
        build_s = time.perf_counter() - started
        with rt.db.transaction() as session:
            session_id = session.scalars(select(StaffUser)).first().get_id()  # type: ignore[union-attr]
            cards = len(groups)
        client: FlaskClient = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"], s["_fresh"] = session_id, True
            s[SIGNED_IN_AT] = s[SEEN_AT] = time.time()
        board = f"/triage/meetings/{meeting_id}"

        def get(path: str) -> Callable[[], None]:
            def call() -> None:
                response = client.get(path)
                assert response.status_code == 200, response.status_code

            return call

        size_kb = len(client.get(board).data) / 1024
        filtered = board + "?channel=facebook&phase=live"
        results = [
            summary("board page, all cards", timed(get(board), repeat)),
            summary("board page, filtered (one channel, live)", timed(get(filtered), repeat)),
        ]
        rng = random.Random(3)
        pairs = iter(rng.sample(groups, 4 * repeat))
        merges, merge_and_page = Clock(), Clock()
        for _ in range(repeat):
            source, target = next(pairs), next(pairs)
            merges.start()
            merge_and_page.start()
            response = client.post(f"{board}/groups/{source}/merge", data={"into": str(target)})
            merges.stop()
            assert response.status_code == 302, response.status_code
            client.get(board)
            merge_and_page.stop()
        results.append(summary("merge (POST)", merges))
        results.append(summary("merge, then the board page it returns to", merge_and_page))
        with rt.db.transaction() as session:
            movable = list(
                session.scalars(
                    select(Question.id)
                    .where(Question.meeting_id == meeting_id, Question.group_id.is_not(None))
                    .limit(repeat)
                )
            )
        moves, undos = Clock(), Clock()
        choose = timed(get(f"{board}/questions/{movable[0]}/move"), repeat)
        for qid, target in zip(movable, iter(rng.sample(groups, repeat)), strict=True):
            moves.start()
            client.post(f"{board}/questions/{qid}/move", data={"group_id": str(target)})
            moves.stop()
            with client.session_transaction() as s:
                flashes = s.get("_flashes", [])
            event_id = next(c[5:] for c, _ in flashes if c.startswith("undo:"))
            undos.start()
            response = client.post(f"{board}/undo/{event_id}")
            undos.stop()
            assert response.status_code == 302
            client.get(board)  # show (and clear) the banners, as staff would
        results.append(summary("move page: every group to choose from", choose))
        results.append(summary("move a question (POST)", moves))
        results.append(summary("undo a move (POST)", undos))
        rt.close()
        return {
            "questions": questions,
            "groups": cards,
            "database": url.split(":", 1)[0],
            "page_kb": round(size_kb),
            "page_cards": PAGE_SIZE,
            "build_s": round(build_s, 1),
            "load": load,
            "results": results,
        }


def markdown(data: dict[str, Any]) -> str:
    """The report section."""
    lines = [
        f"A meeting of {data['questions']:,} questions in {data['groups']:,} groups "
        f"({data['database']}, board page {data['page_kb']} KB, load average "
        f"{data['load']:.1f} at start), served by the real app through "
        "the Flask test client: server time only (routing, access check, queries, template). "
        f"Target: under {TARGET_MS:.0f} ms for the board and a merge.",
        "",
        "| request | runs | median ms | p90 ms | worst ms | CPU ms (median) | under target: "
        "p90 wall / CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["results"]:
        wall = "yes" if r["p90_ms"] < TARGET_MS else "no"
        cpu = "yes" if r["cpu_median_ms"] < TARGET_MS else "no"
        lines.append(
            f"| {r['what']} | {r['n']} | {r['median_ms']:.0f} | {r['p90_ms']:.0f} | "
            f"{r['max_ms']:.0f} | {r['cpu_median_ms']:.0f} | {wall} / {cpu} |"
        )
    lines += [
        "",
        f"The board shows {data['page_cards']} cards a page (largest groups first, filters and "
        "pages in the URL; a card's questions load when it is opened); the move and merge pages "
        "list every group. Wall time includes waiting for a core: on a shared machine (load "
        "average above the core count) it is several times the CPU time the request used.",
    ]
    return "\n".join(lines)


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = run(args.questions, args.repeat)
    print(json.dumps(data, indent=2) if args.json else markdown(data))


if __name__ == "__main__":
    main()
