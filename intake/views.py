"""Public pages: start page, question, check your answers, confirmation, privacy.

Every step is a plain HTML form, so the whole journey works without JavaScript::

    GET  /meetings/<slug>               start page: what, theme, when, where, how to watch
    GET  /meetings/<slug>/ask           question page (new signed form token, see antispam)
    POST /meetings/<slug>/ask           validate, then check-your-answers (or errors)
    POST /meetings/<slug>/ask?change=F  a "Change" button: the question page again, at field F
    POST /meetings/<slug>/send          rate limited; validate again; bot traps; submit
    GET  /meetings/<slug>/confirmation  reference number, what happens next, how to watch
    GET  /ask                           redirect to the meeting taking questions (live first)

What someone typed travels in the pages themselves (hidden fields on the check page), never
in a URL, a cookie or server-side storage: nothing personal is kept before the person
chooses to send, and no storage outage or size limit can lose it. Every refusal re-renders
what was posted: CSRF expiry (400), rate limit (429), meeting closed (409), database down
(503). A question is durable (outbox row committed) before the confirmation is shown.

Logging never includes what was typed, the email address, the client address or SQL
parameters: only meeting ids, references and reason codes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from domain.models import Meeting, MeetingKind, MeetingStatus
from domain.web.context import runtime
from domain.web.extensions import limiter
from intake import antispam
from intake.forms import QUESTION_LIMIT, QuestionForm, external_id_for
from intake.submit import submit

log = logging.getLogger(__name__)

bp = Blueprint("intake", __name__, template_folder="templates")

LONDON = ZoneInfo("Europe/London")
RECEIPT_KEY = "intake_receipt"
# Fields a "Change" button on the check page may jump back to (used as the URL fragment).
CHANGEABLE = {"question", "name", "town", "email", "consent_publish"}
KIND_LABELS = {
    MeetingKind.PUBLIC: "Public meeting",
    MeetingKind.FACEBOOK_LIVE: "Facebook Live public meeting",
    MeetingKind.THEMATIC: "Themed public meeting",
}

Page = str | Response | tuple[str, int]


# ---------------------------------------------------------------------------------------------
# helpers


def describe_when(value: datetime | None) -> str:
    """'Thursday 4 June 2026 at 7pm' in UK time (GOV.UK date and time style)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        clock = "midday"
    elif (local.hour, local.minute) == (0, 0):
        clock = "midnight"
    else:
        hour = local.hour % 12 or 12
        minutes = f":{local.minute:02d}" if local.minute else ""
        clock = f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"
    return f"{local:%A} {local.day} {local:%B %Y} at {clock}"


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "when": describe_when,
        "kind_label": lambda m: KIND_LABELS.get(m.kind, "Public meeting"),
        "question_limit": QUESTION_LIMIT,
        "honeypot_field": antispam.HONEYPOT_FIELD,
        "token_field": antispam.TOKEN_FIELD,
    }


def _secret() -> str:
    return str(current_app.secret_key)


def _posted_token() -> antispam.FormToken | None:
    return antispam.read(_secret(), request.form.get(antispam.TOKEN_FIELD))


def _token() -> antispam.FormToken:
    """The posted form token, or a fresh one if it is missing or forged."""
    return _posted_token() or antispam.issue(_secret())


def _find_meeting(slug: str) -> Meeting | None:
    return runtime().db.session.scalar(select(Meeting).where(Meeting.slug == slug))


def _meeting_quietly(slug: str) -> Meeting | None:
    """The meeting for an error page; None if the database cannot tell us."""
    try:
        return _find_meeting(slug)
    except SQLAlchemyError as exc:
        _log_database_error(exc)
        return None


def _open_meetings(exclude: Meeting | None = None) -> list[Meeting]:
    """Meetings taking questions: the one on air first, then the soonest."""
    stmt = (
        select(Meeting)
        .where(Meeting.status.in_([MeetingStatus.OPEN, MeetingStatus.LIVE]))
        .order_by(Meeting.scheduled_start, Meeting.id)
    )
    if exclude is not None:
        stmt = stmt.where(Meeting.id != exclude.id)
    meetings = list(runtime().db.session.scalars(stmt))
    return sorted(meetings, key=lambda m: m.status != MeetingStatus.LIVE)


