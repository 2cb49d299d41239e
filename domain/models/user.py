"""Staff accounts for the OPCC triage pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from domain.db import Base, utcnow
from domain.models.enums import Role, str_enum


class StaffUser(Base):
    """A member of OPCC staff (or the chair) who signs in to triage."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id kept in the session cookie: bumping it ends every session of this user
    # (sign-out, a new password, deactivation), including cookies copied elsewhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # Flask-Login protocol, written out so the domain does not depend on Flask-Login.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version or 1}"

    def end_sessions(self) -> None:
        """Make every session cookie issued so far for this user worthless."""
        self.session_version = (self.session_version or 1) + 1

    def deactivate(self) -> None:
        """Stop this account signing in, and end its sessions."""
        self.active = False
        self.end_sessions()

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of ``password``; sessions signed in before it end."""
        if self.password_hash:
            self.end_sessions()
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True if ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)
