"""The worker pipeline against a real database and Redis: groups, flags, staff decisions."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from domain import events
from domain.models import (
    Meeting,
    Question,
    QuestionStatus,
    StaffUser,
    Submission,
    Theme,
)
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from triage import decisions
from workers import processing
from workers.ingest import store_submission

ROOT = Path(__file__).resolve().parent.parent


def _send(
    rt: Runtime,
    meeting: Meeting,
    n: int,
    text: str,
    location: str | None = None,
    author: str | None = None,
) -> None:
    msg = SubmissionMessage(
        meeting_id=meeting.id, channel="web", external_id=f"t-{n}", reference=f"T-{n}",
        text=text, received_at=datetime.now(UTC).isoformat(), location=location,
        author_name=author,
    )  # fmt: skip
    with rt.db.transaction() as session:
        store_submission(session, msg)


def _questions(rt: Runtime) -> dict[str, Question]:
    with rt.db.transaction() as session:
        rows = session.execute(select(Question, Submission.external_id).join(Submission)).all()
        return {ext: q for q, ext in rows}


def _run(rt: Runtime, meeting: Meeting) -> int:
    return processing.process_batch(rt, meeting.id, 256)


def test_duplicates_share_a_group_and_places_are_kept(rt: Runtime, meeting: Meeting) -> None:
    _send(
        rt, meeting, 1, "Sheep are being stolen from farms near Clun. What is being done?", "Clun"
    )
    _send(
        rt, meeting, 2, "Sheep are being stolen from farms near Clun. What is being done?", "Clun"
    )
    _send(rt, meeting, 3, "Sheep are being stoln from farms near Clun, what is being done", "Clun")
    _send(rt, meeting, 4, "Why do so few burglaries in Ludlow end with anyone charged?", "Ludlow")
    _send(
        rt,
        meeting,
        5,
        "Why do so few burglaries in Bromsgrove end with anyone charged?",
        "Bromsgrove",
    )
    assert _run(rt, meeting) == 5
    q = _questions(rt)
    assert q["t-1"].group_id == q["t-2"].group_id == q["t-3"].group_id
    assert q["t-2"].match_kind == "exact"
    assert q["t-3"].match_kind in ("near", "paraphrase")
    # the same question about a different place is the same agenda question
    assert q["t-4"].group_id == q["t-5"].group_id != q["t-1"].group_id
    assert all(x.theme_id is not None for x in q.values())
    assert _run(rt, meeting) == 0  # nothing pending: idempotent


def test_a_second_worker_process_catches_up_from_the_database(
    rt: Runtime, meeting: Meeting
) -> None:
    _send(
        rt, meeting, 1, "Sheep are being stolen from farms near Clun. What is being done?", "Clun"
    )
    _send(rt, meeting, 2, "Why do so few burglaries in Ludlow end with anyone charged?", "Ludlow")
    _run(rt, meeting)
    processing._states.clear()  # as if another worker process takes the next batch
    _send(
        rt, meeting, 3, "Sheep are being stolen from farms near Clun. What is being done?", "Clun"
    )
    _send(rt, meeting, 4, "Why do so few burglaries in Wem end with anyone charged?", "Wem")
    _run(rt, meeting)
    q = _questions(rt)
    assert q["t-3"].group_id == q["t-1"].group_id and q["t-3"].match_kind == "exact"
    assert q["t-4"].group_id == q["t-2"].group_id


def test_flags_go_to_moderation_and_personal_data_is_redacted(
    rt: Runtime, meeting: Meeting
) -> None:
    _send(rt, meeting, 1, "You are all useless f***ing idiots")
    _send(
        rt, meeting, 2, "My neighbour John Smith at 14 Church Street deals drugs, call 07700 900123"
    )
    _send(rt, meeting, 3, "When will the council fix the potholes and empty the bins on time?")
    _run(rt, meeting)
    q = _questions(rt)
    assert q["t-1"].status == QuestionStatus.FLAGGED and "abuse" in q["t-1"].flags
    assert q["t-1"].group_id is None  # never an anchor for a group until a moderator accepts it
    assert q["t-3"].status == QuestionStatus.FLAGGED and "out_of_scope" in q["t-3"].flags
    assert "personal_data" in q["t-2"].flags
    assert "07700" not in q["t-2"].redacted_text and "Church Street" not in q["t-2"].redacted_text
    assert "07700" in q["t-2"].text  # the original stays for staff
    for reason in q["t-2"].flag_reasons:
        assert "07700" not in reason["reason"]


def test_staff_decisions_win_and_teach_the_worker(
    rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _send(rt, meeting, 1, "Hare coursing on farmland near Tenbury each autumn, what is being done?")
    _send(rt, meeting, 2, "How many officers will the extra funding put on the streets?")
    _run(rt, meeting)
    q = _questions(rt)
    assert q["t-1"].group_id != q["t-2"].group_id
    # staff decide that question 2 belongs with question 1 (a merge), then set a theme
    decisions.move_question(rt, meeting.id, q["t-2"].id, q["t-1"].group_id, staff_user.id)
    with rt.db.transaction() as session:
        visibility = session.scalar(select(Theme).where(Theme.slug == "visibility"))
        assert visibility is not None
        visibility_id = visibility.id
    decisions.set_theme(rt, meeting.id, q["t-2"].id, visibility_id, staff_user.id)

    # a later worker run never undoes it…
    _send(rt, meeting, 3, "How many officers will the extra funding put on the streets?")
    _send(rt, meeting, 4, "How many more officers will the new funding put on our streets?")
    _run(rt, meeting)
    q = _questions(rt)
    assert q["t-2"].group_id == q["t-1"].group_id and q["t-2"].group_locked
    assert q["t-2"].theme_id == visibility_id and q["t-2"].theme_locked
    # …and places new questions by it: the repeat of question 2 joins the staff's group
    assert q["t-3"].group_id == q["t-1"].group_id
    assert q["t-4"].group_id == q["t-1"].group_id

    # a split is respected too: question 3 taken out stays out, and its repeat follows it
    new_group = decisions.split_question(rt, meeting.id, q["t-3"].id, staff_user.id)
    _send(rt, meeting, 5, "How many officers will the extra funding put on the streets?")
    _run(rt, meeting)
    q = _questions(rt)
    assert q["t-3"].group_id == new_group
    assert q["t-5"].group_id in (new_group, q["t-1"].group_id)


def test_cluster_command_writes_one_line_per_question(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "text": "Sheep stolen near Clun - what is being done?", "location": "Clun"},
        {"id": "b", "text": "Sheep stolen near Clun, what is being done", "location": "Clun"},
        {"id": "c", "text": "Call me on 07700 900123 about the burglary", "channel": "email"},
        {"id": "d", "text": "you f***ing useless idiots"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    command = ["cluster", "--input", str(source), "--output", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "openfloor", *command],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    assert "4 questions written" in done.stderr
    result = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(result) == {"a", "b", "c", "d"}
    assert result["a"]["dup_group"] == result["b"]["dup_group"] != result["c"]["dup_group"]
    assert "personal_data" in result["c"]["flags"] and "abuse" in result["d"]["flags"]
    assert all(isinstance(r["flags"], list) and "theme" in r for r in result.values())
    # a question that started its own group names its best candidate groups, with scores
    (suggestion, *_) = result["c"]["suggestions"]
    assert suggestion["dup_group"] == result["a"]["dup_group"]
    assert 0.0 < suggestion["score"] < 1.0


def test_cluster_command_rejects_bad_input_clearly(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "fine"}\n{"id": "b"}\n')
    done = subprocess.run(
        [sys.executable, "-m", "openfloor", "cluster", "--input", str(source),
         "--output", str(tmp_path / "out.jsonl")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode != 0
    assert "line 2" in done.stderr


@pytest.fixture(autouse=True)
def _fresh_worker_state() -> None:
    processing._states.clear()


def test_slang_live_comment_matches_an_advance_question(rt: Runtime, meeting: Meeting) -> None:
    _send(rt, meeting, 1, "Why do I never see an officer in Ludlow?", "Ludlow")
    _send(rt, meeting, 2, "where are all the bobbies?? #PCCLive", "Ludlow")
    _run(rt, meeting)
    q = _questions(rt)
    # joined, or the advance question's group is the first suggestion staff see
    live, advance = q["t-2"], q["t-1"]
    assert advance.group_id == live.group_id or (
        advance.group_id == live.suggestions[0]["group_id"]
    )


def test_a_campaign_spread_over_worker_processes_is_still_counted(
    rt: Runtime, meeting: Meeting
) -> None:
    # (a call to sign a petition alone reads as spam to the head: writers label it so)
    text = "Put a speed camera on the A49 through Leintwardine now, before someone is killed!"
    for n in range(3):
        _send(rt, meeting, n, text, author=f"Person {n}")
    _run(rt, meeting)
    processing._states.clear()  # the next copies reach a worker process that saw none
    for n in range(3, 5):
        _send(rt, meeting, n, text, author=f"Person {n}")
    _run(rt, meeting)
    q = _questions(rt)
    assert "spam" not in q["t-2"].flags
    assert "spam" in q["t-4"].flags
    assert "5 different accounts" in json.dumps(q["t-4"].flag_reasons)


def test_each_batch_publishes_its_questions_and_stage_timings(
    rt: Runtime, meeting: Meeting
) -> None:
    for n in range(3):
        _send(rt, meeting, n, f"Question {n}: why is the 101 line so slow to answer?")
    assert _run(rt, meeting) == 3
    created = [
        e
        for e in events.read(rt.redis, rt.prefix, meeting.id, "0")
        if e.type == "questions.created"
    ]
    assert len(created) == 1
    data = created[0].data
    assert data["count"] == 3 and len(data["question_ids"]) == 3
    stages = data["stages"]
    assert list(stages) == [
        "catch_up", "normalise", "moderate", "embed", "classify", "themes", "dedupe", "store",
        "share_themes",
    ]  # fmt: skip
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) <= data["seconds"] + 0.01
