"""Staff create meetings and move them through open → live → closed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from domain import events
from domain.models import Meeting, MeetingKind, MeetingStatus, Role
from domain.models.audit import record
from domain.web.auth import roles_required
from domain.web.context import runtime
from triage.onair.actions import on_close

bp = Blueprint("triage_meetings", __name__, template_folder="templates", url_prefix="/triage")

KINDS = [
    SelectChoice(MeetingKind.FACEBOOK_LIVE.value, "Facebook Live"),
    SelectChoice(MeetingKind.PUBLIC.value, "Public meeting"),
    SelectChoice(MeetingKind.THEMATIC.value, "Thematic meeting"),
]


class MeetingForm(FlaskForm):
    """What the public start page shows about a meeting."""

    title = StringField(
        "Title", widget=GovTextInput(), validators=[DataRequired("Enter a title"), Length(max=200)]
    )
    theme = StringField("Theme", widget=GovTextInput(), validators=[Optional(), Length(max=200)])
    kind = SelectField("Kind of meeting", choices=KINDS, widget=GovSelect())
    scheduled_start = DateTimeLocalField(
        "Date and time (UK time)",
        format="%Y-%m-%dT%H:%M",
        widget=GovTextInput(),
        validators=[DataRequired("Enter the date and time, like 2026-12-01T19:00")],
    )
    venue = StringField("Venue", widget=GovTextInput(), validators=[Optional(), Length(max=200)])
    watch_url = StringField(
        "Where to watch (link)", widget=GovTextInput(), validators=[Optional(), Length(max=500)]
    )
    hashtag = StringField("Hashtag", widget=GovTextInput(), validators=[Optional(), Length(max=80)])
    description = TextAreaField("Description", widget=GovTextArea(), validators=[Optional()])
    submit = SubmitField("Create meeting", widget=GovSubmitInput())


def _slug(title: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "meeting"
    session = runtime().db.session()
    slug, n = base, 2
    while session.scalar(select(Meeting.id).where(Meeting.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


@bp.route("/meetings/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new_meeting() -> str | Response:
    """Create a meeting (open for questions straight away)."""
    form = MeetingForm()
    if form.validate_on_submit():
        rt = runtime()
        start = form.scheduled_start.data
        with rt.db.transaction() as session:
            meeting = Meeting(
                slug=_slug(form.title.data or ""),
                title=(form.title.data or "").strip(),
                theme=(form.theme.data or "").strip(),
                kind=MeetingKind(form.kind.data),
                status=MeetingStatus.OPEN,
                scheduled_start=start.replace(tzinfo=UTC) if start else datetime.now(UTC),
                venue=form.venue.data or "",
                watch_url=form.watch_url.data or "",
                hashtag=form.hashtag.data or "",
                description=form.description.data or "",
            )
            session.add(meeting)
            session.flush()
            record(session, "meeting.create", actor_id=current_user.id,
                   target_type="meeting", target_id=meeting.id)  # fmt: skip
            meeting_id = meeting.id
        flash("Meeting created and open for questions.")
        return redirect(url_for("triage.meeting", meeting_id=meeting_id))
    return render_template("triage/meeting_new.html", form=form)


@bp.post("/meetings/<int:meeting_id>/status")
@roles_required(Role.ADMIN)
def set_status(meeting_id: int) -> Response:
    """Open for questions, on air, or closed."""
    try:
        status = MeetingStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, "unknown status")
    rt = runtime()
    with rt.db.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            abort(404)
        before = meeting.status
        meeting.status = status
        meeting.closed_at = datetime.now(UTC) if status == MeetingStatus.CLOSED else None
        if status == MeetingStatus.CLOSED:
            on_close(session, meeting_id)  # open groups: not covered; overlay taken down
        record(session, "meeting.status", actor_id=current_user.id, target_type="meeting",
               target_id=meeting_id, before=before.value, after=status.value)  # fmt: skip
    events.publish(rt.redis, rt.prefix, meeting_id, "meeting.status", {"status": status.value})
    flash(f"Meeting is now {status.value}.")
    return redirect(url_for("triage.meeting", meeting_id=meeting_id))
