"""Composing group questions, building the agenda and publishing it, over HTTP (SQLite and
PostgreSQL): numbering, minutes, keyboard and drag-and-drop order, the public page and the DOCX."""

from __future__ import annotations

import io
import re

import docx
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AgendaItem,
    AgendaSection,
    AuditEvent,
    Channel,
    Meeting,
    Phase,
    PublishedAgenda,
    Question,
    QuestionGroup,
    QuestionStatus,
    Role,
    StaffUser,
    Submission,
)
from domain.runtime import Runtime
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from triage.compose import suggest, tidy

CHAIR_EMAIL = "chair@example.org"


def _sign_in(client: FlaskClient, email: str = STAFF_EMAIL) -> None:
    response = client.post("/triage/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def _group(rt: Runtime, meeting: Meeting, *members: dict[str, object]) -> int:
    """A question group with the given members (sender details and text)."""
    with rt.db.transaction() as session:
        group = QuestionGroup(meeting_id=meeting.id)
        session.add(group)
        session.flush()
        for m in members:
            n = session.scalar(select(Submission.id).order_by(Submission.id.desc())) or 0
            sub = Submission(
                meeting_id=meeting.id, channel=Channel(m.get("channel", "web")),
                external_id=f"ag-{n + 1}", reference=f"AG-{n + 1}", raw_text=str(m["text"]),
                author_name=m.get("name"), location=m.get("town"),
                consent_publish=bool(m.get("consent")), event_name=m.get("event"),
                author_handle=m.get("handle"), contact_email=m.get("email"),
                phase=Phase(m.get("phase", "advance")),
            )  # fmt: skip
            session.add(sub)
            session.flush()
            session.add(Question(
                submission_id=sub.id, meeting_id=meeting.id, text=str(m["text"]),
                redacted_text=str(m.get("redacted", m["text"])), group_id=group.id,
                status=QuestionStatus(m.get("status", "new")),
            ))  # fmt: skip
        return group.id


@pytest.fixture
def groups(rt: Runtime, meeting: Meeting) -> dict[str, int]:
    asb = _group(
        rt, meeting,
        {"text": "Youths vandalising the bus shelter. Why is there never a police presence?",
         "name": "Kath", "town": "Shifnal", "consent": True},
        {"text": "Cannabis smoking in the park near the school, nobody in uniform comes.",
         "name": "James", "town": "Kidderminster", "consent": True},
        {"text": "Cars racing on our estate at 2am. Call me on 07700 900123",
         "redacted": "Cars racing on our estate at 2am. Call me on [phone number]",
         "name": "Margaret", "town": "Leominster", "email": "m@example.org"},
        {"text": "Same again: cars racing!", "name": "Margaret", "town": "Leominster",
         "email": "m@example.org"},
        {"text": "You are all useless idiots", "name": "Troll", "town": "Nowhere",
         "consent": True, "status": "flagged"},
    )  # fmt: skip
    follow_up = _group(
        rt, meeting,
        {"text": "Why after initial contact do the police rarely follow up?", "name": "Roy",
         "consent": True},
    )  # fmt: skip
    facebook = _group(
        rt, meeting,
        {"text": "Is rural crime as much a priority as crime in towns?", "channel": "facebook",
         "name": "Dan Smith", "handle": "dan.smith", "phase": "live"},
        {"text": "rural crime priority??", "channel": "facebook", "name": "Dan Smith",
         "handle": "dan.smith", "phase": "live"},
    )  # fmt: skip
    show = _group(
        rt, meeting,
        {"text": "Sheep and working dogs being stolen - what is being done?",
         "channel": "event", "name": "Les", "town": "Oswestry",
         "event": "Ludlow Food Festival"},
    )  # fmt: skip
    return {"asb": asb, "follow_up": follow_up, "facebook": facebook, "show": show}


@pytest.fixture
def chair(rt: Runtime) -> None:
    with rt.db.transaction() as session:
        user = StaffUser(email=CHAIR_EMAIL, display_name="Chair", role=Role.CHAIR)
        user.set_password(STAFF_PASSWORD)
        session.add(user)


def _items(rt: Runtime, meeting: Meeting) -> list[tuple[str, int, int]]:
    with rt.db.transaction() as session:
        rows = session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        ).all()
        order = list(AgendaSection)
        rows = sorted(rows, key=lambda i: (order.index(i.section), i.position))
        return [(i.section.value, i.position, i.id) for i in rows]


