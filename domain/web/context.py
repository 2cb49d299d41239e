"""Access to the process runtime from inside a request."""

from __future__ import annotations

from flask import current_app

from domain.runtime import Runtime


def runtime() -> Runtime:
    """The runtime bound to the current Flask app."""
    rt: Runtime = current_app.extensions["openfloor"]
    return rt
