"""API credentials: from the environment (settings) or a secrets file, never the database."""

from __future__ import annotations

from pathlib import Path

from domain.settings import Settings


class MissingCredentials(Exception):
    """No token configured for a platform."""


def _from_file(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path:
        return values
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.strip().startswith("#"):
            values[key.strip().upper()] = value.strip()
    return values


def token(settings: Settings, name: str) -> str:
    """``X_BEARER_TOKEN`` or ``FACEBOOK_ACCESS_TOKEN``: the setting, else the secrets file."""
    value = str(getattr(settings, name.lower(), "") or "")
    if not value:
        value = _from_file(settings.social_secrets_file).get(name.upper(), "")
    if not value:
        raise MissingCredentials(f"{name.upper()} is not set (environment or secrets file)")
    return value
