"""A question group's page: compose the one question the chair will ask, members beside it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from domain.models import (
    SECTION_TITLES,
    AgendaItemGroup,
    AgendaSection,
    Meeting,
    Question,
    QuestionGroup,
    Role,
)
from domain.models.audit import record
from domain.web.auth import roles_required, staff_required
from domain.web.context import runtime
from triage.agenda.actions import tell
from triage.agenda.read import group_line, group_suggestion, visible
from triage.agenda.views import can_edit

bp = Blueprint("triage_groups", __name__, url_prefix="/triage/meetings/<int:meeting_id>/groups")

# Reading is for everyone signed in (chair included); changing is for staff (and admins).
edit_required = roles_required(Role.STAFF)
COMPOSED_LIMIT = 2000


def _load(meeting_id: int, group_id: int) -> tuple[Meeting, QuestionGroup]:
    session = runtime().db.session()
    group = session.scalar(
        select(QuestionGroup)
        .options(
            selectinload(QuestionGroup.questions).joinedload(Question.submission),
            joinedload(QuestionGroup.theme),
        )
        .where(QuestionGroup.id == group_id)
    )
    meeting = session.get(Meeting, meeting_id)
    if group is None or meeting is None or group.meeting_id != meeting_id:
        abort(404)
    return meeting, group


def _page(meeting_id: int, group_id: int, *, draft: str | None = None, error: str = "") -> str:
    meeting, group = _load(meeting_id, group_id)
    link = (
        runtime()
        .db.session()
        .scalar(select(AgendaItemGroup).where(AgendaItemGroup.group_id == group_id))
    )
    return render_template(
        "triage/group.html",
        meeting=meeting,
        group=group,
        members=group.questions,
        shown=visible(group.questions),
        line=group_line(group.questions, AgendaSection.PUBLIC_SESSION),
        suggestion=group_suggestion(group),
        draft=group.composed_question if draft is None else draft,
        error=error,
        placed=link.item if link else None,
        section_titles=SECTION_TITLES,
        can_edit=can_edit(),
    )


@bp.get("/<int:group_id>")
@staff_required
def group(meeting_id: int, group_id: int) -> str:
    """The composed question, the suggestion, who asked, and every member."""
    return _page(meeting_id, group_id)


@bp.post("/<int:group_id>/compose")
@edit_required
def compose(meeting_id: int, group_id: int) -> Response | tuple[str, int]:
    """Save staff's wording, or accept the suggestion (``accept=1``)."""
    _, found = _load(meeting_id, group_id)
    accept = request.form.get("accept") == "1"
    text = group_suggestion(found) if accept else request.form.get("composed_question", "")
    text = text.strip()
    error = ""
    if not text:
        error = "Write the question the chair will ask."
    elif len(text) > COMPOSED_LIMIT:
        error = f"The question must be {COMPOSED_LIMIT} characters or fewer."
    if error:
        return _page(meeting_id, group_id, draft=text, error=error), 400
    rt = runtime()
    with rt.db.transaction() as session:
        g = session.get(QuestionGroup, group_id)
        assert g is not None  # checked by _load
        g.composed_question = text
        g.staff_locked = True
        record(session, "group.compose", actor_id=current_user.id, target_type="question_group",
               target_id=group_id, accepted_suggestion=accept, length=len(text))  # fmt: skip
    tell(rt, meeting_id, "groups.updated", group_ids=[group_id])
    flash("Suggested question accepted." if accept else "Question saved.")
    return redirect(url_for("triage_groups.group", meeting_id=meeting_id, group_id=group_id))
