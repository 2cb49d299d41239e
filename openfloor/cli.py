"""The `openfloor` command line."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from domain.migrate import upgrade
from domain.models import Role, StaffUser
from domain.runtime import Runtime, install
from domain.settings import Settings, load_settings
from openfloor.app import resolve_redis_url
from openfloor.embedded import server_command, stop_embedded_redis, wait_until_alive

log = logging.getLogger("openfloor")


def _runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or load_settings()
    return install(Runtime(settings=settings, redis_url=resolve_redis_url(settings)))


@click.group()
def main() -> None:
    """openfloor: public questions for Police and Crime Commissioner meetings."""


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    settings = load_settings()
    upgrade(settings.resolved_database_url())
    click.echo("database is up to date")


@main.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
@click.option("--password", envvar="OPENFLOOR_NEW_PASSWORD", help="Prompted for if not given.")
def create_user(email: str, name: str, role: str, password: str | None) -> None:
    """Create (or reset the password of) a staff account."""
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat password: "):
            raise click.ClickException("passwords do not match")
    if len(password) < 10:
        raise click.ClickException("use a password of at least 10 characters")
    rt = _runtime()
    try:
        with rt.db.transaction() as session:
            user = session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
            if user is None:
                user = StaffUser(email=email.lower(), display_name=name or email, role=Role(role))
                session.add(user)
            user.role = Role(role)
            user.set_password(password)  # a new password ends the account's sessions
    finally:
        rt.close()
    click.echo(f"staff user {email} ({role}) ready")


@main.command()
@click.option("--reset-password/--keep-password", default=False,
              help="Make a new demo sign-in password (default: keep the one in the instance "
              "folder).")  # fmt: skip
def demo(reset_password: bool) -> None:
    """Load the demo meeting with realistic questions and a demo staff login."""
    from openfloor.demo import demo_password, load_demo

    settings = load_settings()
    rt = _runtime(settings)
    password, new = demo_password(settings.instance_path, reset=reset_password)
    click.echo(load_demo(rt, staff_password=password, reset_password=new))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", "web_workers", default=2, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--pin-workers/--no-pin-workers", default=True, show_default=True,
              envvar="WEB_PIN_WORKERS",
              help="Keep each worker on a CPU core of its own (Linux).")  # fmt: skip
def web(host: str, port: int, web_workers: int, threads: int, pin_workers: bool) -> None:
    """Serve the web app with gunicorn (threads keep live event streams cheap)."""
    from openfloor.server import serve

    serve(host=host, port=port, workers=web_workers, threads=threads, pin=pin_workers)


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queues to listen on (default: all).")
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker for ingest, pipeline and maintenance jobs."""
    from openfloor.worker import run_worker

    run_worker(_runtime(), burst=burst, queues=list(queues) or None)


@main.command()
@click.option("--input", "input_", type=click.File("r", encoding="utf-8"), required=True,
              help="JSON Lines: id, text, and optionally name, location, channel.")  # fmt: skip
@click.option("--output", type=click.File("w", encoding="utf-8"), required=True)
@click.option("--progress/--no-progress", default=None, help="Default: when on a terminal.")
def cluster(input_: Any, output: Any, progress: bool | None) -> None:
    """Group questions from a file exactly as the workers do (dup_group, theme, flags)."""
    from workers.batch import InputError
    from workers.batch import cluster as run_cluster

    show = sys.stderr.isatty() if progress is None else progress
    try:
        count = run_cluster(input_, output, progress=show)
    except InputError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{count} questions written", err=True)


@main.command()
@click.option("--meeting", "slug", default=None, help="Meeting slug (a copy!); default: a new one.")
@click.option("--comments", default=200, show_default=True, help="Facebook comments to post.")
@click.option("--posts", default=50, show_default=True, help="X posts to publish.")
@click.option("--seconds", default=30.0, show_default=True, help="Length of the broadcast.")
@click.option(
    "--faults/--no-faults",
    default=True,
    show_default=True,
    help="Play a 429, a 5xx, a dropped stream, a deletion and a collector restart.",
)
def rehearse(slug: str | None, comments: int, posts: int, seconds: float, faults: bool) -> None:
    """Play a scripted broadcast on fake X and Facebook servers through the real collectors."""
    import json

    from openfloor.rehearsal.run import rehearse as run_rehearsal

    settings = load_settings()
    Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    rt = _runtime(settings)
    log_file = Path(settings.instance_path) / "rehearsal-worker.log"
    try:
        summary = run_rehearsal(rt, slug=slug, comments=comments, posts=posts,
                                seconds=seconds, log=log_file, faults=faults)  # fmt: skip
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        rt.close()
        if not settings.redis_url:
            stop_embedded_redis(settings.instance_path)
    click.echo(json.dumps(summary))


