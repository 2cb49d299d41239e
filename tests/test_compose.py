"""compose.yaml cannot run here (no Docker engine): check it against the real CLI and settings."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from domain.settings import env_names
from openfloor.cli import main

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
APP_SERVICES = {"web", "worker", "scheduler", "migrate"}


def _resolves(args: list[str]) -> bool:
    """True if ``args`` names a real (possibly nested) `openfloor` command whose options parse."""
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        if not rest or rest[0] not in command.commands:
            return False
        command = command.commands[rest.pop(0)]
    command.make_context(command.name or "", rest)  # raises on unknown options
    return True


def test_every_app_service_runs_a_real_openfloor_command() -> None:
    services = COMPOSE["services"]
    assert set(services) >= APP_SERVICES
    for name in APP_SERVICES:
        cmd = services[name]["command"]
        assert cmd[0] == "openfloor", name
        assert _resolves(cmd[1:]), f"{name}: {cmd} is not an openfloor command"
    health = services["worker"]["healthcheck"]["test"]
    assert health[1] == "openfloor" and _resolves(health[2:]), health


def test_every_environment_variable_is_read_by_the_app() -> None:
    known = env_names()
    for name, service in COMPOSE["services"].items():
        if name not in APP_SERVICES:
            continue
        env = service.get("environment") or COMPOSE["x-app"]["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables the app never reads: {unknown}"


def test_production_shape() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis"} <= set(services)
    redis_cmd = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_cmd
    assert "--maxmemory-policy noeviction" in redis_cmd
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert (ROOT / "Dockerfile").exists()
    assert "openfloor" in (ROOT / "Dockerfile").read_text()