def _log_database_error(exc: SQLAlchemyError) -> None:
    # Never str(exc): SQLAlchemy puts the statement's parameters (the question) in it.
    orig = getattr(exc, "orig", None)
    log.error(
        "database unavailable for the public form: %s%s",
        type(exc).__name__,
        f" ({type(orig).__name__})" if orig is not None else "",
    )


def _ensure_nonce() -> None:
    """CSRF and rate-limit errors are raised before Talisman makes the CSP nonce: make it."""
    if not getattr(request, "csp_nonce", None):
        setattr(request, "csp_nonce", secrets.token_urlsafe(18))  # noqa: B010


def _client_key() -> str:
    """Rate-limit key: a keyed hash of the client address, never the address itself."""
    addr = (request.remote_addr or "unknown").encode()
    digest = hmac.new(_secret().encode(), addr, hashlib.sha256).hexdigest()[:24]
    return f"{runtime().prefix}:{digest}"


def _form_rate_limit() -> str:
    return runtime().settings.form_rate_limit


# ---------------------------------------------------------------------------------------------
# page renderers


def _form_page(
    template: str,
    slug: str,
    meeting: Meeting | None,
    form: QuestionForm,
    token: antispam.FormToken,
    *,
    problem: str | None = None,
    status: int = 200,
    change: str | None = None,
) -> tuple[str, int]:
    html = render_template(
        template,
        slug=slug,
        meeting=meeting,
        form=form,
        form_token=token.signed,
        problem=problem,
        change=change,
    )
    return html, status


def _question_page(
    slug: str, meeting: Meeting | None, form: QuestionForm, token: antispam.FormToken, **kw: Any
) -> tuple[str, int]:
    return _form_page("intake/ask.html", slug, meeting, form, token, **kw)


def _check_page(
    slug: str, meeting: Meeting | None, form: QuestionForm, token: antispam.FormToken, **kw: Any
) -> tuple[str, int]:
    return _form_page("intake/check.html", slug, meeting, form, token, **kw)


def _closed_page(meeting: Meeting, form: QuestionForm | None = None, status: int = 200) -> Page:
    """A meeting not taking questions; with ``form``, the unsent text is shown and can move on."""
    later = _open_meetings(exclude=meeting)
    next_meeting = later[0] if later else None
    html = render_template(
        "intake/closed.html",
        meeting=meeting,
        next_meeting=next_meeting,
        kept=form,
        form_token=antispam.issue(_secret()).signed if form is not None else "",
    )
    return html, status


def _posted_again(slug: str, problem: str, status: int) -> Page:
    """Re-render whatever page was being posted, keeping the text, with ``problem`` explained."""
    _ensure_nonce()
    meeting = _meeting_quietly(slug)
    token = _token()
    if request.endpoint == "intake.send":
        form = QuestionForm(formdata=request.form)
        if form.validate():
            return _check_page(slug, meeting, form, token, problem=problem, status=status)
    form = QuestionForm(formdata=request.form)  # no validation messages: they did nothing wrong
    return _question_page(slug, meeting, form, token, problem=problem, status=status)


# ---------------------------------------------------------------------------------------------
# routes


@bp.route("/ask")
def ask_any() -> Page:
    """Send people to the meeting currently taking questions."""
    meetings = _open_meetings()
    if not meetings:
        return render_template("intake/no_meeting.html")
    return redirect(url_for("intake.ask", slug=meetings[0].slug))


@bp.route("/meetings/<slug>")
def meeting(slug: str) -> Page:
    """Start page: what the meeting is, its theme, when, and how to watch."""
    found = _find_meeting(slug)
    if found is None:
        abort(404)
    later = [] if found.accepting_questions else _open_meetings(exclude=found)
    return render_template(
        "intake/start.html", meeting=found, next_meeting=later[0] if later else None
    )


@bp.route("/meetings/<slug>/ask", methods=["GET", "POST"])
def ask(slug: str) -> Page:
    """The question page; its POST validates and shows check-your-answers."""
    if request.method == "GET":
        found = _find_meeting(slug)
        if found is None:
            abort(404)
        if not found.accepting_questions:
            return _closed_page(found)
        return _question_page(slug, found, QuestionForm(formdata=None), antispam.issue(_secret()))

    form = QuestionForm(formdata=request.form)
    token = _token()
    try:
        found = _find_meeting(slug)
    except SQLAlchemyError as exc:
        _log_database_error(exc)
        return _question_page(slug, None, form, token, problem="database", status=503)
    if found is None:
        abort(404)
    if not found.accepting_questions:
        return _closed_page(found, form, status=409)
    change = request.args.get("change")
    if change in CHANGEABLE:
        return _question_page(slug, found, form, token, change=change)
    if not form.validate():
        return _question_page(slug, found, form, token)
    return _check_page(slug, found, form, token)


