"""The published agenda for the public: a page per meeting (prints cleanly) and a DOCX.

Shows only what staff published (a stored version), never the working agenda.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from domain.models import Meeting, PublishedAgenda
from domain.web.context import runtime
from triage.agenda.docx_export import agenda_docx

bp = Blueprint("agenda_public", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _latest(slug: str) -> tuple[Meeting, PublishedAgenda | None]:
    session = runtime().db.session()
    meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
    if meeting is None:
        abort(404)
    published = session.scalar(
        select(PublishedAgenda)
        .where(PublishedAgenda.meeting_id == meeting.id)
        .order_by(PublishedAgenda.version.desc())
        .limit(1)
    )
    return meeting, published


@bp.get("/meetings/<slug>/agenda")
def agenda(slug: str) -> tuple[str, int] | str:
    """The latest published agenda, numbered as in the meeting notes."""
    meeting, published = _latest(slug)
    if published is None:
        return render_template("triage/agenda_public.html", meeting=meeting, agenda=None), 404
    return render_template(
        "triage/agenda_public.html",
        meeting=meeting,
        agenda=published.content,
        version=published.version,
        starts=datetime.fromisoformat(published.content["meeting"]["starts"]),
        published_at=published.published_at,
    )


@bp.get("/meetings/<slug>/agenda.docx")
def agenda_document(slug: str) -> Response:
    """The latest published agenda as a Word document."""
    meeting, published = _latest(slug)
    if published is None:
        abort(404)
    return Response(
        agenda_docx(published.content, published.version),
        mimetype=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="{meeting.slug}-agenda.docx"',
            "Cache-Control": "no-cache",
        },
    )
