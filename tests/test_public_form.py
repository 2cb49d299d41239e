"""The public question form through the Flask test client (browser tests: tests/browser).

Every database test runs on SQLite and PostgreSQL (the ``database_url`` fixture).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from domain.models import Meeting, MeetingKind, MeetingStatus, OutboxMessage
from domain.queue import INGEST_QUEUE, queue
from domain.runtime import Runtime
from intake import antispam
from intake import outbox as outbox_module
from intake.forms import QUESTION_LIMIT, clean_line, clean_text, external_id_for
from intake.outbox import relay
from intake.views import _client_key, describe_when
from tests.support.processes import wait_for
from tests.support.servers import RedisServer, free_port

ANSWERS = {
    "question": "Why are sheep being stolen from farms near Clun,\nand what is being done?",
    "name": "Les",
    "town": "Clun",
    "email": "les@example.org",
    "consent_publish": "y",
}
EVIL = "<script>alert('owned')</script>"
EVIL_NAME = '"><img src=x onerror=alert(1)>'


# ---------------------------------------------------------------------------------------------
# helpers


class _Fields(HTMLParser):
    """Collect form controls (name -> value), script tags and element attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[dict[str, str | None]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "script":
            self.scripts.append(a)
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.values[str(a["name"])] = a.get("value") or ""
        if tag == "textarea" and a.get("name"):
            self._textarea = str(a["name"])
            self.values[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def parse(html: str) -> _Fields:
    parser = _Fields()
    parser.feed(html)
    return parser


def textarea_value(html: str) -> str:
    # HTML drops one newline straight after <textarea>
    value = parse(html).values["question"]
    return value[1:] if value.startswith("\n") else value


def error_messages(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(
            r'class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>'
            r"(.*?)</p>",
            html,
            flags=re.S,
        )
    ]


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = html.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    return [
        (href, re.sub(r"\s+", " ", text).strip())
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', summary, flags=re.S)
    ]


class Visitor:
    """One person using the public form through a test client (CSRF on, as in production)."""

    def __init__(self, client: FlaskClient, slug: str) -> None:
        self.client = client
        self.slug = slug
        self.page = ""
        self.fields: dict[str, str] = {}

    def _remember(self, html: str) -> None:
        self.page = html
        found = parse(html).values
        for key in ("csrf_token", antispam.TOKEN_FIELD):
            if key in found:
                self.fields[key] = found[key]

    def open_form(self) -> Any:
        response = self.client.get(f"/meetings/{self.slug}/ask")
        assert response.status_code == 200
        self._remember(response.text)
        return response

    def post(self, path: str, answers: dict[str, str], **extra: str) -> Any:
        data = {**self.fields, **answers, **extra}
        response = self.client.post(f"/meetings/{self.slug}/{path}", data=data)
        if response.status_code != 303:
            self._remember(response.text)
        return response

    def continue_(self, answers: dict[str, str], **extra: str) -> Any:
        return self.post("ask", answers, **extra)

    def send(self, answers: dict[str, str], **extra: str) -> Any:
        return self.post("send", answers, **extra)


def outbox_rows(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def add_meeting(
    rt: Runtime, slug: str, status: MeetingStatus, days: int = 14, **kw: Any
) -> Meeting:
    with rt.db.transaction() as session:
        m = Meeting(
            slug=slug,
            title=kw.pop("title", f"Meeting {slug}"),
            theme=kw.pop("theme", "Roads"),
            status=status,
            scheduled_start=datetime.now(UTC) + timedelta(days=days),
            **kw,
        )
        session.add(m)
    return m


@pytest.fixture(autouse=True)
def _csrf_on(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def visitor(client: FlaskClient, meeting: Meeting) -> Visitor:
    v = Visitor(client, meeting.slug)
    v.open_form()
    return v


def use_settings(monkeypatch: pytest.MonkeyPatch, rt: Runtime, **changes: Any) -> None:
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, **changes))


# ---------------------------------------------------------------------------------------------
# pages


def test_start_page_says_what_when_and_how_to_watch(client: FlaskClient, rt: Runtime) -> None:
    add_meeting(
        rt,
        "county-lines",
        MeetingStatus.OPEN,
        title="County lines – Facebook Live",
        theme="Drugs and county lines",
        kind=MeetingKind.FACEBOOK_LIVE,
        watch_url="https://www.facebook.com/example/live",
        venue="Hindlip Hall",
    )
    with rt.db.transaction() as session:
        m = session.scalar(select(Meeting).where(Meeting.slug == "county-lines"))
        assert m is not None
        start = m.scheduled_start
    page = client.get("/meetings/county-lines")
    assert page.status_code == 200
    text = page.text
    assert "County lines – Facebook Live" in text
    assert "Drugs and county lines" in text
    assert describe_when(start) in text
    assert 'href="https://www.facebook.com/example/live"' in text
    assert "Hindlip Hall" in text
    assert 'href="/meetings/county-lines/ask"' in text and "govuk-button--start" in text
    missing = client.get("/meetings/nope")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert client.get("/meetings/nope/ask").status_code == 404


def test_watch_link_only_for_web_addresses(client: FlaskClient, rt: Runtime) -> None:
    add_meeting(rt, "odd", MeetingStatus.OPEN, watch_url="javascript:alert(1)")
    page = client.get("/meetings/odd").text
    assert "javascript:" not in page
    assert "will be published on this page" in page


def test_describe_when_uses_uk_time() -> None:
    summer = datetime(2026, 6, 4, 18, 0, tzinfo=UTC)  # 7pm BST
    assert describe_when(summer) == "Thursday 4 June 2026 at 7pm"
    assert describe_when(datetime(2026, 1, 6, 12, 0)) == "Tuesday 6 January 2026 at midday"
    assert describe_when(datetime(2026, 1, 6, 18, 30)) == "Tuesday 6 January 2026 at 6:30pm"


def test_ask_goes_to_the_meeting_taking_questions(client: FlaskClient, rt: Runtime) -> None:
    none = client.get("/ask")
    assert none.status_code == 200 and "No meeting is taking questions" in none.text
    add_meeting(rt, "closed-one", MeetingStatus.CLOSED, days=-30)
    add_meeting(rt, "soon", MeetingStatus.OPEN, days=3)
    assert client.get("/ask").headers["Location"].endswith("/meetings/soon/ask")
    add_meeting(rt, "on-air", MeetingStatus.LIVE, days=20)
    # a meeting on air wins over one merely open
    assert client.get("/ask").headers["Location"].endswith("/meetings/on-air/ask")


def test_question_page_asks_for_the_minimum(visitor: Visitor) -> None:
    page = visitor.page
    doc = parse(page)
    names = {a.get("name") for tag, a in doc.elements if tag in ("input", "textarea")}
    assert names == {
        "csrf_token",
        antispam.TOKEN_FIELD,
        "question",
        "name",
        "town",
        "email",
        "consent_publish",
        antispam.HONEYPOT_FIELD,
    }
    # labels for every visible field, and the hints the brief asks for
    for field, label in [
        ("question", "Your question"),
        ("name", "First name (optional)"),
        ("town", "Town or village (optional)"),
        ("email", "Email address (optional)"),
    ]:
        assert re.search(
            rf'<label class="govuk-label[^"]*" for="{field}">\s*{re.escape(label)}', page
        )
    assert "Do not include personal details of other people" in page
    assert "Only if you would like a written answer" in page
    # consent is a separate, explicit opt-in: unticked by default
    consent = [a for t, a in doc.elements if t == "input" and a.get("name") == "consent_publish"]
    assert consent and consent[0]["type"] == "checkbox" and "checked" not in consent[0]
    assert "read out and publish my first name and town or village" in page
    # GOV.UK character count, limit on the server only: no maxlength, no HTML required
    assert 'data-module="govuk-character-count"' in page
    assert f'data-maxlength="{QUESTION_LIMIT}"' in page
    assert f"You can enter up to {QUESTION_LIMIT} characters" in page
    for tag, a in doc.elements:
        if tag in ("input", "textarea"):
            assert "maxlength" not in a and "required" not in a, (tag, a)
    # autocomplete tokens (WCAG 1.3.5)
    autocomplete = {a.get("name"): a.get("autocomplete") for t, a in doc.elements if t == "input"}
    assert autocomplete["name"] == "given-name"
    assert autocomplete["town"] == "address-level2"
    assert autocomplete["email"] == "email"
    # the honeypot: off-screen, not announced, not in the tab order
    trap = next(a for t, a in doc.elements if a.get("name") == antispam.HONEYPOT_FIELD)
    assert trap["tabindex"] == "-1" and trap["autocomplete"] == "off" and trap["value"] == ""
    assert re.search(r'<div class="of-hp" aria-hidden="true">\s*<label', page)


# ---------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"question": ""}, "question", "Enter your question"),
        ({"question": "   \n\t "}, "question", "Enter your question"),
        (
            {"question": "x" * (QUESTION_LIMIT + 1)},
            "question",
            f"Your question must be {QUESTION_LIMIT} characters or fewer",
        ),
        (
            {"question": "Ok?", "name": "n" * 81},
            "name",
            "First name must be 80 characters or fewer",
        ),
        (
            {"question": "Ok?", "town": "t" * 81},
            "town",
            "Town or village must be 80 characters or fewer",
        ),
        (
            {"question": "Ok?", "email": "not-an-email"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"question": "Ok?", "email": "les@example"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"question": "Ok?", "email": "les smith@example.org"},
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"question": "Ok?", "email": "a" * 250 + "@example.org"},
            "email",
            "Email address must be 254 characters or fewer",
        ),
    ],
)
def test_each_error_message_links_to_its_field(
    visitor: Visitor, rt: Runtime, answers: dict[str, str], field: str, message: str
) -> None:
    response = visitor.continue_(answers)
    assert response.status_code == 200
    page = response.text
    assert "<title>Error: " in page
    assert summary_links(page) == [(f"#{field}", message)]
    assert error_messages(page) == [message]
    # what was typed is still there (as cleaned: line endings, stray whitespace)
    values = parse(page).values
    for key, value in answers.items():
        if key == "question":
            assert textarea_value(page) == clean_text(value)
        else:
            assert values[key] == clean_line(value)
    assert outbox_rows(rt) == []


