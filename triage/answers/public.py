"""The public page of written answers for one meeting."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from domain.models import Meeting
from domain.web.context import runtime
from triage.answers.read import published_answers

bp = Blueprint("answers_public", __name__, template_folder="../templates")


@bp.get("/meetings/<slug>/answers")
def answers(slug: str) -> str:
    """Each answered group: its redacted question and the answer; names only with opt-in."""
    session = runtime().db.session()
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        abort(404)
    return render_template(
        "triage/answers_public.html",
        meeting=meeting,
        answers=published_answers(session, meeting.id),
    )
