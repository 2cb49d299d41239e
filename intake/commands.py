"""Command-line hooks for the intake channels, added to ``openfloor`` by ``openfloor/cli.py``.

- ``create-api-token NAME``: print a new partner token (shown once, only its hash is kept)
- ``revoke-api-token ID_OR_NAME``: revoke one token, or every active token with that name
- ``list-api-tokens``: ids, names and dates (never the tokens)
- ``import-email --meeting ID_OR_SLUG (--folder DIR | --imap-host HOST ...)``: emailed questions
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path

import click
from redis.exceptions import RedisError
from sqlalchemy import select

from domain.models import ApiToken, Meeting
from domain.runtime import Runtime
from domain.settings import load_settings
from domain.web.params import parse_id
from intake.api.access import TOKEN_CACHE_SECONDS, tokens_changed


def _runtime() -> Runtime:
    from openfloor.app import resolve_redis_url

    settings = load_settings()
    return Runtime(settings=settings, redis_url=resolve_redis_url(settings))


@click.command("create-api-token")
@click.argument("name")
def create_api_token(name: str) -> None:
    """Create a token for partner system NAME and print it once (only its hash is kept)."""
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise click.ClickException("give the token a name of 1 to 120 characters")
    rt = _runtime()
    try:
        row, token = ApiToken.issue(name)
        with rt.db.transaction() as session:
            session.add(row)
            session.flush()
            token_id = row.id
    finally:
        rt.close()
    click.echo(f"API token {token_id} for {name!r} (shown once, store it safely):")
    click.echo(token)


@click.command("revoke-api-token")
@click.argument("token")
def revoke_api_token(token: str) -> None:
    """Revoke the token with id TOKEN, or every active token named TOKEN."""
    rt = _runtime()
    try:
        with rt.db.transaction() as session:
            stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None))
            token_id = parse_id(token)
            if token_id is not None:
                stmt = stmt.where(ApiToken.id == token_id)
            else:
                stmt = stmt.where(ApiToken.name == token)
            rows = list(session.scalars(stmt))
            now = datetime.now(UTC)
            for row in rows:
                row.revoked_at = now
            ids = [row.id for row in rows]
        if ids:
            try:
                tokens_changed(rt)
            except RedisError:
                click.echo(
                    f"Redis did not answer: running web processes notice within "
                    f"{TOKEN_CACHE_SECONDS:g} s",
                    err=True,
                )
    finally:
        rt.close()
    if not ids:
        raise click.ClickException(f"no active API token {token!r}")
    click.echo("revoked API token(s) " + ", ".join(str(i) for i in ids))


@click.command("list-api-tokens")
def list_api_tokens() -> None:
    """List API tokens: id, name, created and revoked dates."""
    rt = _runtime()
    try:
        with rt.db.transaction() as session:
            rows = list(session.scalars(select(ApiToken).order_by(ApiToken.id)))
            lines = [
                f"{r.id}\t{r.name}\tcreated {r.created_at:%Y-%m-%d %H:%M}\t"
                + (f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active")
                for r in rows
            ]
    finally:
        rt.close()
    click.echo("\n".join(lines) if lines else "no API tokens")


@click.command("import-email")
@click.option("--meeting", "meeting_ref", required=True, help="Meeting id or slug.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read .eml files from this folder instead of IMAP.",
)
@click.option("--imap-host", envvar="OPENFLOOR_IMAP_HOST", help="IMAP server.")
@click.option("--imap-port", type=int, envvar="OPENFLOOR_IMAP_PORT", help="Default 993 (143).")
@click.option("--imap-user", envvar="OPENFLOOR_IMAP_USER")
@click.option("--imap-password", envvar="OPENFLOOR_IMAP_PASSWORD", help="Prompted if not set.")
@click.option("--ssl/--no-ssl", "use_ssl", default=True, show_default=True)
@click.option(
    "--imap-cafile",
    type=click.Path(dir_okay=False, exists=True),
    help="Trust this CA certificate (a server with a private certificate).",
)
@click.option("--mailbox", default="INBOX", show_default=True)
@click.option(
    "--move-to",
    help="After import move messages to this IMAP mailbox (or, with --folder, this folder).",
)
def import_email(
    meeting_ref: str,
    folder: Path | None,
    imap_host: str | None,
    imap_port: int | None,
    imap_user: str | None,
    imap_password: str | None,
    use_ssl: bool,
    imap_cafile: str | None,
    mailbox: str,
    move_to: str | None,
) -> None:
    """Import emailed questions into a meeting (safe to run again: nothing is stored twice)."""
    from intake.email.importer import FolderSource, ImapSource, MailboxError, import_mail

    if (folder is None) == (imap_host is None):
        raise click.UsageError("give either --folder or --imap-host")
    rt = _runtime()
    try:
        with rt.db.transaction() as session:
            stmt = select(Meeting)
            meeting_id = parse_id(meeting_ref)
            stmt = stmt.where(
                Meeting.id == meeting_id if meeting_id is not None else Meeting.slug == meeting_ref
            )
            meeting = session.scalar(stmt)
        if meeting is None:
            raise click.ClickException(f"no meeting {meeting_ref!r}")
        if not meeting.accepting_questions:
            raise click.ClickException(f"meeting {meeting_ref!r} is not taking questions")
        try:
            if folder is not None:
                source = FolderSource(folder, Path(move_to) if move_to else None)
                report = import_mail(rt, meeting, source)
            else:
                assert imap_host is not None
                if not imap_user:
                    raise click.UsageError("--imap-user (or OPENFLOOR_IMAP_USER) is required")
                password = imap_password or click.prompt("IMAP password", hide_input=True)
                context = ssl.create_default_context(cafile=imap_cafile) if use_ssl else None
                with ImapSource(
                    imap_host,
                    imap_port,
                    user=imap_user,
                    password=password,
                    use_ssl=use_ssl,
                    mailbox=mailbox,
                    move_to=move_to,
                    ssl_context=context,
                ) as imap:
                    report = import_mail(rt, meeting, imap)
        except MailboxError as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        rt.close()
    click.echo(report.summary())
    for line in report.problems:
        click.echo(f"  {line}")


COMMANDS = [create_api_token, revoke_api_token, list_api_tokens, import_email]
