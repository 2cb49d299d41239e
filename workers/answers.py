"""Sending written answers by email: exactly once per person, even across crashes.

Claim, then send. Each (answer, person) has one ``AnswerDelivery`` row (unique key). A sender
claims it with a fresh token (``claimed``), opens the SMTP envelope, records ``handing_over``
(only if its claim is still its own and younger than ``SEND_LEASE_SECONDS``), sends DATA, and
records ``sent``. If the process dies:

* while ``claimed``: the server was never handed the message, so after the lease the delivery
  goes back to ``pending`` and is sent again. A slow sender that outlives its lease notices at
  the hand-over check and stops, so two senders never both reach DATA.
* while ``handing_over``: the server may have accepted it and only its reply was lost. SMTP has
  no way to ask, so the delivery becomes ``unconfirmed`` and is never sent again by itself;
  staff see it (with the Message-ID to search the mail server's log) and choose "mark as
  delivered" or "send again". The window is one server reply long.

We chose "at most once" inside that window because a duplicate answer cannot be taken back
while a missing one is visible and can be sent from the staff page.
"""

from __future__ import annotations

import logging
import re
import smtplib
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.models import AnswerDelivery, DeliveryStatus, Meeting, QuestionGroup, WrittenAnswer
from domain.models.submission import Submission
from domain.queue import enqueue_send_answer
from domain.runtime import Runtime, current
from domain.settings import Settings
from workers import mail, social_reply

log = logging.getLogger(__name__)

RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
EMAIL = "email"


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # someone else has it, or it is already done
    FAILED = "failed"
    BOUNCED = "bounced"
    UNCONFIRMED = "unconfirmed"
    CANCELLED = "cancelled"


class TemporaryFailure(RuntimeError):
    """Some deliveries failed for now; raising makes RQ try the job again later."""


def send_answer(answer_id: int) -> int:
    """RQ job: send an approved answer to everyone not yet sent it; returns how many were sent.

    Idempotent: deliveries already sent, refused or being sent by another worker are skipped.
    Raises :class:`TemporaryFailure` when a delivery failed in a way worth retrying.
    """
    rt = current()
    with rt.db.transaction() as session:
        answer = session.get(WrittenAnswer, answer_id)
        if answer is None or answer.approved_at is None:
            raise ValueError(f"answer {answer_id} does not exist or is not approved")
        ids = session.scalars(
            select(AnswerDelivery.id).where(
                AnswerDelivery.answer_id == answer_id, AnswerDelivery.status.in_(RETRYABLE)
            )
        ).all()
    outcomes = [deliver(rt, delivery_id) for delivery_id in ids]
    failed = outcomes.count(Outcome.FAILED)
    log.info("answer %s: %s", answer_id, {o.value: outcomes.count(o) for o in set(outcomes)})
    if failed:
        raise TemporaryFailure(f"{failed} delivery(ies) of answer {answer_id} failed for now")
    return outcomes.count(Outcome.SENT)


def deliver(rt: Runtime, delivery_id: int) -> Outcome:
    """Claim one delivery and send it; the outcome is recorded on the row."""
    token = uuid.uuid4().hex
    now = datetime.now(UTC)
    with rt.db.transaction() as session:
        claimed = session.execute(
            update(AnswerDelivery)
            .where(AnswerDelivery.id == delivery_id, AnswerDelivery.status.in_(RETRYABLE))
            .values(
                status=DeliveryStatus.CLAIMED,
                claim_token=token,
                claimed_at=now,
                attempts=AnswerDelivery.attempts + 1,
            )
        )
        if not getattr(claimed, "rowcount", 0):
            return Outcome.SKIPPED
        delivery = session.get(AnswerDelivery, delivery_id)
        assert delivery is not None
        if not delivery.address:
            _finish(session, delivery_id, token, DeliveryStatus.CANCELLED, "address erased")
            return Outcome.CANCELLED
        address, channel = delivery.address, delivery.channel
        if channel != EMAIL:
            meeting = session.get(Meeting, delivery.answer.meeting_id)
            assert meeting is not None
            url = answers_url(rt.settings, meeting.slug)
        else:
            message = _message(session, delivery, rt.settings)
    if channel != EMAIL:
        return _reply(rt, delivery_id, token, now, channel, address, url)
    return _converse(rt, delivery_id, token, now, address, message)


