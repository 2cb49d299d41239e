"""The public form in a real (headless) Chromium: phones, desktop, keyboard only, no JavaScript."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from domain.models import Meeting, MeetingStatus, OutboxMessage, Question
from domain.runtime import Runtime
from intake.validation import QUESTION_LIMIT
from tests.browser.conftest import (
    DESKTOP,
    PHONE_320,
    PHONE_375,
    Pages,
    assert_accessible,
    assert_fits,
)
from tests.support.processes import wait_for

pytestmark = pytest.mark.browser

QUESTION = "Why are sheep being stolen from farms near Clun, and what is being done about it?"
# a long unbroken link must wrap on a 320px phone, not push the page sideways
LONG_WORD = "https://example.org/" + "rural-crime-report-" * 6


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def continue_button(page: Page) -> Any:
    return page.get_by_role("button", name="Continue")


def fill_question_page(page: Page, **answers: str | bool) -> None:
    for label, key in [
        ("Your question", "question"),
        ("First name (optional)", "name"),
        ("Town or village (optional)", "town"),
        ("Email address (optional)", "email"),
    ]:
        if key in answers:
            page.get_by_label(label, exact=True).fill(str(answers[key]))
    if "consent" in answers:
        page.get_by_label("Yes, you can read out and publish").set_checked(bool(answers["consent"]))


def reference_on(page: Page) -> str:
    text = page.locator("#reference").inner_text()
    assert re.fullmatch(r"Q-[0-9A-Z]{4}-[0-9A-Z]{4}", text), text
    return text


@pytest.mark.parametrize(
    "viewport", [PHONE_320, PHONE_375, DESKTOP], ids=["phone-320", "phone-375", "desktop"]
)
def test_journey_start_to_confirmation(
    pages: Pages,
    rt: Runtime,
    meeting: Meeting,
    viewport: dict[str, int],
    shots: Callable[[Page, str], Path],
) -> None:
    name = f"{viewport['width']}x{viewport['height']}"
    page = pages.open(f"/meetings/{meeting.slug}", viewport)
    expect(page.get_by_role("heading", level=1)).to_have_text(meeting.title)
    expect(page.get_by_text("Rural crime").first).to_be_visible()
    assert_accessible(page, "start page")
    assert_fits(page, "start page")
    shots(page, f"start-{name}")

    page.get_by_role("button", name="Ask a question").click()
    expect(page).to_have_url(re.compile(rf"/meetings/{meeting.slug}/ask$"))
    # GOV.UK's character count, driven by its JavaScript
    expect(page.locator(".govuk-character-count__status")).to_have_text(
        re.compile(r"You have 1,?200 characters remaining")
    )
    assert_accessible(page, "question page")
    assert_fits(page, "question page")
    shots(page, f"question-{name}")

    # nothing typed: the error summary takes focus and links to the field
    continue_button(page).click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter your question")
    assert page.title().startswith("Error: ")
    assert_accessible(page, "question page with errors")
    assert_fits(page, "question page with errors")
    shots(page, f"errors-{name}")
    summary.get_by_role("link", name="Enter your question").click()
    expect(page.get_by_label("Your question", exact=True)).to_be_focused()

    fill_question_page(
        page,
        question=f"{QUESTION}\nSee {LONG_WORD}",
        name="Les",
        town="Clun",
        email="les@example.org",
        consent=True,
    )
    continue_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your question before sending it"
    )
    expect(page.locator("#answer-question")).to_contain_text(QUESTION)
    expect(page.locator("#answer-email")).to_have_text("les@example.org")
    assert_accessible(page, "check answers")
    assert_fits(page, "check answers")
    shots(page, f"check-{name}")

    # change: back to the question page with everything still there
    page.get_by_role("button", name="Change your question").click()
    question = page.get_by_label("Your question", exact=True)
    expect(question).to_have_value(f"{QUESTION}\nSee {LONG_WORD}")
    expect(page.get_by_label("Email address (optional)")).to_have_value("les@example.org")
    expect(page.get_by_label("Yes, you can read out and publish")).to_be_checked()
    question.fill(QUESTION)
    continue_button(page).click()
    expect(page.locator("#answer-question")).to_have_text(QUESTION)

    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Question sent")
    reference = reference_on(page)
    expect(page.get_by_text("We group similar questions")).to_be_visible()
    expect(page.get_by_text("you will get a written answer by email")).to_be_visible()
    expect(page.get_by_role("heading", name="Watch the meeting live")).to_be_visible()
    assert_accessible(page, "confirmation")
    assert_fits(page, "confirmation")
    shots(page, f"confirmation-{name}")

    [row] = outbox(rt)
    assert row.payload["reference"] == reference
    assert row.payload["text"] == QUESTION
    assert row.payload["consent_publish"] is True


def test_every_error_message(pages: Pages, meeting: Meeting) -> None:
    page = pages.open(f"/meetings/{meeting.slug}/ask", PHONE_320)
    rounds = [
        (
            {"question": "   ", "name": "n" * 81, "town": "t" * 81, "email": "les@example"},
            [
                ("question", "Enter your question"),
                ("name", "First name must be 80 characters or fewer"),
                ("town", "Town or village must be 80 characters or fewer"),
                ("email", "Enter an email address in the correct format, like name@example.com"),
            ],
        ),
        (
            {
                "question": "q" * (QUESTION_LIMIT + 1),
                "name": "Les",
                "town": "Clun",
                "email": "a" * 250 + "@example.org",
            },
            [
                ("question", f"Your question must be {QUESTION_LIMIT} characters or fewer"),
                ("email", "Email address must be 254 characters or fewer"),
            ],
        ),
    ]
    for answers, expected in rounds:
        fill_question_page(page, **answers)
        continue_button(page).click()
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        links = summary.get_by_role("link")
        expect(links).to_have_text([message for _, message in expected])
        for field, message in expected:
            # the message is next to its field, and the summary link takes you there
            expect(page.locator(f"#{field}-error")).to_contain_text(message)
            summary.get_by_role("link", name=message).click()
            expect(page.locator(f"#{field}")).to_be_focused()
        assert_accessible(page, f"errors {[f for f, _ in expected]}")
        assert_fits(page, "errors")
        # what was typed is still in the fields
        expect(page.locator("#name")).to_have_value(answers["name"])
    # the over-long question was not cut off: no maxlength anywhere
    expect(page.locator("#question")).to_have_value("q" * (QUESTION_LIMIT + 1))
    expect(page.locator(".govuk-character-count__status")).to_have_text(
        "You have 1 character too many"
    )


def _tab_to(page: Page, target: str, limit: int = 40) -> list[str]:
    """Press Tab until ``target`` (an id or accessible text) has focus; returns the stops."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "(() => { const e = document.activeElement;"
            " const text = (e.innerText || e.value || e.tagName).replace(/\\s+/g, ' ');"
            " return e.id || text.trim(); })()"
        )
        stops.append(here)
        if here == target:
            return stops
    raise AssertionError(f"never reached {target!r} by Tab; stops: {stops}")


def test_keyboard_only(pages: Pages, rt: Runtime, meeting: Meeting) -> None:
    page = pages.open(f"/meetings/{meeting.slug}", DESKTOP)
    _tab_to(page, "Ask a question")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/ask$"))
    # keys pressed while the next page is still loading would go nowhere
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask a question")
    page.wait_for_load_state()

    stops = _tab_to(page, "question")
    assert stops[0] == "Skip to main content"
    page.keyboard.type("Why is the 101 number so slow to answer?")
    assert _tab_to(page, "name", limit=1) == ["name"]
    page.keyboard.type("Ann")
    assert _tab_to(page, "town", limit=1) == ["town"]
    page.keyboard.type("Ludlow")
    assert _tab_to(page, "email", limit=1) == ["email"]
    page.keyboard.type("ann@example.org")
    assert _tab_to(page, "consent_publish", limit=1) == ["consent_publish"]
    page.keyboard.press("Space")
    expect(page.locator("#consent_publish")).to_be_checked()
    # the honeypot is skipped: the next stop is the button
    assert _tab_to(page, "Continue", limit=1) == ["Continue"]
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your question before sending it"
    )
    page.wait_for_load_state()
    stops = _tab_to(page, "Change email address")
    assert "website" not in stops
    page.keyboard.press("Enter")
    # the question page opens in the field being changed, with everything kept
    expect(page.locator("#email")).to_be_focused()
    expect(page.locator("#email")).to_have_value("ann@example.org")
    expect(page.locator("#question")).to_have_value("Why is the 101 number so slow to answer?")
    page.keyboard.press("Control+A")
    page.keyboard.type("ann.l@example.org")
    _tab_to(page, "Continue", limit=3)
    page.keyboard.press("Enter")
    expect(page.locator("#answer-email")).to_have_text("ann.l@example.org")
    page.wait_for_load_state()

    stops = _tab_to(page, "Send question")
    assert "website" not in stops
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Question sent")
    [row] = outbox(rt)
    assert row.payload["contact_email"] == "ann.l@example.org"
    assert row.payload["reference"] == reference_on(page)