@main.command("worker-health")
@click.option("--max-age", default=120, show_default=True, help="Seconds since last heartbeat.")
def worker_health(max_age: int) -> None:
    """Exit 0 if an RQ worker on this host has sent a heartbeat recently (for healthchecks)."""
    from openfloor.worker import healthy_workers_here

    count = healthy_workers_here(_runtime(), max_age)
    if count == 0:
        raise click.ClickException("no live worker on this host")
    click.echo(f"{count} live worker(s)")


@main.command()
@click.option("--once", is_flag=True, help="Run one round and exit.")
def scheduler(once: bool) -> None:
    """Relay the outbox to the queue and enqueue periodic jobs."""
    from openfloor.scheduler import run_scheduler

    run_scheduler(_runtime(), once=once)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, envvar="PORT")
@click.option("--demo/--no-demo", "with_demo", default=True, show_default=True)
@click.option("--reset-demo-password", is_flag=True,
              help="Make a new demo sign-in password instead of keeping the last one.")  # fmt: skip
def run(host: str, port: int, with_demo: bool, reset_demo_password: bool) -> None:
    """Everything in one command for a laptop or a demo: web, workers and scheduler.

    With no REDIS_URL it also runs the embedded Redis, as a supervised child: restarted
    (from its append-only file) if it dies, like the others.
    """
    from openfloor.server import ensure_port_free
    from openfloor.supervisor import Child, supervise

    ensure_port_free(host, port)  # before anything starts: the web child could never bind
    settings = load_settings()
    Path(settings.instance_path).mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    if not settings.redis_url:
        # a server left by an earlier `openfloor web`/`worker` is handed over to supervision
        stop_embedded_redis(settings.instance_path)
        redis_child = Child(
            "redis",
            server_command(settings.instance_path),
            ready=lambda: wait_until_alive(settings.instance_path),
            detached=True,  # a Ctrl-C stops it last, after the workers, not with them
        )
        redis_child.start(dict(os.environ))
        children.append(redis_child)
    try:
        upgrade(settings.resolved_database_url())
        redis_url = resolve_redis_url(settings)
        env = {**os.environ, "REDIS_URL": redis_url, "SECRET_KEY": settings.secret_key}
        if with_demo:
            from openfloor.demo import demo_password, load_demo

            rt = install(Runtime(settings=settings, redis_url=redis_url))
            password, new = demo_password(settings.instance_path, reset=reset_demo_password)
            click.echo(load_demo(rt, staff_password=password, reset_password=new))
            rt.close()
        exe = [sys.executable, "-m", "openfloor"]
        children += [
            Child("worker", [*exe, "worker"]),
            Child("collector", [*exe, "worker", "--queue", "collect"]),
            Child("scheduler", [*exe, "scheduler"]),
            Child("web", [*exe, "web", "--host", host, "--port", str(port)]),
        ]
        click.echo(f"\nopenfloor is running: http://{host}:{port}/ask  (staff: /triage)\n")
    except BaseException:
        for child in children:
            if child.proc is not None:
                child.proc.terminate()
        raise
    supervise(children, env)


@main.command()
@click.option("--meeting", "slug", required=True, help="The meeting's slug.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True)
@click.option("--chair", default="", help="Who chaired the meeting.")
@click.option("--minute-taker", default="", help="Who took the notes, e.g. 'Name, Policy Officer'.")
@click.option("--present", multiple=True, help="'Name, capacity' (repeat for each person).")
@click.option("--apologies", multiple=True, help="A person who sent apologies (repeatable).")
@click.option("--next-meeting", default="", help="Type, date, time and venue of the next one.")
def notes(
    slug: str,
    output: str,
    chair: str,
    minute_taker: str,
    present: tuple[str, ...],
    apologies: tuple[str, ...],
    next_meeting: str,
) -> None:
    """Write the meeting notes draft (DOCX) in the OPCC's format, built from the agenda."""
    from domain.models import Meeting
    from triage.notes.build import NotesHeader, build_notes
    from triage.notes.docx_export import notes_docx
    from triage.notes.views import parse_people

    rt = _runtime()
    with rt.db.transaction() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == slug))
        if meeting is None:
            raise click.ClickException(f"no meeting with the slug {slug!r}")
        header = NotesHeader(
            chair=chair,
            minute_taker=minute_taker,
            present=parse_people("\n".join(present)),
            apologies=list(apologies),
            next_meeting=next_meeting,
        )
        document = notes_docx(build_notes(session, meeting, header))
    Path(output).write_bytes(document)
    click.echo(f"meeting notes written to {output}")


def _register_channel_commands() -> None:
    from intake.commands import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register_channel_commands()

if __name__ == "__main__":
    main()
