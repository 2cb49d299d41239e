"""Public pages that take a question: the question page, check your answers, and sending.

What someone typed travels in the pages themselves (hidden fields on the check page), never
in a URL, a cookie or server-side storage. Sending is rate limited per client (keyed by a
hash of the address, never the address) and passes the bot traps in :mod:`intake.antispam`;
the question is durable (outbox row committed) before the confirmation is shown.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError

from domain.models import Meeting
from domain.web.context import runtime
from domain.web.extensions import limiter
from intake import antispam
from intake.forms import QuestionForm, external_id_for
from intake.meeting_pages import closed_page
from intake.public_blueprint import (
    RECEIPT_KEY,
    Page,
    app_secret,
    bp,
    ensure_nonce,
    find_meeting,
    log_database_error,
    meeting_quietly,
)
from intake.submit import submit

log = logging.getLogger(__name__)

# Fields a "Change" button on the check page may jump back to (used as the URL fragment).
CHANGEABLE = {"question", "name", "town", "email", "consent_publish"}


def _posted_token() -> antispam.FormToken | None:
    return antispam.read(app_secret(), request.form.get(antispam.TOKEN_FIELD))


def _token() -> antispam.FormToken:
    """The posted form token, or a fresh one if it is missing or forged."""
    return _posted_token() or antispam.issue(app_secret())


def client_key() -> str:
    """Rate-limit key: a keyed hash of the client address, never the address itself."""
    addr = (request.remote_addr or "unknown").encode()
    digest = hmac.new(app_secret().encode(), addr, hashlib.sha256).hexdigest()[:24]
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


def posted_again(slug: str, problem: str, status: int) -> Page:
    """Re-render whatever page was being posted, keeping the text, with ``problem`` explained."""
    ensure_nonce()
    meeting = meeting_quietly(slug)
    token = _token()
    if request.endpoint == "intake.send":
        form = QuestionForm(formdata=request.form)
        if form.validate():
            return _check_page(slug, meeting, form, token, problem=problem, status=status)
    form = QuestionForm(formdata=request.form)  # no validation messages: they did nothing wrong
    return _question_page(slug, meeting, form, token, problem=problem, status=status)


@bp.route("/meetings/<slug>/ask", methods=["GET", "POST"])
def ask(slug: str) -> Page:
    """The question page; its POST validates and shows check-your-answers."""
    if request.method == "GET":
        found = find_meeting(slug)
        if found is None:
            abort(404)
        if not found.accepting_questions:
            return closed_page(found)
        return _question_page(
            slug, found, QuestionForm(formdata=None), antispam.issue(app_secret())
        )

    form = QuestionForm(formdata=request.form)
    token = _token()
    try:
        found = find_meeting(slug)
    except SQLAlchemyError as exc:
        log_database_error(exc)
        return _question_page(slug, None, form, token, problem="database", status=503)
    if found is None:
        abort(404)
    if not found.accepting_questions:
        return closed_page(found, form, status=409)
    change = request.args.get("change")
    if change in CHANGEABLE:
        return _question_page(slug, found, form, token, change=change)
    if not form.validate():
        return _question_page(slug, found, form, token)
    return _check_page(slug, found, form, token)


@bp.route("/meetings/<slug>/send", methods=["GET", "POST"])
@limiter.limit(_form_rate_limit, key_func=client_key, methods=["POST"])
def send(slug: str) -> Page:
    """Send the checked question: durable in the outbox before the confirmation is shown."""
    if request.method == "GET":
        return redirect(url_for("intake.ask", slug=slug))
    rt = runtime()
    form = QuestionForm(formdata=request.form)
    token = _posted_token()
    try:
        found = find_meeting(slug)
    except SQLAlchemyError as exc:
        log_database_error(exc)
        return posted_again(slug, "database", 503)
    if found is None:
        abort(404)
    if not found.accepting_questions:
        return closed_page(found, form, status=409)
    if not form.validate():  # the hidden fields were edited: show the question page
        return _question_page(slug, found, form, token or antispam.issue(app_secret()))

    verdict = antispam.check(request.form, token, rt.settings.min_fill_seconds)
    if token is None or not verdict.passed:
        log.info("public form: confirm requested (trap=%s, meeting=%s)", verdict.reason, found.id)
        fresh = token or antispam.issue(app_secret())
        return _check_page(slug, found, form, fresh, problem="confirm")

    text = form.question.data or ""
    external_id = external_id_for(token.key, text)
    verdict = antispam.claim(rt.redis, rt.prefix, token, external_id)
    if not verdict.passed:  # this form already sent a different question
        log.info("public form: confirm requested (trap=%s, meeting=%s)", verdict.reason, found.id)
        return _check_page(slug, found, form, antispam.issue(app_secret()), problem="confirm")
    try:
        receipt = submit(
            rt,
            found,
            channel="web",
            external_id=external_id,
            text=text,
            author_name=form.name.data or None,
            location=form.town.data or None,
            contact_email=form.email.data or None,
            consent_publish=bool(form.consent_publish.data),
        )
    except SQLAlchemyError as exc:
        log_database_error(exc)
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
