"""Staff intake pages: typing in question cards from events, and importing spreadsheets.

The blueprint ``intake_staff`` (:mod:`intake.staff_blueprint`) gets its card entry page from
:mod:`intake.card_pages` and its spreadsheet import pages from :mod:`intake.spreadsheet.pages`;
importing this module registers both. It also handles a page left open too long: the form
comes back with what was sent rather than an error.
"""

from __future__ import annotations

import logging
import secrets

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from intake.card_pages import CARD_NAMES, RECENT_CARDS, CardForm, card_page, card_state, event_entry
from intake.spreadsheet.pages import (
    ConfirmForm,
    UploadForm,
    import_preview,
    import_upload,
    preview_page,
    staged_for_user,
)
from intake.staff_blueprint import TIMED_OUT, bp, meeting_choices

__all__ = [
    "CARD_NAMES",
    "RECENT_CARDS",
    "TIMED_OUT",
    "CardForm",
    "ConfirmForm",
    "UploadForm",
    "bp",
    "event_entry",
    "import_preview",
    "import_upload",
]

log = logging.getLogger(__name__)


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
        form.meeting.choices = meeting_choices(form.meeting.data)
        return card_page(form, card_state(), f"{TIMED_OUT} Check the card and save it again.", 400)
    if request.endpoint == "intake_staff.import_upload":
        upload_form = UploadForm()
        upload_form.meeting.choices = meeting_choices(upload_form.meeting.data)
        upload_form.file.errors = [f"{TIMED_OUT} Select the file again"]
        page = render_template(
            "intake_staff/import_upload.html", form=upload_form, title="Import questions"
        )
        return page, 400
    if request.endpoint == "intake_staff.import_preview":
        token = str((request.view_args or {}).get("token", ""))
        try:
            staged = staged_for_user(token)
        except NotFound as exc:  # an unknown import: its 404, not an error inside this handler
            return exc.get_response()
        return preview_page(staged, f"{TIMED_OUT} Select Import again.", 400)
    return redirect(url_for("triage.meetings"))
