"""Access to the process runtime from inside a request."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from domain.runtime import Runtime

log = logging.getLogger(__name__)


def runtime() -> Runtime:
    """The runtime bound to the current Flask app."""
    rt: Runtime = current_app.extensions["openfloor"]
    return rt


def remove_session_at_teardown(app: Flask, rt: Runtime) -> None:
    """End the request's database session when the app context ends."""

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        try:
            rt.db.session.remove()
        except SQLAlchemyError as exc:
            # the database went away mid-request (a restart): the answer is already decided,
            # so drop the dead session rather than turn that answer into a 500
            log.warning("discarded a broken database session: %s", exc)
            rt.db.session.registry.clear()
