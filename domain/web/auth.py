"""Staff sign-in helpers: the user loader (session version and timeouts) and role checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, session
from flask_login import current_user, login_required
from sqlalchemy import select

from domain.models import Role, StaffUser
from domain.web.context import runtime
from domain.web.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
# The idle clock is written back at most this often, so most requests leave the cookie alone.
_SEEN_RESOLUTION = 30.0


def start_session() -> None:
    """Stamp a fresh sign-in; call right after ``login_user``."""
    now = time.time()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def _session_current(now: float) -> bool:
    """False once the session is past its idle or absolute limit (or never stamped)."""
    settings = runtime().settings
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in, int | float) or not isinstance(seen, int | float):
        return False
    if now - signed_in > settings.session_max_hours * 3600:
        return False
    if now - seen > settings.session_idle_minutes * 60:
        return False
    if now - seen > _SEEN_RESOLUTION:
        session[SEEN_AT] = now
    return True


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    """The user of a session id ``"<user id>:<session version>"`` if that session still counts.

    The version is bumped by sign-out, a new password and deactivation, so a copied cookie
    stops working then; the idle and absolute limits end a session on their own.
    """
    user_id, _, version = session_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) < 10):
        return None
    if not _session_current(time.time()):
        return None
    user = runtime().db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or version != str(user.session_version):
        return None
    return user


def session_still_valid(user_id: int, version: int) -> bool:
    """For long requests (event streams): has this session been ended since it began?"""
    if not _session_current(time.time()):
        return False
    db = runtime().db
    with db.transaction() as s:
        row = s.execute(
            select(StaffUser.session_version, StaffUser.active).where(StaffUser.id == user_id)
        ).first()
    return row is not None and row.active and row.session_version == version


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Allow signed-in staff whose role is one of ``roles`` (admins always pass)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


staff_required = roles_required(Role.STAFF, Role.CHAIR)
