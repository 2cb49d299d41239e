"""Issue 10, "Done when": a member of staff runs a whole triage of the demo meeting in Chromium.

The demo questions go through the real intake path and a real `openfloor worker`; staff then
moderate, merge, split, compose, order (keyboard and drag and drop), allot minutes and publish.
The published page names only those who opted in, prints cleanly, and the DOCX opens with
python-docx with its numbered items.
"""

from __future__ import annotations

import re
from typing import Any

import docx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from domain.models import Meeting, Question, QuestionStatus, Role, StaffUser
from domain.runtime import Runtime
from intake.submit import submit
from openfloor.demo import load_demo
from tests.browser.conftest import Pages, assert_accessible, assert_fits
from tests.conftest import STAFF_PASSWORD
from tests.support.board import questions_of as _questions
from tests.support.processes import wait_for

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
STAFF = "agenda-staff@example.org"
CHAIR = "agenda-chair@example.org"
FACEBOOK_TEXT = "Watching from Tenbury - is anyone ever prosecuted for heating oil theft?"
ABUSE_TEXT = "You lot are useless fucking idiots, do your job"
ASB_LINE = "Kath from Shifnal, James from Kidderminster and Sue from Redditch"
# demo senders who did not opt in to be named (and their towns), plus the Facebook commenter
NOT_OPTED_IN = [
    "Richard", "Les", "Oswestry", "Margaret", "Leominster", "Keith", "Nat", "Roy", "Phil",
    "Alan", "Gwen", "Kington", "Dave", "Helen", "Tom", "Pershore", "Dan Archer", "Ambridge",
]  # fmt: skip


def _users(rt: Runtime) -> None:
    with rt.db.transaction() as session:
        for email, role in ((STAFF, Role.STAFF), (CHAIR, Role.CHAIR)):
            user = StaffUser(email=email, display_name=role.value, role=role)
            user.set_password(STAFF_PASSWORD)
            session.add(user)


def _demo(rt: Runtime) -> Meeting:
    load_demo(rt, None)
    with rt.db.transaction() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == "rural-crime-live"))
        assert meeting is not None
    # a live Facebook comment and an abusive one, as on the night
    submit(rt, meeting, channel="facebook", text=FACEBOOK_TEXT, author_name="Dan Archer",
           location="Ambridge", external_id="fb-comment-1")  # fmt: skip
    submit(rt, meeting, channel="web", text=ABUSE_TEXT, author_name="Troll", consent_publish=True)
    return meeting


def _by_text(rt: Runtime, meeting_id: int, start: str) -> Question:
    found = [q for q in _questions(rt, meeting_id) if q.text.startswith(start)]
    assert len(found) == 1, start
    return found[0]


def _sign_in(pages: Pages, email: str) -> Page:
    page = pages.open("/triage/login")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Meetings")).to_be_visible()
    return page


def _press(page: Page, form: str, button: str = "button") -> None:
    """Click a button of a board form, unfolding it first if it sits in closed details."""
    target = page.locator(f"{form} {button}").first
    target.evaluate("b => { const d = b.closest('details'); if (d) d.open = true; }")
    with page.expect_navigation():
        target.click()


def _split(page: Page, meeting_id: int, question_id: int) -> None:
    """Split a question into a group of its own, from its "Move or split" page."""
    page.goto(f"/triage/meetings/{meeting_id}/questions/{question_id}/move")
    page.locator("#target-new").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Move question").click()


def _board(page: Page, meeting_id: int) -> None:
    page.goto(f"/triage/meetings/{meeting_id}")


def _visible_text(page: Page) -> str:
    return page.locator("main").inner_text()


