"""Staff sign-in helpers: the user loader and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from domain.models import Role, StaffUser
from domain.web.context import runtime
from domain.web.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def _load_user(user_id: str) -> StaffUser | None:
    user = runtime().db.session.get(StaffUser, int(user_id))
    return user if user is not None and user.active else None


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
