"""Staff pages for importing a spreadsheet of questions: upload, check every row, confirm.

Nothing is imported until the preview has been confirmed; the parsing and staging are in
:mod:`intake.spreadsheet.importer`.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import FileField, SelectField, StringField, SubmitField

from domain.models import Meeting
from domain.web.auth import staff_required
from domain.web.context import runtime
from intake.spreadsheet import importer
from intake.staff_blueprint import bp, meeting_by_id, meeting_choices
from intake.validation import EVENT_LIMIT, clean_line, validate_meeting


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
    form.meeting.choices = meeting_choices(chosen)
    if request.method == "GET":
        form.meeting.data = chosen or ""
    elif form.validate_on_submit():
        meeting = meeting_by_id(form.meeting.data)
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
                sheet = importer.parse_upload(
                    upload.filename, upload.read(), event, meeting.id if meeting else None
                )
            except importer.SpreadsheetError as exc:
                form.file.errors = [str(exc)]
            else:
                if not sheet.rows:
                    form.file.errors = ["The selected file has no questions in it"]
                else:
                    assert meeting is not None
                    token = importer.stage(
                        rt, sheet, meeting_id=meeting.id, user_id=int(current_user.id)
                    )
                    return redirect(url_for(".import_preview", token=token), code=303)
    return render_template("intake_staff/import_upload.html", form=form, title="Import questions")


def staged_for_user(token: str) -> importer.Staged:
    """The staged import named by ``token`` if this user staged it; 404 otherwise."""
    staged = importer.load_staged(runtime(), token)
    if staged is None or staged.user_id != int(current_user.id):
        abort(404)
    return staged


@bp.route("/import/<token>", methods=["GET", "POST"])
@staff_required
def import_preview(token: str) -> tuple[str, int] | Response:
    """Every row with its problems; confirming imports the good rows."""
    rt = runtime()
    staged = staged_for_user(token)
    form = ConfirmForm()
    problem = None
    if staged.result is None and form.validate_on_submit():
        meeting = rt.db.session.get(Meeting, staged.meeting_id)
        meeting_error = validate_meeting(meeting)
        if meeting_error is None and meeting is not None:
            importer.import_staged(rt, staged, meeting)
            return redirect(url_for(".import_preview", token=token), code=303)
        problem = meeting_error.message if meeting_error else None
    return preview_page(staged, problem)


def preview_page(
    staged: importer.Staged, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    """The preview of a staged import, or its outcome once imported."""
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
        labels=importer.FIELD_LABELS,
        title="Check the import",
    )
    return page, status
