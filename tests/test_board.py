"""The staff board over HTTP: cards, filters, move targets, undo, sign-in banner, chair view."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import (
    AuditEvent,
    Channel,
    Meeting,
    Phase,
    Question,
    QuestionGroup,
    QuestionStatus,
    StaffUser,
)
from domain.runtime import Runtime
from tests.conftest import CHAIR_EMAIL, STAFF_EMAIL, STAFF_PASSWORD
from tests.support.board import add_group, add_question, add_theme


def _sign_in(client: FlaskClient, email: str = STAFF_EMAIL) -> None:
    response = client.post("/triage/login", data={"email": email, "password": STAFF_PASSWORD})
    assert response.status_code == 302


def _card(page: str, group_id: int) -> str:
    match = re.search(rf'<li class="of-card" id="g{group_id}".*?</details>\s*</li>', page, re.S)
    assert match, f"no card for group {group_id}"
    return match.group(0)


def _undo_url(page: str) -> str:
    match = re.search(r'action="([^"]*/undo/\d+)"', page)
    assert match, "no Undo button"
    return match.group(1)


def test_cards_show_the_question_to_ask_and_each_person_once(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    roads = add_theme(rt, "Road safety and speeding")
    speeding = add_group(rt, meeting, theme_id=roads)
    for _ in range(3):  # the same person asking three times
        add_question(
            rt, meeting, speeding, "speeding!!! #A49 http://x.example", name="Alex", town="Ludlow"
        )
    clear = "What is being done about speeding through Ludlow town centre?"
    add_question(rt, meeting, speeding, clear, name="Sue", town="Redditch", channel=Channel.EMAIL)
    add_question(rt, meeting, speeding, "Speeding on the A49 again", name="Roy", consent=False)
    composed = add_group(rt, meeting, composed="How will you tackle rural burglary?")
    add_question(rt, meeting, composed, "burglaries near Clun", town="Clun")

    _sign_in(client)
    page = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    card = _card(page, speeding)
    assert f'id="g{speeding}-question">{clear}</h3>' in card  # clearest member, not composed
    assert "Not composed yet" in card
    assert "Alex from Ludlow, Sue from Redditch and 1 other" in card
    assert card.count("Alex from Ludlow") == 1
    assert "5 questions" in card and "Road safety and speeding" in card
    assert "web, email" in card and "Ludlow, Redditch" in card
    # members folded away, loaded when opened (or on a page of their own without JavaScript)
    assert "<details" in card and "<details open" not in card and "#A49" not in card
    members_url = f"/triage/meetings/{meeting.id}/cards/g{speeding}/questions"
    members = client.get(members_url, headers={"X-Fragment": "members"}).get_data(as_text=True)
    assert members.count("Alex from Ludlow") == 3 and "<html" not in members
    assert "Move or split" in members
    whole = client.get(members_url).get_data(as_text=True)
    assert "<html" in whole and f'<h1 class="govuk-heading-l">{clear}</h1>' in whole
    other = _card(page, composed)
    assert "How will you tackle rural burglary?</h3>" in other
    assert "Not composed yet" not in other
    # no green banner greeting a signed-in officer (the queue banner may say questions wait:
    # no worker runs in this test)
    assert "Sign in to see this page" not in page
    assert "govuk-notification-banner--success" not in page


def test_filters_by_theme_channel_phase_and_status(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    roads, asb = add_theme(rt, "Road safety"), add_theme(rt, "Anti-social behaviour")
    a = add_group(rt, meeting, theme_id=roads)
    add_question(rt, meeting, a, "Speeding in Wem?", channel=Channel.EVENT)
    b = add_group(rt, meeting, theme_id=asb, composed="What about youths in Shifnal?")
    add_question(rt, meeting, b, "Youths in Shifnal", phase=Phase.LIVE, channel=Channel.FACEBOOK)

    _sign_in(client)
    board = f"/triage/meetings/{meeting.id}"

    def shown(query: str) -> set[int]:
        page = client.get(board + query).get_data(as_text=True)
        return {int(g) for g in re.findall(r'<li class="of-card" id="g(\d+)"', page)}

    assert shown("") == {a, b}
    assert shown(f"?theme={asb}") == {b}
    assert shown("?channel=event") == {a}
    assert shown("?channel=event&channel=facebook") == {a, b}
    assert shown("?phase=live") == {b}
    assert shown("?status=composed") == {b}
    assert shown("?status=to-compose") == {a}
    page = client.get(board + "?phase=live&channel=event").get_data(as_text=True)
    assert "No groups match these filters." in page and "Clear filters" in page


def test_move_names_targets_by_their_question_and_chooses_nothing_for_you(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    home = add_group(rt, meeting, composed="How will you tackle speeding?")
    q = add_question(rt, meeting, home, "speeding on the A49")
    add_question(rt, meeting, home, "speeding near Wem")
    target = add_group(rt, meeting, composed="Will you put more officers on rural patrol?")
    add_question(rt, meeting, target, "more bobbies in villages")
    unrelated = add_group(rt, meeting)
    add_question(rt, meeting, unrelated, "Why was my bin not collected?")

    _sign_in(client)
    page = client.get(f"/triage/meetings/{meeting.id}/questions/{q}/move").get_data(as_text=True)
    assert "Will you put more officers on rural patrol?" in page
    assert "Why was my bin not collected?" in page  # an uncomposed group: its clearest member
    assert "How will you tackle speeding?" not in page  # not its own group
    assert "checked" not in page and "A new group of its own" in page
    refused = client.post(f"/triage/meetings/{meeting.id}/questions/{q}/move", data={})
    assert refused.status_code == 400
    assert "Choose the group to move the question to" in refused.get_data(as_text=True)

    moved = client.post(f"/triage/meetings/{meeting.id}/questions/{q}/move",
                        data={"group_id": str(target)}, follow_redirects=True)  # fmt: skip
    page = moved.get_data(as_text=True)
    assert "Question moved." in page
    with rt.db.transaction() as session:
        assert session.get(Question, q).group_id == target  # type: ignore[union-attr]
    undone = client.post(_undo_url(page), follow_redirects=True).get_data(as_text=True)
    assert "Move undone." in undone
    with rt.db.transaction() as session:
        assert session.get(Question, q).group_id == home  # type: ignore[union-attr]
    again = client.post(_undo_url(page), follow_redirects=True).get_data(as_text=True)
    assert "already been undone" in again


def test_every_decision_has_an_undo(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    roads, asb = add_theme(rt, "Road safety"), add_theme(rt, "Anti-social behaviour")
    g1, g2 = add_group(rt, meeting, theme_id=roads), add_group(rt, meeting, theme_id=roads)
    q1 = add_question(rt, meeting, g1, "Speeding in Wem?", theme_id=roads)
    q2 = add_question(rt, meeting, g1, "Speeding in Clun?", theme_id=roads)
    q3 = add_question(rt, meeting, g2, "Speeding in Ludlow?", theme_id=roads)
    flagged = add_question(rt, meeting, None, "rude words", status=QuestionStatus.FLAGGED)
    _sign_in(client)
    base = f"/triage/meetings/{meeting.id}"

    def state() -> tuple[object, ...]:
        with rt.db.transaction() as session:
            qs = [session.get(Question, i) for i in (q1, q2, q3, flagged)]
            groups = [session.get(QuestionGroup, g) for g in (g1, g2)]
            return (
                tuple((q.group_id, q.theme_id, q.status) for q in qs if q is not None),
                tuple(g.theme_id for g in groups if g is not None),
            )

    before = state()
    for url, data in [
        (f"{base}/groups/{g2}/merge", {"into": str(g1)}),
        (f"{base}/questions/{q2}/split", {}),
        (f"{base}/groups/{g1}/theme", {"theme_id": str(asb)}),
        (f"{base}/questions/{q1}/theme", {"theme_id": str(asb)}),
        (f"{base}/questions/{flagged}/status", {"status": "accepted"}),
    ]:
        page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
        assert state() != before, url
        assert "undone" in client.post(_undo_url(page), follow_redirects=True).get_data(
            as_text=True
        )
        assert state() == before, f"{url} was not undone"

    # an undo never overwrites a later decision
    client.post(f"{base}/questions/{q1}/move", data={"group_id": str(g2)})
    with rt.db.transaction() as session:
        first = session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "question.move")
        ).one()
    client.post(f"{base}/questions/{q1}/move", data={"group_id": str(g1)})
    client.post(f"{base}/questions/{q1}/move", data={"group_id": str(g2)})
    client.post(f"{base}/questions/{q1}/split")
    page = client.post(f"{base}/undo/{first}", follow_redirects=True).get_data(as_text=True)
    assert "undo the later decision first" in page
    assert "Recent decisions" in page


def test_an_accepted_flagged_question_gets_a_group_of_its_own(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    flagged = add_question(
        rt, meeting, None, "Cannabis by the school?", status=QuestionStatus.FLAGGED
    )
    _sign_in(client)
    client.post(f"/triage/meetings/{meeting.id}/questions/{flagged}/status",
                data={"status": "accepted"})  # fmt: skip
    with rt.db.transaction() as session:
        q = session.get(Question, flagged)
        assert q is not None and q.group_id is not None and q.group_locked
        group = session.get(QuestionGroup, q.group_id)
        assert group is not None and group.title == q.redacted_text


def test_group_theme_is_set_on_the_card_where_it_shows(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    roads, asb = add_theme(rt, "Road safety"), add_theme(rt, "Anti-social behaviour")
    g = add_group(rt, meeting, theme_id=roads)
    q = add_question(rt, meeting, g, "Youths on bikes in Shifnal", theme_id=roads)
    _sign_in(client)
    page = client.post(f"/triage/meetings/{meeting.id}/groups/{g}/theme",
                       data={"theme_id": str(asb), "anchor": f"#g{g}"})  # fmt: skip
    assert page.headers["Location"].endswith(f"#g{g}")
    card = _card(client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True), g)
    assert "Anti-social behaviour</strong>" in card
    assert f'<option value="{asb}" selected>' in card
    with rt.db.transaction() as session:
        question = session.get(Question, q)
        assert question is not None and question.theme_id == asb and question.theme_locked


def test_sign_in_message_stays_on_the_sign_in_page(
    client: FlaskClient, meeting: Meeting, staff_user: StaffUser
) -> None:
    board = f"/triage/meetings/{meeting.id}"
    login = client.get(board, follow_redirects=True).get_data(as_text=True)
    assert "Sign in to see this page." in login
    response = client.post(f"/triage/login?next={board}",
                           data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD},
                           follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.request.path == board
    assert "Sign in to see this page." not in page and "Success" not in page


def test_chair_reads_the_board_without_controls(
    client: FlaskClient, rt: Runtime, meeting: Meeting, chair_user: StaffUser
) -> None:
    g = add_group(rt, meeting)
    q = add_question(rt, meeting, g, "Speeding in Wem?")
    add_question(rt, meeting, g, "Speeding in Clun?")
    _sign_in(client, CHAIR_EMAIL)
    page = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    assert "Speeding in Clun?" in page
    members = client.get(f"/triage/meetings/{meeting.id}/cards/g{g}/questions").get_data(
        as_text=True
    )
    assert "Speeding in Wem?" in members
    for control in ("Set theme", "Merge into", "Move or split", "/move", "Import spreadsheet"):
        assert control not in page + members, control
    assert client.post(f"/triage/meetings/{meeting.id}/questions/{q}/split").status_code == 403
