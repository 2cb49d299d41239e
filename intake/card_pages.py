"""Staff page for typing in question cards from events, one after another.

The page is built for a stack of cards: after each save it comes back with the meeting and
event still chosen, the cursor in an empty question box, a running count and the last few
cards with their references. Each rendered form carries a fresh card id that becomes the
submission's external id, so pressing Save twice (or resending after a network error)
stores the card once.

Nothing typed is lost: a failed check shows the page again with everything as it was.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField

from domain.models import Channel, OutboxMessage
from domain.web.auth import staff_required
from domain.web.context import runtime
from intake.staff_blueprint import bp, meeting_by_id, meeting_choices
from intake.submit import submit
from intake.validation import QUESTION_LIMIT, apply_to_form, clean_line, validate_submission

log = logging.getLogger(__name__)

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


def card_state() -> dict[str, Any]:
    """This stack of cards so far (meeting, event, count, recent ids), from the session."""
    state = session.get(_STATE)
    return dict(state) if isinstance(state, dict) else {}


@bp.route("/event-entry", methods=["GET", "POST"])
@staff_required
def event_entry() -> tuple[str, int] | Response:
    """Type in question cards, one after another."""
    rt = runtime()
    state = card_state()
    form = CardForm()
    chosen = form.meeting.data if request.method == "POST" else None
    chosen = chosen or request.args.get("meeting") or state.get("meeting")
    form.meeting.choices = meeting_choices(str(chosen or ""))

    if request.method == "GET":
        form.meeting.data = str(chosen or "")
        form.event.data = request.args.get("event") or state.get("event", "")
        form.card_id.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        meeting = meeting_by_id(form.meeting.data)
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
    return card_page(form, state)


def card_page(
    form: CardForm, state: dict[str, Any], problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The card entry page, with the last save's reference and the recent cards."""
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