@bp.route("/meetings/<slug>/send", methods=["GET", "POST"])
@limiter.limit(_form_rate_limit, key_func=_client_key, methods=["POST"])
def send(slug: str) -> Page:
    """Send the checked question: durable in the outbox before the confirmation is shown."""
    if request.method == "GET":
        return redirect(url_for("intake.ask", slug=slug))
    rt = runtime()
    form = QuestionForm(formdata=request.form)
    token = _posted_token()
    try:
        found = _find_meeting(slug)
    except SQLAlchemyError as exc:
        _log_database_error(exc)
        return _posted_again(slug, "database", 503)
    if found is None:
        abort(404)
    if not found.accepting_questions:
        return _closed_page(found, form, status=409)
    if not form.validate():  # the hidden fields were edited: show the question page
        return _question_page(slug, found, form, token or antispam.issue(_secret()))

    verdict = antispam.check(request.form, token, rt.settings.min_fill_seconds)
    if token is None or not verdict.passed:
        log.info("public form: confirm requested (trap=%s, meeting=%s)", verdict.reason, found.id)
        fresh = token or antispam.issue(_secret())
        return _check_page(slug, found, form, fresh, problem="confirm")

    text = form.question.data or ""
    try:
        receipt = submit(
            rt,
            found,
            channel="web",
            external_id=external_id_for(token.key, text),
            text=text,
            author_name=form.name.data or None,
            location=form.town.data or None,
            contact_email=form.email.data or None,
            consent_publish=bool(form.consent_publish.data),
        )
    except SQLAlchemyError as exc:
        _log_database_error(exc)
        return _check_page(slug, found, form, token, problem="database", status=503)
    log.info(
        "public form: question %s for meeting %s (%s)",
        receipt.reference,
        found.id,
        "repeat" if receipt.duplicate else "new",
    )
    session[RECEIPT_KEY] = {
        "slug": slug,
        "reference": receipt.reference,
        "by_email": bool(form.email.data),
    }
    return redirect(url_for("intake.confirmation", slug=slug), code=303)


@bp.route("/meetings/<slug>/confirmation")
def confirmation(slug: str) -> Page:
    """Tell the sender their reference, what happens next and how to watch."""
    receipt = session.get(RECEIPT_KEY)
    if not isinstance(receipt, dict) or receipt.get("slug") != slug:
        return redirect(url_for("intake.meeting", slug=slug))
    found = _find_meeting(slug)
    if found is None:
        abort(404)
    return render_template(
        "intake/confirmation.html",
        meeting=found,
        reference=str(receipt.get("reference", "")),
        by_email=bool(receipt.get("by_email")),
    )


@bp.route("/privacy")
def privacy() -> str:
    """What we collect, why, for how long, and how to have it erased."""
    return render_template("intake/privacy.html", retention_days=runtime().settings.retention_days)


# ---------------------------------------------------------------------------------------------
# refusals that keep what was typed


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> Page:
    """An expired or missing CSRF token (long pause, cookies cleared): keep the text."""
    log.info("public form: CSRF check failed (%s)", exc.description)
    slug = (request.view_args or {}).get("slug")
    if not slug:
        _ensure_nonce()
        return render_template("intake/unavailable.html", problem="csrf"), 400
    return _posted_again(str(slug), "csrf", 400)


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(_exc: RateLimitExceeded) -> Page:
    """Too many sends from one address: a friendly page that keeps the text."""
    log.info("public form: rate limit reached")
    slug = (request.view_args or {}).get("slug")
    return _posted_again(str(slug), "rate", 429)


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> Page:
    """An unknown meeting (a mistyped or old link from a social media post)."""
    return render_template("intake/not_found.html"), 404


@bp.errorhandler(SQLAlchemyError)
def _database_unavailable(exc: SQLAlchemyError) -> Page:
    """A page that only reads (start page, question page) while the database is down."""
    _log_database_error(exc)
    _ensure_nonce()
    return render_template("intake/unavailable.html", problem="database"), 503
