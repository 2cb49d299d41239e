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

The blueprint and what its pages share are in :mod:`intake.public_blueprint`; the pages are
in :mod:`intake.meeting_pages` and :mod:`intake.question_pages`. Importing this module
registers them all, and their names stay importable from here.
"""

from __future__ import annotations

import logging

from flask import render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from intake.meeting_pages import ask_any, confirmation, meeting, privacy
from intake.public_blueprint import (
    KIND_LABELS,
    RECEIPT_KEY,
    Page,
    bp,
    describe_when,
    ensure_nonce,
    log_database_error,
)
from intake.question_pages import CHANGEABLE, ask, posted_again, send
from intake.question_pages import client_key as _client_key

__all__ = [
    "CHANGEABLE",
    "KIND_LABELS",
    "RECEIPT_KEY",
    "Page",
    "_client_key",
    "ask",
    "ask_any",
    "bp",
    "confirmation",
    "describe_when",
    "meeting",
    "privacy",
    "send",
]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# refusals that keep what was typed


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> Page:
    """An expired or missing CSRF token (long pause, cookies cleared): keep the text."""
    log.info("public form: CSRF check failed (%s)", exc.description)
    slug = (request.view_args or {}).get("slug")
    if not slug:
        ensure_nonce()
        return render_template("intake/unavailable.html", problem="csrf"), 400
    return posted_again(str(slug), "csrf", 400)


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(_exc: RateLimitExceeded) -> Page:
    """Too many sends from one address: a friendly page that keeps the text."""
    log.info("public form: rate limit reached")
    slug = (request.view_args or {}).get("slug")
    return posted_again(str(slug), "rate", 429)


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> Page:
    """An unknown meeting (a mistyped or old link from a social media post)."""
    return render_template("intake/not_found.html"), 404


@bp.errorhandler(SQLAlchemyError)
def _database_unavailable(exc: SQLAlchemyError) -> Page:
    """A page that only reads (start page, question page) while the database is down."""
    log_database_error(exc)
    ensure_nonce()
    return render_template("intake/unavailable.html", problem="database"), 503
