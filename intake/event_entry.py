"""Staff intake pages: typing in question cards from events, and importing spreadsheets.

Card entry is built for a stack of cards: after each save the page comes back with the
meeting and event still chosen, the cursor in an empty question box, a running count and
the last few cards with their references. Each rendered form carries a fresh card id that
becomes the submission's external id, so pressing Save twice (or resending after a network
error) stores the card once.

Nothing typed is lost: a failed check shows the page again with everything as it was.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

from domain.models import Channel, Meeting, MeetingStatus, OutboxMessage
from domain.web.auth import staff_required
from domain.web.context import runtime
from intake import spreadsheet
from intake.submit import submit
from intake.validation import (
    EVENT_LIMIT,
    QUESTION_LIMIT,
    apply_to_form,
    clean_line,
    validate_meeting,
    validate_submission,
)

log = logging.getLogger(__name__)

bp = Blueprint("intake_staff", __name__, template_folder="templates", url_prefix="/triage")

RECENT_CARDS = 5
CARD_NAMES = {
    "text": "question",
    "name": "name",
    "town": "town",
    "email": "email",
    "event": "event",
    "meeting": "meeting",
}
_CARD_ID = re.compile(r"^[0-9a-f]{32}$")
_STATE = "event_entry"


def _open_meetings() -> list[Meeting]:
    return list(
        runtime().db.session.scalars(
            select(Meeting)
            .where(Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]))
            .order_by(Meeting.scheduled_start)
        )
    )


def _meeting_choices(selected: str | None) -> list[tuple[str, str]]:
    choices = [("", "Choose a meeting")]
    choices += [(str(m.id), f"{m.title} ({m.scheduled_start:%-d %B %Y})") for m in _open_meetings()]
    if selected and selected not in {c[0] for c in choices}:
        # A meeting that stopped taking questions while the page was open: keep it chosen
        # so the check can say so, rather than silently switching meetings.
        closed = _meeting(selected)
        if closed is not None:
            choices.append((selected, f"{closed.title} (closed)"))
    return choices


def _meeting(value: Any) -> Meeting | None:
    text = str(value or "")
    return runtime().db.session.get(Meeting, int(text)) if text.isdigit() else None


# --- question cards -----------------------------------------------------------------------


class CardForm(FlaskForm):
    """One card. The meeting and event stay filled in from one card to the next."""

    meeting = SelectField("Meeting", widget=GovSelect(), validate_choice=False)
    event = StringField(
        "Event",
        widget=GovTextInput(),
        description="Where the cards were handed in, for example Shropshire County Show",
    )
    question = TextAreaField(
        "Question on the card",
        widget=GovTextArea(),
        description=f"Type it as written, up to {QUESTION_LIMIT} characters.",
    )
    name = StringField("First name (optional)", widget=GovTextInput())
    town = StringField("Town or village (optional)", widget=GovTextInput())
    email = StringField(
        "Email address (optional)",
        widget=GovTextInput(),
        description="Only if they asked for a written answer.",
    )
    consent = BooleanField(
        "They agreed to their first name and town being read out",
        widget=GovCheckboxInput(),
        description="Only tick if the card says so.",
    )
    card_id = HiddenField()
    submit = SubmitField("Save card", widget=GovSubmitInput())


def _state() -> dict[str, Any]:
    state = session.get(_STATE)
    return dict(state) if isinstance(state, dict) else {}


@bp.route("/event-entry", methods=["GET", "POST"])
@staff_required
def event_entry() -> tuple[str, int] | Response:
    """Type in question cards, one after another."""
    rt = runtime()
    state = _state()
    form = CardForm()
    chosen = form.meeting.data if request.method == "POST" else None
    chosen = chosen or request.args.get("meeting") or state.get("meeting")
    form.meeting.choices = _meeting_choices(str(chosen or ""))

    if request.method == "GET":
        form.meeting.data = str(chosen or "")
        form.event.data = request.args.get("event") or state.get("event", "")
        form.card_id.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        meeting = _meeting(form.meeting.data)
        result = validate_submission(
            text=form.question.data,
            name=form.name.data,
            town=form.town.data,
            email=form.email.data,
            consent=bool(form.consent.data),
            event=form.event.data,
            meeting=meeting,
            meeting_required=True,
            event_required=True,
        )
        if result.clean is not None and meeting is not None:
            card_id = form.card_id.data if _CARD_ID.match(form.card_id.data or "") else None
            card_id = card_id or uuid.uuid4().hex
            clean = result.clean
            receipt = submit(
                rt,
                meeting,
                channel=Channel.EVENT.value,
                text=clean.text,
                external_id=f"card:{card_id}",
                author_name=clean.author_name,
                location=clean.location,
                contact_email=clean.contact_email,
                consent_publish=clean.consent_publish,
                event_name=clean.event_name,
            )
            if state.get("meeting") != meeting.id or state.get("event") != clean.event_name:
                state = {"meeting": meeting.id, "event": clean.event_name, "count": 0, "recent": []}
            if not receipt.duplicate:
                state["count"] = int(state.get("count", 0)) + 1
                recent = [c for c in state.get("recent", []) if c != card_id]
                state["recent"] = [card_id, *recent][:RECENT_CARDS]
            state["saved"] = {"reference": receipt.reference, "duplicate": receipt.duplicate}
            session[_STATE] = state
            log.info(
                "event card stored for meeting %s (duplicate=%s)", meeting.id, receipt.duplicate
            )
            return redirect(url_for(".event_entry"), code=303)
        apply_to_form(form, result, CARD_NAMES)
    return _card_page(form, state)


def _card_page(
    form: CardForm, state: dict[str, Any], problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    saved = state.pop("saved", None)
    if saved is not None:
        session[_STATE] = state
    same_stack = str(state.get("meeting", "")) == str(form.meeting.data or "") and (
        state.get("event") or ""
    ) == clean_line(form.event.data)
    recent = _recent_cards(state.get("recent", [])) if same_stack else []
    if not form.meeting.data:
        focus = "meeting"
    elif not clean_line(form.event.data):
        focus = "event"
    else:
        focus = "question"
    page = render_template(
        "intake_staff/event_entry.html",
        form=form,
        saved=saved,
        count=int(state.get("count", 0)) if same_stack else 0,
        recent=recent,
        focus=None if form.errors or problem else focus,
        problem=problem,
        title="Enter question cards",
    )
    return page, status


def _recent_cards(card_ids: list[str]) -> list[dict[str, Any]]:
    """The last cards saved, read back from the outbox (the session holds only their ids)."""
    ids = [f"card:{c}" for c in card_ids if isinstance(c, str) and _CARD_ID.match(c)]
    if not ids:
        return []
    rows = runtime().db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.channel == Channel.EVENT.value, OutboxMessage.external_id.in_(ids)
        )
    )
    by_id = {row.external_id: row.payload for row in rows}
    cards = []
    for external_id in ids:
        payload = by_id.get(external_id)
        if payload is not None:
            cards.append(
                {
                    "reference": payload.get("reference"),
                    "text": payload.get("text", ""),
                    "name": payload.get("author_name") or "",
                    "town": payload.get("location") or "",
                }
            )
    return cards


# --- spreadsheet import -------------------------------------------------------------------


class UploadForm(FlaskForm):
    """The file, which meeting it is for, and the event if the file does not say."""

    meeting = SelectField("Meeting", widget=GovSelect(), validate_choice=False)
    event = StringField(
        "Event (optional)",
        widget=GovTextInput(),
        description="Used for rows with no event column, for example Shropshire County Show",
    )
    file = FileField(
        "Spreadsheet",
        widget=GovFileInput(),
        description=(
            "A CSV or Excel (.xlsx) file with a heading row. Columns: Question (required), "
            "Name, Town, Email, Consent, Event, Received at."
        ),
    )
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """Confirm the previewed import."""

    submit = SubmitField("Import", widget=GovSubmitInput())


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_upload() -> str | Response:
    """Upload a spreadsheet; it is checked and shown before anything is imported."""
    rt = runtime()
    form = UploadForm()
    chosen = form.meeting.data if request.method == "POST" else request.args.get("meeting")
    form.meeting.choices = _meeting_choices(chosen)
    if request.method == "GET":
        form.meeting.data = chosen or ""
    elif form.validate_on_submit():
        meeting = _meeting(form.meeting.data)
        meeting_error = validate_meeting(meeting)
        if meeting_error is not None:
            form.meeting.errors = [meeting_error.message]
        event = clean_line(form.event.data)
        if len(event) > EVENT_LIMIT:
            form.event.errors = [f"Event name must be {EVENT_LIMIT} characters or fewer"]
        upload = request.files.get(form.file.name)
        if upload is None or not upload.filename:
            form.file.errors = ["Select a CSV or Excel file"]
        elif not form.errors:
            try:
                sheet = spreadsheet.parse_upload(
                    upload.filename, upload.read(), event, meeting.id if meeting else None
                )
            except spreadsheet.SpreadsheetError as exc:
                form.file.errors = [str(exc)]
            else:
                if not sheet.rows:
                    form.file.errors = ["The selected file has no questions in it"]
                else:
                    assert meeting is not None
                    token = spreadsheet.stage(
                        rt, sheet, meeting_id=meeting.id, user_id=int(current_user.id)
                    )
                    return redirect(url_for(".import_preview", token=token), code=303)
    return render_template("intake_staff/import_upload.html", form=form, title="Import questions")


def _staged(token: str) -> spreadsheet.Staged:
    staged = spreadsheet.load_staged(runtime(), token)
    if staged is None or staged.user_id != int(current_user.id):
        abort(404)
    return staged


@bp.route("/import/<token>", methods=["GET", "POST"])
@staff_required
def import_preview(token: str) -> tuple[str, int] | Response:
    """Every row with its problems; confirming imports the good rows."""
    rt = runtime()
    staged = _staged(token)
    form = ConfirmForm()
    problem = None
    if staged.result is None and form.validate_on_submit():
        meeting = rt.db.session.get(Meeting, staged.meeting_id)
        meeting_error = validate_meeting(meeting)
        if meeting_error is None and meeting is not None:
            spreadsheet.import_staged(rt, staged, meeting)
            return redirect(url_for(".import_preview", token=token), code=303)
        problem = meeting_error.message if meeting_error else None
    return _preview_page(staged, problem)


def _preview_page(
    staged: spreadsheet.Staged, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    meeting = runtime().db.session.get(Meeting, staged.meeting_id)
    if meeting is None:
        abort(404)
    if staged.result is not None:
        page = render_template(
            "intake_staff/import_done.html",
            meeting=meeting,
            sheet=staged.sheet,
            result=staged.result,
            title="Import finished",
        )
        return page, status
    page = render_template(
        "intake_staff/import_preview.html",
        meeting=meeting,
        sheet=staged.sheet,
        form=ConfirmForm(),
        problem=problem,
        labels=spreadsheet.FIELD_LABELS,
        title="Check the import",
    )
    return page, status


# --- a page left open too long ------------------------------------------------------------

TIMED_OUT = "This page was open too long, so nothing was saved."


@bp.errorhandler(CSRFError)
def _csrf_failed(_exc: CSRFError) -> tuple[str, int] | Response:
    """An expired CSRF token (a page left open all afternoon): show what was sent again.

    The check runs before the view, so this is the only place that can keep the card.
    """
    if not getattr(request, "csp_nonce", None):  # raised before Talisman made one
        request.csp_nonce = secrets.token_urlsafe(18)  # type: ignore[attr-defined]
    if not current_user.is_authenticated:
        return redirect(url_for("triage_auth.login", next=request.path))
    log.info("staff intake: CSRF check failed on %s", request.endpoint)
    if request.endpoint == "intake_staff.event_entry":
        form = CardForm()
        form.meeting.choices = _meeting_choices(form.meeting.data)
        return _card_page(form, _state(), f"{TIMED_OUT} Check the card and save it again.", 400)
    if request.endpoint == "intake_staff.import_upload":
        upload_form = UploadForm()
        upload_form.meeting.choices = _meeting_choices(upload_form.meeting.data)
        upload_form.file.errors = [f"{TIMED_OUT} Select the file again"]
        page = render_template(
            "intake_staff/import_upload.html", form=upload_form, title="Import questions"
        )
        return page, 400
    if request.endpoint == "intake_staff.import_preview":
        token = str((request.view_args or {}).get("token", ""))
        return _preview_page(_staged(token), f"{TIMED_OUT} Select Import again.", 400)
    return redirect(url_for("triage.meetings"))
