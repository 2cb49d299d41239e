"""The issue's "done when": a demo meeting run to the end.

Not-covered groups are answered and approved by two officers; the emails land in a local SMTP
server exactly once each, also when the worker is killed mid-send; the report's figures match
the data; the notes DOCX opens with python-docx and has the numbered items with their
attribution lines; after the retention job no name, email or handle is left and the report's
figures are unchanged.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from domain.db import Base
from domain.models import AnswerDelivery, DeliveryStatus, Meeting, Submission
from domain.runtime import Runtime
from openfloor.rehearsal.servers import FakePlatforms
from tests.support.meeting_run import (
    APPROVER,
    BURGLARY_EMAILS,
    CHAIR,
    ROADS_EMAILS,
    WRITER,
    MeetingRun,
    seed_meeting_run,
    sign_in,
)
from tests.support.processes import openfloor_env, start_openfloor, stop, wait_for
from tests.support.smtp_server import SmtpServer
from triage.report.figures import ReportFigures, compute
from workers.answers import recover_sends
from workers.maintenance import erase_expired

PERSONAL = ["Richard", "Kath", "James", "Linda", "Peter", "Jane", "Phil", "Steve", "Troll",
            "example.net", "jane.smith.77", "phil_j", "kim.k", "example.social"]  # fmt: skip
ANSWERS = {
    "roads": "Roads policing remains a priority; speed checks on Fish Hill continue.",
    "burglary": "Rural burglary has a dedicated team in each policing area.",
    "live_roads": "Yes: rural speeding is one of the force's road safety priorities.",
}


@pytest.fixture
def settings(settings: dict[str, Any], smtp: SmtpServer, fakes: FakePlatforms) -> dict[str, Any]:
    return {**settings, **smtp.settings(), **fakes.settings(), "x_reply_token": "pcc-user",
            "retention_days": 1}  # fmt: skip


def figures(rt: Runtime, meeting_id: int) -> ReportFigures:
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return compute(session, meeting)


def statuses(rt: Runtime) -> list[DeliveryStatus]:
    with rt.db.transaction() as session:
        return [d.status for d in session.scalars(select(AnswerDelivery))]


def docx_text(data: bytes) -> list[str]:
    """Every table row of a DOCX as 'number | text' (python-docx reads it back)."""
    doc = Document(io.BytesIO(data))
    rows = [" | ".join(c.text for c in row.cells) for t in doc.tables for row in t.rows]
    return [p.text for p in doc.paragraphs] + rows


def test_a_meeting_run_to_the_end(
    app: Flask, rt: Runtime, smtp: SmtpServer, fakes: FakePlatforms, settings: dict[str, Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    run: MeetingRun = seed_meeting_run(rt)
    # Phil asked on X during the broadcast: his post is on the (fake) platform
    phil = fakes.platform.post("Is rural speeding a priority? #PCCLive", author_handle="phil_j")
    with rt.db.transaction() as session:
        sub = session.scalar(select(Submission).where(Submission.author_handle == "@phil_j"))
        assert sub is not None
        sub.external_id = phil.id
    base = f"/triage/meetings/{run.meeting_id}"

    before = figures(rt, run.meeting_id)
    assert (before.advance_total, before.live_comments, before.live_questions) == (11, 8, 2)
    assert before.total_questions == 13
    assert before.advance_by_channel == {"web": 6, "event": 3, "email": 1, "api": 1}
    assert before.advance_by_event == {
        "Ludlow Food Festival": 1, "Shropshire County Show": 1, "Hereford Food Festival": 1,
    }  # fmt: skip
    assert before.themes_raised == {
        "Rural crime": 5, "Road safety": 4, "Anti-social behaviour": 3, "Burglary": 2,
        "Wildlife crime": 1,
    }  # fmt: skip
    assert before.themes_addressed == ["Anti-social behaviour", "Rural crime", "Wildlife crime"]
    assert (before.asked_on_night, before.answered_within, before.not_covered) == (3, 1, 3)
    assert (before.answered_afterwards, before.outstanding) == (0, 3)
    assert before.broadcast_minutes == 52 and sum(before.comments_per_minute) == 8
    assert before.comments_per_minute[6] == 2 and before.comments_per_minute[40] == 1

    # a worker that is killed while the server waits on Peter's address
    smtp.mailbox.stall_at_rcpt.add("peter@example.net")
    worker = start_openfloor(["worker"], settings, tmp_path / "worker1.log")
    writer, approver = sign_in(app, WRITER), sign_in(app, APPROVER)
    try:
        for group, answer in ANSWERS.items():
            url = f"{base}/answers/{run.groups[group]}"
            assert writer.post(url, data={"answer": answer}).status_code == 302
            assert approver.post(f"{url}/approve").status_code == 302
        assert smtp.mailbox.stalled.wait(timeout=120), (tmp_path / "worker1.log").read_text()
        worker.kill()
        worker.wait()
    finally:
        stop(worker)
    time.sleep(settings["send_lease_seconds"] + 0.5)
    recover_sends()
    worker = start_openfloor(["worker"], settings, tmp_path / "worker2.log")
    try:
        wait_for(lambda: statuses(rt) and set(statuses(rt)) == {DeliveryStatus.SENT}, 120)
    finally:
        stop(worker)
    everyone = ROADS_EMAILS | BURGLARY_EMAILS
    assert {a: smtp.mailbox.count(a) for a in everyone} == dict.fromkeys(everyone, 1)
    assert len(smtp.mailbox.received) == 3 and len(statuses(rt)) == 4
    [reply] = [i for i in fakes.platform.items if i.parent_id == phil.id]  # once, on X
    assert f"/meetings/{run.slug}/answers" in reply.text

    after_answers = figures(rt, run.meeting_id)
    assert (after_answers.answered_afterwards, after_answers.outstanding) == (3, 0)
    assert (after_answers.emails_sent, after_answers.replies_sent) == (3, 1)
    assert after_answers.not_delivered == 0
    assert len(after_answers.days_to_answer) == 3
    assert all(2.9 < d < 3.0 for d in after_answers.days_to_answer)  # closed ~3 days ago

    # the report page, its charts and its DOCX
    page = writer.get(f"{base}/report").get_data(as_text=True)
    assert "11 questions were submitted in advance" in page
    assert "8 comments were made during the live stream, constituting 2 questions" in page
    assert "total number of questions to 13" in page
    assert 'alt="Bar chart of 13 questions by theme: Rural crime 5; Road safety 4;' in page
    for name in ("themes", "channels", "comment-rate"):
        png = writer.get(f"{base}/report/{name}.png")
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    report = docx_text(writer.get(f"{base}/report.docx").data)
    assert any("total number of questions to 13" in line for line in report)
    assert "Event cards | 3" in report and "Wildlife crime | 1" in report

    # the notes, from the command line and from the button
    out = tmp_path / "notes.docx"
    subprocess.run(
        [sys.executable, "-m", "openfloor", "notes", "--meeting", run.slug, "--output", str(out),
         "--chair", "John Campion", "--minute-taker", "Jackie Irvin, Policy Officer, OPCC",
         "--present", "John Campion, Police and Crime Commissioner (PCC)",
         "--apologies", "Andy Champness", "--next-meeting", "Tuesday 31 July, Hindlip"],
        env=openfloor_env(settings), check=True, capture_output=True,
    )  # fmt: skip
    notes = docx_text(out.read_bytes())
    wrong = subprocess.run(
        [sys.executable, "-m", "openfloor", "notes", "--meeting", "no-such-meeting", "--output",
         str(tmp_path / "x.docx")], env=openfloor_env(settings), capture_output=True, text=True,
    )  # fmt: skip
    assert wrong.returncode == 1 and "no meeting with the slug 'no-such-meeting'" in wrong.stderr
    for line in [
        "Chair: John Campion",
        "Minutes: Jackie Irvin, Policy Officer, OPCC",
        "Apologies: Andy Champness",
        "1 | PUBLIC SESSION\nTo respond to questions submitted by the public in advance of the "
        "meeting",
    ]:
        assert line in notes, line
    rows = {line.split(" | ")[0]: line for line in notes if " | " in line}
    assert rows["1.1"].startswith("1.1 | Richard (location unknown) and 1 other\nWhat are the")
    assert rows["1.2"].startswith(
        "1.2 | Kath from Shifnal, James from Kidderminster and Sue from Redditch\n"
    )
    assert "Response:" in rows["1.2"] and "Not reached in the meeting" in rows["1.3"]
    assert rows["2.1"].startswith("2.1 | OCC performance")
    assert rows["3.1"].startswith("3.1 | Jane from Wyre Forest and 2 others: How are officers")
    assert rows["4"] == "4 | ACTIONS ARISING"
    assert "Owner: CC" in rows["4.1"] and "unresourced incidents" in rows["4.1"]
    assert sum("Written answer to" in v and "Owner: OPCC" in v for v in rows.values()) == 3
    assert "Tuesday 31 July, Hindlip" in rows["6"]
    chair = sign_in(app, CHAIR)
    button = chair.post(f"{base}/notes.docx", data={"chair": "John Campion"})
    assert button.status_code == 200 and "Chair: John Campion" in docx_text(button.data)

    # retention: nobody is identifiable any more; the figures are the same
    assert erase_expired() > 0
    with rt.db.engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(row)) for table in Base.metadata.sorted_tables
            for row in conn.execute(table.select())
        )  # fmt: skip
    assert [word for word in PERSONAL if word in dump] == []
    assert figures(rt, run.meeting_id).as_dict() == after_answers.as_dict()
    public = app.test_client().get(f"/meetings/{run.slug}/answers").get_data(as_text=True)
    assert all(str(escape(answer)) in public for answer in ANSWERS.values())
