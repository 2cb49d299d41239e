"""Written answers: two people write and approve; each asker is emailed once through a real SMTP
server (aiosmtpd, driven by smtplib); refusals are visible and retryable; a worker killed in the
middle of sending never makes anyone get the answer twice; retention waits for delivery."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from domain.models import AnswerDelivery, DeliveryStatus, Submission, WrittenAnswer
from domain.runtime import Runtime, install
from tests.support.meeting_run import (
    APPROVER,
    BURGLARY_EMAILS,
    CHAIR,
    ROADS_EMAILS,
    WRITER,
    MeetingRun,
    seed_meeting_run,
    sign_in,
)
from tests.support.processes import start_openfloor, stop, wait_for
from tests.support.smtp_server import SmtpServer
from workers.answers import TemporaryFailure, recover_sends, send_answer
from workers.maintenance import erase_expired

ROADS_ANSWER = "Roads policing remains a priority.\n\nSpeed checks on Fish Hill continue monthly."


@pytest.fixture
def settings(settings: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    """The shared test settings, sending mail to the local SMTP server."""
    return {**settings, **smtp.settings(), "retention_days": 1}


@pytest.fixture
def run(rt: Runtime) -> MeetingRun:
    return seed_meeting_run(rt)


def write_and_approve(app: Flask, run: MeetingRun, group: str, body: str) -> int:
    """The writer saves the answer, a second officer approves it; returns the answer id."""
    base = f"/triage/meetings/{run.meeting_id}/answers/{run.groups[group]}"
    writer = sign_in(app, WRITER)
    assert writer.post(base, data={"answer": body}).status_code == 302
    approver = sign_in(app, APPROVER)
    assert approver.post(f"{base}/approve").status_code == 302
    with app.extensions["openfloor"].db.transaction() as session:
        answer_id = session.scalar(
            select(WrittenAnswer.id).where(WrittenAnswer.group_id == run.groups[group])
        )
    assert answer_id is not None
    return int(answer_id)


def deliveries(rt: Runtime, answer_id: int) -> dict[str, AnswerDelivery]:
    with rt.db.transaction() as session:
        rows = session.scalars(select(AnswerDelivery).where(AnswerDelivery.answer_id == answer_id))
        return {(d.address or "").lower(): d for d in rows}


def test_second_officer_approves_and_each_person_gets_one_email(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer
) -> None:
    base = f"/triage/meetings/{run.meeting_id}/answers"
    writer = sign_in(app, WRITER)
    page = writer.get(base).get_data(as_text=True)
    # the queue lists the not-covered groups with who asked and by which channel
    assert "Have the police given up on roads policing" in page
    assert "Is rural speeding a priority" in page and "twitter" in page
    assert "john@example.net" not in page  # addresses are never shown in clear
    assert "abusive text" not in page  # the rejected question is no asker

    assert writer.post(f"{base}/{run.groups['theft']}", data={"answer": "x"}).status_code == 400
    assert writer.post(f"{base}/{run.groups['roads']}", data={"answer": " "}).status_code == 400
    assert (
        writer.post(f"{base}/{run.groups['roads']}", data={"answer": ROADS_ANSWER}).status_code
        == 302
    )
    refused = writer.post(f"{base}/{run.groups['roads']}/approve")
    assert refused.status_code == 400
    assert "A different member of staff must approve" in refused.get_data(as_text=True)

    chair = sign_in(app, CHAIR)
    assert chair.get(base).status_code == 200  # the chair reads
    assert chair.post(f"{base}/{run.groups['roads']}/approve").status_code == 403
    assert chair.post(f"{base}/{run.groups['roads']}", data={"answer": "x"}).status_code == 403

    approver = sign_in(app, APPROVER)
    assert approver.post(f"{base}/{run.groups['roads']}/approve").status_code == 302
    assert approver.post(f"{base}/{run.groups['roads']}/approve").status_code == 400  # once
    assert writer.post(f"{base}/{run.groups['roads']}", data={"answer": "new"}).status_code == 400

    with rt.db.transaction() as session:
        answer = session.scalar(select(WrittenAnswer))
        assert answer is not None
        answer_id = answer.id
    assert send_answer(answer_id) == 2
    assert send_answer(answer_id) == 0  # idempotent: nobody is answered twice
    assert {a: smtp.mailbox.count(a) for a in ROADS_EMAILS} == dict.fromkeys(ROADS_EMAILS, 1)
    assert smtp.mailbox.count("troll@example.net") == 0 and len(smtp.mailbox.received) == 2

    sent = deliveries(rt, answer_id)
    message = next(r.message for r in smtp.mailbox.received if "john@example.net" in r.recipients)
    assert message["Message-ID"] == sent["john@example.net"].message_id
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Dear John," in text and "Speed checks on Fish Hill" in text
    assert "given up on roads policing" in text
    assert {d.status for d in sent.values()} == {DeliveryStatus.SENT}

    public = app.test_client().get("/meetings/rural-crime-live/answers").get_data(as_text=True)
    assert "Speed checks on Fish Hill continue monthly." in public
    assert "Have the police given up on roads policing" in public
    assert "John from Evesham" in public  # agreed to be named
    assert "Linda" not in public and "@" not in public.split("<main", 1)[1]


def test_refusals_and_failures_are_visible_and_sent_again(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer
) -> None:
    smtp.mailbox.refuse["peter@example.net"] = "550 5.1.1 <Peter@example.net>: No such user here"
    smtp.mailbox.refuse_data["linda@example.net"] = "451 4.3.0 Mailbox busy, try again later"
    burglary = write_and_approve(app, run, "burglary", "We are increasing patrols.")
    roads = write_and_approve(app, run, "roads", ROADS_ANSWER)
    assert send_answer(burglary) == 0
    with pytest.raises(TemporaryFailure):
        send_answer(roads)  # RQ would try again later; staff can too
    assert deliveries(rt, burglary)["peter@example.net"].status == DeliveryStatus.BOUNCED
    assert deliveries(rt, roads)["linda@example.net"].status == DeliveryStatus.FAILED

    staff = sign_in(app, WRITER)
    page = staff.get(f"/triage/meetings/{run.meeting_id}/answers").get_data(as_text=True)
    assert "550 5.1.1 &lt;[recipient]&gt;: No such user here" in page and "451 4.3.0" in page
    assert "p•••@example.net" in page and page.count("Send again") == 2

    smtp.mailbox.refuse.clear()
    smtp.mailbox.refuse_data.clear()
    for answer_id, address in ((burglary, "peter@example.net"), (roads, "linda@example.net")):
        delivery = deliveries(rt, answer_id)[address]
        url = f"/triage/meetings/{run.meeting_id}/deliveries/{delivery.id}/resend"
        assert staff.post(url).status_code == 302
        assert staff.post(url).status_code == 400  # already pending: not twice
        send_answer(answer_id)
    for address in BURGLARY_EMAILS | ROADS_EMAILS:
        assert smtp.mailbox.count(address) == 1, address


def _crash_mid_send(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer, settings: dict[str, Any],
    tmp_path: Path, stall: str,
) -> tuple[int, dict[str, AnswerDelivery]]:  # fmt: skip
    """Kill a real worker while the server stalls on Linda; recover; return the deliveries."""
    getattr(smtp.mailbox, stall).add("linda@example.net")
    worker = start_openfloor(["worker"], settings, tmp_path / "worker1.log")
    try:
        roads = write_and_approve(app, run, "roads", ROADS_ANSWER)
        assert smtp.mailbox.stalled.wait(timeout=120), (tmp_path / "worker1.log").read_text()
        worker.kill()  # SIGKILL: a crash, not a shutdown
        worker.wait()
    finally:
        stop(worker)
    time.sleep(settings["send_lease_seconds"] + settings["smtp_timeout"] + 0.5)
    assert recover_sends() == 1
    worker = start_openfloor(["worker"], settings, tmp_path / "worker2.log")
    try:
        wait_for(
            lambda: all(
                d.status in (DeliveryStatus.SENT, DeliveryStatus.UNCONFIRMED)
                for d in deliveries(rt, roads).values()
            ),
            timeout=120,
        )
    finally:
        stop(worker)
    return roads, deliveries(rt, roads)


def test_killed_before_handing_over_is_sent_again_once(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer, settings: dict[str, Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    _, sent = _crash_mid_send(app, rt, run, smtp, settings, tmp_path, "stall_at_rcpt")
    assert {a: smtp.mailbox.count(a) for a in ROADS_EMAILS} == dict.fromkeys(ROADS_EMAILS, 1)
    assert sent["linda@example.net"].status == DeliveryStatus.SENT
    assert sent["linda@example.net"].attempts == 2


def test_killed_after_handing_over_is_never_sent_twice(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer, settings: dict[str, Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    _, sent = _crash_mid_send(app, rt, run, smtp, settings, tmp_path, "stall_after_data")
    # the server took Linda's message before the worker died: she has it once, and it is not
    # sent again by itself; staff see it as unconfirmed, with the Message-ID to look up
    assert {a: smtp.mailbox.count(a) for a in ROADS_EMAILS} == dict.fromkeys(ROADS_EMAILS, 1)
    linda = sent["linda@example.net"]
    assert linda.status == DeliveryStatus.UNCONFIRMED
    assert recover_sends() == 0
    staff = sign_in(app, WRITER)
    page = staff.get(f"/triage/meetings/{run.meeting_id}/answers").get_data(as_text=True)
    assert linda.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    url = f"/triage/meetings/{run.meeting_id}/deliveries/{linda.id}/confirm"
    assert staff.post(url).status_code == 302
    assert deliveries(rt, linda.answer_id)["linda@example.net"].status == DeliveryStatus.SENT
    assert smtp.mailbox.count("linda@example.net") == 1


def test_retention_keeps_an_email_until_its_answer_is_delivered(
    app: Flask, rt: Runtime, run: MeetingRun, smtp: SmtpServer
) -> None:
    def emails() -> set[str]:
        with rt.db.transaction() as session:
            found = session.scalars(select(Submission.contact_email))
            return {e.lower() for e in found if e}

    erase_expired()
    assert emails() == ROADS_EMAILS | BURGLARY_EMAILS  # still owed an answer
    roads = write_and_approve(app, run, "roads", ROADS_ANSWER)
    erase_expired()
    assert emails() == ROADS_EMAILS | BURGLARY_EMAILS  # approved, not yet sent
    send_answer(roads)
    erase_expired()
    assert emails() == BURGLARY_EMAILS
    assert all(d.address is None for d in deliveries(rt, roads).values())


@pytest.mark.parametrize("implicit_tls", [False, True], ids=["starttls", "ssl"])
def test_tls_and_sign_in_from_the_settings(
    app: Flask, rt: Runtime, run: MeetingRun, tmp_path: Path, implicit_tls: bool
) -> None:
    with SmtpServer(tls_dir=tmp_path, implicit_tls=implicit_tls) as secure:
        roads = write_and_approve(app, run, "roads", ROADS_ANSWER)
        # a wrong password (STARTTLS) or an unknown CA (implicit TLS) fails, visibly
        wrong = {**secure.settings(), "smtp_password": "not the password"}
        if implicit_tls:
            wrong["smtp_ca_file"] = ""
        failing = Runtime(settings=replace(rt.settings, **wrong), redis_url=rt.redis_url)
        working = Runtime(
            settings=replace(rt.settings, **secure.settings()), redis_url=rt.redis_url
        )
        try:
            install(failing)
            with pytest.raises(TemporaryFailure):
                send_answer(roads)
            failed = deliveries(rt, roads)["john@example.net"]
            assert failed.status == DeliveryStatus.FAILED
            assert ("CERTIFICATE_VERIFY_FAILED" if implicit_tls else "535") in failed.last_error
            install(working)
            assert send_answer(roads) == 2
        finally:
            install(rt)
            failing.close()
            working.close()
        login = "" if implicit_tls else SmtpServer.USER
        assert [(r.tls, r.login) for r in secure.mailbox.received] == [(True, login)] * 2