def _seen(client: FlaskClient, meeting: Meeting) -> str:
    page = client.get(f"/triage/meetings/{meeting.id}/agenda").get_data(as_text=True)
    found = re.search(r'name="seen" value="([0-9a-f]+)"', page)
    assert found, page
    return found.group(1)


def test_suggestion_is_the_clearest_member_tidied() -> None:
    assert tidy("Dear Commissioner, why are quad bikes stolen? Thanks, Margaret") == (
        "Why are quad bikes stolen?"
    )
    assert suggest(["WHY!!!", "drugs", "What are the police doing to address drug dealing?"]) == (
        "What are the police doing to address drug dealing?"
    )
    # a member whose text is mostly redactions reads badly out loud
    assert suggest([
        "Ring [name] on [phone number] at [address] about the burglary at the farm shop?",
        "Why are burglaries at farm shops not followed up by the police?",
    ]) == "Why are burglaries at farm shops not followed up by the police?"  # fmt: skip
    assert suggest([]) == ""


def test_compose_a_group_question(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser,
    groups: dict[str, int],
) -> None:  # fmt: skip
    _sign_in(client)
    url = f"/triage/meetings/{meeting.id}/groups/{groups['asb']}"
    page = client.get(url).get_data(as_text=True)
    # members beside the composed question; the flagged one is shown but kept off the agenda
    assert "Cannabis smoking in the park" in page and "[phone number]" in page
    assert "07700 900123" not in page
    assert "Kath from Shifnal, James from Kidderminster and 1 other" in page
    assert "Youths vandalising the bus shelter. Why is there never a police presence?" in page

    empty = client.post(url + "/compose", data={"composed_question": "   "})
    assert empty.status_code == 400 and "Write the question the chair will ask" in empty.text

    accepted = client.post(url + "/compose", data={"accept": "1"})
    assert accepted.status_code == 302
    written = "What are the police doing to engage with local communities about ASB?"
    client.post(url + "/compose", data={"composed_question": written})
    with rt.db.transaction() as session:
        group = session.get(QuestionGroup, groups["asb"])
        assert group is not None and group.composed_question == written and group.staff_locked
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "group.compose").order_by(AuditEvent.id)
        ).all()
    assert [a.details["accepted_suggestion"] for a in audit] == [True, False]
    assert client.get(f"/triage/meetings/{meeting.id}/groups/999999").status_code == 404


