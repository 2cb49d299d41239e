"""WTForms for the public question form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

QUESTION_LIMIT = 1200


class QuestionForm(FlaskForm):
    """Question text plus optional first name and town."""

    question = TextAreaField(
        "Your question",
        widget=GovTextArea(),
        validators=[
            DataRequired(message="Enter your question"),
            Length(
                max=QUESTION_LIMIT, message=f"Question must be {QUESTION_LIMIT} characters or fewer"
            ),
        ],
    )
    name = StringField(
        "First name (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=80, message="First name must be 80 characters or fewer"),
        ],
    )
    town = StringField(
        "Town or village (optional)",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=80, message="Town must be 80 characters or fewer")],
    )
    submit = SubmitField("Send question", widget=GovSubmitInput())
