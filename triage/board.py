"""Read models for the staff board: groups with their questions, the moderation queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from domain.models import Question, QuestionGroup, QuestionKind, QuestionStatus, Theme


@dataclass
class GroupView:
    """One group as staff see it: the questions, who asked, and the theme."""

    group: QuestionGroup | None
    questions: list[Question] = field(default_factory=list)

    @property
    def askers(self) -> list[str]:
        """'Kath from Shifnal'-style names of those who agreed to be named."""
        names = [q.submission.public_name() for q in self.questions]
        return [n for n in names if n]

    @property
    def places(self) -> list[str]:
        """Distinct towns, in order (kept even when the question is the same)."""
        seen: dict[str, None] = {}
        for q in self.questions:
            if q.submission.location:
                seen.setdefault(q.submission.location, None)
        return list(seen)


def load_board(session: Session, meeting_id: int) -> tuple[list[GroupView], list[Question]]:
    """Groups (largest first) and the moderation queue of flagged questions.

    Comments and noise are not grouped: they are listed apart (``triage/chatter.py``) unless
    flagged, when they wait in the moderation queue like any flagged item.
    """
    questions = session.scalars(
        select(Question)
        .options(joinedload(Question.submission), joinedload(Question.theme))
        .where(Question.meeting_id == meeting_id)
        .order_by(Question.id)
    ).all()
    groups = {
        g.id: g
        for g in session.scalars(
            select(QuestionGroup)
            .options(joinedload(QuestionGroup.theme))
            .where(QuestionGroup.meeting_id == meeting_id)
        )
    }
    views: dict[int | None, GroupView] = {}
    flagged: list[Question] = []
    for q in questions:
        if q.status == QuestionStatus.FLAGGED:
            flagged.append(q)
            continue
        if q.status == QuestionStatus.REJECTED or q.kind != QuestionKind.QUESTION:
            continue
        key = q.group_id
        view = views.get(key)
        if view is None:
            view = views[key] = GroupView(group=groups.get(key) if key is not None else None)
        view.questions.append(q)
    ordered = sorted(views.values(), key=lambda v: (-len(v.questions), v.questions[0].id))
    return ordered, flagged


def active_themes(session: Session) -> list[Theme]:
    """Themes staff can choose from, by label."""
    return list(session.scalars(select(Theme).where(Theme.active).order_by(Theme.label)))