def test_all_errors_at_once_in_field_order(visitor: Visitor) -> None:
    page = visitor.continue_(
        {"question": "", "name": "n" * 81, "town": "t" * 81, "email": "x"}
    ).text
    assert [href for href, _ in summary_links(page)] == ["#question", "#name", "#town", "#email"]


def test_limit_counts_line_breaks_once_and_allows_exactly_the_limit(visitor: Visitor) -> None:
    # browsers send CRLF for a new line; the character count shows 1 for it, so do we
    text = ("a" * 99 + "\r\n") * 12  # 1200 characters once CRLF becomes LF, trailing one stripped
    response = visitor.continue_({"question": text})
    assert "Check your question before sending it" in response.text
    assert visitor.continue_({"question": "b" * QUESTION_LIMIT}).status_code == 200
    assert "Check your question" in visitor.page


def test_cleaning_filters() -> None:
    assert clean_text(" a\r\nb\x00c\rd\x07 ") == "a\nbc\nd"
    assert clean_line("  Les \t  Smith\x00 ") == "Les Smith"
    assert clean_text("family 👨‍👩‍👧 ok") == "family 👨‍👩‍👧 ok"  # zero-width joiners kept
    assert clean_text(None) == ""  # an absent field reads as empty


# ---------------------------------------------------------------------------------------------
# check your answers, change, send, confirmation


