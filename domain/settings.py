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
    # One pipeline job stops taking batches after this many seconds and queues the next job, so
    # a backlog (workers back after an outage) never runs into RQ's job timeout (180 s).
    pipeline_job_seconds: float = 60.0
    # Redirect to HTTPS and mark cookies secure (HSTS is sent on HTTPS requests always).
    force_https: bool = False
    # Staff sessions end after this many minutes without a request, and this many hours after
    # sign-in whatever happens.
    session_idle_minutes: float = 60.0
    session_max_hours: float = 12.0
    # Wrong passwords for one account before it is locked; the lock starts at this many
    # seconds and doubles with each further failure (at most 15 minutes).
    login_free_attempts: int = 5
    login_lockout_seconds: float = 30.0
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0 = none).
    proxy_hops: int = 0
    log_level: str = "INFO"
    # Outgoing mail for written answers. Empty host: answers cannot be emailed (the page says so).
    smtp_host: str = ""
    smtp_port: int = 587
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay only).
    smtp_tls: str = "starttls"
    # A CA bundle (PEM) to trust for the mail server's certificate; empty: the system's.
    smtp_ca_file: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "opcc@example.org"
    # Seconds for each SMTP network operation.
    smtp_timeout: float = 30.0
    # Seconds a sender may hold a claimed delivery before it may be sent by someone else.
    # Longer than a whole SMTP conversation; the sender checks it before handing a message over.
    send_lease_seconds: float = 300.0
    # Social collectors. Credentials come from here (the environment) or the secrets file,
    # never the database; they are kept out of repr so no log line can carry them.
    x_bearer_token: str = field(default="", repr=False)
    facebook_access_token: str = field(default="", repr=False)
    # OAuth 2.0 user access token of the PCC's X account (tweet.write): replies to askers.
    x_reply_token: str = field(default="", repr=False)
    # A file of KEY=value lines (X_BEARER_TOKEN, FACEBOOK_ACCESS_TOKEN), e.g. a Docker secret.
    social_secrets_file: str = ""
    # API base URLs: empty means the real platforms; rehearsal points them at its fakes.
    x_api_url: str = ""
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    graph_stream_url: str = "https://streaming-graph.facebook.com"
    # Seconds one live collector job streams or polls before handing over to the next.
    collector_window: float = 55.0
    # Duplicate matching maps the model's vectors through the layer learned from staff
    # decisions of past meetings (workers/learning/). Off: with the domain model trained on
    # the same past sets, its first contact on group6 and group7 showed no gain (one set a
    # small loss; docs/first-contact.md). The daily job still trains versions to try.
    learned_layer: bool = False
    # New staff decisions (moves, merges, splits) needed before the daily job retrains it.
    learned_layer_min_decisions: int = 50
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
