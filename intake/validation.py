"""The one validation every intake channel uses: the form, cards, spreadsheets, email and API.

Callers hand over plain strings (whatever their field names are); they get back either a
cleaned question or a list of :class:`FieldError`. Each error has a GOV.UK-style sentence
for forms and API bodies ("Enter the question") and a short phrase for import reports
("question is empty", shown as "Row 7: question is empty").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.models import Meeting, MeetingState

# Server-side limit; the page shows a GOV.UK character count but sets no HTML maxlength, so
# nobody's text is silently cut off while they type or paste.
QUESTION_LIMIT = 1200
NAME_LIMIT = 80
TOWN_LIMIT = 80
EMAIL_LIMIT = 254
EVENT_LIMIT = 200

# Deliberately simple: one @, something either side, a dot in the domain, no spaces.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class FieldError:
    """One problem with one field ("text", "name", "town", "email", "event" or "meeting")."""

    field: str
    message: str
    short: str


@dataclass(frozen=True)
class CleanQuestion:
    """A question that passed validation, whitespace and control characters tidied."""

    text: str
    author_name: str | None
    location: str | None
    contact_email: str | None
    consent_publish: bool
    event_name: str | None


@dataclass(frozen=True)
class Validation:
    """The outcome: ``clean`` when there are no errors."""

    clean: CleanQuestion | None
    errors: tuple[FieldError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self, names: Mapping[str, str] | None = None) -> dict[str, str]:
        """First message per field, keyed by the caller's own field names."""
        out: dict[str, str] = {}
        for error in self.errors:
            key = (names or {}).get(error.field, error.field)
            out.setdefault(key, error.message)
        return out

    def short_messages(self) -> list[str]:
        """Short phrases for import reports, in field order."""
        return [e.short for e in self.errors]


# Format characters that stay: joiners shape emoji sequences and some scripts (Persian,
# Indic), tag characters spell the flags of England, Scotland and Wales.
_KEPT_FORMAT = frozenset("\u200c\u200d") | frozenset(map(chr, range(0xE0020, 0xE0080)))
# Blank characters that Unicode files as letters or marks (Hangul fillers, the combining
# grapheme joiner, Khmer inherent vowels): they would make an empty question look written.
_BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")
_LINE_BREAKS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\u00a0": " "})


def _visible_or_layout(ch: str) -> bool:
    if ch in "\n\t":
        return True
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co"):
        return False
    if category == "Cf":
        return ch in _KEPT_FORMAT
    return ch not in _BLANK_LETTERS


def clean_text(value: object) -> str:
    """Normalise newlines, drop control and format characters, and trim.

    Control characters go (NUL breaks PostgreSQL), and so do format characters such as
    bidirectional overrides (U+202E shows "gnirts" for "string" on staff screens) and
    zero-width spaces, in every field. Joiners inside emoji and flag tags stay.
    """
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    if not text.isascii() or not text.isprintable():
        text = "".join(ch for ch in text if _visible_or_layout(ch))
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if all(ch in _KEPT_FORMAT or ch.isspace() for ch in text):
        return ""  # nothing but joiners left: it was empty to the eye
    return text


def has_words(text: str) -> bool:
    """True if ``text`` has at least one letter or digit (not only emoji, symbols or blanks)."""
    return any(unicodedata.category(ch)[0] in "LN" and ch not in _BLANK_LETTERS for ch in text)


NO_WORDS = "Question must include letters or numbers, not only symbols or emoji"


def clean_line(value: object) -> str:
    """A one-line value: whitespace runs (including newlines) become single spaces."""
    return " ".join(clean_text(value).split())


def validate_meeting(
    meeting: Meeting | MeetingState | None, *, required: bool = True
) -> FieldError | None:
    """The meeting must exist (when ``required``) and be taking questions."""
    if meeting is None:
        if required:
            return FieldError("meeting", "Select the meeting", "meeting is not chosen")
        return None
    if not meeting.accepting_questions:
        return FieldError(
            "meeting", "This meeting is not taking questions", "meeting is not taking questions"
        )
    return None


def validate_submission(
    *,
    text: object,
    name: object = None,
    town: object = None,
    email: object = None,
    consent: bool = False,
    event: object = None,
    meeting: Meeting | MeetingState | None = None,
    meeting_required: bool = False,
    event_required: bool = False,
) -> Validation:
    """Check one question exactly as every channel must.

    ``meeting`` is checked for taking questions when given; ``meeting_required`` makes a
    missing one an error (staff pages where a meeting is chosen from a list).
    """
    errors: list[FieldError] = []
    body = clean_text(text)
    author = clean_line(name)
    location = clean_line(town)
    address = clean_line(email)
    event_name = clean_line(event)

    meeting_error = validate_meeting(meeting, required=meeting_required)
    if meeting_error is not None:
        errors.append(meeting_error)
    if not body:
        errors.append(FieldError("text", "Enter the question", "question is empty"))
    elif not has_words(body):
        errors.append(FieldError("text", NO_WORDS, "question has no letters or numbers"))
    elif len(body) > QUESTION_LIMIT:
        errors.append(
            FieldError(
                "text",
                f"Question must be {QUESTION_LIMIT} characters or fewer",
                f"question is longer than {QUESTION_LIMIT} characters (it has {len(body)})",
            )
        )
    if len(author) > NAME_LIMIT:
        errors.append(
            FieldError(
                "name",
                f"Name must be {NAME_LIMIT} characters or fewer",
                f"name is longer than {NAME_LIMIT} characters",
            )
        )
    if len(location) > TOWN_LIMIT:
        errors.append(
            FieldError(
                "town",
                f"Town must be {TOWN_LIMIT} characters or fewer",
                f"town is longer than {TOWN_LIMIT} characters",
            )
        )
    if address and (len(address) > EMAIL_LIMIT or not EMAIL_PATTERN.match(address)):
        errors.append(
            FieldError(
                "email",
                "Enter an email address in the correct format, like name@example.com",
                "email address is not valid",
            )
        )
    if not event_name and event_required:
        errors.append(FieldError("event", "Enter the event name", "event name is empty"))
    elif len(event_name) > EVENT_LIMIT:
        errors.append(
            FieldError(
                "event",
                f"Event name must be {EVENT_LIMIT} characters or fewer",
                f"event name is longer than {EVENT_LIMIT} characters",
            )
        )
    if errors:
        return Validation(clean=None, errors=tuple(errors))
    return Validation(
        clean=CleanQuestion(
            text=body,
            author_name=author or None,
            location=location or None,
            contact_email=address or None,
            consent_publish=bool(consent and author),
            event_name=event_name or None,
        ),
        errors=(),
    )


def apply_to_form(form: Any, result: Validation, names: Mapping[str, str]) -> None:
    """Show ``result``'s errors on a WTForms form whose fields are named by ``names``.

    ``names`` maps validation fields ("text", "name"…) to the form's field names; errors for
    unmapped fields go to ``form.form_errors``.
    """
    for error in result.errors:
        field = getattr(form, names.get(error.field, ""), None)
        if field is None:
            form.form_errors.append(error.message)
            continue
        field.errors = [*field.errors, error.message]
