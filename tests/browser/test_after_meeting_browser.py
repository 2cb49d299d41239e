"""Written answers, the report and the notes in Chromium: two officers answer a not-covered
question, the report shows its charts, and every page passes axe-core and fits a 320 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from domain.runtime import Runtime
from tests.browser.conftest import Pages, assert_accessible, assert_fits
from tests.support.meeting_run import APPROVER, CHAIR, PASSWORD, WRITER, seed_meeting_run

pytestmark = pytest.mark.browser
PHONE_320 = {"width": 320, "height": 640}


def _sign_in(pages: Pages, email: str) -> Page:
    page = pages.open("/triage/login")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Meetings")).to_be_visible()
    return page


def test_answer_report_and_notes_pages(pages: Pages, rt: Runtime) -> None:
    run = seed_meeting_run(rt)
    queue = f"/triage/meetings/{run.meeting_id}/answers"
    writer = _sign_in(pages, WRITER)
    writer.goto(queue)
    assert_accessible(writer, "written answers queue")
    roads = writer.locator(f"#g{run.groups['roads']}")
    roads.get_by_label("Answer").fill("Roads policing remains a priority.")
    roads.get_by_role("button", name="Save answer").click()
    expect(writer.get_by_text("Another member of staff must approve it")).to_be_visible()
    writer.locator(f"#g{run.groups['roads']}").get_by_role(
        "button", name="Approve and send"
    ).click()
    expect(writer.get_by_text("A different member of staff must approve")).to_be_visible()

    approver = _sign_in(pages, APPROVER)
    approver.goto(queue)
    approver.locator(f"#g{run.groups['roads']}").get_by_role(
        "button", name="Approve and send"
    ).click()
    expect(approver.get_by_text("Answer approved and published; 2 email(s)")).to_be_visible()
    assert_accessible(approver, "queue with deliveries")

    chair = _sign_in(pages, CHAIR)
    chair.goto(queue)
    expect(chair.get_by_role("button", name="Save answer")).to_have_count(0)
    chair.goto(f"/triage/meetings/{run.meeting_id}/report")
    expect(chair.locator("#summary")).to_contain_text("total number of questions to 13")
    charts = chair.locator("img.of-chart")
    expect(charts).to_have_count(3)
    for n in range(3):  # each PNG loaded (the CSP allows it) and has a text alternative
        assert charts.nth(n).evaluate("img => img.complete && img.naturalWidth > 0")
        assert "chart" in (charts.nth(n).get_attribute("alt") or "")
    assert_accessible(chair, "meeting report")
    chair.goto(f"/triage/meetings/{run.meeting_id}/notes")
    assert_accessible(chair, "meeting notes form")
    with chair.expect_download() as download:
        chair.get_by_role("button", name="Download the notes (Word document)").click()
    assert download.value.suggested_filename == f"{run.slug}-notes.docx"

    public = pages.open(f"/meetings/{run.slug}/answers", PHONE_320)
    expect(public.get_by_text("Roads policing remains a priority.")).to_be_visible()
    assert_accessible(public, "public answers")
    assert_fits(public, "public answers at 320 px")
    writer.set_viewport_size(PHONE_320)
    for path in (queue, f"/triage/meetings/{run.meeting_id}/report"):
        writer.goto(path)
        assert_fits(writer, f"{path} at 320 px")
