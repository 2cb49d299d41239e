"""The application factory: one ``create_app(config)`` that binds everything."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_talisman import Talisman
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from domain.runtime import Runtime
from domain.settings import Settings, load_settings
from domain.web.context import remove_session_at_teardown
from domain.web.extensions import csrf, limiter, login_manager
from domain.web.params import IdConverter
from intake.api.app import mount
from openfloor.embedded import ensure_embedded_redis

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'self'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def resolve_redis_url(settings: Settings) -> str:
    """The configured Redis, or the embedded one started on demand."""
    return settings.redis_url or ensure_embedded_redis(settings.instance_path)


def create_app(
    config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the web application.

    ``config`` overrides settings by field name (tests pass ``database_url``, ``redis_url``…);
    ``environ`` defaults to the process environment, read here and never at import time.
    """
    settings = load_settings(environ, config)
    app = Flask(__name__, instance_path=None)
    app.url_map.converters["int"] = IdConverter  # ids too big for the database: 404, not 500
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        RATELIMIT_HEADERS_ENABLED=True,
        # Rate limiting must never cost a question: if Redis is down, fall back to memory.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    logging.basicConfig(level=settings.log_level)

    runtime = Runtime(settings=settings, redis_url=resolve_redis_url(settings))
    app.extensions["openfloor"] = runtime
    app.config["RATELIMIT_STORAGE_URI"] = _limiter_uri(runtime.redis_url)
    app.config["RATELIMIT_KEY_PREFIX"] = f"{settings.queue_prefix}-limits"

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("openfloor"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    # Talisman first: its nonce must exist before CSRF or rate-limit errors render a page
    Talisman(
        app,
        force_https=settings.force_https,
        strict_transport_security=True,
        session_cookie_secure=settings.force_https,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="SAMEORIGIN",
    )
    WTFormsHelpers(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    _register_blueprints(app)
    remove_session_at_teardown(app, runtime)
    # the JSON API is an app of its own under /api/: none of the pages' extensions run there
    mount(app, _api_app(app, runtime))
    if settings.proxy_hops:
        # behind a reverse proxy: trust its X-Forwarded-For/-Proto (rate limits per client)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    return app


def _register_blueprints(app: Flask) -> None:
    import domain.web.auth  # noqa: F401  (registers the user loader)
    from intake.views import bp as intake_bp
    from triage.live import bp as live_bp
    from triage.meeting_admin import bp as meeting_admin_bp
    from triage.pages.admin import bp as admin_bp
    from triage.pages.auth import bp as auth_bp
    from triage.pages.board import bp as triage_bp
    from triage.pages.chatter import bp as chatter_bp
    from triage.pages.collectors import bp as collectors_bp
    from triage.pages.decisions import bp as decisions_bp
    from triage.pages.subject_access import bp as rights_bp
    from triage.pages.themes import bp as themes_bp
    from triage.roles import install_access
    from triage.suggestions import bp as suggestions_bp

    install_access(app)
    for bp in (
        intake_bp, auth_bp, triage_bp, live_bp, decisions_bp, meeting_admin_bp, admin_bp,
        rights_bp, collectors_bp, chatter_bp,
    ):  # fmt: skip
        app.register_blueprint(bp)

    from triage.agenda.public import bp as agenda_public_bp
    from triage.agenda.views import bp as agenda_bp
    from triage.pages.groups import bp as groups_bp

    for bp in (agenda_bp, agenda_public_bp, groups_bp):
        app.register_blueprint(bp)
    app.register_blueprint(themes_bp)

    from triage.onair.overlay import bp as overlay_bp
    from triage.onair.views import bp as chair_bp

    for bp in (chair_bp, overlay_bp):
        app.register_blueprint(bp)
    app.register_blueprint(suggestions_bp)

    from triage.answers.public import bp as answers_public_bp
    from triage.answers.views import bp as answers_bp
    from triage.notes.views import bp as notes_bp
    from triage.report.views import bp as report_bp

    for bp in (answers_bp, answers_public_bp, notes_bp, report_bp):
        app.register_blueprint(bp)

    from intake.event_entry import bp as intake_staff_bp

    app.register_blueprint(intake_staff_bp)

    @app.route("/")
    def index() -> Any:
        from flask import redirect, url_for

        return redirect(url_for("intake.ask_any"))

    @app.route("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}


def _api_app(pages: Flask, runtime: Runtime) -> Flask:
    from intake.api.app import create_api_app
    from triage.roles import enforce_access

    api = create_api_app(runtime)
    api.url_map.converters.update(pages.url_map.converters)
    # the one access table covers the API too (its routes are public or token-checked)
    api.before_request(enforce_access)
    return api


def _limiter_uri(redis_url: str) -> str:
    # limits' storage scheme for a Unix socket is redis+unix://
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url