def test_check_answers_then_change_keeps_everything(visitor: Visitor, rt: Runtime) -> None:
    check = visitor.continue_(ANSWERS)
    assert check.status_code == 200
    page = check.text
    assert "Check your question before sending it" in page
    assert 'class="govuk-summary-list' in page
    for value in ("Les", "Clun", "les@example.org"):
        assert value in page
    assert "Why are sheep being stolen from farms near Clun,\nand what is being done?" in page
    assert "Yes, you can read out and publish" in page
    hidden = parse(page).values
    assert {k: hidden[k] for k in ANSWERS} == ANSWERS
    assert outbox_rows(rt) == []  # nothing stored before the person chooses to send

    for field in ("question", "name", "town", "email", "consent_publish"):
        assert f'formaction="/meetings/{visitor.slug}/ask?change={field}#{field}"' in page
    assert re.search(r"Change<span class=\"govuk-visually-hidden\"> email address</span>", page)

    back = visitor.post("ask?change=email", hidden)
    assert back.status_code == 200
    assert "Ask a question" in back.text and "There is a problem" not in back.text
    assert textarea_value(back.text) == ANSWERS["question"]
    values = parse(back.text).values
    assert values["email"] == "les@example.org" and values["consent_publish"] == "y"
    for field in ("question", "name", "town", "email", "consent_publish"):
        page = visitor.post(f"ask?change={field}", hidden).text
        focused = [a.get("id") for _, a in parse(page).elements if "autofocus" in a]
        assert focused == [field]  # the field being changed, and only that one
    fresh = visitor.client.get(f"/meetings/{visitor.slug}/ask").text
    assert "autofocus" not in fresh

    # change the email, continue: the check page shows the new one
    again = visitor.continue_({**ANSWERS, "email": "les.new@example.org"})
    assert "les.new@example.org" in again.text and "les@example.org" not in again.text


