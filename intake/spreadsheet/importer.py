"""Spreadsheet import: parse a CSV or XLSX of questions, stage it for preview, import it.

Rows are numbered as the spreadsheet shows them (the header is row 1), so "Row 7" in the
preview is row 7 in Excel. A row's external id is a sha256 of the meeting and the row's
cleaned contents, plus which occurrence of those contents it is in the file
(``sheet:<hash>:<n>``). Importing the same file twice stores nothing new, and neither does
uploading it again after fixing its bad rows: only the fixed rows are new. (An id from the
file's hash and the row number would import every row again once any cell was corrected.)

Between preview and confirm the parsed rows wait in Redis under a random token, with a
time limit (they hold personal data, so they expire rather than linger).

This module holds the flow from upload to import; reading the file
(:mod:`intake.spreadsheet.files`) and turning its rows into checked questions
(:mod:`intake.spreadsheet.rows`) live beside it, and their names stay importable from here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime

from domain.models import Channel, Meeting
from domain.runtime import Runtime
from intake.spreadsheet.files import MAX_ROWS, SpreadsheetError, read_table
from intake.spreadsheet.rows import (
    FIELD_LABELS,
    LONDON,
    ParsedSheet,
    SheetRow,
    match_headers,
    parse_received_at,
    row_identity,
    sheet_from_table,
)
from intake.submit import submit

__all__ = [
    "FIELD_LABELS",
    "LONDON",
    "MAX_ROWS",
    "STAGE_TTL",
    "ImportResult",
    "ParsedSheet",
    "SheetRow",
    "SpreadsheetError",
    "Staged",
    "import_staged",
    "load_staged",
    "match_headers",
    "parse_received_at",
    "parse_upload",
    "row_identity",
    "stage",
]

log = logging.getLogger(__name__)

STAGE_TTL = 4 * 3600


@dataclass
class ImportResult:
    """What confirming an import did."""

    created: int = 0
    duplicates: int = 0
    not_imported: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


# --- parsing ------------------------------------------------------------------------------


def parse_upload(
    filename: str, data: bytes, default_event: str = "", meeting_id: int | None = None
) -> ParsedSheet:
    """Parse an uploaded CSV or XLSX; raises :class:`SpreadsheetError` for unreadable files.

    ``meeting_id`` is part of each row's id: the same cards imported into another meeting
    are new questions there.
    """
    table = read_table(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    return sheet_from_table(filename, digest, table, default_event, meeting_id)


# --- staging between preview and confirm --------------------------------------------------


def _stage_key(rt: Runtime, token: str) -> str:
    return f"{rt.prefix}:sheet-import:{token}"


def stage(rt: Runtime, sheet: ParsedSheet, *, meeting_id: int, user_id: int) -> str:
    """Keep a parsed file in Redis for the preview; returns the token naming it."""
    token = secrets.token_urlsafe(18)
    record = {
        "meeting_id": meeting_id,
        "user_id": user_id,
        "sheet": asdict(sheet),
        "result": None,
    }
    rt.redis.set(_stage_key(rt, token), json.dumps(record), ex=STAGE_TTL)
    log.info(
        "staged spreadsheet import: %d rows (%d with problems) for meeting %s",
        len(sheet.rows),
        len(sheet.invalid_rows),
        meeting_id,
    )
    return token


@dataclass
class Staged:
    """A staged import as read back from Redis."""

    token: str
    meeting_id: int
    user_id: int
    sheet: ParsedSheet
    result: ImportResult | None


def load_staged(rt: Runtime, token: str) -> Staged | None:
    """The staged import named by ``token``, or None if unknown or expired."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{10,64}", token):
        return None
    raw = rt.redis.get(_stage_key(rt, token))
    if raw is None:
        return None
    data = json.loads(raw)
    sheet_data = data["sheet"]
    sheet = ParsedSheet(
        filename=sheet_data["filename"],
        digest=sheet_data["digest"],
        columns=sheet_data["columns"],
        ignored=sheet_data["ignored"],
        rows=[SheetRow(**r) for r in sheet_data["rows"]],
    )
    result = ImportResult(**data["result"]) if data.get("result") else None
    return Staged(token, int(data["meeting_id"]), int(data["user_id"]), sheet, result)


def import_staged(rt: Runtime, staged: Staged, meeting: Meeting) -> ImportResult:
    """Submit every valid row through the normal intake path; bad rows are listed, not lost.

    The staged record keeps only the outcome afterwards (counts and problem lines).
    """
    result = ImportResult()
    for row in staged.sheet.rows:
        if not row.ok:
            result.not_imported.extend(row.messages())
            continue
        receipt = submit(
            rt,
            meeting,
            channel=Channel.EVENT.value,
            text=row.text,
            external_id=row.external_id,
            author_name=row.name or None,
            location=row.town or None,
            contact_email=row.email or None,
            consent_publish=row.consent,
            event_name=row.event or None,
            received_at=datetime.fromisoformat(row.received_at) if row.received_at else None,
        )
        if receipt.duplicate:
            result.duplicates += 1
        else:
            result.created += 1
        result.references.append(receipt.reference)
    record = {
        "meeting_id": staged.meeting_id,
        "user_id": staged.user_id,
        # Rows are no longer needed once imported: keep only the report.
        "sheet": {**asdict(staged.sheet), "rows": []},
        "result": asdict(result),
    }
    rt.redis.set(_stage_key(rt, staged.token), json.dumps(record), ex=STAGE_TTL)
    log.info(
        "spreadsheet import into meeting %s: %d new, %d already imported, %d rows with problems",
        meeting.id,
        result.created,
        result.duplicates,
        len(staged.sheet.invalid_rows),
    )
    return result
