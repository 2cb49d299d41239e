"""The JSON API as a WSGI application of its own, beside the web pages.

Partner systems send questions here at meeting-night rates, so the API is a lean Flask app:
none of the pages' extensions (sessions, sign-in, CSRF, the pages' rate limiter, the
content-security policy) run on its requests. It has what an API needs: bearer tokens and its
own rate limits (``intake.api.access``), JSON for every answer including an unknown URL, and
the headers that matter for JSON (``nosniff``, ``no-store``, HSTS over HTTPS).
:func:`mount` puts it in front of the pages' app under ``/api/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

from domain.runtime import Runtime
from domain.web.context import remove_session_at_teardown
from intake.api.access import ApiError
from intake.api.views import bp, register_error_handlers
from intake.meeting_states import MeetingStates

PREFIX = "/api/"
HSTS = "max-age=31536000; includeSubDomains"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_api_app(runtime: Runtime) -> Flask:
    """The API's own Flask app, sharing ``runtime`` (database, Redis) with the pages."""
    settings = runtime.settings
    app = Flask("intake.api.app", instance_path=None)
    app.config.update(
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=1024 * 1024,  # a question is a few kilobytes of JSON
    )
    app.extensions["openfloor"] = runtime
    app.extensions["openfloor_meetings"] = MeetingStates(runtime.db)
    app.register_blueprint(bp)
    register_error_handlers(app)
    remove_session_at_teardown(app, runtime)

    @app.before_request
    def _https_only() -> None:
        # as the pages' Talisman does, except that a redirect would lose a POST's body
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        if settings.force_https and not secure and not app.debug:
            raise ApiError(403, "https_required", "Use HTTPS for this API")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    return app


class ApiDispatch:
    """WSGI: requests under ``/api/`` to the API app, every other to the pages' app.

    Paths are left as they are (no ``SCRIPT_NAME`` shift), so both apps build the same URLs.
    """

    def __init__(self, pages: WsgiApp, api: WsgiApp) -> None:
        self.pages, self.api = pages, api

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) or path == PREFIX.rstrip("/"):
            return self.api(environ, start_response)
        return self.pages(environ, start_response)


def mount(pages: Flask, api: Flask) -> None:
    """Serve ``api`` under ``/api/`` of ``pages`` (``pages.wsgi_app`` is wrapped)."""
    pages.extensions["openfloor_api"] = api
    pages.wsgi_app = ApiDispatch(pages.wsgi_app, api.wsgi_app)  # type: ignore[method-assign]