def test_without_javascript(pages: Pages, rt: Runtime, meeting: Meeting) -> None:
    page = pages.open(f"/meetings/{meeting.slug}", PHONE_375, javascript=False)
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")
    page.get_by_role("button", name="Ask a question").click()
    # the character count message is there without JavaScript
    expect(page.get_by_text(f"You can enter up to {QUESTION_LIMIT} characters")).to_be_visible()

    fill_question_page(page, question="", email="nope")
    continue_button(page).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your question")
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter your question").click()
    expect(page).to_have_url(re.compile(r"#question$"))

    fill_question_page(page, question=QUESTION, email="", town="Bishop's Castle")
    continue_button(page).click()
    expect(page.locator("#answer-town")).to_have_text("Bishop's Castle")
    page.get_by_role("button", name="Change town or village").click()
    expect(page).to_have_url(re.compile(r"change=town#town$"))
    expect(page.locator("#question")).to_have_value(QUESTION)
    page.locator("#town").fill("Clun")
    continue_button(page).click()
    expect(page.locator("#answer-town")).to_have_text("Clun")

    # without JavaScript nothing stops a double click: the idempotency key does
    page.get_by_role("button", name="Send question").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Question sent")
    reference = reference_on(page)
    [row] = outbox(rt)
    assert row.payload["reference"] == reference
    assert row.payload["location"] == "Clun"


