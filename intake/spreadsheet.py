"""Spreadsheet import: parse a CSV or XLSX of questions, stage it for preview, import it.

Rows are numbered as the spreadsheet shows them (the header is row 1), so "Row 7" in the
preview is row 7 in Excel. A row's external id is a sha256 of the meeting and the row's
cleaned contents, plus which occurrence of those contents it is in the file
(``sheet:<hash>:<n>``). Importing the same file twice stores nothing new, and neither does
uploading it again after fixing its bad rows: only the fixed rows are new. (An id from the
file's hash and the row number would import every row again once any cell was corrected.)

Between preview and confirm the parsed rows wait in Redis under a random token, with a
time limit (they hold personal data, so they expire rather than linger).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import secrets
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from domain.models import Channel, Meeting
from domain.runtime import Runtime
from intake.submit import submit
from intake.validation import validate_submission

log = logging.getLogger(__name__)

MAX_ROWS = 5000
STAGE_TTL = 4 * 3600
LONDON = ZoneInfo("Europe/London")

# Normalised header (lower case, letters and digits only) → field. Exact names first…
_EXACT: dict[str, str] = {
    **dict.fromkeys(
        ["question", "questions", "text", "questiontext", "yourquestion", "query", "message"],
        "text",
    ),
    **dict.fromkeys(
        ["name", "firstname", "forename", "givenname", "yourname", "askedby", "author"], "name"
    ),
    **dict.fromkeys(
        ["town", "location", "village", "place", "townorvillage", "townvillage", "area"], "town"
    ),
    **dict.fromkeys(["email", "emailaddress", "mail", "contactemail"], "email"),
    **dict.fromkeys(["consent", "canpublish", "publish", "consenttopublish"], "consent"),
    **dict.fromkeys(["event", "eventname", "show", "venue"], "event"),
    **dict.fromkeys(
        ["receivedat", "received", "date", "datetime", "dateandtime", "timestamp", "submitted"],
        "received_at",
    ),
}
# …then words a longer header contains ("Question for the PCC", "Town / location").
_CONTAINS: list[tuple[str, str]] = [
    ("email", "email"),
    ("consent", "consent"),
    ("permission", "consent"),
    ("publish", "consent"),
    ("named", "consent"),
    ("readout", "consent"),
    ("question", "text"),
    ("town", "town"),
    ("village", "town"),
    ("location", "town"),
    ("event", "event"),
    ("received", "received_at"),
    ("date", "received_at"),
    ("name", "name"),
]
FIELD_LABELS = {
    "text": "Question",
    "name": "Name",
    "town": "Town",
    "email": "Email",
    "consent": "Consent",
    "event": "Event",
    "received_at": "Received at",
}
_YES = {"yes", "y", "true", "1", "x", "✓", "✔", "agreed", "ok"}
_NO = {"no", "n", "false", "0", "", "-"}
_DATE_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d %B %Y",
    "%d %b %Y",
]


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read (wrong format, no question column, too big)."""


@dataclass
class SheetRow:
    """One data row: what it said, and what is wrong with it (empty ``errors`` = importable)."""

    number: int
    external_id: str
    text: str = ""
    name: str = ""
    town: str = ""
    email: str = ""
    consent: bool = False
    event: str = ""
    received_at: str | None = None  # ISO 8601, UTC
    errors: list[str] = field(default_factory=list)
    # The cells as written, to show them back when they could not be understood.
    consent_text: str = ""
    received_text: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def received_local(self) -> str:
        """When it was received, in UK time as staff would write it, or the cell as written."""
        if not self.received_at:
            return self.received_text
        return (
            datetime.fromisoformat(self.received_at).astimezone(LONDON).strftime("%d/%m/%Y %H:%M")
        )

    def consent_label(self) -> str:
        """Yes/No, or the cell as written when it was neither."""
        if self.consent:
            return "Yes"
        return self.consent_text if any("consent" in e for e in self.errors) else "No"

    def messages(self) -> list[str]:
        """'Row 7: question is empty' for each problem."""
        return [f"Row {self.number}: {e}" for e in self.errors]


@dataclass
class ParsedSheet:
    """A whole file: its rows, which columns were used and which were ignored."""

    filename: str
    digest: str
    columns: dict[str, str]  # field → header as written in the file
    ignored: list[str]
    rows: list[SheetRow]

    @property
    def valid_rows(self) -> list[SheetRow]:
        return [r for r in self.rows if r.ok]

    @property
    def invalid_rows(self) -> list[SheetRow]:
        return [r for r in self.rows if not r.ok]


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
    if not data:
        raise SpreadsheetError("The selected file is empty")
    digest = hashlib.sha256(data).hexdigest()
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        table = _read_xlsx(data)
    elif lower.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError("The selected file must be a CSV or .xlsx (save it as .xlsx first)")
    else:
        table = _read_csv(data)
    return _to_rows(filename, digest, table, default_event, meeting_id)


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


