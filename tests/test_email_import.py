"""Email import: real .eml files and a real IMAP4rev1 server on 127.0.0.1, real worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from domain.models import Meeting, MeetingStatus, OutboxMessage, Question, Submission
from domain.runtime import Runtime
from intake.commands import import_email
from intake.email.importer import AutomaticReply, first_name, html_to_text, parse_email
from intake.validation import QUESTION_LIMIT
from tests.support.imap_server import ImapTestServer, tls_context
from tests.support.processes import wait_for

DATA = Path(__file__).parent / "data"
CERT = DATA / "imap-test-only-cert.pem"
KEY = DATA / "imap-test-only-key.pem"
USER = "questions@opcc.example"
PASSWORD = "imap-password"


def message(
    body: str | None = "Why are sheep being stolen near Clun?",
    *,
    sender: str = "Kath Jones <kath.jones@example.net>",
    subject: str = "Question for the Commissioner",
    html: str | None = None,
    message_id: str | None = None,
    attachment: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A real RFC 5322 message built with the standard library."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "questions@opcc.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2025, 8, 14, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.net")
    for key, value in (headers or {}).items():
        msg[key] = value
    if body is not None:
        msg.set_content(body)
    if html is not None:
        if body is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    if attachment is not None:
        msg.add_attachment(attachment, maintype="text", subtype="csv", filename="crimes.csv")
    return msg.as_bytes()


# --- parsing (no database) ----------------------------------------------------------------


def test_plain_text_is_preferred_and_replies_signatures_and_sign_offs_are_trimmed() -> None:
    body = (
        "Hello,\n\n"
        "Why are sheep being stolen near Clun, and what is being done about it?\n\n"
        "Kind regards,\n"
        "Kath Jones\n"
        "07700 900123\n\n"
        "On Tue, 12 Aug 2025 at 10:02, OPCC <questions@opcc.example> wrote:\n"
        "> Thank you for your email.\n"
        "> Send us your question.\n"
    )
    raw = message(
        body,
        html="<p>HTML VERSION should not be used</p>",
        attachment=b"date,crime\n2025-08-01,ATTACHMENT CONTENT\n",
        subject="Re: Sheep theft",
        message_id="<q-123@example.net>",
    )
    parsed = parse_email(raw)
    assert parsed.text == (
        "Sheep theft\n\nHello,\n\n"
        "Why are sheep being stolen near Clun, and what is being done about it?"
    )
    assert parsed.external_id == "q-123@example.net"
    assert parsed.first_name == "Kath"
    assert parsed.address == "kath.jones@example.net"
    assert parsed.received_at == datetime(2025, 8, 14, 9, 30, tzinfo=UTC)


def test_signatures_phone_footers_and_outlook_replies_are_cut() -> None:
    cases = {
        "Speeding in Wem?\n-- \nJo Bloggs\nParish council": "Speeding in Wem?",
        "Is 101 staffed at night?\n\nSent from my iPhone": "Is 101 staffed at night?",
        "Where is my PCSO?\n\nFrom: OPCC <q@opcc.example>\nSent: 12 August 2025 10:00\n"
        "To: Me\nSubject: Your question\n\nOld text": "Where is my PCSO?",
        "Who decides the budget?\n\n-----Original Message-----\nold": "Who decides the budget?",
        "Thanks for the meeting. Will there be another one in Oswestry?\n\nThanks\nSue": (
            "Thanks for the meeting. Will there be another one in Oswestry?"
        ),
    }
    for body, expected in cases.items():
        raw = message(body, subject="")
        assert parse_email(raw).text == expected, body


def test_html_only_mail_is_turned_into_text_safely() -> None:
    html = (
        "<html><head><title>TITLE</title><style>p { color: red }</style></head><body>"
        "<div>Why is <b>speeding</b> on the A49 &amp; A5 not &lt;enforced&gt;?</div>"
        "<script>alert('SCRIPT')</script><p>Line two<br>line three</p>"
        "<blockquote>QUOTED earlier message</blockquote><img src=x onerror=alert(1)>"
        "</body></html>"
    )
    parsed = parse_email(message(None, html=html, subject=""))
    assert parsed.text == (
        "Why is speeding on the A49 & A5 not <enforced>?\n\nLine two\nline three"
    )
    for hidden in ("TITLE", "color", "SCRIPT", "QUOTED", "onerror"):
        assert hidden not in parsed.text
    assert html_to_text("a<br/>b") == "a\nb"


def test_older_charsets_and_encodings_are_decoded() -> None:
    raw = (
        b"From: =?iso-8859-1?q?Si=E2n_Evans?= <sian@example.net>\r\n"
        b"Subject: =?iso-8859-1?q?=A35m_budget?=\r\n"
        b"Message-ID: <latin1@example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1; format=flowed\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Where will the =A35m go, and who decides? It is a long line that the =\r\n"
        b"sender's mail program wrapped \r\n"
        b"with format=3Dflowed.\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.first_name == "Siân"
    assert parsed.text == (
        "£5m budget\n\nWhere will the £5m go, and who decides? It is a long line that the "
        "sender's mail program wrapped with format=flowed."
    )


def test_sender_names_give_only_a_first_name() -> None:
    assert first_name("Kath Jones") == "Kath"
    assert first_name("Jones, Kath") == "Kath"
    assert first_name("Mrs Kath Jones") == "Kath"
    assert first_name("KATH JONES") == "Kath"
    assert first_name("kath.jones@example.net") is None
    assert first_name("") is None
    assert first_name("J. Smith") is None
    parsed = parse_email(message(sender="kath@example.net"))
    assert parsed.first_name is None and parsed.address == "kath@example.net"


def test_automatic_replies_and_missing_message_ids() -> None:
    with pytest.raises(AutomaticReply):
        parse_email(message("I am out of the office", headers={"Auto-Submitted": "auto-replied"}))
    with pytest.raises(AutomaticReply):
        parse_email(message("Undeliverable", sender="MAILER-DAEMON@mx.example"))
    raw = message("No id here?").replace(b"Message-ID:", b"X-Old-ID:")
    first = parse_email(raw)
    assert first.external_id.startswith("sha256:")
    assert parse_email(raw).external_id == first.external_id


# --- importing ----------------------------------------------------------------------------


def run_import(settings: dict[str, Any], meeting: Meeting, *args: str) -> Result:
    env = {key.upper(): str(value) for key, value in settings.items()}
    result = CliRunner().invoke(import_email, ["--meeting", str(meeting.id), *args], env=env)
    return result


def imap_args(server: ImapTestServer, *extra: str, password: str = PASSWORD) -> list[str]:
    return [
        "--imap-host", server.host, "--imap-port", str(server.port),
        "--imap-user", USER, "--imap-password", password, *extra,
    ]  # fmt: skip


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_folder_of_eml_files_is_imported_once(
    settings: dict[str, Any],
    meeting: Meeting,
    rt: Runtime,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "01.eml").write_bytes(
        message("Why are sheep being stolen near Clun?", message_id="<sheep@example.net>")
    )
    (folder / "02.eml").write_bytes(
        message(
            None,
            sender='"Bloggs, Joe" <joe@example.org>',
            subject="Speeding",
            html="<p>Can we have a camera in Wem?</p>",
            message_id="<wem@example.org>",
        )
    )
    (folder / "03.eml").write_bytes(message("", subject="", message_id="<empty@example.net>"))
    (folder / "04.eml").write_bytes(message("x" * (QUESTION_LIMIT + 1), subject=""))
    (folder / "notes.txt").write_text("not an email")

    first = run_import(settings, meeting, "--folder", str(folder))
    assert first.exit_code == 0, first.output
    assert "2 new question(s), 0 already imported" in first.output
    assert "03.eml: question is empty" in first.output
    assert f"04.eml: question is longer than {QUESTION_LIMIT} characters" in first.output

    rows = outbox(rt)
    assert [(r.channel, r.external_id) for r in rows] == [
        ("email", "sheep@example.net"),
        ("email", "wem@example.org"),
    ]
    assert rows[0].payload["author_name"] == "Kath"
    assert rows[0].payload["contact_email"] == "kath.jones@example.net"
    assert rows[0].payload["text"] == (
        "Question for the Commissioner\n\nWhy are sheep being stolen near Clun?"
    )
    assert rows[1].payload["author_name"] == "Joe"
    assert rows[1].payload["text"] == "Speeding\n\nCan we have a camera in Wem?"
    assert rows[0].payload["consent_publish"] is False

    again = run_import(settings, meeting, "--folder", str(folder))
    assert again.exit_code == 0, again.output
    assert "0 new question(s), 2 already imported" in again.output
    assert len(outbox(rt)) == 2

    # With --move-to, handled files are moved away; the ones a person must read stay.
    done = tmp_path / "done"
    moved = run_import(settings, meeting, "--folder", str(folder), "--move-to", str(done))
    assert moved.exit_code == 0, moved.output
    assert sorted(p.name for p in done.iterdir()) == ["01.eml", "02.eml"]
    assert sorted(p.name for p in folder.iterdir()) == ["03.eml", "04.eml", "notes.txt"]
    assert len(outbox(rt)) == 2
    for private in ("kath.jones@example.net", "sheep", "Kath", "Joe"):
        assert private not in caplog.text


def test_imap_mailbox_marks_seen_flags_problems_and_skips_auto_replies(
    settings: dict[str, Any], meeting: Meeting, rt: Runtime
) -> None:
    with ImapTestServer(USER, PASSWORD) as server:
        good = server.add(message("Where has the Ludlow PCSO gone?", message_id="<a@x.net>"))
        auto = server.add(message("Out of office", headers={"Auto-Submitted": "auto-replied"}))
        empty = server.add(message("", subject=""))
        already_read = server.add(message("Read by staff already"), flags={"\\Seen"})

        first = run_import(settings, meeting, *imap_args(server, "--no-ssl"))
        assert first.exit_code == 0, first.output
        assert "1 new question(s)" in first.output and "1 automatic repl" in first.output
        assert f"{empty}: question is empty" in first.output
        assert server.flags(good) == {"\\Seen"}
        assert server.flags(auto) == {"\\Seen"}
        assert server.flags(empty) == {"\\Flagged"}  # unread, flagged for a person
        assert server.flags(already_read) == {"\\Seen"}
        assert "UID FETCH" in server.log and "FETCH" not in server.log  # peeked by UID
        assert [r.external_id for r in outbox(rt)] == ["a@x.net"]

        server.log.clear()
        again = run_import(settings, meeting, *imap_args(server, "--no-ssl"))
        assert again.exit_code == 0, again.output
        assert "0 new question(s), 0 already imported" in again.output
        assert "UID FETCH" not in server.log  # nothing left to read
        assert len(outbox(rt)) == 1


# About the IMAP conversation rather than the database: one database is enough.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
@pytest.mark.parametrize("capabilities", [("IMAP4rev1", "MOVE"), ("IMAP4rev1",)])
def test_imap_messages_can_be_moved_after_import(
    settings: dict[str, Any], meeting: Meeting, rt: Runtime, capabilities: tuple[str, ...]
) -> None:
    with ImapTestServer(USER, PASSWORD, capabilities=capabilities) as server:
        server.mailboxes["Imported"] = type(server.mailboxes["INBOX"])()
        server.add(message("First question?", message_id="<m1@x.net>"))
        server.add(message("Second question?", message_id="<m2@x.net>"))
        args = imap_args(server, "--no-ssl", "--move-to", "Imported")
        result = run_import(settings, meeting, *args)
        assert result.exit_code == 0, result.output
        assert server.count("INBOX") == 0
        assert server.count("Imported") == 2
        assert ("UID MOVE" in server.log) == ("MOVE" in capabilities)
        assert len(outbox(rt)) == 2


@sqlite_only
def test_imap_over_tls_and_clear_errors(
    settings: dict[str, Any], meeting: Meeting, rt: Runtime
) -> None:
    with ImapTestServer(USER, PASSWORD, ssl_context=tls_context(CERT, KEY)) as server:
        server.add(message("Asked over TLS?", message_id="<tls@x.net>"))
        # The server's certificate is not trusted by default: refused, nothing read.
        untrusted = run_import(settings, meeting, *imap_args(server))
        assert untrusted.exit_code == 1
        assert "could not connect" in untrusted.output
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.output

        args = imap_args(server, "--imap-cafile", str(CERT), password="wrong")
        wrong = run_import(settings, meeting, *args)
        assert wrong.exit_code == 1
        assert "refused the login" in wrong.output
        assert outbox(rt) == []

        trusted = run_import(settings, meeting, *imap_args(server, "--imap-cafile", str(CERT)))
        assert trusted.exit_code == 0, trusted.output
        assert [r.external_id for r in outbox(rt)] == ["tls@x.net"]

    with rt.db.transaction() as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        row.status = MeetingStatus.CLOSED
    closed = run_import(settings, meeting, "--folder", str(DATA))
    assert closed.exit_code == 1 and "not taking questions" in closed.output
    neither = run_import(settings, meeting)
    assert neither.exit_code == 2 and "--folder or --imap-host" in neither.output


def test_emailed_questions_reach_the_database_through_a_real_worker(
    settings: dict[str, Any], meeting: Meeting, rt: Runtime, worker: Any
) -> None:
    # Unique per run: RQ job ids (from channel + external id) live in the shared test Redis.
    message_id = make_msgid(domain="x.net")
    with ImapTestServer(USER, PASSWORD) as server:
        server.add(message("Why is the Shifnal police station shut?", message_id=message_id))
        result = run_import(settings, meeting, *imap_args(server, "--no-ssl"))
        assert result.exit_code == 0, result.output

    def stored() -> Any:
        with rt.db.transaction() as session:
            return session.execute(
                select(Question.text, Submission.author_name, Submission.contact_email)
                .join(Submission, Question.submission_id == Submission.id)
                .where(
                    Submission.channel == "email",
                    Submission.external_id == message_id.strip("<>"),
                )
            ).first()

    row = wait_for(stored, timeout=30)
    assert tuple(row) == (
        "Question for the Commissioner\n\nWhy is the Shifnal police station shut?",
        "Kath",
        "kath.jones@example.net",
    )
