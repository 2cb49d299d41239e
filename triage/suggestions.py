"""Suggested groups on the board: show a question's candidate groups, accept one in one click.

The worker stores, on a question that joined no group, its best candidate groups with scores
(``Question.suggestions``: ``[{"group_id": 12, "score": 0.61}, ...]``). The board includes
``triage/_suggestions.html`` beside each question; pressing 1, 2 or 3 while the question has
focus (or the button) accepts that suggestion, which is an ordinary staff move (locked,
audited, fed back to the worker). Accepting also pulls the suggestions of the question's near
neighbours the same way: unplaced questions like it get the chosen group first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from domain.models import Question, QuestionGroup, QuestionStatus
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage import decisions

bp = Blueprint("triage_suggestions", __name__, url_prefix="/triage/meetings/<int:meeting_id>")

#: Cosine above which a question counts as a near neighbour of one staff placed.
NEIGHBOUR_COSINE = 0.6
MAX_SUGGESTIONS = 3


@bp.app_template_global()
def suggestion_choices(question: Any, meeting_id: int) -> list[dict[str, Any]]:
    """The question's suggestions that still name a group of its meeting, each named by the
    group's composed question (else its title, else its first question, redacted).

    ``question`` is anything with ``suggestions`` and ``group_id`` (a Question, a board Member).
    """
    wanted = [s for s in (question.suggestions or []) if s.get("group_id") != question.group_id]
    if not wanted:
        return []
    session = runtime().db.session()
    ids = [s["group_id"] for s in wanted]
    named = {
        gid: (composed or title or "").strip()
        for gid, composed, title in session.execute(
            select(QuestionGroup.id, QuestionGroup.composed_question, QuestionGroup.title).where(
                QuestionGroup.meeting_id == meeting_id, QuestionGroup.id.in_(ids)
            )
        )
    }
    unnamed = [gid for gid, name in named.items() if not name]
    if unnamed:
        first = session.execute(
            select(Question.group_id, Question.redacted_text)
            .where(Question.group_id.in_(unnamed))
            .order_by(Question.id.desc())
        )
        named.update({gid: text for gid, text in first if gid is not None})
    return [
        {"group_id": s["group_id"], "score": s.get("score"), "title": named[s["group_id"]]}
        for s in wanted
        if s["group_id"] in named
    ][:MAX_SUGGESTIONS]


@bp.post("/questions/<int:question_id>/suggestions/<int:group_id>/accept")
@staff_required
def accept(meeting_id: int, question_id: int, group_id: int) -> Response:
    """Move the question into the suggested group."""
    rt = runtime()
    with rt.db.transaction() as session:
        q = session.get(Question, question_id)
        if q is None or q.meeting_id != meeting_id:
            abort(404)
        if not q.suggests(group_id):
            abort(400, "that group is not among the question's suggestions")
    decisions.move_question(rt, meeting_id, question_id, group_id, current_user.id)
    with rt.db.transaction() as session:
        pull_neighbours(session, meeting_id, question_id, group_id)
    flash("Question added to the suggested group.")
    anchor = request.form.get("anchor", "")
    return redirect(url_for("triage.meeting", meeting_id=meeting_id) + anchor)


def pull_neighbours(session: Session, meeting_id: int, question_id: int, group_id: int) -> int:
    """Put ``group_id`` first in the suggestions of unplaced questions near ``question_id``.

    A question is near when the cosine of the stored vectors reaches ``NEIGHBOUR_COSINE``; only
    questions staff have not placed and that are alone in their group are touched. Returns how
    many questions changed.
    """
    moved = session.get(Question, question_id)
    if moved is None or moved.embedding is None:
        return 0
    anchor = _vector(moved.embedding)
    sizes: dict[int, int] = {}
    rows = session.scalars(
        select(Question).where(
            Question.meeting_id == meeting_id,
            Question.id != question_id,
            Question.status == QuestionStatus.NEW,
            Question.group_locked.is_(False),
        )
    ).all()
    for q in rows:
        if q.group_id is not None:
            sizes[q.group_id] = sizes.get(q.group_id, 0) + 1
    changed = 0
    for q in rows:
        if q.embedding is None or q.group_id == group_id or sizes.get(q.group_id or -1, 0) > 1:
            continue
        cosine = float(_vector(q.embedding) @ anchor)
        if cosine < NEIGHBOUR_COSINE:
            continue
        rest = [s for s in q.suggestions or [] if s.get("group_id") != group_id]
        q.suggestions = [{"group_id": group_id, "score": round(cosine, 4)}, *rest][:MAX_SUGGESTIONS]
        changed += 1
    return changed


def _vector(blob: bytes) -> np.ndarray:
    vec = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec
