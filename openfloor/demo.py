"""The demo meeting: realistic questions sent through the real intake path."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from domain.models import Meeting, MeetingKind, MeetingStatus, Role, StaffUser
from domain.runtime import Runtime
from intake.submit import submit

DEMO_STAFF = "staff@example.org"
PASSWORD_FILE = "demo-sign-in.txt"


def demo_password(instance_path: str, *, reset: bool = False) -> tuple[str, bool]:
    """The demo sign-in password kept in the instance folder, and whether it is new.

    The same password is printed on every restart (so last run's still works); ``reset``
    makes a new one. The file is readable by its owner only.
    """
    path = Path(instance_path) / PASSWORD_FILE
    if not reset and path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept, False
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return password, True


def load_demo(rt: Runtime, staff_password: str | None, *, reset_password: bool = True) -> str:
    """Create the demo meeting and staff login (idempotent); returns what to tell the user.

    The demo account gets ``staff_password`` when it is created; an existing account's password
    is changed only with ``reset_password``.
    """
    data: dict[str, Any] = yaml.safe_load(
        files("openfloor").joinpath("demo_questions.yaml").read_text(encoding="utf-8")
    )
    spec = data["meeting"]
    with rt.db.transaction() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.slug == spec["slug"]))
        if meeting is None:
            meeting = Meeting(
                slug=spec["slug"],
                title=spec["title"],
                theme=spec["theme"],
                kind=MeetingKind(spec["kind"]),
                status=MeetingStatus.OPEN,
                venue=spec["venue"],
                watch_url=spec["watch_url"],
                hashtag=spec["hashtag"],
                description=spec["description"].strip(),
                scheduled_start=(datetime.now(UTC) + timedelta(days=spec["days_ahead"])).replace(
                    hour=19, minute=0, second=0, microsecond=0
                ),
            )
            session.add(meeting)
        user = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF))
        if user is None:
            user = StaffUser(email=DEMO_STAFF, display_name="Demo OPCC officer", role=Role.ADMIN)
            session.add(user)
            user.set_password(staff_password or "change-me-now")
        elif staff_password and reset_password:
            user.set_password(staff_password)
    for n, q in enumerate(data["questions"], start=1):
        submit(
            rt,
            meeting,
            channel=q["channel"],
            external_id=f"demo-{spec['slug']}-{n}",
            text=q["text"],
            author_name=q.get("name"),
            location=q.get("town"),
            consent_publish=bool(q.get("consent")),
            event_name=q.get("event"),
        )
    login = f"  staff sign-in: {DEMO_STAFF} / {staff_password}" if staff_password else ""
    return (
        f"demo meeting '{meeting.title}' loaded with {len(data['questions'])} questions\n"
        f"  public form: /meetings/{meeting.slug}/ask\n"
        f"  staff board: /triage/meetings/{meeting.id}\n{login}"
    )
