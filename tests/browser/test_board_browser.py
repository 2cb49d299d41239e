"""The staff board in Chromium: live refresh, cards that stay put, phones, keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from domain import events
from domain.models import Channel, Meeting, StaffUser
from domain.runtime import Runtime
from tests.browser.conftest import DESKTOP, Pages, assert_accessible, assert_fits
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.board import add_group, add_question, add_theme

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}


def _board(pages: Pages, meeting: Meeting, viewport: dict[str, int] = DESKTOP) -> Page:
    page = pages.open(f"/triage/meetings/{meeting.id}", viewport)
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(meeting.title)
    # the heading is parsed before the scripts at the end of the page have run: a key pressed
    # now could reach a page with no key handlers yet
    page.wait_for_load_state("load")
    return page


def _demo_board(rt: Runtime, meeting: Meeting, groups: int = 22, size: int = 2) -> list[int]:
    """A board like the demo: ``groups`` groups of ``size`` questions (and a few more)."""
    theme = add_theme(rt, "Road safety and speeding")
    ids = []
    for n in range(groups):
        g = add_group(rt, meeting, theme_id=theme if n % 3 == 0 else None)
        ids.append(g)
        for k in range(size + (n % 3)):
            add_question(rt, meeting, g, f"Question {k} about speeding near village {n}?",
                         name="Alex", town="Ludlow", channel=Channel.WEB)  # fmt: skip
    return ids


def _until(page: Page, condition: Any, timeout_ms: int = 10_000) -> None:
    """Let the page run (Playwright dispatches route handlers only while we wait on it)."""
    waited = 0
    while not condition():
        assert waited < timeout_ms, "condition not met in time"
        page.wait_for_timeout(50)
        waited += 50


def test_a_question_created_during_a_refresh_still_appears(
    pages: Pages, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    """The refresh started by submission.received must not swallow questions.created."""
    group = add_group(rt, meeting)
    add_question(rt, meeting, group, "Speeding in Wem?")
    page = _board(pages, meeting)
    held: list[tuple[Route, Any]] = []

    def hold_first_refresh(route: Route) -> None:
        if route.request.resource_type == "fetch" and not held:
            held.append((route, route.fetch()))  # the board as it is before the question
            return
        route.continue_()

    page.route(re.compile(rf"/triage/meetings/{meeting.id}(\?.*)?$"), hold_first_refresh)
    events.publish(rt.redis, rt.prefix, meeting.id, "submission.received", {"count": 1})
    _until(page, lambda: bool(held))
    new = add_question(rt, meeting, group, "Speeding in Clun, again?")
    events.publish(rt.redis, rt.prefix, meeting.id, "questions.created", {"question_ids": [new]})
    page.wait_for_timeout(1500)  # questions.created arrives while the first refresh is out
    route, response = held[0]
    route.fulfill(response=response)
    expect(page.locator("#question-count")).to_contain_text("2 questions", timeout=10_000)
    page.locator(f"#g{group}-members summary").click()
    expect(page.locator(f"#q{new}")).to_be_visible()


def test_cards_do_not_move_from_under_the_mouse(
    pages: Pages, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    big = add_group(rt, meeting)
    for n in range(3):
        add_question(rt, meeting, big, f"Burglary in Clun number {n}?")
    small = add_group(rt, meeting)
    add_question(rt, meeting, small, "Speeding in Wem?")
    page = _board(pages, meeting)
    card = page.locator(f"#g{small}")
    card.hover()
    before = card.bounding_box()
    # a new group with more questions would sort above the hovered card
    grown = add_group(rt, meeting)
    added = [add_question(rt, meeting, grown, f"Drugs in Ludlow {n}?") for n in range(2)]
    events.publish(rt.redis, rt.prefix, meeting.id, "questions.created", {"question_ids": added})
    expect(page.locator("#board-updates")).to_contain_text("when you move away", timeout=10_000)
    assert card.bounding_box() == before
    expect(page.locator(f"#g{grown}")).to_have_count(0)
    page.mouse.move(1, 1)  # off the board
    expect(page.locator(f"#g{grown}")).to_be_attached(timeout=10_000)


def test_board_fits_a_phone_and_a_desktop_screen(
    pages: Pages, rt: Runtime, meeting: Meeting, staff_user: StaffUser, shots: Any
) -> None:
    _demo_board(rt, meeting)  # 22 groups, 66 questions
    phone = _board(pages, meeting, PHONE_390)
    assert_fits(phone, "board at 390 px")
    assert_accessible(phone, "board at 390 px")
    shots(phone, "board-390")
    desktop = _board(pages, meeting)
    shots(desktop, "board-1280")
    assert_fits(desktop, "board at 1280 px")
    height = desktop.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, f"board is {height}px tall at 1280 px"
    members = desktop.locator("details.of-card__members[open]")
    expect(members).to_have_count(0)


def test_keyboard_moves_between_cards(
    pages: Pages, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    groups = _demo_board(rt, meeting, groups=4)
    page = _board(pages, meeting)
    order = page.eval_on_selector_all("[data-card]", "cards => cards.map(c => c.id)")
    assert set(order) == {f"g{g}" for g in groups}
    focused = "document.activeElement.id"
    page.keyboard.press("j")
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.evaluate(focused) == order[2]
    page.keyboard.press("k")
    assert page.evaluate(focused) == order[1]
    page.keyboard.press("o")
    expect(page.locator(f"#{order[1]}-members")).to_have_attribute("open", "")
    expect(page.locator(f"#{order[1]}-members [data-question-id]").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == order[2]


def test_staff_pages_fit_a_phone_and_pass_axe(
    pages: Pages, rt: Runtime, meeting: Meeting, admin_user: StaffUser
) -> None:
    groups = _demo_board(rt, meeting, groups=3)
    page = pages.open("/triage/login", PHONE_390)
    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for path in (
        "/triage/users",
        "/triage/audit",
        f"/triage/meetings/{meeting.id}/groups/{groups[0]}/merge",
        f"/triage/meetings/{meeting.id}/cards/g{groups[0]}/questions",
    ):
        page.goto(path)
        assert_fits(page, path)
        assert_accessible(page, path)
    # choosing nothing says so, and keeps the page
    page.goto(f"/triage/meetings/{meeting.id}/groups/{groups[0]}/merge")
    page.get_by_role("button", name="Merge groups").click()
    expect(page.get_by_text("Choose the group to merge into").first).to_be_visible()
    page.get_by_label(re.compile("village 1")).check()
    page.get_by_role("button", name="Merge groups").click()
    expect(page.get_by_text("Groups merged.")).to_be_visible()
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_text("Merge undone.")).to_be_visible()