def test_build_order_and_publish(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser,
    groups: dict[str, int],
) -> None:  # fmt: skip
    _sign_in(client)
    base = f"/triage/meetings/{meeting.id}/agenda"
    for key, section in [("asb", "public_session"), ("follow_up", "public_session"),
                         ("facebook", "social_media")]:  # fmt: skip
        assert client.post(f"{base}/groups/{groups[key]}/add",
                           data={"section": section}).status_code == 302  # fmt: skip
    # several groups gathered into one item (staff's call)
    first_item = _items(rt, meeting)[0][2]
    client.post(f"{base}/groups/{groups['show']}/gather", data={"item_id": str(first_item)})
    again = client.post(f"{base}/groups/{groups['show']}/add", data={"section": "aob"})
    assert again.status_code == 400 and "already on the agenda" in again.text

    # the PCC's own question: no group
    occ = {"section": "holding_to_account", "title": "", "question": "", "minutes": "10",
           "new_item": "1"}  # fmt: skip
    bad = client.post(f"{base}/items", data=occ)
    assert bad.status_code == 400 and "Enter a title or a question" in bad.text
    typed = "Can the CC provide an update on the steps being taken as part of this action plan?"
    occ |= {"title": "OCC Performance", "question": typed, "minutes": "abc"}
    kept = client.post(f"{base}/items", data=occ)
    # bad minutes are refused with a clear message, and the typed text stays on the page
    assert kept.status_code == 400 and typed in kept.text and "whole number" in kept.text
    assert len(_items(rt, meeting)) == 3
    client.post(f"{base}/items", data=occ | {"minutes": "15"})

    items = _items(rt, meeting)
    assert [s for s, _, _ in items] == [
        "public_session", "public_session", "holding_to_account", "social_media"
    ]  # fmt: skip
    asb_item, roy_item, occ_item, fb_item = (i for _, _, i in items)

    # keyboard: down, and down past the end of a section into the next one
    client.post(f"{base}/items/{asb_item}/move", data={"direction": "down"})
    assert [i for _, _, i in _items(rt, meeting)] == [roy_item, asb_item, occ_item, fb_item]
    client.post(f"{base}/items/{asb_item}/move", data={"direction": "down"})
    assert _items(rt, meeting)[1] == ("holding_to_account", 0, asb_item)
    client.post(f"{base}/items/{asb_item}/move", data={"direction": "up"})
    assert _items(rt, meeting)[1] == ("public_session", 1, asb_item)

    # drag and drop sends the whole order
    order = {"public_session": [asb_item, roy_item], "holding_to_account": [occ_item],
             "social_media": [fb_item]}  # fmt: skip
    # down through any other business to the close, and past the end there is nowhere to go
    for _ in range(2):
        client.post(f"{base}/items/{fb_item}/move", data={"direction": "down"})
    assert _items(rt, meeting)[-1] == ("close", 0, fb_item)
    end = client.post(f"{base}/items/{fb_item}/move", data={"direction": "down"})
    assert end.status_code == 400 and "already at the end" in end.text
    assert client.post(f"{base}/order", json=order).status_code == 200
    assert [i for _, _, i in _items(rt, meeting)] == [asb_item, roy_item, occ_item, fb_item]
    stale = client.post(f"{base}/order", json={"public_session": [asb_item]})
    assert stale.status_code == 409

    # a group taken out of an item waits to be placed again
    client.post(f"{base}/items/{asb_item}/groups/{groups['show']}/release")
    assert f'id="waiting-{groups["show"]}"' in client.get(base).text
    client.post(f"{base}/groups/{groups['show']}/gather", data={"item_id": str(asb_item)})
    assert f'id="waiting-{groups["show"]}"' not in client.get(base).text

    # minutes against the meeting's length
    client.post(f"{base}/items/{asb_item}", data={"title": "", "question": "", "minutes": "20"})
    client.post(f"{base}/length", data={"length": "45"})
    page = client.get(base).text
    assert "45 of 45 minutes" in page  # 20 + 5 + 15 + 5
    client.post(f"{base}/length", data={"length": "40"})
    assert "run 5 minutes over" in client.get(base).text

    # nothing is published until every group's question is composed
    refused = client.post(f"{base}/publish", data={"seen": _seen(client, meeting)})
    assert refused.status_code == 400 and "compose the question" in refused.text
    for key, text in [
        ("asb", "What are the police doing to engage with local communities about ASB?"),
        ("show", "What is being done about livestock theft?"),
        ("follow_up", "Why do the police rarely follow up after initial contact?"),
        ("facebook", "Is rural crime as much of a priority as crime in towns?"),
    ]:
        url = f"/triage/meetings/{meeting.id}/groups/{groups[key]}/compose"
        client.post(url, data={"composed_question": text})

    # a stale page is not published
    seen = _seen(client, meeting)
    client.post(f"{base}/items/{roy_item}", data={"title": "", "question": "", "minutes": "6"})
    stale_publish = client.post(f"{base}/publish", data={"seen": seen})
    assert stale_publish.status_code == 400 and "changed since this page was loaded" in (
        stale_publish.text
    )
    assert client.post(f"{base}/publish", data={"seen": _seen(client, meeting)}).status_code == 302

    public = client.get(f"/meetings/{meeting.slug}/agenda").text
    assert "1. Introduction" in public and "2. Public session: questions submitted in advance" in (
        public
    )
    assert "2.1" in public and "Kath from Shifnal, James from Kidderminster and 2 others" in public
    assert "Roy (location unknown)" in public
    assert "3.1" in public and "OCC Performance" in public and typed in public
    assert "4.1" in public and "A Facebook viewer" in public
    for private in ("Margaret", "Leominster", "Troll", "Dan Smith", "dan.smith", "Les",
                    "Oswestry", "07700", "m@example.org", "useless idiots"):  # fmt: skip
        assert private not in public, private
    assert "agenda-print.css" in public

    document = client.get(f"/meetings/{meeting.slug}/agenda.docx")
    assert document.status_code == 200
    parsed = docx.Document(io.BytesIO(document.data))
    rows = [(r.cells[0].text, r.cells[1].text) for r in parsed.tables[0].rows]
    numbers = [n for n, _ in rows]
    assert numbers == ["1", "2", "2.1", "2.2", "3", "3.1", "4", "4.1", "5", "6"]
    texts = dict(rows)
    assert texts["2.1"].startswith("Kath from Shifnal, James from Kidderminster and 2 others")
    assert texts["2.2"].startswith("Roy (location unknown)")
    assert texts["3.1"].startswith("OCC Performance") and typed in texts["3.1"]
    assert texts["4.1"].startswith("A Facebook viewer")
    whole = "\n".join(t for _, t in rows)
    assert "Margaret" not in whole and "Dan Smith" not in whole

    # edits after publishing stay private until published again
    client.post(f"{base}/items/{occ_item}/delete")
    assert "OCC Performance" in client.get(f"/meetings/{meeting.slug}/agenda").text
    with rt.db.transaction() as session:
        versions = session.scalars(select(PublishedAgenda.version)).all()
    assert versions == [1]


