"""The public question form: the question, and optional name, town, email and consent.

CSRF is not checked here: ``CSRFProtect`` guards every POST app-wide (see
``openfloor.app``), and the intake views turn an expired token into a friendly page that
keeps what was typed. The templates put ``csrf_token()`` in each form.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovTextInput
from wtforms import BooleanField, Field, Form, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from intake.validation import (
    EMAIL_LIMIT,
    EMAIL_PATTERN,
    NAME_LIMIT,
    QUESTION_LIMIT,
    TOWN_LIMIT,
    clean_line,
    clean_text,
    has_words,
)


class Required(DataRequired):
    """DataRequired without the HTML ``required`` attribute (GOV.UK validates on the server;
    some screen readers announce an untouched required field as "invalid")."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.field_flags: dict[str, Any] = {}


def has_words_check(_form: Form, field: Field) -> None:
    """A question needs letters or numbers: not only emoji, symbols or invisible characters."""
    if field.data and not has_words(field.data):
        raise ValidationError("Your question must include letters or numbers, not only symbols")


def email_format(_form: Form, field: Field) -> None:
    """Validate the shape of an email address (no lookups, no third parties)."""
    if field.data and not EMAIL_PATTERN.match(field.data):
        raise ValidationError("Enter an email address in the correct format, like name@example.com")


class QuestionForm(FlaskForm):
    """What the public page asks for, and nothing else."""

    class Meta:
        csrf = False  # CSRFProtect checks every POST before the view runs

    question = TextAreaField(
        "Your question",
        widget=GovCharacterCount(),
        filters=[clean_text],
        validators=[
            Required(message="Enter your question"),
            Length(
                max=QUESTION_LIMIT,
                message=f"Your question must be {QUESTION_LIMIT} characters or fewer",
            ),
            has_words_check,
        ],
    )
    name = StringField(
        "First name (optional)",
        widget=GovTextInput(),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=NAME_LIMIT, message=f"First name must be {NAME_LIMIT} characters or fewer"),
        ],
    )
    town = StringField(
        "Town or village (optional)",
        widget=GovTextInput(),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(
                max=TOWN_LIMIT, message=f"Town or village must be {TOWN_LIMIT} characters or fewer"
            ),
        ],
    )
    email = StringField(
        "Email address (optional)",
        widget=GovTextInput(),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(
                max=EMAIL_LIMIT,
                message=f"Email address must be {EMAIL_LIMIT} characters or fewer",
            ),
            email_format,
        ],
    )
    consent_publish = BooleanField(
        "Yes, you can read out and publish my first name and town or village"
    )


def external_id_for(form_key: str, text: str) -> str:
    """The web channel's idempotency key: the form's key plus a digest of the question.

    A double click, a refresh or the back button re-sends the same form with the same text:
    same external id, so the outbox's (channel, external_id) key absorbs it and the person
    sees the same reference. If someone goes back after sending and writes a *different*
    question in the same form, that is a new question and must not be swallowed.
    """
    digest = hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]
    return f"{form_key}.{digest}"