def test_optional_fields_left_empty(visitor: Visitor, rt: Runtime) -> None:
    page = visitor.continue_({"question": "Just a question?"}).text
    assert page.count("Not given") == 3
    assert "you will not get a written answer by email" in page
    response = visitor.send({"question": "Just a question?"})
    assert response.status_code == 303
    [row] = outbox_rows(rt)
    assert row.payload["author_name"] is None and row.payload["contact_email"] is None
    assert row.payload["consent_publish"] is False
    confirmation = visitor.client.get(response.headers["Location"]).text
    assert (
        "contact the Office of the Police and Crime Commissioner with your reference"
        in confirmation
    )


def test_send_is_durable_before_confirmation(visitor: Visitor, rt: Runtime) -> None:
    visitor.continue_(ANSWERS)
    response = visitor.send(ANSWERS)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/meetings/{visitor.slug}/confirmation")
    [row] = outbox_rows(rt)  # committed before the redirect was sent
    assert row.channel == "web"
    assert row.payload["text"] == ANSWERS["question"]
    assert row.payload["author_name"] == "Les"
    assert row.payload["location"] == "Clun"
    assert row.payload["contact_email"] == "les@example.org"
    assert row.payload["consent_publish"] is True
    assert row.payload["phase"] == "advance"
    token = antispam.read("test-secret", visitor.fields[antispam.TOKEN_FIELD])
    assert token is not None
    assert row.external_id == external_id_for(token.key, ANSWERS["question"])

    page = visitor.client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.text
    assert "Question sent" in html and 'class="govuk-panel' in html
    assert f'<strong id="reference">{row.payload["reference"]}</strong>' in html
    assert "We group similar questions" in html
    assert "If yours is not covered on the night you will get a written answer by email" in html
    assert "How to watch" in html or "Watch the meeting live" in html


def test_confirmation_needs_a_sent_question(client: FlaskClient, meeting: Meeting) -> None:
    response = client.get(f"/meetings/{meeting.slug}/confirmation")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{meeting.slug}")
    assert client.get(f"/meetings/{meeting.slug}/send").status_code == 302


def test_question_sent_while_live_is_a_live_question(client: FlaskClient, rt: Runtime) -> None:
    add_meeting(rt, "on-air", MeetingStatus.LIVE, days=0)
    v = Visitor(client, "on-air")
    assert "The meeting is live now" in v.open_form().text
    assert v.send({"question": "Is anyone watching the A49 tonight?"}).status_code == 303
    [row] = outbox_rows(rt)
    assert row.payload["phase"] == "live"


# ---------------------------------------------------------------------------------------------
# closed meetings


def test_closed_meeting_says_so_and_points_to_the_next(client: FlaskClient, rt: Runtime) -> None:
    add_meeting(rt, "last-month", MeetingStatus.CLOSED, days=-30, title="Last month")
    closed = client.get("/meetings/last-month/ask")
    assert closed.status_code == 200
    assert "Questions for this meeting have closed" in closed.text
    assert "No other meeting is taking questions" in closed.text
    assert 'name="question"' not in closed.text
    start = client.get("/meetings/last-month").text
    assert "Questions have closed" in start and "govuk-button--start" not in start

    add_meeting(rt, "next-one", MeetingStatus.OPEN, days=10, title="Next one")
    closed = client.get("/meetings/last-month/ask").text
    assert 'href="/meetings/next-one"' in closed and "Next one" in closed