def test_other_public_pages_are_accessible(
    pages: Pages,
    rt: Runtime,
    meeting: Meeting,
    monkeypatch: pytest.MonkeyPatch,
    shots: Callable[[Page, str], Path],
) -> None:
    with rt.db.transaction() as session:
        session.add(
            Meeting(
                slug="last-month",
                title="Anti-social behaviour – last month",
                status=MeetingStatus.CLOSED,
                scheduled_start=datetime.now(UTC) - timedelta(days=30),
            )
        )

    page = pages.open("/privacy", PHONE_320)
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    assert_accessible(page, "privacy")
    assert_fits(page, "privacy")

    page = pages.open("/meetings/last-month/ask", PHONE_320)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Questions for this meeting have closed"
    )
    expect(page.get_by_role("link", name=meeting.title)).to_be_visible()
    assert_accessible(page, "closed meeting")
    shots(page, "closed-320")
    assert_fits(page, "closed meeting")

    page = pages.open("/meetings/last-month", PHONE_320)
    assert_accessible(page, "closed meeting start page")

    page = pages.open("/meetings/no-such-meeting", PHONE_320)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page, "page not found")

    # CSRF expired (here: the session cookie is gone): friendly page, text kept
    page = pages.open(f"/meetings/{meeting.slug}/ask", PHONE_320)
    fill_question_page(page, question=QUESTION, name="Les")
    page.context.clear_cookies()
    continue_button(page).click()
    expect(page.locator("#problem")).to_contain_text("This page timed out")
    expect(page.locator("#question")).to_have_value(QUESTION)
    expect(page.locator("#name")).to_have_value("Les")
    assert_accessible(page, "CSRF expired")
    shots(page, "csrf-expired-320")
    assert_fits(page, "CSRF expired")
    continue_button(page).click()  # the fresh token works
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your question before sending it"
    )

    # rate limited: friendly page, text kept
    monkeypatch.setattr(
        rt, "settings", dataclasses.replace(rt.settings, form_rate_limit="0/minute")
    )
    page.get_by_role("button", name="Send question").click()
    expect(page.locator("#problem")).to_contain_text("A lot of questions have been sent")
    expect(page.locator("#answer-question")).to_have_text(QUESTION)
    assert_accessible(page, "rate limited")
    shots(page, "rate-limited-320")
    assert_fits(page, "rate limited")
    assert outbox(rt) == []


def test_question_reaches_the_database(
    pages: Pages, rt: Runtime, meeting: Meeting, worker: Any
) -> None:
    page = pages.open(f"/meetings/{meeting.slug}/ask", DESKTOP)
    fill_question_page(page, question=QUESTION, name="Les", town="Clun", consent=True)
    continue_button(page).click()
    page.get_by_role("button", name="Send question").click()
    reference = reference_on(page)

    def stored() -> Question | None:
        with rt.db.transaction() as session:
            return session.scalar(
                select(Question)
                .options(joinedload(Question.submission))
                .where(Question.meeting_id == meeting.id)
            )

    question = wait_for(stored, timeout=60, interval=0.2)
    assert question.submission.reference == reference
    assert question.submission.raw_text == QUESTION
    assert question.submission.channel == "web"
    assert question.submission.author_name == "Les"
    assert question.submission.location == "Clun"
    assert question.submission.consent_publish is True
    assert question.submission.phase == "advance"
