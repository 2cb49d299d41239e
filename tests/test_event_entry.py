"""Staff card entry: sign-in, a stack of cards typed one after another, errors that keep text."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import Meeting, MeetingStatus, OutboxMessage, Question, Submission
from domain.runtime import Runtime
from intake.validation import QUESTION_LIMIT
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.processes import wait_for

PAGE = "/triage/event-entry"
SHOW = "Shropshire County Show"
REFERENCE = r"Q-[0-9A-Z]{4}-[0-9A-Z]{4}"


@pytest.fixture
def staff(client: FlaskClient, staff_user: Any) -> FlaskClient:
    login = {"email": STAFF_EMAIL, "password": STAFF_PASSWORD}
    signed_in = client.post("/triage/login", data=login)
    assert signed_in.status_code == 302
    return client


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def card(meeting: Meeting, page: str, **fields: str) -> dict[str, str]:
    """The form as the browser would send it: hidden card id from the page, then fields."""
    match = re.search(r'name="card_id" type="hidden" value="([0-9a-f]+)"', page) or re.search(
        r'id="card_id" name="card_id" type="hidden" value="([0-9a-f]+)"', page
    )
    assert match, "no card id on the page"
    return {"card_id": match.group(1), "meeting": str(meeting.id), "event": SHOW, **fields}


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about sign-in, not storage
def test_card_entry_needs_a_signed_in_member_of_staff(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    page = client.get(PAGE)
    assert page.status_code == 302 and "/triage/login" in page.headers["Location"]
    sent = client.post(PAGE, data={"meeting": str(meeting.id), "event": SHOW, "question": "Hi?"})
    assert sent.status_code == 302 and "/triage/login" in sent.headers["Location"]
    assert outbox(rt) == []


def test_a_stack_of_cards_one_after_another_each_stored_once(
    staff: FlaskClient, meeting: Meeting, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = staff.get(PAGE).get_data(as_text=True)
    # Nothing chosen yet: the cursor starts on the meeting; every box has a label.
    assert re.search(r'<select[^>]*id="meeting"[^>]*autofocus', first)
    for name in ("meeting", "event", "question", "name", "town", "email"):
        assert f'for="{name}"' in first, name
    assert 'class="govuk-checkboxes__input" id="consent"' in first

    cards = [
        {"question": "Why are tractors being stolen near Ludlow?", "name": "Kath", "town": "Clun"},
        {"question": "When will Church Stretton get its PCSO back?", "consent": "y"},
        {"question": "Is the 101 line going to be quicker?", "email": "m@example.org"},
    ]
    page = staff.get(f"{PAGE}?meeting={meeting.id}&event={SHOW}").get_data(as_text=True)
    references = []
    for number, fields in enumerate(cards, start=1):
        sent = staff.post(PAGE, data=card(meeting, page, **fields))
        assert sent.status_code == 303  # post/redirect/get: reloading never sends it twice
        page = staff.get(sent.headers["Location"]).get_data(as_text=True)
        saved = re.search(rf"Card saved: ({REFERENCE})", page)
        assert saved, page
        references.append(saved.group(1))
        # Ready for the next card: same meeting and event, empty question box with the cursor.
        assert re.search(rf'<option selected value="{meeting.id}"', page) or re.search(
            rf'<option value="{meeting.id}" selected', page
        )
        assert field_value(page, "event") == SHOW
        assert textarea(page, "question") == ""
        assert re.search(r'<textarea[^>]*name="question"[^>]*autofocus', page)
        assert 'data-disable-auto-focus="true"' in page  # the banner does not steal focus
        count = re.search(r'id="card-count"[^>]*><strong[^>]*>(\d+)</strong>', page)
        assert count and int(count.group(1)) == number
        recent = page[page.index('id="recent-cards"') :]
        listed = re.findall(REFERENCE, recent)
        assert listed[: len(references)] == list(reversed(references))  # newest first

    rows = outbox(rt)
    assert [r.channel for r in rows] == ["event"] * 3
    assert {r.payload["event_name"] for r in rows} == {SHOW}
    assert [r.payload["reference"] for r in rows] == references
    assert rows[0].payload["author_name"] == "Kath" and rows[0].payload["location"] == "Clun"
    assert rows[1].payload["consent_publish"] is False  # consent means nothing without a name
    assert rows[2].payload["contact_email"] == "m@example.org"
    assert all(r.external_id.startswith("card:") for r in rows)
    for private in ("tractors", "Kath", "m@example.org", "Clun"):
        assert private not in caplog.text

    # Saving the same card twice (double press, resend after a network error) stores it once.
    data = card(meeting, page, question="Why is the A5 so dangerous at Nesscliffe?")
    first = staff.get(staff.post(PAGE, data=data).headers["Location"]).get_data(as_text=True)
    reference = re.search(rf"Card saved: ({REFERENCE})", first)
    assert reference
    again = staff.get(staff.post(PAGE, data=data).headers["Location"]).get_data(as_text=True)
    assert f"Already saved as {reference.group(1)}" in again
    assert re.search(r'id="card-count"[^>]*><strong[^>]*>4</strong>', again)
    assert len(outbox(rt)) == 4


def test_a_failed_check_keeps_everything_typed_and_closed_meetings_are_refused(
    staff: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    page = staff.get(f"{PAGE}?meeting={meeting.id}&event={SHOW}").get_data(as_text=True)
    long_text = "Why " + "x" * QUESTION_LIMIT
    sent = staff.post(
        PAGE,
        data=card(meeting, page, question=long_text, name="Les", town="Bishop's Castle")
        | {"email": "les-at-example"},
    )
    assert sent.status_code == 200
    body = sent.get_data(as_text=True)
    assert "govuk-error-summary" in body
    assert f'<a href="#question">Question must be {QUESTION_LIMIT} characters or fewer</a>' in body
    assert (
        '<a href="#email">Enter an email address in the correct format, like name@example.com</a>'
        in body
    )
    assert "<title>Error:" in body
    assert textarea(body, "question") == long_text
    assert field_value(body, "name") == "Les"
    assert field_value(body, "town") == "Bishop's Castle"
    assert field_value(body, "email") == "les-at-example"
    assert field_value(body, "event") == SHOW

    missing = staff.post(PAGE, data={"card_id": "", "meeting": "", "event": "", "question": ""})
    text = missing.get_data(as_text=True)
    for message in ("Select the meeting", "Enter the event name", "Enter the question"):
        assert message in text

    # The meeting stopped taking questions while the page was open.
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    closed = staff.post(PAGE, data=card(meeting, page, question="Still open?"))
    assert closed.status_code == 200
    body = closed.get_data(as_text=True)
    assert "This meeting is not taking questions" in body
    assert re.search(rf'<option (selected )?value="{meeting.id}"( selected)?>[^<]*\(closed\)', body)
    assert textarea(body, "question") == "Still open?"
    assert outbox(rt) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the page, not storage
def test_a_card_sent_from_a_page_left_open_too_long_is_shown_again(
    app: Any, staff: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True  # signed in already; now the token is checked
    page = staff.get(f"{PAGE}?meeting={meeting.id}&event={SHOW}").get_data(as_text=True)
    data = card(meeting, page, question="Sent after a long lunch?", name="Viv")
    sent = staff.post(PAGE, data={**data, "csrf_token": "expired"})
    assert sent.status_code == 400
    body = sent.get_data(as_text=True)
    assert "This page was open too long, so nothing was saved." in body
    assert "<title>Error:" in body
    assert textarea(body, "question") == "Sent after a long lunch?"
    assert field_value(body, "name") == "Viv"
    assert field_value(body, "event") == SHOW
    assert outbox(rt) == []
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert fresh, "no fresh CSRF token on the page"
    again = staff.post(PAGE, data={**data, "csrf_token": fresh.group(1)})
    assert again.status_code == 303
    assert [r.payload["text"] for r in outbox(rt)] == ["Sent after a long lunch?"]


def test_a_card_reaches_the_database_through_a_real_worker(
    staff: FlaskClient, meeting: Meeting, rt: Runtime, worker: Any
) -> None:
    page = staff.get(f"{PAGE}?meeting={meeting.id}&event={SHOW}").get_data(as_text=True)
    text = "Can we have speed cameras through Much Wenlock?"
    sent = staff.post(PAGE, data=card(meeting, page, question=text, name="Ann"))
    assert sent.status_code == 303

    def stored() -> Any:
        with rt.db.transaction() as session:
            return session.execute(
                select(Question.text, Submission.channel, Submission.event_name)
                .join(Submission, Question.submission_id == Submission.id)
                .where(Submission.meeting_id == meeting.id)
            ).first()

    row = wait_for(stored, timeout=30)
    assert tuple(row) == (text, "event", SHOW)
