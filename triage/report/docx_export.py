"""The meeting report as a Word document: the figures in the panel report's words, the three
charts (with their text alternatives as the pictures' descriptions) and tables of the numbers."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.shared import Inches, Pt

from domain.models import Meeting
from triage.report.charts import CHANNEL_LABELS, CHARTS, chart
from triage.report.figures import ReportFigures
from triage.report.text import summary_paragraphs


def _table(doc: Any, head: tuple[str, str], rows: dict[str, int]) -> None:
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = head
    for label, value in rows.items():
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, str(value)


def report_docx(meeting: Meeting, figures: ReportFigures) -> bytes:
    """A .docx of the meeting report."""
    doc = Document()
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(11)
    doc.add_heading(f"{meeting.title}: report on the public meeting", level=1)
    for n, paragraph in enumerate(summary_paragraphs(meeting, figures), start=1):
        doc.add_paragraph(f"{n}. {paragraph}")
    doc.add_heading("Questions in advance by channel", level=2)
    named = {CHANNEL_LABELS.get(k, k): v for k, v in figures.advance_by_channel.items()}
    _table(doc, ("Channel", "Questions"), named)
    if figures.advance_by_event:
        doc.add_heading("Questions in advance by event", level=2)
        _table(doc, ("Event", "Questions"), figures.advance_by_event)
    doc.add_heading("Questions by theme", level=2)
    _table(doc, ("Theme", "Questions"), figures.themes_raised)
    for name in CHARTS:
        picture = chart(name, figures)
        doc.add_picture(io.BytesIO(picture.png), width=Inches(6))
        # the description screen readers announce for the picture
        doc.inline_shapes[-1]._inline.docPr.set("descr", picture.alt)
        doc.add_paragraph(picture.alt).runs[0].italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