def test_meeting_closing_while_someone_types_keeps_their_text(
    visitor: Visitor, rt: Runtime, meeting: Meeting
) -> None:
    add_meeting(rt, "next-one", MeetingStatus.OPEN, days=10, title="Next one")
    visitor.continue_(ANSWERS)
    with rt.db.transaction() as session:
        session.get(Meeting, meeting.id).status = MeetingStatus.CLOSED  # type: ignore[union-attr]
    response = visitor.send(ANSWERS)
    assert response.status_code == 409
    assert "Your question has not been sent" in response.text
    assert "Why are sheep being stolen" in response.text
    assert outbox_rows(rt) == []
    # one button carries it to the next meeting's question page, filled in
    moved = visitor.client.post(
        "/meetings/next-one/ask?change=question", data={**parse(response.text).values}
    )
    assert moved.status_code == 200
    assert textarea_value(moved.text) == ANSWERS["question"]
    assert parse(moved.text).values["name"] == "Les"


# ---------------------------------------------------------------------------------------------
# abuse and safety


def test_csrf_missing_session_keeps_text(visitor: Visitor, rt: Runtime) -> None:
    visitor.client.delete_cookie("session")
    response = visitor.continue_(ANSWERS)
    assert response.status_code == 400
    assert "This page timed out, so your question has not been sent yet" in response.text
    assert textarea_value(response.text) == ANSWERS["question"]
    assert parse(response.text).values["email"] == "les@example.org"
    # the page has a fresh token that works
    assert "Check your question" in visitor.continue_(ANSWERS).text


def test_csrf_expired_on_send_keeps_text_and_new_token_works(
    app: Flask, visitor: Visitor, rt: Runtime
) -> None:
    visitor.continue_(ANSWERS)
    old_token = visitor.fields["csrf_token"]
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    time.sleep(2.1)
    response = visitor.send(ANSWERS)
    assert response.status_code == 400
    page = response.text
    assert "This page timed out" in page
    assert "Check your question before sending it" in page  # still on the check step
    assert {k: parse(page).values[k] for k in ANSWERS} == ANSWERS
    assert visitor.fields["csrf_token"] != old_token
    assert outbox_rows(rt) == []
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    assert visitor.send(ANSWERS).status_code == 303
    assert len(outbox_rows(rt)) == 1


def test_csrf_forged_token_refused(visitor: Visitor, rt: Runtime) -> None:
    visitor.fields["csrf_token"] = "forged"
    response = visitor.send(ANSWERS)
    assert response.status_code == 400
    assert outbox_rows(rt) == []


def test_rate_limit_page_keeps_text(
    visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, rt, form_rate_limit="2 per minute")
    for n in range(2):
        visitor.open_form()  # a form token sends one question
        assert visitor.send({"question": f"Question number {n}?"}).status_code == 303
    visitor.open_form()
    response = visitor.send(ANSWERS)
    assert response.status_code == 429
    assert "A lot of questions have been sent from your internet connection" in response.text
    assert "Retry-After" in response.headers
    assert {k: parse(response.text).values[k] for k in ANSWERS} == ANSWERS
    assert len(outbox_rows(rt)) == 2
    # another address (another household) is not affected; a village hall shares one, hence
    # the generous default
    other = Visitor(visitor.client.application.test_client(), visitor.slug)
    other.client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    other.open_form()
    assert other.send({"question": "From next door?"}).status_code == 303
    # the form page itself is never rate limited
    for _ in range(3):
        assert visitor.client.get(f"/meetings/{visitor.slug}/ask").status_code == 200


def test_rate_limit_key_is_not_the_address(app: Flask) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.77"}):
        first = _client_key()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.78"}):
        second = _client_key()
    assert first != second
    assert "203.0.113" not in first + second


