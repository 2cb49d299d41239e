"""Who may do what: the one table of access rules, enforced for every request.

Every endpoint of the app is declared here with, per HTTP method, the set of callers allowed.
``enforce_access`` (installed by the app factory) applies it before any view runs, so a view
cannot forget a check; an endpoint missing from the table is refused (and
``tests/test_roles.py`` fails, naming it). HEAD and OPTIONS follow GET.

* **admin** manages users, meetings and settings and reads the audit log (and may do
  anything staff do).
* **staff** moderate, group, compose, build and publish agendas, import and enter cards.
* **chair** reads everything staff see and runs the live view; changes nothing else.
* the **public** reaches the question form and published pages, never a staff page.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from flask import Flask, abort, render_template, request
from flask_login import current_user

from domain.models import Role
from domain.web.extensions import login_manager

log = logging.getLogger(__name__)


class Caller(StrEnum):
    """Who is asking: a signed-in role, or nobody signed in."""

    ANONYMOUS = "anonymous"
    CHAIR = Role.CHAIR.value
    STAFF = Role.STAFF.value
    ADMIN = Role.ADMIN.value


Who = frozenset[Caller]

PUBLIC: Who = frozenset(Caller)
READ: Who = frozenset({Caller.CHAIR, Caller.STAFF, Caller.ADMIN})
LIVE: Who = READ  # running the live view (chair included)
EDIT: Who = frozenset({Caller.STAFF, Caller.ADMIN})
ADMIN: Who = frozenset({Caller.ADMIN})
# What the chair does on air (admins may stand in); staff forward, they do not put on air.
ON_AIR: Who = frozenset({Caller.CHAIR, Caller.ADMIN})
# Partner API: no session role reaches it; the view checks a bearer token (401 without one).
TOKEN: Who = frozenset()

ACCESS: dict[str, dict[str, Who]] = {
    # public site
    "static": {"GET": PUBLIC},
    "index": {"GET": PUBLIC},
    "healthz": {"GET": PUBLIC},
    "intake.ask_any": {"GET": PUBLIC},
    "intake.meeting": {"GET": PUBLIC},
    "intake.confirmation": {"GET": PUBLIC},
    "intake.privacy": {"GET": PUBLIC},
    "intake.ask": {"GET": PUBLIC, "POST": PUBLIC},
    "intake.send": {"GET": PUBLIC, "POST": PUBLIC},
    "triage_auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "triage_auth.logout": {"POST": PUBLIC},
    # partner API
    "intake_api.create_submission": {"POST": TOKEN},
    "intake_api.submission_status": {"GET": TOKEN},
    "intake_api.openapi_yaml": {"GET": PUBLIC},
    "intake_api.openapi_json": {"GET": PUBLIC},
    # reading the board (chair too)
    "triage.meetings": {"GET": READ},
    "triage.meeting": {"GET": READ},
    "triage.card_questions": {"GET": READ},
    "triage_themes.themes": {"GET": READ},
    "triage_live.stream": {"GET": LIVE},
    # staff work: moderate, group, theme, undo, cards and imports
    "triage_decisions.move": {"POST": EDIT},
    "triage_decisions.choose_move": {"GET": EDIT},
    "triage_decisions.split": {"POST": EDIT},
    "triage_decisions.merge": {"POST": EDIT},
    "triage_decisions.choose_merge": {"GET": EDIT},
    "triage_decisions.theme": {"POST": EDIT},
    "triage_decisions.group_theme": {"POST": EDIT},
    "triage_decisions.status": {"POST": EDIT},
    "triage_decisions.undo_decision": {"POST": EDIT},
    "triage_themes.rename": {"POST": EDIT},
    "intake_staff.event_entry": {"GET": EDIT, "POST": EDIT},
    "intake_staff.import_upload": {"GET": EDIT, "POST": EDIT},
    "intake_staff.import_preview": {"GET": EDIT, "POST": EDIT},
    # composed questions and the agenda builder (the chair reads them)
    "triage_groups.group": {"GET": READ},
    "triage_groups.compose": {"POST": EDIT},
    "triage_agenda.builder": {"GET": READ},
    **{
        f"triage_agenda.{name}": {"POST": EDIT}
        for name in (
            "add_group",
            "gather",
            "add_item",
            "update_item",
            "move",
            "delete_item",
            "release",
            "order",
            "length",
            "publish",
        )
    },
    "agenda_public.agenda": {"GET": PUBLIC},
    "agenda_public.agenda_document": {"GET": PUBLIC},
    # a question's suggested groups: accept one
    "triage_suggestions.accept": {"POST": EDIT},
    # live comments and chatter kept apart from the groups; staff promote one
    "triage_chatter.comments": {"GET": READ},
    "triage_chatter.promote_view": {"POST": EDIT},
    "triage_chatter.promote_into_view": {"POST": EDIT},
    # social media collectors of a meeting: settings and health
    "triage_collectors.collectors": {"GET": READ, "POST": EDIT},
    # subject access and erasure (every request a POST: no address in a log)
    "triage_rights.search": {"GET": EDIT, "POST": EDIT},
    "triage_rights.export": {"POST": EDIT},
    "triage_rights.erase_person": {"POST": EDIT},
    # on air: the chair's view (triage/onair/), its actions, and the public overlay by secret
    "triage_chair.view": {"GET": READ},
    "triage_chair.regions": {"GET": READ},
    "triage_chair.suggest": {"POST": EDIT},
    "triage_chair.overlay_secret": {"POST": EDIT},
    "triage_chair.overlay_revoke": {"POST": EDIT},
    "triage_chair.ask": {"POST": ON_AIR},
    "triage_chair.pull": {"POST": ON_AIR},
    "triage_chair.dismiss": {"POST": ON_AIR},
    "triage_chair.start": {"POST": ON_AIR},
    "triage_chair.finish": {"POST": ON_AIR},
    "triage_chair.reopen": {"POST": ON_AIR},
    "triage_chair.overlay": {"POST": ON_AIR},
    "overlay.page": {"GET": PUBLIC},  # the secret in the URL is the check (404 otherwise)
    "overlay.state": {"GET": PUBLIC},
    "overlay.stream": {"GET": PUBLIC},
    # after the meeting: written answers (a second officer approves), the report, the notes
    "triage_answers.queue": {"GET": READ},
    "triage_answers.write": {"POST": EDIT},
    "triage_answers.approve_answer": {"POST": EDIT},
    "triage_answers.resend_delivery": {"POST": EDIT},
    "triage_answers.confirm_delivery": {"POST": EDIT},
    "answers_public.answers": {"GET": PUBLIC},
    "triage_report.report": {"GET": READ},
    "triage_report.chart_png": {"GET": READ},
    "triage_report.report_document": {"GET": READ},
    "triage_notes.notes_form": {"GET": READ},
    "triage_notes.notes_document": {"POST": READ},  # builds a download; changes nothing
    # admin: meetings, users, audit log
    "triage_meetings.new_meeting": {"GET": ADMIN, "POST": ADMIN},
    "triage_meetings.set_status": {"POST": ADMIN},
    "triage_admin.users": {"GET": ADMIN, "POST": ADMIN},
    "triage_admin.update_user": {"POST": ADMIN},
    "triage_admin.reset_password": {"POST": ADMIN},
    "triage_admin.audit": {"GET": ADMIN},
}


def caller() -> Caller:
    """The caller of the current request."""
    if not current_user.is_authenticated:
        return Caller.ANONYMOUS
    return Caller(current_user.role.value)


def allowed(endpoint: str | None, method: str, who: Caller | None = None) -> bool:
    """True if ``who`` (default: the current caller) may use ``endpoint`` with ``method``."""
    if endpoint is None:
        return False
    verb = "GET" if method in ("HEAD", "OPTIONS") else method
    rule = ACCESS.get(endpoint, {}).get(verb)
    return rule is not None and (who or caller()) in rule


def enforce_access() -> None:
    """``before_request`` hook: refuse what the table does not allow."""
    endpoint = request.endpoint
    if endpoint is None or request.method == "OPTIONS":  # Flask answers these itself
        return
    if endpoint not in ACCESS:
        log.warning("refused %s: endpoint not declared in triage/roles.py", endpoint)
        abort(403)
    verb = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
    rule = ACCESS[endpoint].get(verb)
    if rule in (PUBLIC, TOKEN):
        return  # TOKEN: the view answers 401 without a valid bearer token
    if rule is not None and caller() in rule:
        return
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    abort(403)


def _forbidden(_exc: Exception) -> tuple[str, int]:
    return render_template("triage/forbidden.html"), 403


def install_access(app: Flask) -> None:
    """Enforce :data:`ACCESS` on every request and let templates ask ``can(endpoint)``."""
    app.before_request(enforce_access)
    app.register_error_handler(403, _forbidden)
    app.jinja_env.globals["can"] = lambda endpoint, method="POST": allowed(endpoint, method)
