"""Comments and noise through the worker, the staff list of them, and promoting one."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AuditEvent,
    Meeting,
    Question,
    QuestionKind,
    StaffUser,
    Submission,
)
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from triage.chatter import load_chatter
from workers import processing
from workers.ingest import store_submission


def _send(rt: Runtime, meeting: Meeting, n: int, text: str, channel: str = "facebook") -> None:
    msg = SubmissionMessage(
        meeting_id=meeting.id, channel=channel, external_id=f"c-{n}", reference=f"C-{n}",
        text=text, received_at=datetime.now(UTC).isoformat(), phase="live",
    )  # fmt: skip
    with rt.db.transaction() as session:
        store_submission(session, msg)


def _by_external_id(rt: Runtime) -> dict[str, Question]:
    with rt.db.transaction() as session:
        rows = session.execute(select(Question, Submission.external_id).join(Submission)).all()
        return {ext: q for q, ext in rows}


def test_chatter_is_stored_listed_and_promoted_with_one_action(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _send(rt, meeting, 1, "Evening all from Ludlow 👋")
    _send(rt, meeting, 2, "Sheep stolen from the fields near Clun again this week")
    _send(rt, meeting, 3, "How many officers cover rural Herefordshire?")
    _send(rt, meeting, 4, "Pam nad oes heddlu yn Nhrefyclo?", channel="web")
    processing._states.clear()
    assert processing.process_batch(rt, meeting.id, 100) == 4
    q = _by_external_id(rt)
    assert [q[f"c-{n}"].kind for n in (1, 2, 3, 4)] == [
        QuestionKind.NOISE, QuestionKind.COMMENT, QuestionKind.QUESTION, QuestionKind.QUESTION,
    ]  # fmt: skip
    assert q["c-1"].group_id is None and q["c-2"].group_id is None
    assert q["c-3"].group_id is not None and q["c-4"].group_id is not None
    assert q["c-4"].flags == []

    response = client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302
    board = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    assert "How many officers cover rural" in board and "Pam nad oes heddlu" in board
    assert "Sheep stolen" not in board and "Evening all" not in board
    listed = client.get(f"/triage/meetings/{meeting.id}/comments").get_data(as_text=True)
    assert "Sheep stolen" in listed and "Evening all" in listed
    assert f'data-question-id="{q["c-3"].id}"' not in listed  # a question is not chatter

    comment = q["c-2"]
    done = client.post(f"/triage/meetings/{meeting.id}/questions/{comment.id}/promote")
    assert done.status_code == 302
    q = _by_external_id(rt)
    assert q["c-2"].kind is QuestionKind.QUESTION and q["c-2"].group_id is not None
    assert q["c-2"].group_locked
    assert "Sheep stolen" in client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    again = client.post(f"/triage/meetings/{meeting.id}/questions/{comment.id}/promote")
    assert again.status_code == 400
    with rt.db.transaction() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "question.promote" in actions

    # the worker learns the promotion: a later question asking the same joins its group
    _send(rt, meeting, 5, "Sheep stolen from the fields near Clun again this week?", "web")
    processing.process_batch(rt, meeting.id, 100)
    q = _by_external_id(rt)
    assert q["c-5"].group_id == q["c-2"].group_id


def test_promotion_is_for_staff_and_for_this_meeting_only(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _send(rt, meeting, 1, "Evening all from Ludlow 👋")
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    noise = _by_external_id(rt)["c-1"]
    anonymous = client.post(f"/triage/meetings/{meeting.id}/questions/{noise.id}/promote")
    assert anonymous.status_code == 302 and "/triage/login" in anonymous.headers["Location"]
    client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    wrong = client.post(f"/triage/meetings/{meeting.id + 1}/questions/{noise.id}/promote")
    assert wrong.status_code == 400
    assert _by_external_id(rt)["c-1"].kind is QuestionKind.NOISE


def test_a_comment_close_to_a_group_joins_it_as_one_of_its_questions(
    rt: Runtime, meeting: Meeting
) -> None:
    _send(rt, meeting, 1, "Why do we never see police officers on patrol in Wem any more?", "web")
    _send(rt, meeting, 2, "How many officers cover rural Herefordshire?", "web")
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    _send(rt, meeting, 3, "never see police officers on patrol in Wem any more")
    _send(rt, meeting, 4, "Evening all from Ludlow 👋")
    processing.process_batch(rt, meeting.id, 100)
    q = _by_external_id(rt)
    assert q["c-3"].kind is QuestionKind.QUESTION and q["c-3"].group_id == q["c-1"].group_id
    assert q["c-4"].kind is not QuestionKind.QUESTION and q["c-4"].group_id is None
    with rt.db.transaction() as session:
        listed = load_chatter(session, meeting.id)
    assert [c.id for kind in listed.values() for c in kind] == [q["c-4"].id]


def test_a_comment_raising_a_groups_ask_is_added_to_that_group_with_one_action(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    _send(rt, meeting, 1, "Why do we never see police officers on patrol in Wem any more?", "web")
    _send(rt, meeting, 2, "How many officers cover rural Herefordshire?", "web")
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    for n, text in enumerate(
        ("When will the custody suite in Kidderminster reopen?", "Is the precept going up?"), 4
    ):
        _send(rt, meeting, n, text, "web")
    # close enough to be offered the group, not close enough to join it on its own
    _send(rt, meeting, 3, "no police round here anymore tbh 😡")
    processing.process_batch(rt, meeting.id, 100)
    q = _by_external_id(rt)
    comment, asked = q["c-3"], q["c-1"]
    assert comment.kind is QuestionKind.COMMENT and comment.group_id is None
    # the group it would have joined, had it asked, leads its suggestions
    assert comment.suggestions and comment.suggestions[0]["group_id"] == asked.group_id

    client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    listed = client.get(f"/triage/meetings/{meeting.id}/comments").get_data(as_text=True)
    into = f"/triage/meetings/{meeting.id}/questions/{comment.id}/promote/{asked.group_id}"
    assert f'action="{into}"' in listed and "Add to:" in listed
    offered = {s["group_id"] for s in comment.suggestions}
    other = next(q[k].group_id for k in ("c-2", "c-4", "c-5") if q[k].group_id not in offered)
    elsewhere = f"/triage/meetings/{meeting.id}/questions/{comment.id}/promote/{other}"
    assert client.post(elsewhere).status_code == 400  # not a group suggested for it
    assert client.post(into).status_code == 302
    q = _by_external_id(rt)
    assert q["c-3"].kind is QuestionKind.QUESTION
    assert q["c-3"].group_id == asked.group_id and q["c-3"].group_locked
    with rt.db.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "question.promote")
        ).one()
    assert event.details["to_group"] == asked.group_id