def test_honeypot_asks_to_confirm_and_keeps_text(visitor: Visitor, rt: Runtime) -> None:
    visitor.continue_(ANSWERS)
    response = visitor.send(ANSWERS, **{antispam.HONEYPOT_FIELD: "http://cheap-pills.example"})
    assert response.status_code == 200
    page = response.text
    assert "Please confirm you want to send this question" in page
    # neutral: nothing tells a script which trap it hit
    assert not re.search(r"\b(bots?|robots?|spam|honeypot|suspicious)\b", page, re.I)
    assert outbox_rows(rt) == []
    values = parse(page).values
    assert {k: values[k] for k in ANSWERS} == ANSWERS
    assert values[antispam.HONEYPOT_FIELD] == ""
    # a person confirms (the trap field is empty again): it is sent
    assert visitor.send(ANSWERS).status_code == 303
    assert len(outbox_rows(rt)) == 1


def test_too_fast_asks_to_confirm_then_passes(
    visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, rt, min_fill_seconds=30)
    visitor.continue_(ANSWERS)
    response = visitor.send(ANSWERS)
    assert response.status_code == 200
    assert "Please confirm you want to send this question" in response.text
    assert outbox_rows(rt) == []
    # the same form, 31 seconds after it was shown
    issued = antispam.read("test-secret", visitor.fields[antispam.TOKEN_FIELD])
    assert issued is not None
    later = issued.issued_at + 31
    monkeypatch.setattr(antispam.time, "time", lambda: later)
    assert visitor.send(ANSWERS).status_code == 303
    assert len(outbox_rows(rt)) == 1


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJrIjoieCIsInQiOjB9.forged"])
def test_missing_or_forged_token_asks_to_confirm_with_a_fresh_token(
    visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    use_settings(monkeypatch, rt, min_fill_seconds=2)
    visitor.fields[antispam.TOKEN_FIELD] = token
    response = visitor.send(ANSWERS)
    assert response.status_code == 200
    assert "Please confirm you want to send this question" in response.text
    assert outbox_rows(rt) == []
    fresh = antispam.read("test-secret", visitor.fields[antispam.TOKEN_FIELD])
    assert fresh is not None and abs(fresh.issued_at - time.time()) < 5
    # a person reads the page for a couple of seconds, then confirms
    monkeypatch.setattr(antispam.time, "time", lambda: fresh.issued_at + 3)
    assert visitor.send(ANSWERS).status_code == 303


def test_antispam_unit() -> None:
    token = antispam.issue("k", now=1000.0)
    assert antispam.read("k", token.signed) == token
    assert antispam.read("other-secret", token.signed) is None
    assert antispam.read("k", token.signed + "x") is None
    assert antispam.check({}, token, 2, now=1001.0).reason == "too-fast"
    assert antispam.check({}, token, 2, now=1002.5).passed
    assert antispam.check({"website": "x"}, token, 2, now=2000).reason == "honeypot"
    assert antispam.check({}, None, 0).reason == "token"


# ---------------------------------------------------------------------------------------------
# nothing lost, nothing twice


def test_resubmission_creates_no_second_question(visitor: Visitor, rt: Runtime) -> None:
    visitor.continue_(ANSWERS)
    first = visitor.send(ANSWERS)
    reference = visitor.client.get(first.headers["Location"]).text
    # double click / back button and send again: same form, same text
    second = visitor.send(ANSWERS)
    assert second.status_code == 303
    again = visitor.client.get(second.headers["Location"]).text
    ref1 = re.search(r'id="reference">([^<]+)<', reference)
    ref2 = re.search(r'id="reference">([^<]+)<', again)
    assert ref1 and ref2 and ref1.group(1) == ref2.group(1)
    assert len(outbox_rows(rt)) == 1


def test_concurrent_double_click_stores_one_question(visitor: Visitor, rt: Runtime) -> None:
    app = visitor.client.application
    data = {**visitor.fields, **ANSWERS}
    cookie = visitor.client.get_cookie("session")
    assert cookie is not None
    results: list[int] = []

    def click() -> None:
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        results.append(c.post(f"/meetings/{visitor.slug}/send", data=data).status_code)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303] * 4
    assert len(outbox_rows(rt)) == 1


def test_going_back_and_writing_another_question_is_not_swallowed(
    visitor: Visitor, rt: Runtime
) -> None:
    assert visitor.send(ANSWERS).status_code == 303
    # The form's token has sent a question: another one is asked to confirm (a fresh token,
    # tokens are single use), and confirming sends it.
    another = {**ANSWERS, "question": "And what about quad bikes?"}
    confirm = visitor.send(another)
    assert confirm.status_code == 200 and len(outbox_rows(rt)) == 1
    assert visitor.send(another).status_code == 303
    rows = outbox_rows(rt)
    assert len(rows) == 2
    assert rows[0].payload["reference"] != rows[1].payload["reference"]


def test_redis_down_still_succeeds_then_relay_catches_up(
    visitor: Visitor, rt: Runtime, redis_server: RedisServer
) -> None:
    visitor.continue_(ANSWERS)
    redis_server.stop()
    try:
        response = visitor.send(ANSWERS)
        assert response.status_code == 303
        page = visitor.client.get(response.headers["Location"])
        assert "Question sent" in page.text
        # the pusher thread, finding no Redis, hands the row back to the scheduler's relay
        wait_for(lambda: [r.relayed_at for r in outbox_rows(rt)] == [None], timeout=10)
    finally:
        redis_server.start()
    assert relay(rt) == 1
    [row] = outbox_rows(rt)
    assert row.relayed_at is not None
    ingest = queue(rt.redis, rt.prefix, INGEST_QUEUE)
    assert ingest.count == 1  # no worker in this test: the job waits in the queue
    [job] = ingest.get_jobs()
    assert job.args[0]["reference"] == row.payload["reference"]


def _dead_database_url(live_url: str, tmp_path: Path) -> str:
    if live_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-dir' / 'gone' / 'openfloor.sqlite3'}"
    return f"postgresql+psycopg://openfloor@127.0.0.1:{free_port()}/openfloor?connect_timeout=2"


def test_database_down_shows_503_and_keeps_text(
    visitor: Visitor, rt: Runtime, database_url: str, tmp_path: Path
) -> None:
    visitor.continue_(ANSWERS)
    rt.db.bind(_dead_database_url(database_url, tmp_path))
    try:
        # sending from the check page
        response = visitor.send(ANSWERS)
        assert response.status_code == 503
        page = response.text
        assert "Sorry, we cannot save questions at the moment" in page
        assert {k: parse(page).values[k] for k in ANSWERS} == ANSWERS
        assert "Why are sheep being stolen" in page
        # continuing from the question page
        response = visitor.continue_(ANSWERS)
        assert response.status_code == 503
        assert textarea_value(response.text) == ANSWERS["question"]
        # pages that only read say so plainly
        start = visitor.client.get(f"/meetings/{visitor.slug}")
        assert start.status_code == 503
        assert "Sorry, there is a problem with the service" in start.text
    finally:
        rt.db.bind(database_url)
    assert outbox_rows(rt) == []
    assert visitor.send(ANSWERS).status_code == 303
    assert len(outbox_rows(rt)) == 1


def test_database_failing_on_write_shows_503_keeps_text_and_logs_no_sql_parameters(
    visitor: Visitor,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The meeting could be read, but the outbox write fails (disk full, failover…)."""

    def failing_write(_rt: Any, message: Any) -> Any:
        # SQLAlchemy puts the statement's parameters (the question) into str(exc)
        raise OperationalError("INSERT INTO outbox_message", message.to_dict(), Exception("I/O"))

    caplog.set_level(logging.DEBUG)
    visitor.continue_(ANSWERS)
    with monkeypatch.context() as patch:
        patch.setattr(outbox_module, "store", failing_write)
        response = visitor.send(ANSWERS)
    assert response.status_code == 503
    assert "Sorry, we cannot save questions at the moment" in response.text
    assert "Check your question before sending it" in response.text
    assert {k: parse(response.text).values[k] for k in ANSWERS} == ANSWERS
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "database unavailable" in logged
    assert "sheep" not in logged and "les@example.org" not in logged
    assert outbox_rows(rt) == []
    assert visitor.send(ANSWERS).status_code == 303  # and when it is back, it goes through
    assert len(outbox_rows(rt)) == 1


# ---------------------------------------------------------------------------------------------
# headers, escaping, logging


def _pages(visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One response of every kind of public page (with EVIL text where text is shown)."""
    client, slug = visitor.client, visitor.slug
    evil = {**ANSWERS, "question": EVIL, "name": EVIL_NAME}
    add_meeting(rt, "closed", MeetingStatus.CLOSED, days=-3)
    pages: dict[str, Any] = {
        "start": client.get(f"/meetings/{slug}"),
        "question": client.get(f"/meetings/{slug}/ask"),
        "privacy": client.get("/privacy"),
        "closed": client.get("/meetings/closed/ask"),
        "closed start": client.get("/meetings/closed"),
        "not found": client.get("/meetings/no-such-meeting"),
    }
    visitor._remember(pages["question"].text)
    pages["errors"] = visitor.continue_({**evil, "email": "nope"})
    pages["check"] = visitor.continue_(evil)
    pages["change"] = visitor.post("ask?change=question", evil)
    pages["honeypot"] = visitor.send(evil, **{antispam.HONEYPOT_FIELD: "x"})
    sent = visitor.send(evil)
    pages["confirmation"] = client.get(sent.headers["Location"])
    token = visitor.fields["csrf_token"]
    visitor.fields["csrf_token"] = "forged"
    pages["csrf"] = visitor.send(evil)
    visitor.fields["csrf_token"] = token
    use_settings(monkeypatch, rt, form_rate_limit="1 per minute")
    visitor.send(evil)  # a repeat of the one already sent: the first hit of the new limit
    pages["rate limited"] = visitor.send(evil)
    return pages


def test_security_headers_and_nonces_on_every_page(
    visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = _pages(visitor, rt, monkeypatch)
    assert pages["csrf"].status_code == 400 and pages["rate limited"].status_code == 429
    for name, response in pages.items():
        headers = response.headers
        assert headers["X-Frame-Options"] == "SAMEORIGIN", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp, name
        assert "'unsafe-inline'" not in csp, name
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
        assert nonce, (name, csp)
        scripts = parse(response.text).scripts
        assert scripts, name
        for attrs in scripts:
            assert attrs.get("nonce") == nonce.group(1), (name, attrs)
        assert " style=" not in response.text, name  # style-src 'self': no inline styles
        assert "Strict-Transport-Security" not in headers, name  # plain HTTP


def test_hsts_over_https(client: FlaskClient, meeting: Meeting) -> None:
    for path in (f"/meetings/{meeting.slug}", f"/meetings/{meeting.slug}/ask", "/privacy"):
        response = client.get(path, base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_user_text_is_escaped_everywhere(
    visitor: Visitor, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = _pages(visitor, rt, monkeypatch)
    shown = 0
    for name, response in pages.items():
        html = response.text
        assert EVIL not in html, name
        assert "<img src=x" not in html, name
        if "&lt;script&gt;alert(" in html:
            shown += 1
    assert shown >= 6  # errors, check, change, honeypot, csrf, rate limited


def test_personal_data_never_logged(
    visitor: Visitor,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    database_url: str,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = {
        "question": "My neighbour Jo Bloggs at 4 Mill Lane sells drugs, why no arrest?",
        "name": "Tamsin",
        "town": "Bishop's Castle",
        "email": "tamsin.private@example.org",
    }
    visitor.client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    visitor.continue_(secret)
    visitor.send(secret, **{antispam.HONEYPOT_FIELD: "x"})  # trap
    rt.db.bind(_dead_database_url(database_url, tmp_path))
    try:
        visitor.send(secret)  # database down
    finally:
        rt.db.bind(database_url)
    visitor.fields["csrf_token"] = "forged"
    visitor.send(secret)  # csrf
    visitor.open_form()
    use_settings(monkeypatch, rt, form_rate_limit="1 per minute")
    visitor.send(secret)
    visitor.send(secret)  # rate limited
    assert len(outbox_rows(rt)) == 1
    assert caplog.records
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in caplog.records
    )
    for value in [*secret.values(), "Jo Bloggs", "Mill Lane", "203.0.113.77"]:
        assert value not in logged, value
