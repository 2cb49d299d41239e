"""Write, approve and re-send written answers (pure database work; the caller commits)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.erasure import ERASED_PREFIX, SOCIAL_CHANNELS
from domain.models import (
    AnswerDelivery,
    Coverage,
    DeliveryStatus,
    QuestionGroup,
    QuestionStatus,
    WrittenAnswer,
)
from domain.models.answer import recipient_key
from domain.models.audit import record
from triage.agenda.read import visible

ANSWER_LIMIT = 10_000
SOCIAL = SOCIAL_CHANNELS
RESENDABLE = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.UNCONFIRMED)


class AnswerError(ValueError):
    """Something staff asked for that cannot be done; the message says why and what to do."""


def save_answer(session: Session, group: QuestionGroup, body: str, actor_id: int) -> WrittenAnswer:
    """Write (or rewrite, until approved) the one answer to a not-covered group."""
    body = body.strip()
    if group.coverage != Coverage.NOT_COVERED:
        raise AnswerError("Only questions not covered in the meeting get a written answer")
    if not body:
        raise AnswerError("Enter the answer")
    if len(body) > ANSWER_LIMIT:
        raise AnswerError(f"The answer must be {ANSWER_LIMIT:,} characters or fewer")
    answer = session.scalar(select(WrittenAnswer).where(WrittenAnswer.group_id == group.id))
    if answer is not None and answer.approved_at is not None:
        raise AnswerError("This answer is approved and has been sent; it can no longer change")
    if answer is None:
        answer = WrittenAnswer(group_id=group.id, meeting_id=group.meeting_id, body=body)
        session.add(answer)
    answer.body = body
    answer.written_by = actor_id
    answer.written_at = datetime.now(UTC)
    session.flush()
    record(session, "answer.write", actor_id=actor_id, target_type="group", target_id=group.id)
    return answer


def approve(session: Session, answer: WrittenAnswer, actor_id: int) -> list[AnswerDelivery]:
    """Approve an answer (a different person from its writer) and create one delivery per email.

    Every member question records the answer; the unique (answer, person) key means a person
    who asked twice in the group gets one email.
    """
    if answer.approved_at is not None:
        raise AnswerError("This answer is already approved")
    if answer.written_by == actor_id:
        raise AnswerError("A different member of staff must approve the answer")
    group = session.get(QuestionGroup, answer.group_id)
    assert group is not None
    # conditional update: of two officers approving at once, only one creates the deliveries
    claimed = session.execute(
        update(WrittenAnswer)
        .where(WrittenAnswer.id == answer.id, WrittenAnswer.approved_at.is_(None))
        .values(approved_by=actor_id, approved_at=datetime.now(UTC))
        .execution_options(synchronize_session="fetch")
    )
    if not getattr(claimed, "rowcount", 0):
        raise AnswerError("This answer is already approved")
    created: dict[str, AnswerDelivery] = {}
    for question in visible(group.questions):
        question.written_answer = answer.body
        question.status = QuestionStatus.ANSWERED_WRITTEN
        sub = question.submission
        if sub.erased_at is not None:
            continue
        if sub.contact_email:
            channel, address, key = "email", sub.contact_email.strip(), sub.contact_email
        elif sub.channel in SOCIAL and not sub.external_id.startswith(ERASED_PREFIX):
            # a reply to their post; the same person (handle) is answered once
            channel, address = sub.channel.value, sub.external_id
            key = f"{channel}:{sub.author_handle or sub.external_id}"
        else:
            continue
        key = recipient_key(key)
        if key not in created:
            created[key] = AnswerDelivery(
                answer_id=answer.id,
                submission_id=question.submission_id,
                channel=channel,
                recipient_key=key,
                address=address,
            )
            session.add(created[key])
    session.flush()
    record(
        session, "answer.approve", actor_id=actor_id, target_type="answer", target_id=answer.id,
        deliveries=len(created),
    )  # fmt: skip
    return list(created.values())


def resend(session: Session, delivery: AnswerDelivery, actor_id: int) -> None:
    """Staff try a failed, refused or unconfirmed delivery again."""
    if delivery.status not in RESENDABLE:
        raise AnswerError("Only failed, refused or unconfirmed emails can be sent again")
    if not delivery.address:
        raise AnswerError("The address was erased; this answer can no longer be emailed")
    delivery.status = DeliveryStatus.PENDING
    delivery.claim_token = None
    record(
        session, "answer.resend", actor_id=actor_id, target_type="delivery", target_id=delivery.id
    )


def confirm(session: Session, delivery: AnswerDelivery, actor_id: int) -> None:
    """Staff found an unconfirmed email in the mail server's log: record it as delivered."""
    if delivery.status != DeliveryStatus.UNCONFIRMED:
        raise AnswerError("Only unconfirmed emails can be marked as delivered")
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = datetime.now(UTC)
    record(
        session, "answer.confirm", actor_id=actor_id, target_type="delivery", target_id=delivery.id
    )
