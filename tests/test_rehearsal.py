"""The rehearsal scenario of issue 9, on the embedded default (SQLite and its own Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from domain.models import Meeting, Question, QuestionKind, Submission
from triage.board import load_board

KEYS = {"posted", "stored", "stored_twice", "questions", "chatter_forwarded",
        "delay_ms_p50", "delay_ms_p95"}  # fmt: skip


@pytest.mark.slow
def test_rehearse_200_comments_50_posts_30_seconds(tmp_path: Path) -> None:
    ours = ("DATABASE_", "REDIS_", "QUEUE_", "X_", "FACEBOOK_", "GRAPH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["INSTANCE_PATH"] = str(tmp_path / "instance")
    summary = _rehearse(env, tmp_path, "--comments", "200", "--posts", "50", "--seconds", "30")
    assert set(summary) == KEYS

    # every posted item (the deleted comment, the 429, the drop and the restart included)
    # stored exactly once
    assert summary["posted"] == 250
    assert summary["stored"] == 250
    assert summary["stored_twice"] == 0
    assert 0 < summary["delay_ms_p50"] <= summary["delay_ms_p95"]

    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'openfloor.sqlite3'}")
    with Session(engine) as session:
        meeting_id = session.scalar(select(Meeting.id).where(Meeting.slug.like("rehearsal-%")))
        assert meeting_id is not None
        assert session.scalar(select(func.count()).select_from(Submission)) == 250
        kinds = dict(
            session.execute(
                select(Question.kind, func.count())
                .where(Question.meeting_id == meeting_id)
                .group_by(Question.kind)
            ).all()
        )
        # what the question/chatter classifier decided, read back from the database
        assert summary["questions"] == kinds.get(QuestionKind.QUESTION, 0)
        assert sum(kinds.values()) == 250
        # the script makes about 60% of comments plain chatter: most of it is told apart
        assert 60 < summary["questions"] < 200
        chatter_grouped = session.scalar(
            select(func.count())
            .select_from(Question)
            .where(
                Question.meeting_id == meeting_id,
                Question.kind != QuestionKind.QUESTION,
                Question.group_id.is_not(None),
            )
        )
        assert summary["chatter_forwarded"] == chatter_grouped == 0  # chatter is not forwarded

        # the questions are on the triage board (grouped, or waiting for moderation)
        board = load_board(session, meeting_id, page_size=None)
        on_board = {m.id for c in board.cards for m in c.members} | {m.id for m in board.flagged}
        questions = set(
            session.scalars(
                select(Question.id).where(
                    Question.meeting_id == meeting_id, Question.kind == QuestionKind.QUESTION
                )
            )
        )
        assert questions and questions <= on_board
        slug = session.scalar(select(Meeting.slug).where(Meeting.id == meeting_id))
    engine.dispose()

    # staff rehearse again on the same meeting: new items, each stored once
    again = _rehearse(env, tmp_path, "--meeting", str(slug), "--comments", "20", "--posts", "5",
                      "--seconds", "4", "--no-faults")  # fmt: skip
    assert (again["posted"], again["stored"], again["stored_twice"]) == (25, 25, 0)


def _rehearse(env: dict[str, str], cwd: Path, *args: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-m", "openfloor", "rehearse", *args],
        env=env, capture_output=True, text=True, timeout=400, cwd=cwd,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary
