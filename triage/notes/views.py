"""The "meeting notes" button: a short form for what the agenda does not know, then the DOCX."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.notes.build import Attendee, NotesHeader, build_notes
from triage.notes.docx_export import notes_docx

bp = Blueprint("triage_notes", __name__, template_folder="../templates", url_prefix="/triage")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _meeting(meeting_id: int) -> Meeting:
    meeting = runtime().db.session().get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def parse_people(text: str) -> list[Attendee]:
    """One person a line: 'John Campion, Police and Crime Commissioner (PCC)'."""
    people = []
    for line in text.splitlines():
        name, _, capacity = line.partition(",")
        if name.strip():
            people.append(Attendee(name.strip()[:120], capacity.strip()[:200]))
    return people


@bp.get("/meetings/<int:meeting_id>/notes")
@staff_required
def notes_form(meeting_id: int) -> str:
    """Who chaired, took the notes, attended and sent apologies; the next meeting."""
    return render_template("triage/notes.html", meeting=_meeting(meeting_id))


@bp.post("/meetings/<int:meeting_id>/notes.docx")
@staff_required
def notes_document(meeting_id: int) -> Response:
    """The notes draft as a Word document (nothing is stored)."""
    meeting = _meeting(meeting_id)
    form = request.form
    header = NotesHeader(
        chair=form.get("chair", "").strip()[:120],
        minute_taker=form.get("minute_taker", "").strip()[:200],
        present=parse_people(form.get("present", "")),
        apologies=[a.strip() for a in form.get("apologies", "").splitlines() if a.strip()],
        next_meeting=form.get("next_meeting", "").strip()[:500],
    )
    notes = build_notes(runtime().db.session(), meeting, header)
    return Response(
        notes_docx(notes),
        mimetype=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="{meeting.slug}-notes.docx"',
            "Cache-Control": "no-store",
        },
    )
