"""Bearer tokens for partner systems that send questions through the JSON API."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow

TOKEN_PREFIX = "ofk_"


def hash_token(token: str) -> str:
    """The sha256 hex digest stored instead of the token itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(Base):
    """One partner's token. Only its hash is kept; revoked tokens stay for the record."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Who holds it, e.g. "West Mercia 101 web chat".
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def active(self) -> bool:
        """True until the token is revoked."""
        return self.revoked_at is None

    @classmethod
    def issue(cls, name: str) -> tuple[ApiToken, str]:
        """A new (unsaved) token row and the clear token, which is shown once and never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return cls(name=name, token_hash=hash_token(token)), token
