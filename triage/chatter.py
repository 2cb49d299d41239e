"""Comments and noise: the items the pipeline kept out of grouping, and promoting one.

The worker classifies every item as a question, a comment or noise
(``workers/pipeline/kind.py``). Comments and noise are stored like questions but never
grouped or forwarded (a clean comment close to a group joins it as a question instead:
``workers.pipeline.engine.COMMENT_JOIN_THRESHOLD``); staff see them in a list of their own
and can promote one to a question with one action. A promoted question starts a group of its
own, or joins the group the worker suggests for it (a comment that raises what a group asks:
"no coppers round here anymore"); staff can then move or merge it like any other, and the
worker matches later questions to it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from domain import events
from domain.models import Question, QuestionKind, QuestionStatus
from domain.models.audit import record
from domain.runtime import Runtime
from triage.decisions import DecisionError, join_group, own_group

__all__ = ["PromotionError", "load_chatter", "promote"]


class PromotionError(ValueError):
    """The item cannot be promoted (another meeting, or already a question)."""


def load_chatter(session: Session, meeting_id: int) -> dict[QuestionKind, list[Question]]:
    """Comments and noise of a meeting, newest first, rejected ones left out."""
    rows = session.scalars(
        select(Question)
        .options(joinedload(Question.submission))
        .where(
            Question.meeting_id == meeting_id,
            Question.kind != QuestionKind.QUESTION,
            Question.status != QuestionStatus.REJECTED,
        )
        .order_by(Question.id.desc())
    ).all()
    out: dict[QuestionKind, list[Question]] = {QuestionKind.COMMENT: [], QuestionKind.NOISE: []}
    for q in rows:
        out[q.kind].append(q)
    return out


def promote(
    rt: Runtime, meeting_id: int, question_id: int, actor_id: int, into: int | None = None
) -> int | None:
    """Make a comment (or noise) a question; returns its group id.

    It starts a group of its own, or joins ``into``, one of the groups the worker suggested
    for it (the group it would have joined if it had asked). A flagged item keeps waiting for
    moderation (no group until a moderator accepts it), and ``None`` is returned.
    """
    with rt.db.transaction() as session:
        q = session.get(Question, question_id)
        if q is None or q.meeting_id != meeting_id:
            raise PromotionError(f"question {question_id} is not in this meeting")
        if q.kind == QuestionKind.QUESTION:
            raise PromotionError(f"question {question_id} is already a question")
        flagged = q.status == QuestionStatus.FLAGGED
        if into is not None and flagged:
            raise PromotionError(f"question {question_id} waits for a moderator first")
        if into is not None and not q.suggests(into):
            raise PromotionError(f"group {into} is not among the item's suggestions")
        before = q.kind
        q.kind = QuestionKind.QUESTION
        q.decided_at = datetime.now(UTC)
        group_id: int | None = None
        if into is not None:
            try:
                group_id = join_group(session, meeting_id, q, into).id
            except DecisionError as exc:
                raise PromotionError(str(exc)) from exc
        elif not flagged:
            group_id = own_group(session, q)
        record(session, "question.promote", actor_id=actor_id, target_type="question",
               target_id=q.id, before=before.value, to_group=group_id)  # fmt: skip
    events.publish(rt.redis, rt.prefix, meeting_id, "questions.updated",
                   {"question_ids": [question_id]})  # fmt: skip
    return group_id
