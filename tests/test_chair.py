"""The chair's view, the overlay and coverage over HTTP (SQLite and PostgreSQL): who may do
what, the live column, forwarding, every on-air action, and that nothing unseen reaches the
chair's suggested list or the overlay."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AgendaItem,
    AgendaSection,
    AgendaStatus,
    Coverage,
    Meeting,
    OnAir,
    QuestionGroup,
    QuestionStatus,
    Role,
    StaffUser,
)
from domain.runtime import Runtime
from tests.conftest import STAFF_EMAIL
from tests.support.onair import group, question, sign_in, theme, user

CHAIR = "chair@example.org"
ADMIN = "admin@example.org"


@pytest.fixture
def people(rt: Runtime, staff_user: StaffUser) -> None:
    user(rt, CHAIR, Role.CHAIR)
    user(rt, ADMIN, Role.ADMIN)


@pytest.fixture
def floor(rt: Runtime, meeting: Meeting) -> dict[str, int]:
    """Advance and live questions: a rural crime group that live questions join, a live-only
    point, and questions that must never reach the chair (flagged, rejected, noise)."""
    rural = theme(rt, "Rural crime")
    farm = group(rt, meeting, rural)
    ids = {"farm_group": farm}
    for n, town in enumerate(("Ludlow", "Wem")):
        question(rt, meeting, f"Farm thefts near {town}?", group_id=farm, phase="advance",
                 channel="web", name=f"Advance{n}", town=town, consent=True)  # fmt: skip
    ids["farm_live"] = question(
        rt,
        meeting,
        "Quad bikes stolen from farms again, what is being done?",
        group_id=farm,
        name="Kath Jones",
        handle="kath1",
        consent=True,
    )
    speed = group(rt, meeting)
    ids["speed_group"] = speed
    ids["speed_a"] = question(rt, meeting, "Speeding through Bromyard, any cameras?",
                              group_id=speed, name="Roy Hart", handle="roy")  # fmt: skip
    ids["speed_b"] = question(
        rt,
        meeting,
        "Speed cameras for Bromyard please",
        group_id=speed,
        name="Sue Bell",
        handle="sue",
        consent=True,
        redacted="Speed cameras for Bromyard please [phone number]",
    )
    ids["flagged"] = question(rt, meeting, "FLAGGED abusive text", group_id=group(rt, meeting),
                              status="flagged")  # fmt: skip
    ids["rejected"] = question(rt, meeting, "REJECTED rant", group_id=group(rt, meeting),
                               status="rejected")  # fmt: skip
    ids["noise"] = question(rt, meeting, "NOISE hello from Ludlow", group_id=group(rt, meeting),
                            kind="noise")  # fmt: skip
    ids["comment"] = question(rt, meeting, "COMMENT great stream", group_id=group(rt, meeting),
                              kind="comment")  # fmt: skip
    return ids


def _chair_url(meeting: Meeting) -> str:
    return f"/triage/meetings/{meeting.id}/chair"


def _page(client: FlaskClient, meeting: Meeting) -> str:
    response = client.get(_chair_url(meeting))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _region(html: str, region: str) -> str:
    start = html.index(f'id="{region}"')
    end = html.index("</section>", start)
    return html[start:end]


def _post(client: FlaskClient, meeting: Meeting, path: str, **form: object) -> int:
    response = client.post(_chair_url(meeting) + path, data=form)
    return response.status_code


def _overlay(client: FlaskClient, rt: Runtime, meeting: Meeting) -> str:
    """Make an overlay secret as staff and return its URL path."""
    sign_in(client, STAFF_EMAIL)
    assert _post(client, meeting, "/overlay/secret") == 303
    client.post("/triage/logout")
    with rt.db.transaction() as session:
        row = session.get(OnAir, meeting.id)
        assert row is not None and row.overlay_secret
        return f"/overlay/{row.overlay_secret}"


def test_who_may_read_and_act(
    client: FlaskClient, people: None, meeting: Meeting, floor: dict[str, int]
) -> None:
    url = _chair_url(meeting)
    assert client.get(url).status_code == 302  # sign in first
    assert client.get(url + "/regions").status_code == 302
    for email in (STAFF_EMAIL, CHAIR, ADMIN):
        sign_in(client, email)
        assert client.get(url).status_code == 200
        regions = client.get(url + "/regions")
        assert regions.status_code == 200 and 'id="live"' in regions.get_data(as_text=True)
        assert "<html" not in regions.get_data(as_text=True)  # the live regions only
        client.post("/triage/logout")
    sign_in(client, CHAIR)
    assert _post(client, meeting, f"/questions/{floor['farm_live']}/suggest") == 403
    assert _post(client, meeting, "/overlay/secret") == 403
    client.post("/triage/logout")
    sign_in(client, STAFF_EMAIL)
    for path in (f"/questions/{floor['farm_live']}/ask", f"/questions/{floor['farm_live']}/pull",
                 "/overlay/hide"):  # fmt: skip
        assert _post(client, meeting, path) == 403, path
    html = _page(client, meeting)
    assert "Forward to chair" in html and "Ask now" not in html


def test_live_column_is_moderated_deduped_and_themed(
    client: FlaskClient, people: None, meeting: Meeting, floor: dict[str, int]
) -> None:
    sign_in(client, CHAIR)
    live = _region(_page(client, meeting), "live")
    for hidden in ("FLAGGED", "REJECTED", "NOISE", "COMMENT", "Farm thefts near"):
        assert hidden not in live
    cards = re.findall(r'data-qids="([^"]+)"', live)
    # one card per point, newest point first; the speeding point lists both its live questions
    assert cards == [f"{floor['speed_b']} {floor['speed_a']}", str(floor["farm_live"])]
    assert "also asked by 1" in live  # Sue's card: Roy asked too
    assert "[phone number]" in live and "Speed cameras for Bromyard please" in live
    assert "joins: Rural crime, 2 advance questions" in live
    assert "also asked by 2" in live  # Kath joins two advance askers


def test_only_a_person_forwards_to_the_chair(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    sign_in(client, CHAIR)
    assert "Nothing forwarded yet" in _region(_page(client, meeting), "suggested")
    client.post("/triage/logout")
    sign_in(client, STAFF_EMAIL)
    assert _post(client, meeting, f"/questions/{floor['flagged']}/suggest") == 303
    assert "waiting for moderation" in _page(client, meeting)
    assert _post(client, meeting, f"/questions/{floor['speed_a']}/suggest") == 303
    assert _post(client, meeting, f"/questions/{floor['comment']}/suggest") == 303  # promoted
    client.post("/triage/logout")
    sign_in(client, CHAIR)
    suggested = _region(_page(client, meeting), "suggested")
    assert "Speeding through Bromyard" in suggested and "COMMENT great stream" in suggested
    assert "FLAGGED" not in suggested and "forwarded by Officer" in suggested
    # Roy did not opt in to be named
    assert not re.search(r"\bRoy\b", suggested) and "a facebook viewer" in suggested.lower()
    # rejected after forwarding: it leaves the chair's list
    with rt.db.transaction() as session:
        from domain.models import Question

        q = session.get(Question, floor["comment"])
        assert q is not None
        q.status = QuestionStatus.REJECTED
    assert "COMMENT" not in _region(_page(client, meeting), "suggested")
    assert _post(client, meeting, f"/questions/{floor['speed_a']}/dismiss") == 303
    assert "Nothing forwarded yet" in _region(_page(client, meeting), "suggested")


def test_pull_into_agenda_once(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    sign_in(client, CHAIR)
    assert _post(client, meeting, f"/questions/{floor['speed_b']}/pull") == 303
    assert _post(client, meeting, f"/questions/{floor['speed_a']}/pull") == 303  # same point
    with rt.db.transaction() as session:
        items = session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))
        items_ = list(items)
        assert len(items_) == 1
        assert items_[0].section == AgendaSection.SOCIAL_MEDIA
        assert [link.group_id for link in items_[0].links] == [floor["speed_group"]]
        grp = session.get(QuestionGroup, floor["speed_group"])
        assert grp is not None and grp.composed_question.endswith("[phone number]")
    html = _page(client, meeting)
    assert "on the agenda as 4.1" in _region(html, "live")
    assert "4.1" in _region(html, "next")


def test_overlay_shows_only_what_the_chair_chose(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    overlay = _overlay(client, rt, meeting)
    before = client.get(overlay)
    assert before.status_code == 200 and before.headers["Cache-Control"] == "no-store"
    assert client.get(overlay + "/state").get_json() == {
        "version": 0, "visible": False, "question": "", "attribution": "",
    }  # fmt: skip
    page = before.get_data(as_text=True)
    for secret_thing in (meeting.title, "Quad bikes", "Bromyard", "Kath", "Rural crime"):
        assert secret_thing not in page
    sign_in(client, STAFF_EMAIL)
    _post(client, meeting, f"/questions/{floor['speed_a']}/suggest")  # staff forward ≠ on air
    assert client.get(overlay + "/state").get_json()["visible"] is False
    client.post("/triage/logout")
    sign_in(client, CHAIR)
    assert _post(client, meeting, f"/questions/{floor['speed_b']}/ask") == 303
    state = client.get(overlay + "/state").get_json()
    assert state["visible"] is True and state["version"] == 1
    assert state["question"] == "Speed cameras for Bromyard please [phone number]"
    # Sue opted in, Roy did not: named people only
    assert state["attribution"] == "Sue (location unknown) and 1 other"
    assert not re.search(r"\bRoy\b", client.get(overlay).get_data(as_text=True))
    html = _page(client, meeting)
    assert "on the overlay" in _region(html, "now")
    assert _post(client, meeting, "/overlay/hide") == 303
    assert client.get(overlay + "/state").get_json()["visible"] is False
    assert _post(client, meeting, "/overlay/show") == 303
    assert client.get(overlay + "/state").get_json()["question"].startswith("Speed cameras")


def test_overlay_secret_is_revocable(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting
) -> None:
    assert client.get("/overlay/not-a-secret").status_code == 404
    overlay = _overlay(client, rt, meeting)
    assert client.get(overlay).status_code == 200
    sign_in(client, STAFF_EMAIL)
    assert _post(client, meeting, "/overlay/revoke") == 303
    client.post("/triage/logout")
    for path in ("", "/state", "/events"):
        assert client.get(overlay + path).status_code == 404
    renewed = _overlay(client, rt, meeting)
    assert renewed != overlay and client.get(renewed).status_code == 200


def test_coverage_recorded_as_the_meeting_runs(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    sign_in(client, CHAIR)
    _post(client, meeting, f"/questions/{floor['farm_live']}/pull")
    _post(client, meeting, f"/questions/{floor['speed_a']}/pull")
    other = question(rt, meeting, "Dog theft?", group_id=group(rt, meeting))
    _post(client, meeting, f"/questions/{other}/pull")
    with rt.db.transaction() as session:
        farm_item, speed_item, dog_item = (
            i.id
            for i in session.scalars(
                select(AgendaItem)
                .where(AgendaItem.meeting_id == meeting.id)
                .order_by(AgendaItem.position)
            )
        )
    assert _post(client, meeting, f"/items/{farm_item}/start") == 303
    assert "Asked" in _region(_page(client, meeting), "now")
    assert _post(client, meeting, f"/items/{farm_item}/asked") == 303
    assert _post(client, meeting, f"/items/{speed_item}/within") == 303  # no target: refused
    assert "Choose the other item" in _page(client, meeting)
    assert _post(client, meeting, f"/items/{speed_item}/within", within=farm_item) == 303
    assert _post(client, meeting, f"/items/{dog_item}/skipped") == 303

    def coverage() -> dict[int, Coverage]:
        with rt.db.transaction() as session:
            rows = session.scalars(
                select(QuestionGroup).where(QuestionGroup.meeting_id == meeting.id)
            )
            return {g.id: g.coverage for g in rows}

    now = coverage()
    assert now[floor["farm_group"]] == Coverage.ASKED
    assert now[floor["speed_group"]] == Coverage.ANSWERED_WITHIN
    with rt.db.transaction() as session:
        statuses = {i.id: i.status for i in session.scalars(select(AgendaItem))}
    assert statuses[dog_item] == AgendaStatus.SKIPPED
    # the skipped item and every group never dealt with end the meeting not covered
    client.post("/triage/logout")
    sign_in(client, ADMIN)  # admins open, put on air and close meetings
    response = client.post(f"/triage/meetings/{meeting.id}/status", data={"status": "closed"})
    assert response.status_code in (302, 303)
    after = coverage()
    assert after[floor["farm_group"]] == Coverage.ASKED
    assert after[floor["speed_group"]] == Coverage.ANSWERED_WITHIN
    assert {g for g, c in after.items() if c == Coverage.OPEN} == set()
    assert sum(c == Coverage.NOT_COVERED for c in after.values()) == len(after) - 2


def test_closing_the_meeting_takes_the_overlay_down(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    overlay = _overlay(client, rt, meeting)
    sign_in(client, CHAIR)
    _post(client, meeting, f"/questions/{floor['speed_b']}/ask")
    assert client.get(overlay + "/state").get_json()["visible"] is True
    client.post("/triage/logout")
    sign_in(client, ADMIN)
    assert client.post(
        f"/triage/meetings/{meeting.id}/status", data={"status": "closed"}
    ).status_code in (302, 303)
    assert client.get(overlay).status_code == 404
    with rt.db.transaction() as session:
        row = session.get(OnAir, meeting.id)
        assert row is not None and row.overlay_secret is None
        assert (row.overlay_question, row.overlay_attribution) == ("", "")  # no names kept


def test_overlay_stream_sends_only_the_overlay(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting, floor: dict[str, int]
) -> None:
    overlay = _overlay(client, rt, meeting)
    sign_in(client, CHAIR)
    _post(client, meeting, f"/questions/{floor['farm_live']}/ask")
    client.post("/triage/logout")
    response = client.get(overlay + "/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    frame = next(chunks).decode()
    response.close()
    assert frame.startswith("event: overlay\ndata: ")
    data = json.loads(frame.split("data: ", 1)[1])
    assert set(data) == {"version", "visible", "question", "attribution"}
    assert data["question"].startswith("Quad bikes stolen") and data["visible"] is True
    assert data["attribution"] == (
        "Advance0 from Ludlow (submitted in advance), Advance1 from Wem (submitted in advance) "
        "and Kath (location unknown)"
    )  # read out as in the social media section of the notes; Kath's surname never


def test_overlay_may_be_framed_by_a_web_studio_and_nothing_else_may(
    client: FlaskClient, people: None, rt: Runtime, meeting: Meeting
) -> None:
    overlay = client.get(_overlay(client, rt, meeting))
    assert "X-Frame-Options" not in overlay.headers
    assert "frame-ancestors 'self' https:" in overlay.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in overlay.headers["Content-Security-Policy"]
    sign_in(client, CHAIR)
    chair = client.get(_chair_url(meeting))
    assert chair.headers["X-Frame-Options"] == "SAMEORIGIN"