def _norm(header: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").lower())


def match_headers(headers: list[Any]) -> tuple[dict[str, int], list[str]]:
    """Map fields to column indexes, forgivingly; returns (field → index, ignored headers).

    Exact names win over partial ones wherever they are ("Question" beats "Question number").
    """
    keys = [_norm(h) for h in headers]
    found: dict[str, int] = {}
    for index, key in enumerate(keys):
        fld = _EXACT.get(key)
        if fld is not None and fld not in found:
            found[fld] = index
    for index, key in enumerate(keys):
        if not key or index in found.values():
            continue
        fld = next((f for word, f in _CONTAINS if word in key), None)
        if fld is not None and fld not in found:
            found[fld] = index
    used = set(found.values())
    ignored = [str(h).strip() for i, h in enumerate(headers) if keys[i] and i not in used]
    return found, ignored


def _to_rows(
    filename: str,
    digest: str,
    table: list[list[Any]],
    default_event: str,
    meeting_id: int | None,
) -> ParsedSheet:
    header_at = next((i for i, r in enumerate(table) if any(_cell(c) for c in r)), None)
    if header_at is None:
        raise SpreadsheetError("The selected file has no rows")
    columns, ignored = match_headers(table[header_at])
    if "text" not in columns:
        raise SpreadsheetError(
            "The file needs a column headed 'Question' (the first row must be the headings)"
        )
    body = table[header_at + 1 :]
    if len(body) > MAX_ROWS:
        raise SpreadsheetError(
            f"The file has more than {MAX_ROWS} rows: split it into smaller files"
        )
    rows: list[SheetRow] = []
    seen: dict[str, int] = {}
    for offset, values in enumerate(body):
        number = header_at + 2 + offset
        if not any(_cell(c) for c in values):
            continue  # a blank line between blocks of cards is not a question
        row = _row(number, values, columns, default_event)
        identity = row_identity(row, meeting_id)
        seen[identity] = seen.get(identity, 0) + 1
        row.external_id = f"sheet:{identity}:{seen[identity]}"
        rows.append(row)
    return ParsedSheet(
        filename=filename,
        digest=digest,
        columns={f: str(table[header_at][i]).strip() for f, i in columns.items()},
        ignored=ignored,
        rows=rows,
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def row_identity(row: SheetRow, meeting_id: int | None) -> str:
    """A hash of what the row says (after cleaning), for its external id."""
    basis = [meeting_id, row.text, row.name, row.town, row.email, row.event, row.received_at]
    return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode()).hexdigest()[:40]


def _row(number: int, values: list[Any], columns: dict[str, int], default_event: str) -> SheetRow:
    def raw(fld: str) -> Any:
        index = columns.get(fld)
        return values[index] if index is not None and index < len(values) else None

    row = SheetRow(number=number, external_id="")
    row.text = _cell(raw("text"))
    row.name = _cell(raw("name"))
    row.town = _cell(raw("town"))
    row.email = _cell(raw("email"))
    row.event = _cell(raw("event")) or default_event.strip()
    problems: list[str] = []

    row.consent_text = _cell(raw("consent"))
    row.received_text = _cell(raw("received_at"))
    consent_raw = row.consent_text.lower()
    if consent_raw in _YES:
        row.consent = True
    elif consent_raw not in _NO:
        problems.append("consent must be yes or no")

    try:
        received = parse_received_at(raw("received_at"))
    except ValueError:
        problems.append("received at is not a date, like 14/08/2025 10:30")
    else:
        row.received_at = received.isoformat() if received else None

    result = validate_submission(
        text=row.text,
        name=row.name,
        town=row.town,
        email=row.email,
        consent=row.consent,
        event=row.event,
    )
    if result.clean is not None:
        row.text = result.clean.text
        row.name = result.clean.author_name or ""
        row.town = result.clean.location or ""
        row.email = result.clean.contact_email or ""
        row.event = result.clean.event_name or ""
    row.errors = result.short_messages() + problems
    return row


def parse_received_at(value: object) -> datetime | None:
    """A cell as an aware UTC datetime; spreadsheet times without a zone are UK local time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(UTC)


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
