"""Staff page of a meeting's social collectors: what to collect, and how collection is going."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional, Regexp

from domain.models import CollectorSettings, Meeting
from domain.models.audit import record
from domain.web.auth import staff_required
from domain.web.context import runtime
from triage.collector_health import Health, collector_health

bp = Blueprint("triage_collectors", __name__, template_folder="../templates", url_prefix="/triage")

GRAPH_ID = r"^[0-9_]*$"


class CollectorForm(FlaskForm):
    """Per-meeting collector settings. Credentials are never entered here."""

    enabled = BooleanField("Collect posts and comments for this meeting", widget=GovCheckboxInput())
    hashtag = StringField(
        "Hashtag", widget=GovTextInput(),
        validators=[Optional(), Length(max=80),
                    Regexp(r"^#?\w+$", message="Enter a hashtag like #AskThePCC")],
    )  # fmt: skip
    x_account = StringField(
        "X account whose mentions are collected", widget=GovTextInput(),
        validators=[Optional(), Regexp(r"^@?\w{1,15}$", message="Enter an X handle like @PCC")],
    )  # fmt: skip
    facebook_live_video_id = StringField(
        "Facebook live video id", widget=GovTextInput(),
        validators=[Optional(), Length(max=80),
                    Regexp(GRAPH_ID, message="A video id is digits, like 1234567890")],
    )  # fmt: skip
    facebook_post_ids = TextAreaField(
        "Promotional Facebook post ids", widget=GovTextArea(),
        validators=[Optional(), Regexp(r"^[0-9_,\s]*$",
                                       message="Post ids are digits (and _), one per line")],
    )  # fmt: skip
    submit = SubmitField("Save collector settings", widget=GovSubmitInput())


@bp.app_template_global()
def collector_alerts(meeting: Meeting) -> list[Health]:
    """Collectors failing for a minute while ``meeting`` is live (for the board's banner)."""
    return [h for h in collector_health(runtime().db.session(), meeting) if h.alert]


@bp.route("/meetings/<int:meeting_id>/collectors", methods=["GET", "POST"])
@staff_required
def collectors(meeting_id: int) -> str | Response:
    """Edit what is collected; see each collector's last poll, count, error and rate limit."""
    rt = runtime()
    session = rt.db.session()
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    current = session.scalar(
        select(CollectorSettings).where(CollectorSettings.meeting_id == meeting_id)
    )
    form = CollectorForm(obj=current)
    if current is None and not form.is_submitted():
        form.enabled.data = True
    if not form.is_submitted():
        form.hashtag.data = meeting.hashtag
    if form.validate_on_submit():
        with rt.db.transaction() as tx:
            row = tx.scalar(
                select(CollectorSettings).where(CollectorSettings.meeting_id == meeting_id)
            )
            if row is None:
                row = CollectorSettings(meeting_id=meeting_id)
                tx.add(row)
            row.enabled = bool(form.enabled.data)
            row.x_account = (form.x_account.data or "").strip().lstrip("@")
            row.facebook_live_video_id = (form.facebook_live_video_id.data or "").strip()
            row.facebook_post_ids = "\n".join((form.facebook_post_ids.data or "").split())
            tag = (form.hashtag.data or "").strip()
            tx.get(Meeting, meeting_id).hashtag = f"#{tag.lstrip('#')}" if tag else ""  # type: ignore[union-attr]
            record(tx, "collectors.update", actor_id=current_user.id,
                   target_type="meeting", target_id=meeting_id)  # fmt: skip
        flash("Collector settings saved.")
        return redirect(url_for("triage_collectors.collectors", meeting_id=meeting_id))
    return render_template(
        "triage/collectors.html",
        meeting=meeting,
        form=form,
        health=collector_health(session, meeting),
    )
