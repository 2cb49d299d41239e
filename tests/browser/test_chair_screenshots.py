"""Screenshots of the chair's view (1280×800 laptop, 1024×768 tablet) and of the overlay
(1920×1080), from a meeting part-way through its social media section.

`OPENFLOOR_SCREENSHOTS=docs/screenshots pytest tests/browser/test_chair_screenshots.py`
writes the files shown in the README; without it they go to a temporary folder. The test also
checks what the pictures should show: one screen, the current item, the live column, the
overlay's lower third inside the title-safe area.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from domain.models import AgendaSection, Meeting, MeetingStatus, OnAir, QuestionGroup, Role
from domain.runtime import Runtime
from tests.browser.conftest import Pages, assert_accessible, assert_fits
from tests.conftest import STAFF_PASSWORD
from tests.support.onair import group, question, theme, user
from tests.support.processes import LiveServer
from triage.agenda import actions as agenda
from triage.onair import actions

pytestmark = pytest.mark.browser

CHAIR = "shots-chair@example.org"


def _meeting_on_air(rt: Runtime, meeting: Meeting) -> str:
    """A meeting part-way through: advance items done, a live question on air."""
    user(rt, CHAIR, Role.CHAIR)
    user(rt, "shots-staff@example.org", Role.STAFF)
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.LIVE
    rural, roads, asb = (
        theme(rt, "Rural crime"),
        theme(rt, "Road safety"),
        theme(rt, "Anti-social behaviour"),
    )
    farm, speed, youths, fly = (
        group(rt, meeting, rural),
        group(rt, meeting, roads),
        group(rt, meeting, asb),
        group(rt, meeting, rural),
    )
    advance = [
        (
            farm,
            "What is being done about quad bikes and tools stolen from farms?",
            "Kath",
            "Shifnal",
        ),
        (
            farm,
            "Farm thefts are up again near us. Where are the rural officers?",
            "James",
            "Kidderminster",
        ),
        (
            speed,
            "Cars race through the village every night. Can we have speed cameras?",
            "Sue",
            "Redditch",
        ),
        (
            youths,
            "Youths vandalising the bus shelter. Why is there never a police presence?",
            "Roy",
            None,
        ),
        (
            fly,
            "Who deals with fly-tipping on farm land, the police or the council?",
            "Gwen",
            "Kington",
        ),
    ]
    for gid, text, name, town in advance:
        question(
            rt,
            meeting,
            text,
            group_id=gid,
            phase="advance",
            channel="web",
            name=name,
            town=town,
            consent=name != "Roy",
        )
    items = [
        agenda.add_group(rt, meeting.id, g, AgendaSection.PUBLIC_SESSION, 1)
        for g in (farm, speed, youths)
    ]
    hta = agenda.add_item(
        rt,
        meeting.id,
        AgendaSection.HOLDING_TO_ACCOUNT,
        "OCC performance",
        "How will response times to rural 999 calls be improved this year?",
        10,
        1,
    )
    for gid, composed in (
        (farm, "What is being done to stop thefts from farms?"),
        (speed, "Will there be speed cameras in villages where cars race?"),
        (youths, "Why is there so little police presence where youths gather?"),
    ):
        with rt.db.transaction() as session:
            g = session.get(QuestionGroup, gid)
            assert g is not None
            g.composed_question = composed
    live = [
        (
            farm,
            "Had my quad stolen last month, nobody came out. What's happening about farm theft?",
            "Linda Price",
        ),
        (speed, "Speeding on the A49 is terrible, when will something be done?", "Steve Evans"),
        (fly, "Fly tipping down our lane again, is anyone ever caught?", "Tom Lloyd"),
        (group(rt, meeting), "How many PCSOs are there in south Shropshire now?", "Priya Shah"),
        (farm, "Same here - diesel taken from the yard twice this year", "Alan Morgan"),
        (group(rt, meeting, asb), "Is the new dispersal order in Ludlow working?", "Gwen Hart"),
    ]
    ids = [
        question(
            rt,
            meeting,
            text,
            group_id=gid,
            name=name,
            handle=name.lower().replace(" ", ""),
            consent=True,
        )
        for gid, text, name in live
    ]
    actions.finish(rt, meeting.id, items[0], "asked", 1)
    actions.finish(rt, meeting.id, items[1], "asked", 1)
    actions.finish(rt, meeting.id, hta, "asked", 1)
    actions.suggest(rt, meeting.id, ids[3], 2)
    actions.ask_now(rt, meeting.id, ids[2], 1)
    with rt.db.transaction() as session:
        state = session.get(OnAir, meeting.id)
        assert state is not None and state.started_at is not None
        state.started_at = state.started_at - timedelta(minutes=31)
    return actions.new_overlay_secret(rt, meeting.id, 2)


def _folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("OPENFLOOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chair(pages: Pages, meeting: Meeting, viewport: dict[str, int]) -> Page:
    page = pages.open("/triage/login", viewport)
    page.get_by_label("Email address", exact=True).fill(CHAIR)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/triage/meetings/{meeting.id}/chair")
    expect(page.locator("#now .of-chair-question")).to_contain_text("Fly tipping")
    return page


def test_screenshots_of_the_chair_view_and_overlay(
    pages: Pages, rt: Runtime, meeting: Meeting, site: LiveServer, tmp_path: Path
) -> None:
    secret = _meeting_on_air(rt, meeting)
    folder = _folder(tmp_path)
    for name, viewport in (
        ("chair-1280x800", {"width": 1280, "height": 800}),
        ("chair-1024x768", {"width": 1024, "height": 768}),
    ):
        page = _chair(pages, meeting, viewport)
        expect(page.get_by_text("joins: Rural crime, 2 advance questions")).to_be_visible()
        expect(page.get_by_text("How many PCSOs")).to_have_count(2)  # suggested and live
        assert_fits(page, name)
        page.wait_for_timeout(300)
        page.screenshot(path=str(folder / f"{name}.png"))
    assert_accessible(page, "chair's view")
    overlay = pages.open(f"/overlay/{secret}", {"width": 1920, "height": 1080})
    box = overlay.locator("[data-lower-third]")
    expect(box).to_contain_text("Fly tipping down our lane again")
    expect(box).to_contain_text("Tom (location unknown)")
    overlay.wait_for_timeout(600)  # the animation in
    frame = box.bounding_box()
    assert frame is not None  # inside the title-safe area (5% of each side)
    assert frame["x"] >= 96 and frame["x"] + frame["width"] <= 1920 - 96
    assert frame["y"] >= 54 and frame["y"] + frame["height"] <= 1080 - 54
    overlay.screenshot(path=str(folder / "overlay-1920x1080.png"), omit_background=True)
