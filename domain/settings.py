"""Layered configuration: defaults, then the environment, then explicit overrides.

Nothing here reads the environment at import time; :func:`load_settings` is called by the
application factory and the command line with the mapping they want to read.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Every knob the application reads. Field name ``foo_bar`` is set by env ``FOO_BAR``."""

    # Where the embedded defaults live (SQLite file, Redis socket, secret key).
    instance_path: str = "instance"
    # SQLAlchemy URL. Empty means SQLite inside the instance folder.
    database_url: str = ""
    # redis:// or unix:// URL. Empty means "start an embedded redis-server for me".
    redis_url: str = ""
    secret_key: str = ""
    # Name of the RQ queues; tests override it to isolate runs on a shared Redis.
    queue_prefix: str = "openfloor"
    # Public base URL, used in emails and the OpenAPI document.
    public_url: str = "http://127.0.0.1:5000"
    # Rate limit for the public form, per client address. Generous: a village hall shares one IP.
    form_rate_limit: str = "60 per hour; 20 per minute"
    api_rate_limit: str = "600 per minute"
    # Seconds a human needs at least between loading the form and sending it.
    min_fill_seconds: float = 2.0
    # Personal data retention (days) after a meeting closes; then names/emails/towns are erased.
    retention_days: int = 180
    # How often (seconds) the scheduler relays the outbox and runs housekeeping.
    relay_interval: float = 2.0
    # A relayed question not stored this many seconds later is relayed again (its job was lost).
    relay_recheck_seconds: float = 60.0
    # Lifetime of a meeting's pipeline lock; renewed while a batch runs, so a dead worker's
    # lock frees itself this quickly.
    pipeline_lock_seconds: int = 15
    # Worker batch size: how many pending submissions one job may take in a burst.
    worker_batch_size: int = 256
    # Redirect to HTTPS and mark cookies secure (HSTS is sent on HTTPS requests always).
    force_https: bool = False
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0 = none).
    proxy_hops: int = 0
    log_level: str = "INFO"
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the instance folder."""
        if self.database_url:
            url = self.database_url
            # Heroku-style URLs and plain postgresql:// both go through psycopg 3.
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://") :]
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        path = Path(self.instance_path).resolve() / "openfloor.sqlite3"
        return f"sqlite:///{path}"


_TRUE = {"1", "true", "yes", "on"}


def _coerce(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        return raw.strip().lower() in _TRUE
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    return raw


def env_names() -> set[str]:
    """The environment variables the application reads (for docs and compose checks)."""
    return {f.name.upper() for f in fields(Settings) if f.name != "extra"} | {"OPENFLOOR_CONFIG"}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build settings from defaults, then ``environ`` (``os.environ`` if None), then overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name == "extra":
            continue
        raw = env.get(f.name.upper())
        if raw is not None and raw != "":
            values[f.name] = _coerce(f.type, raw)
    for key, value in (overrides or {}).items():
        if key not in {f.name for f in fields(Settings)}:
            raise KeyError(f"unknown setting {key!r}")
        values[key] = value
    settings = Settings(**values)
    if not settings.secret_key:
        settings = dataclasses.replace(settings, secret_key=_instance_secret(settings))
    return settings


def _instance_secret(settings: Settings) -> str:
    """A random secret kept in the instance folder so sessions survive restarts."""
    path = Path(settings.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
