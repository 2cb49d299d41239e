"""A spreadsheet's rows as questions: which column is which, and what each row says.

Headers are matched forgivingly ("Question for the PCC", "Town / location"). Each data row is
cleaned and checked by the same validation every intake channel uses, and keeps its problems
so the preview can list them. Rows are numbered as the spreadsheet shows them (the header is
row 1). A row's external id is a sha256 of the meeting and the row's cleaned contents, plus
which occurrence of those contents it is in the file (``sheet:<hash>:<n>``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from intake.spreadsheet.files import MAX_ROWS, SpreadsheetError
from intake.validation import validate_submission

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


def sheet_from_table(
    filename: str,
    digest: str,
    table: list[list[Any]],
    default_event: str,
    meeting_id: int | None,
) -> ParsedSheet:
    """The table as checked rows; raises :class:`SpreadsheetError` with no usable header."""
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
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC moment
        raise ValueError(str(value)) from None