def _reply(
    rt: Runtime,
    delivery_id: int,
    token: str,
    claimed_at: datetime,
    channel: str,
    post_id: str,
    url: str,
) -> Outcome:
    """A reply on X or Facebook, with the same claim and hand-over as an email."""
    if not _mark_handing_over(rt, delivery_id, token, claimed_at):
        return Outcome.SKIPPED
    send = social_reply.reply_on_x if channel == "twitter" else social_reply.reply_on_facebook
    try:
        reply_id = send(rt.settings, post_id, social_reply.reply_text(url))
    except social_reply.ReplyRefused as exc:
        status = DeliveryStatus.BOUNCED if exc.permanent else DeliveryStatus.FAILED
        _record(rt, delivery_id, token, status, str(exc)[:500])
        return Outcome.BOUNCED if exc.permanent else Outcome.FAILED
    except social_reply.ReplyNotSent as exc:
        _record(rt, delivery_id, token, DeliveryStatus.FAILED, str(exc)[:500])
        return Outcome.FAILED
    except social_reply.ReplyUnknown as exc:
        _record(rt, delivery_id, token, DeliveryStatus.UNCONFIRMED, str(exc)[:500])
        return Outcome.UNCONFIRMED
    _record(rt, delivery_id, token, DeliveryStatus.SENT, f"posted reply {reply_id}")
    return Outcome.SENT


def _converse(
    rt: Runtime,
    delivery_id: int,
    token: str,
    claimed_at: datetime,
    address: str,
    message: EmailMessage,
) -> Outcome:
    settings = rt.settings
    handed_over = False
    try:
        with mail.connect(settings) as smtp:
            mail.open_envelope(smtp, settings.mail_from, address)
            if not _mark_handing_over(rt, delivery_id, token, claimed_at):
                smtp.rset()
                return Outcome.SKIPPED
            handed_over = True
            reply = mail.hand_over(smtp, message)
    except mail.Refused as exc:
        # a refusal is an answer: the server did not take the message, whatever the stage
        status = DeliveryStatus.BOUNCED if exc.permanent else DeliveryStatus.FAILED
        _record(rt, delivery_id, token, status, _scrub(str(exc), address))
        return Outcome.BOUNCED if exc.permanent else Outcome.FAILED
    except (smtplib.SMTPException, OSError, mail.MailNotConfigured) as exc:
        if handed_over:
            note = _scrub(_describe(exc), address)
            _record(rt, delivery_id, token, DeliveryStatus.UNCONFIRMED, note)
            return Outcome.UNCONFIRMED
        _record(rt, delivery_id, token, DeliveryStatus.FAILED, _scrub(_describe(exc), address))
        return Outcome.FAILED
    _record(rt, delivery_id, token, DeliveryStatus.SENT, _scrub(reply, address))
    return Outcome.SENT


def _mark_handing_over(rt: Runtime, delivery_id: int, token: str, claimed_at: datetime) -> bool:
    lease = timedelta(seconds=rt.settings.send_lease_seconds)
    if datetime.now(UTC) - claimed_at >= lease:
        return False  # recovery may already have given this delivery to someone else
    with rt.db.transaction() as session:
        result = session.execute(
            update(AnswerDelivery)
            .where(
                AnswerDelivery.id == delivery_id,
                AnswerDelivery.claim_token == token,
                AnswerDelivery.status == DeliveryStatus.CLAIMED,
            )
            .values(status=DeliveryStatus.HANDING_OVER)
        )
        return bool(getattr(result, "rowcount", 0))


def _record(rt: Runtime, delivery_id: int, token: str, status: DeliveryStatus, note: str) -> None:
    with rt.db.transaction() as session:
        _finish(session, delivery_id, token, status, note)


