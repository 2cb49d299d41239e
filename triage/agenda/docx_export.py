"""The published agenda as a Word document for circulation, laid out like the meeting notes:
a two-column table of numbers (1, 1.1, 1.2 …) and text."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from docx import Document
from docx.shared import Pt


def _when(iso: str) -> str:
    start = datetime.fromisoformat(iso)
    return start.strftime("%A %-d %B %Y @ %H:%M")


def agenda_docx(content: dict[str, Any], version: int) -> bytes:
    """A .docx of one published agenda version."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    meeting = content["meeting"]
    doc.add_heading(f"{meeting['title']} – Agenda", level=1)
    doc.add_paragraph(f"Date: {_when(meeting['starts'])}")
    if meeting.get("venue"):
        doc.add_paragraph(f"Venue: {meeting['venue']}")
    doc.add_paragraph(f"Length: {meeting['length_minutes']} minutes · version {version}")
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for section in content["sections"]:
        row = table.add_row().cells
        row[0].text = str(section["number"])
        run = row[1].paragraphs[0].add_run(section["title"].upper())
        run.bold = True
        if not section["items"]:
            row[1].add_paragraph("None")
        for item in section["items"]:
            cells = table.add_row().cells
            cells[0].text = item["number"]
            head = cells[1].paragraphs[0]
            head.add_run(item["title"] or item["attribution"]).bold = True
            if item["title"] and item["attribution"]:
                cells[1].add_paragraph(f"Asked by {item['attribution']}")
            for para in item["question"].split("\n\n"):
                if para.strip():
                    cells[1].add_paragraph(para.strip())
            if item["minutes"]:
                cells[1].add_paragraph(f"{item['minutes']} minutes").runs[0].italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