def test_no_agenda_yet_and_sign_in_needed(client: FlaskClient, meeting: Meeting) -> None:
    assert client.get(f"/meetings/{meeting.slug}/agenda").status_code == 404
    assert client.get(f"/meetings/{meeting.slug}/agenda.docx").status_code == 404
    assert client.get("/meetings/no-such-meeting/agenda").status_code == 404
    for path in (
        f"/triage/meetings/{meeting.id}/agenda",
        f"/triage/meetings/{meeting.id}/groups/1",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/triage/login" in response.headers["Location"]
    assert client.post(f"/triage/meetings/{meeting.id}/agenda/publish").status_code == 302


def test_chair_reads_but_cannot_change(
    client: FlaskClient, rt: Runtime, meeting: Meeting, chair: None, groups: dict[str, int]
) -> None:
    _sign_in(client, CHAIR_EMAIL)
    base = f"/triage/meetings/{meeting.id}/agenda"
    assert client.get(base).status_code == 200
    assert client.get(f"/triage/meetings/{meeting.id}/groups/{groups['asb']}").status_code == 200
    for path, data in [
        (f"{base}/groups/{groups['asb']}/add", {"section": "public_session"}),
        (f"{base}/items", {"section": "aob", "title": "x"}),
        (f"{base}/length", {"length": "90"}),
        (f"{base}/publish", {"seen": "x"}),
        (f"/triage/meetings/{meeting.id}/groups/{groups['asb']}/compose", {"accept": "1"}),
    ]:
        assert client.post(path, data=data).status_code == 403, path
    assert _items(rt, meeting) == []
    with rt.db.transaction() as session:
        group = session.get(QuestionGroup, groups["asb"])
        assert group is not None and group.composed_question == ""


def test_a_group_merged_away_blocks_publishing_until_taken_out(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser,
    groups: dict[str, int],
) -> None:  # fmt: skip
    _sign_in(client)
    base = f"/triage/meetings/{meeting.id}/agenda"
    client.post(f"{base}/groups/{groups['follow_up']}/add", data={"section": "public_session"})
    client.post(f"/triage/meetings/{meeting.id}/groups/{groups['follow_up']}/compose",
                data={"composed_question": "Why is there no follow-up?"})  # fmt: skip
    # on the board, staff merge the group into another: the item is left with no questions
    merged = client.post(f"/triage/meetings/{meeting.id}/groups/{groups['follow_up']}/merge",
                         data={"into": str(groups["asb"])})  # fmt: skip
    assert merged.status_code == 302
    refused = client.post(f"{base}/publish", data={"seen": _seen(client, meeting)})
    assert refused.status_code == 400 and "has no questions left" in refused.text
    item = _items(rt, meeting)[0][2]
    client.post(f"{base}/items/{item}/groups/{groups['follow_up']}/release")
    assert _items(rt, meeting) == []
