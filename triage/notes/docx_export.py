"""The notes draft as a Word document, laid out like the OPCC's notes: a header, then a
two-column table of numbers and text ("1.1 | Kath from Shifnal … / question / Response:")."""

from __future__ import annotations

import io

from docx import Document
from docx.shared import Pt
from docx.table import Table, _Cell

from triage.agenda.docx_export import _when
from triage.notes.build import MeetingNotes, NotesItem

BLANK = "[to be completed]"


def _row(table: Table, number: str, text: str, *, bold: bool = False) -> list[_Cell]:
    cells = table.add_row().cells
    cells[0].text = number
    run = cells[1].paragraphs[0].add_run(text)
    run.bold = bold
    return list(cells)


def _item(table: Table, item: NotesItem, *, inline: bool = False) -> None:
    if inline:
        # the social media section writes "Jane from Wyre Forest: question" on one line
        cells = _row(table, item.number, f"{item.heading}: " if item.heading else "", bold=True)
        cells[1].paragraphs[0].add_run(item.question)
    else:
        cells = _row(table, item.number, item.heading, bold=True)
        for para in item.question.split("\n\n"):
            if para.strip():
                cells[1].add_paragraph(para.strip())
    cells[1].add_paragraph().add_run("Response:").bold = True
    cells[1].add_paragraph(item.response or BLANK)


def notes_docx(notes: MeetingNotes) -> bytes:
    """A .docx draft of the meeting notes, ready for the minute-taker."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    m, h = notes.meeting, notes.header
    doc.add_heading(f"{m.title} – Meeting Notes", level=1)
    doc.add_paragraph(f"Date: {_when(m.scheduled_start.isoformat())}")
    doc.add_paragraph(f"Chair: {h.chair or BLANK}")
    doc.add_paragraph(f"Minutes: {h.minute_taker or BLANK}")
    doc.add_paragraph(f"Venue: {m.venue or BLANK}")
    attendance = doc.add_table(rows=1, cols=2)
    attendance.style = "Table Grid"
    attendance.rows[0].cells[0].text = "Name:"
    attendance.rows[0].cells[1].text = "Capacity:"
    for person in h.present:
        cells = attendance.add_row().cells
        cells[0].text, cells[1].text = person.name, person.capacity
    if not h.present:
        attendance.add_row().cells[0].text = BLANK
    doc.add_paragraph(f"Present: {', '.join(p.name for p in h.present) or BLANK}")
    doc.add_paragraph(f"Apologies: {', '.join(h.apologies) or 'None'}")

    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for section in notes.sections:
        cells = _row(table, str(section.number), section.title, bold=True)
        if section.purpose:
            cells[1].add_paragraph(section.purpose)
        for item in section.items:
            _item(table, item, inline=section.title == "SOCIAL MEDIA")
        if not section.items:
            _row(table, "", "None")
    _row(table, "", "END OF PUBLIC SESSION", bold=True)
    n = len(notes.sections) + 1
    cells = _row(table, str(n), "ACTIONS ARISING", bold=True)
    for k, action in enumerate(notes.actions, start=1):
        row = _row(table, f"{n}.{k}", f"Action arising: {action.text}")
        row[1].add_paragraph(f"Owner: {action.owner or BLANK}")
    if not notes.actions:
        cells[1].add_paragraph("None")
    cells = _row(table, str(n + 1), "ANY OTHER BUSINESS", bold=True)
    for k, item in enumerate(notes.other_business, start=1):
        _item(table, NotesItem(f"{n + 1}.{k}", item.heading, item.question, item.response))
    if not notes.other_business:
        cells[1].add_paragraph("None")
    cells = _row(table, str(n + 2), "CONFIRMATION OF NEXT MEETING TYPE / DATE / TIME / VENUE:")
    cells[1].paragraphs[0].runs[0].bold = True
    cells[1].add_paragraph(h.next_meeting or BLANK)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