def _finish(
    session: Session, delivery_id: int, token: str, status: DeliveryStatus, note: str
) -> None:
    values: dict[str, object] = {"status": status, "last_error": note}
    if status == DeliveryStatus.SENT:
        values["sent_at"] = datetime.now(UTC)
    session.execute(
        update(AnswerDelivery)
        .where(AnswerDelivery.id == delivery_id, AnswerDelivery.claim_token == token)
        .values(**values)
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _scrub(note: str, address: str) -> str:
    """The server's reply without the address (servers often echo it), kept short."""
    return re.sub(re.escape(address), "[recipient]", note, flags=re.IGNORECASE)[:500]


def answers_url(settings: Settings, slug: str) -> str:
    """The public answers page of a meeting."""
    return f"{settings.public_url.rstrip('/')}/meetings/{slug}/answers"


def message_id_for(delivery: AnswerDelivery, settings: Settings) -> str:
    """A stable Message-ID per delivery, to find it in the mail server's log."""
    domain = settings.mail_from.rpartition("@")[2] or "openfloor.invalid"
    return f"<answer-{delivery.answer_id}.delivery-{delivery.id}@{domain}>"


def _message(session: Session, delivery: AnswerDelivery, settings: Settings) -> EmailMessage:
    answer = delivery.answer
    group = session.get(QuestionGroup, answer.group_id)
    meeting = session.get(Meeting, answer.meeting_id)
    assert group is not None and meeting is not None
    name = None
    if delivery.submission_id is not None:
        submission = session.get(Submission, delivery.submission_id)
        name = submission.author_name if submission is not None else None
    greeting = f"Dear {name.split()[0]}," if name else "Hello,"
    url = answers_url(settings, meeting.slug)
    body = "\n\n".join(
        [
            greeting,
            f"Thank you for your question for “{meeting.title}” on "
            f"{meeting.scheduled_start:%-d %B %Y}. It was not covered during the meeting, so "
            "here is the written answer we promised.",
            f"The question:\n{group.composed_question.strip()}",
            f"The answer:\n{answer.body.strip()}",
            f"All the written answers from this meeting are published at {url} "
            "(without names, unless people agreed to be named).",
            "Office of the Police and Crime Commissioner",
        ]
    )
    message_id = message_id_for(delivery, settings)
    delivery.message_id = message_id
    return mail.build_message(
        sender=settings.mail_from,
        recipient=delivery.address or "",
        subject=f"Your question to the Police and Crime Commissioner – {meeting.title}",
        body=body,
        message_id=message_id,
    )


def recover_sends() -> int:
    """Periodic job: deal with deliveries whose sender died; returns how many were recovered.

    Claimed but never handed over → pending again (and sent); handed over without a reply →
    unconfirmed, for staff. Approved answers with pending deliveries get a send job, in case
    the one queued at approval was lost.
    """
    rt = current()
    cutoff = datetime.now(UTC) - timedelta(seconds=rt.settings.send_lease_seconds)
    # a sender alive in DATA waits at most one SMTP timeout for the reply
    reply_cutoff = cutoff - timedelta(seconds=rt.settings.smtp_timeout)
    with rt.db.transaction() as session:
        released = session.execute(
            update(AnswerDelivery)
            .where(
                AnswerDelivery.status == DeliveryStatus.CLAIMED, AnswerDelivery.claimed_at < cutoff
            )
            .values(status=DeliveryStatus.PENDING, claim_token=None)
        )
        unconfirmed = session.execute(
            update(AnswerDelivery)
            .where(
                AnswerDelivery.status == DeliveryStatus.HANDING_OVER,
                AnswerDelivery.claimed_at < reply_cutoff,
            )
            .values(
                status=DeliveryStatus.UNCONFIRMED,
                last_error="the sender stopped after handing the message over; not sent again",
            )
        )
        waiting = session.scalars(
            select(AnswerDelivery.answer_id)
            .join(WrittenAnswer)
            .where(
                AnswerDelivery.status == DeliveryStatus.PENDING,
                WrittenAnswer.approved_at.is_not(None),
            )
            .distinct()
        ).all()
    for answer_id in waiting:
        enqueue_send_answer(rt.redis, rt.prefix, answer_id)
    count = int(getattr(released, "rowcount", 0) or 0) + int(
        getattr(unconfirmed, "rowcount", 0) or 0
    )
    if count:
        log.warning("recovered %d interrupted answer deliveries", count)
    return count