def test_staff_run_a_whole_triage_of_the_demo_meeting(
    pages: Pages, rt: Runtime, worker: Any, shots: Any
) -> None:
    _users(rt)
    meeting = _demo(rt)
    wait_for(lambda: len(_questions(rt, meeting.id)) == 23, timeout=120)
    mid = meeting.id
    page = _sign_in(pages, STAFF)

    # moderate: the abusive comment waits in the queue and is rejected, never deleted
    abuse = _by_text(rt, mid, ABUSE_TEXT)
    assert abuse.status == QuestionStatus.FLAGGED
    _board(page, mid)
    _press(page, f'form[action$="/questions/{abuse.id}/status"]', 'button[value="rejected"]')
    assert _by_text(rt, mid, ABUSE_TEXT).status == QuestionStatus.REJECTED

    # a question the moderation model held by mistake is accepted, and joins the board
    asb_starts = ("People openly smoking", "Cars racing up", "Why do I never see police")
    for start in ("Youths vandalising", *asb_starts):
        held = _by_text(rt, mid, start)
        if held.status == QuestionStatus.FLAGGED:
            _board(page, mid)
            _press(page, f'form[action$="/questions/{held.id}/status"]', 'button[value="accepted"]')
            assert _by_text(rt, mid, start).group_id is not None

    # merge: Kath's, James's, Sue's and Priya's questions into one group
    kath = _by_text(rt, mid, "Youths vandalising")
    for start in asb_starts:
        other = _by_text(rt, mid, start)
        if other.group_id != _by_text(rt, mid, "Youths vandalising").group_id:
            page.goto(f"/triage/meetings/{mid}/groups/{other.group_id}/merge")
            page.locator(f'input[type="radio"][value="{kath.group_id}"]').check()
            with page.expect_navigation():
                page.get_by_role("button", name="Merge groups").click()
    asb_group = _by_text(rt, mid, "Youths vandalising").group_id
    assert asb_group is not None
    # split: Priya asked about visibility, not anti-social behaviour; and anything else the
    # worker put with them goes out too, as does whatever the Facebook comment joined
    keep = ("Youths vandalising", "People openly smoking", "Cars racing up")
    for q in _questions(rt, mid):
        if q.group_id == asb_group and not q.text.startswith(keep):
            _split(page, mid, q.id)
    facebook = _by_text(rt, mid, FACEBOOK_TEXT)
    if sum(q.group_id == facebook.group_id for q in _questions(rt, mid)) > 1:
        _split(page, mid, facebook.id)
    priya = _by_text(rt, mid, "Why do I never see police")
    facebook = _by_text(rt, mid, FACEBOOK_TEXT)
    assert priya.group_id not in (asb_group, None)
    assert {q.group_id for q in _questions(rt, mid) if q.text.startswith(keep)} == {asb_group}

    # compose: write the ASB question; accept the suggestion for Priya's and the comment's
    page.goto(f"/triage/meetings/{mid}/groups/{asb_group}")
    expect(page.locator("#attribution")).to_have_text(ASB_LINE)
    expect(page.get_by_text("Cannabis", exact=False).first).to_be_visible()
    assert_accessible(page, "group page")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write the question")
    asb_question = "What are the police doing to engage with local communities about ASB?"
    page.get_by_label("Composed question").fill(asb_question)
    with page.expect_navigation():  # the field already holds the text: wait for the save
        page.get_by_role("button", name="Save question").click()
    expect(page.get_by_label("Composed question")).to_have_value(asb_question)
    for group_id in (priya.group_id, facebook.group_id):
        page.goto(f"/triage/meetings/{mid}/groups/{group_id}")
        suggestion = page.locator("#suggestion").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name="Use the suggestion").click()
        expect(page.get_by_label("Composed question")).to_have_value(suggestion)

    # build: two public-session items, the PCC's own question, the live comment
    page.goto(f"/triage/meetings/{mid}/agenda")
    for group_id, section in ((asb_group, "public_session"), (priya.group_id, "public_session"),
                              (facebook.group_id, "social_media")):  # fmt: skip
        form = page.locator(f"#waiting-{group_id} form").first
        form.locator("select").select_option(section)
        with page.expect_navigation():
            form.get_by_role("button", name="Add as new item").click()
    page.locator("#new-section").select_option("holding_to_account")
    page.locator("#new-title").fill("Rural crime performance")
    page.locator("#new-question").fill("Is the CC satisfied that rural crime is recorded well?")
    page.locator("#new-minutes").fill("15")
    with page.expect_navigation():  # read the agenda only once the new page is there
        page.get_by_role("button", name="Add item").click()

    def numbered() -> list[str]:
        return [
            page.locator(f"#item-{i} .of-agenda-number").inner_text()
            + " "
            + page.locator(f"#item-{i} .of-agenda-heading").inner_text()
            for i in page.locator(".of-agenda-item").evaluate_all(
                "els => els.map(e => e.dataset.itemId)"
            )
        ]

    assert numbered() == [
        f"2.1 {ASB_LINE}", "2.2 Priya from Telford", "3.1 Rural crime performance",
        "4.1 A Facebook viewer",
    ]  # fmt: skip

    # order by keyboard: Alt+Up on Priya's item
    priya_item = page.locator(".of-agenda-item", has_text="Priya from Telford")
    priya_item.focus()
    with page.expect_navigation():
        page.keyboard.press("Alt+ArrowUp")
    assert numbered()[:2] == ["2.1 Priya from Telford", f"2.2 {ASB_LINE}"]
    expect(page.locator(".of-agenda-item", has_text="Priya from Telford")).to_be_focused()
    # and by drag and drop: the ASB item back above Priya's
    asb_item = page.locator(".of-agenda-item", has_text=ASB_LINE)
    with page.expect_navigation():
        asb_item.locator(".of-drag-handle").drag_to(
            page.locator(".of-agenda-item", has_text="Priya from Telford"),
            target_position={"x": 20, "y": 5},
        )
    assert numbered()[:2] == [f"2.1 {ASB_LINE}", "2.2 Priya from Telford"]

    # minutes against the meeting's length
    asb_item = page.locator(".of-agenda-item", has_text=ASB_LINE)
    asb_item.locator("summary").click()
    asb_item.get_by_label("Minutes").fill("20")
    asb_item.get_by_role("button", name="Save item 2.1").click()
    expect(page.locator("#running-total")).to_contain_text("45 of 60 minutes")  # 20+5+15+5
    assert_accessible(page, "agenda builder")
    shots(page, "agenda-builder")

    # publish
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Agenda published")

    # the public page, as anyone sees it
    public = pages.open(f"/meetings/{meeting.slug}/agenda")
    text = _visible_text(public)
    assert "2. Public session: questions submitted in advance" in text
    assert re.search(r"2\.1\s+" + re.escape(ASB_LINE), text), text
    assert re.search(r"2\.2\s+Priya from Telford", text)
    assert re.search(r"3\.1\s+Rural crime performance", text)
    assert re.search(r"4\.1\s+A Facebook viewer", text)
    assert asb_question in text
    for private in NOT_OPTED_IN:
        assert not re.search(rf"\b{re.escape(private)}\b", text), private
    assert ABUSE_TEXT not in text and "Troll" not in text
    assert_accessible(public, "published agenda")
    assert_fits(public, "published agenda")
    # printed: the agenda only
    public.emulate_media(media="print")
    expect(public.locator(".govuk-template__header")).to_be_hidden()
    expect(public.locator(".govuk-footer")).to_be_hidden()
    expect(public.get_by_text("Download the agenda")).to_be_hidden()
    expect(public.locator("#item-2\\.1")).to_be_visible()
    shots(public, "agenda-published")

    # the DOCX for circulation
    public.emulate_media(media="screen")
    with public.expect_download() as download:
        public.get_by_role("link", name="Download the agenda (Word document)").click()
    path = download.value.path()
    document = docx.Document(str(path))
    rows = [(row.cells[0].text, row.cells[1].text) for row in document.tables[0].rows]
    assert [n for n, _ in rows] == ["1", "2", "2.1", "2.2", "3", "3.1", "4", "4.1", "5", "6"]
    cells = dict(rows)
    assert cells["2.1"].startswith(ASB_LINE) and asb_question in cells["2.1"]
    assert cells["2.2"].startswith("Priya from Telford")
    assert cells["4.1"].startswith("A Facebook viewer")
    whole = "\n".join(t for _, t in rows)
    for private in NOT_OPTED_IN:
        assert not re.search(rf"\b{re.escape(private)}\b", whole), private

    # the chair reads the agenda and cannot change it
    chair = _sign_in(pages, CHAIR)
    chair.goto(f"/triage/meetings/{mid}/agenda")
    expect(chair.get_by_text(ASB_LINE).first).to_be_visible()
    expect(chair.get_by_role("button", name="Publish the agenda")).to_have_count(0)
    expect(chair.get_by_role("button", name=re.compile("^(Up|Down|Remove)"))).to_have_count(0)
    token = chair.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = chair.request.post(f"/triage/meetings/{mid}/agenda/publish", form={"seen": "x"},
                                 headers={"X-CSRFToken": token or ""})  # fmt: skip
    assert refused.status == 403
    assert_fits(pages.open(f"/triage/meetings/{mid}/agenda", PHONE_390), "agenda at 390 px")
