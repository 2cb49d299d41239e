"""Spreadsheet import: forgiving parsing, a preview of every row, confirm, no duplicates."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select

from domain.models import (
    Meeting,
    MeetingStatus,
    OutboxMessage,
    Question,
    Role,
    StaffUser,
    Submission,
)
from domain.runtime import Runtime
from intake.forms import QUESTION_LIMIT
from intake.spreadsheet.importer import SpreadsheetError, match_headers, parse_upload
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.processes import wait_for

UPLOAD = "/triage/import"

# Row numbers as a spreadsheet shows them: the heading is row 1.
ROWS = [
    ["Your question", "First name", "Town/Village", "E-mail address", "Consent?", "Show",
     "Date received", "Staff notes"],
    ["Why are sheep being stolen near Clun?", "Les", "Clun", "", "yes", "",
     "14/08/2025 10:30", "card 1"],
    ["", "Rita", "Ludlow", "", "", "", "", "card 2: question left blank"],  # row 3
    ["What happened to the Craven Arms PCSO?", "", "", "", "no", "Ludlow Food Festival", "", ""],
    ["How do I report off-road bikes?", "Sam", "", "sam-at-example", "", "", "", ""],  # row 5
    [],  # row 6: blank line between blocks of cards
    ["Speeding in Bridgnorth", "Jo", "", "", "perhaps", "", "", ""],  # row 7
    ["Is 101 being fixed?", "", "", "", "", "", "next Tuesday", ""],  # row 8
    ["x" * (QUESTION_LIMIT + 1), "", "", "", "", "", "", ""],  # row 9
    ["Can the police station in Whitchurch reopen?", "Ann", "Whitchurch", "ann@example.org",
     "Y", "", "2025-08-15T09:00:00+00:00", ""],
]  # fmt: skip
GOOD_ROWS = [2, 4, 10]


def as_csv(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def as_xlsx(rows: list[list[Any]], path: Path, blank_rows_first: int = 0) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for _ in range(blank_rows_first):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path.read_bytes()


# --- parsing (no database) ----------------------------------------------------------------


def test_headers_are_matched_forgivingly() -> None:
    found, ignored = match_headers(
        ["Question number", " QUESTION ", "Name", "Where do you live (town)", "Email", "Notes"]
    )
    assert found == {"text": 1, "name": 2, "town": 3, "email": 4}
    assert ignored == ["Question number", "Notes"]
    found, _ = match_headers(["text", "location", "received at", "event", "Happy to be named?"])
    assert found == {"text": 0, "town": 1, "received_at": 2, "event": 3, "consent": 4}


def test_csv_rows_are_parsed_with_per_row_errors() -> None:
    data = as_csv(ROWS)
    sheet = parse_upload("cards.csv", data, default_event="Shropshire County Show")
    assert [r.number for r in sheet.rows] == [2, 3, 4, 5, 7, 8, 9, 10]  # the blank row 6 skipped
    assert [r.number for r in sheet.valid_rows] == GOOD_ROWS
    assert sheet.ignored == ["Staff notes"]
    assert sheet.columns["text"] == "Your question"
    problems = [m for r in sheet.invalid_rows for m in r.messages()]
    assert problems == [
        "Row 3: question is empty",
        "Row 5: email address is not valid",
        "Row 7: consent must be yes or no",
        "Row 8: received at is not a date, like 14/08/2025 10:30",
        f"Row 9: question is longer than {QUESTION_LIMIT} characters (it has {QUESTION_LIMIT + 1})",
    ]
    first, festival, last = sheet.valid_rows
    assert (first.name, first.town, first.consent) == ("Les", "Clun", True)
    assert first.event == "Shropshire County Show"  # the default, as the row names none
    assert first.received_at == "2025-08-14T09:30:00+00:00"  # UK summer time → UTC
    assert festival.event == "Ludlow Food Festival"
    assert (last.email, last.consent) == ("ann@example.org", True)
    assert sheet.digest == hashlib.sha256(data).hexdigest()
    assert re.fullmatch(r"sheet:[0-9a-f]{40}:1", first.external_id)


def test_row_ids_are_stable_across_uploads_and_fixes() -> None:
    before = {r.number: r.external_id for r in parse_upload("a.csv", as_csv(ROWS), "", 1).rows}
    ids = list(before.values())
    assert len(set(ids)) == len(ids)
    # The same file again: the same ids (so nothing is imported twice)…
    assert [r.external_id for r in parse_upload("b.csv", as_csv(ROWS), "", 1).rows] == ids
    # …and after fixing a bad row and adding one, every other row keeps its id.
    fixed = [list(r) for r in ROWS]
    fixed[2][0] = "Why was the Ludlow front counter closed?"
    fixed.append(["One more?"])
    after = {r.number: r.external_id for r in parse_upload("f.csv", as_csv(fixed), "", 1).rows}
    assert {n: i for n, i in after.items() if n in before and n != 3} == {
        n: i for n, i in before.items() if n != 3
    }
    assert after[3] != before[3]
    # The same cards for another meeting are new questions there.
    other = parse_upload("a.csv", as_csv(ROWS), "", 2).rows
    assert not {r.external_id for r in other} & set(ids)
    # Two identical cards in one file are two questions.
    twins = parse_upload("t.csv", as_csv([["Question"], ["Speeding?"], ["Speeding?"]])).rows
    assert [r.external_id.rsplit(":", 1)[1] for r in twins] == ["1", "2"]
    assert twins[0].external_id.rsplit(":", 1)[0] == twins[1].external_id.rsplit(":", 1)[0]


def test_semicolons_and_windows_encoding_are_understood() -> None:
    rows = [["Question", "Town"], ["Who pays for the £2m custody suite – and why?", "Wem"]]
    sheet = parse_upload("excel.csv", as_csv(rows, delimiter=";", encoding="cp1252"))
    assert sheet.rows[0].text == "Who pays for the £2m custody suite – and why?"
    assert sheet.rows[0].town == "Wem"


def test_xlsx_with_real_dates_and_a_late_heading_row(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["Question", "Name", "Received at", "Consent"],
        ["Are drones used to catch hare coursers?", "Bill", datetime(2025, 1, 10, 14, 0), True],
        [None, "Nobody", None, None],
    ]
    sheet = parse_upload("cards.xlsx", as_xlsx(rows, tmp_path / "c.xlsx", blank_rows_first=2))
    assert [r.number for r in sheet.rows] == [4, 5]
    good, bad = sheet.rows
    assert good.ok and good.received_at == "2025-01-10T14:00:00+00:00"  # winter: UK = UTC
    assert good.consent is True and good.name == "Bill"
    assert bad.messages() == ["Row 5: question is empty"]


def test_unreadable_files_get_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SpreadsheetError, match="column headed 'Question'"):
        parse_upload("notes.csv", as_csv([["Name", "Town"], ["Les", "Clun"]]))
    with pytest.raises(SpreadsheetError, match=r"CSV or \.xlsx"):
        parse_upload("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(SpreadsheetError, match="empty"):
        parse_upload("nothing.csv", b"")
    with pytest.raises(SpreadsheetError, match="xlsx"):
        parse_upload("broken.xlsx", b"PK\x03\x04 not really a zip")


# --- the staff pages ----------------------------------------------------------------------


@pytest.fixture
def staff(client: FlaskClient, staff_user: Any) -> FlaskClient:
    login = {"email": STAFF_EMAIL, "password": STAFF_PASSWORD}
    signed_in = client.post("/triage/login", data=login)
    assert signed_in.status_code == 302
    return client


def upload(client: FlaskClient, meeting: Meeting, data: bytes, name: str = "cards.csv") -> Any:
    return client.post(
        UPLOAD,
        data={
            "meeting": str(meeting.id),
            "event": "Shropshire County Show",
            "file": (io.BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_preview_then_confirm_imports_good_rows_and_lists_bad_ones(
    staff: FlaskClient, meeting: Meeting, rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert staff.get(UPLOAD).status_code == 200
    data = as_csv(ROWS)
    sent = upload(staff, meeting, data)
    assert sent.status_code == 303
    preview_url = sent.headers["Location"]
    token = preview_url.rsplit("/", 1)[-1]
    # The rows wait server-side (in Redis, with an expiry), not in the session cookie.
    key = f"{rt.prefix}:sheet-import:{token}"
    assert 0 < int(rt.redis.ttl(key)) <= 4 * 3600
    cookie = sent.headers.get("Set-Cookie", "")
    assert "sheep" not in cookie and len(cookie) < 1000
    assert outbox(rt) == []  # nothing imported before confirming

    preview = staff.get(preview_url).get_data(as_text=True)
    for number in [2, 3, 4, 5, 7, 8, 9, 10]:
        assert f'id="row-{number}"' in preview
    assert 'id="row-6"' not in preview
    assert "8 rows: 3 ready to import, 5 with problems" in preview
    assert "5 rows cannot be imported" in preview
    assert '<a href="#row-3">Row 3: question is empty</a>' in preview
    assert '<a href="#row-7">Row 7: consent must be yes or no</a>' in preview
    assert "Staff notes" in preview  # ignored columns are named
    # Times shown as staff wrote them (UK time); cells that were not understood shown as written.
    row = {n: preview[preview.index(f'id="row-{n}"') :].split("</tr>")[0] for n in (2, 7, 8)}
    assert "14/08/2025 10:30" in row[2]
    assert "perhaps" in row[7] and "Consent must be yes or no" in row[7]
    assert "next Tuesday" in row[8]
    assert "Import 3 questions" in preview

    done = staff.post(preview_url)
    assert done.status_code == 303
    result = staff.get(done.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="imported-count">3</span> questions imported', result)
    assert "Row 3: question is empty" in result and "Row 9: question is longer" in result

    rows = outbox(rt)
    expected = parse_upload("cards.csv", data, "Shropshire County Show", meeting.id).valid_rows
    assert [r.external_id for r in rows] == [r.external_id for r in expected]
    assert {r.channel for r in rows} == {"event"}
    assert [r.payload["event_name"] for r in rows] == [
        "Shropshire County Show",
        "Ludlow Food Festival",
        "Shropshire County Show",
    ]
    assert datetime.fromisoformat(rows[0].payload["received_at"]) == datetime(
        2025, 8, 14, 9, 30, tzinfo=UTC
    )
    # Confirming twice (back button, double click) imports nothing more.
    staff.post(preview_url)
    assert len(outbox(rt)) == 3

    # The same file again: a new preview, and confirming it creates no duplicates.
    second = upload(staff, meeting, data, name="cards (1).csv").headers["Location"]
    assert second != preview_url
    staff.post(second)
    again = staff.get(second).get_data(as_text=True)
    assert re.search(r'id="imported-count">0</span> questions imported', again)
    assert re.search(r"Already imported before</dt><dd[^>]*>3<", again)
    assert len(outbox(rt)) == 3

    # Row 3 fixed and the file uploaded again: only the fixed row is new.
    fixed = [list(r) for r in ROWS]
    fixed[2][0] = "Why was the Ludlow front counter closed?"
    third = upload(staff, meeting, as_csv(fixed), name="cards fixed.csv").headers["Location"]
    staff.post(third)
    result = staff.get(third).get_data(as_text=True)
    assert re.search(r'id="imported-count">1</span> question imported', result)
    assert re.search(r"Already imported before</dt><dd[^>]*>3<", result)
    assert [r.payload["text"] for r in outbox(rt)][-1] == "Why was the Ludlow front counter closed?"
    assert len(outbox(rt)) == 4
    for private in ("sheep", "Les", "ann@example.org", "Whitchurch"):
        assert private not in caplog.text


def test_upload_problems_keep_the_choices_made(
    staff: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    no_file = staff.post(UPLOAD, data={"meeting": str(meeting.id), "event": "Wem Carnival"})
    body = no_file.get_data(as_text=True)
    assert no_file.status_code == 200
    assert '<a href="#file">Select a CSV or Excel file</a>' in body
    assert re.search(rf'<option (selected )?value="{meeting.id}"( selected)?>', body)
    assert 'value="Wem Carnival"' in body

    no_column = upload(staff, meeting, as_csv([["Name"], ["Les"]])).get_data(as_text=True)
    assert "column headed" in no_column

    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    closed = upload(staff, meeting, as_csv(ROWS)).get_data(as_text=True)
    assert "This meeting is not taking questions" in closed
    assert outbox(rt) == []


def test_a_preview_belongs_to_whoever_uploaded_it_and_confirms_only_while_open(
    app: Any, staff: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    preview_url = upload(staff, meeting, as_csv(ROWS)).headers["Location"]
    with rt.db.transaction() as session:
        other = StaffUser(email="other@example.org", display_name="Other", role=Role.STAFF)
        other.set_password("another long password")
        session.add(other)
    colleague = app.test_client()
    colleague.post(
        "/triage/login", data={"email": "other@example.org", "password": "another long password"}
    )
    assert colleague.get(preview_url).status_code == 404
    assert colleague.post(preview_url).status_code == 404
    assert staff.get("/triage/import/not-a-real-token-at-all").status_code == 404

    # The meeting closed between preview and confirm: nothing imported, the preview stays.
    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    refused = staff.post(preview_url)
    assert refused.status_code == 200
    assert "This meeting is not taking questions" in refused.get_data(as_text=True)
    assert 'id="row-10"' in refused.get_data(as_text=True)
    assert outbox(rt) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the page, not storage
def test_confirming_from_a_preview_left_open_too_long_asks_again(
    app: Any, staff: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    preview_url = upload(staff, meeting, as_csv(ROWS)).headers["Location"]
    app.config["WTF_CSRF_ENABLED"] = True
    stale = staff.post(preview_url, data={"csrf_token": "expired"})
    assert stale.status_code == 400
    body = stale.get_data(as_text=True)
    assert "This page was open too long, so nothing was saved. Select Import again." in body
    assert 'id="row-10"' in body  # the rows are still there
    assert outbox(rt) == []
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert fresh
    assert staff.post(preview_url, data={"csrf_token": fresh.group(1)}).status_code == 303
    assert len(outbox(rt)) == 3

    # Uploading from a stale page: the choices are kept; a browser cannot keep the file.
    stale_upload = staff.post(
        UPLOAD,
        data={
            "csrf_token": "expired",
            "meeting": str(meeting.id),
            "event": "Wem Carnival",
            "file": (io.BytesIO(as_csv(ROWS)), "cards.csv"),
        },
        content_type="multipart/form-data",
    )
    assert stale_upload.status_code == 400
    page = stale_upload.get_data(as_text=True)
    assert "nothing was saved. Select the file again" in page
    assert 'value="Wem Carnival"' in page


def test_imported_rows_reach_the_database_through_a_real_worker(
    staff: FlaskClient, meeting: Meeting, rt: Runtime, worker: Any, tmp_path: Path
) -> None:
    # Unique per run: RQ job ids (from the row ids) live in the shared test Redis.
    run = uuid.uuid4().hex[:8]
    rows: list[list[Any]] = [
        ["Question", "Name", "Town"],
        [f"Why are rural crime figures not published by parish? ({run})", "Pat", "Wem"],
        ["", "Empty", ""],
        [f"Will Market Drayton get a police dog unit? ({run})", "", ""],
    ]
    preview_url = upload(
        staff, meeting, as_xlsx(rows, tmp_path / "cards.xlsx"), name="cards.xlsx"
    ).headers["Location"]
    assert staff.post(preview_url).status_code == 303

    def questions() -> int:
        with rt.db.transaction() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Question)
                    .join(Submission, Question.submission_id == Submission.id)
                    .where(Submission.channel == "event", Submission.meeting_id == meeting.id)
                )
                or 0
            )

    wait_for(lambda: questions() == 2, timeout=30)
