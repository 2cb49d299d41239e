"""The whole pipe: HTTP form → outbox → Redis → real RQ worker → database → triage page."""

from __future__ import annotations

import re

import httpx

from domain.models import Meeting
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.forms import submit_question
from tests.support.processes import LiveServer, wait_for


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_question_travels_from_form_to_triage(
    app, live_server: LiveServer, worker, meeting: Meeting, staff_user
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    text = "Why are sheep being stolen from farms near Clun and what is being done?"
    with httpx.Client(base_url=live_server.url, follow_redirects=True) as public:
        sent = submit_question(public, meeting.slug, text, name="Les", town="Clun")
        assert sent.status_code == 200
        assert "Question sent" in sent.text
        assert re.search(r"Q-[0-9A-Z]{4}-[0-9A-Z]{4}", sent.text)

    with httpx.Client(base_url=live_server.url, follow_redirects=True) as staff:
        # staff pages need sign-in
        assert "/triage/login" in str(staff.get(f"/triage/meetings/{meeting.id}").url)
        login = staff.get("/triage/login")
        signed_in = staff.post(
            "/triage/login",
            data={
                "csrf_token": _csrf(login.text),
                "email": STAFF_EMAIL,
                "password": STAFF_PASSWORD,
            },
        )
        assert "Meetings" in signed_in.text

        def question_listed() -> bool:
            return "sheep being stolen" in staff.get(f"/triage/meetings/{meeting.id}").text

        wait_for(question_listed, timeout=30)
