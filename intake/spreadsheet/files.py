"""Reading an uploaded CSV or XLSX into a table of cells, before any column means anything.

CSV is read as UTF-8 (with or without a byte order mark), or in the Windows code page that
Excel on Windows saves "CSV" in, with the delimiter sniffed. XLSX is read from its first
worksheet, values only. Old binary .xls files are refused with a hint to save as .xlsx.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

MAX_ROWS = 5000


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read (wrong format, no question column, too big)."""


def read_table(filename: str, data: bytes) -> list[list[Any]]:
    """Every row of the file as a list of cells; raises :class:`SpreadsheetError`."""
    if not data:
        raise SpreadsheetError("The selected file is empty")
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if lower.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError("The selected file must be a CSV or .xlsx (save it as .xlsx first)")
    return _read_csv(data)


def _read_csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in the Windows code page.
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text[:1000]:
        raise SpreadsheetError("The selected file must be a CSV or .xlsx")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise SpreadsheetError(f"The selected file could not be read as CSV ({exc})") from exc


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SpreadsheetError("The selected file could not be read as .xlsx") from exc
    try:
        sheet = book.worksheets[0]
        rows: list[list[Any]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 50:
                break
        return rows
    finally:
        book.close()
