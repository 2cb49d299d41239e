"""The meeting report: a page, its charts as PNG, and a Word export (staff and the chair)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.report.charts import CHANNEL_LABELS, CHARTS, chart
from triage.report.docx_export import report_docx
from triage.report.figures import ReportFigures, compute
from triage.report.text import summary_paragraphs

bp = Blueprint("triage_report", __name__, template_folder="../templates", url_prefix="/triage")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _figures(meeting_id: int) -> tuple[Meeting, ReportFigures]:
    session = runtime().db.session()
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting, compute(session, meeting)


@bp.get("/meetings/<int:meeting_id>/report")
@staff_required
def report(meeting_id: int) -> str:
    """The figures for the panel, the charts with their text alternatives, and tables."""
    meeting, figures = _figures(meeting_id)
    return render_template(
        "triage/report.html",
        meeting=meeting,
        f=figures,
        paragraphs=summary_paragraphs(meeting, figures),
        charts=[(name, chart(name, figures).alt) for name in CHARTS],
        channel_labels=CHANNEL_LABELS,
    )


@bp.get("/meetings/<int:meeting_id>/report/<name>.png")
@staff_required
def chart_png(meeting_id: int, name: str) -> Response:
    """One chart, drawn on the server."""
    if name not in CHARTS:
        abort(404)
    _, figures = _figures(meeting_id)
    return Response(
        chart(name, figures).png, mimetype="image/png", headers={"Cache-Control": "no-store"}
    )


@bp.get("/meetings/<int:meeting_id>/report.docx")
@staff_required
def report_document(meeting_id: int) -> Response:
    """The report as a Word document."""
    meeting, figures = _figures(meeting_id)
    return Response(
        report_docx(meeting, figures),
        mimetype=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="{meeting.slug}-report.docx"',
            "Cache-Control": "no-store",
        },
    )
