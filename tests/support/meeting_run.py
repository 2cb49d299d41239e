"""A Facebook Live meeting run to the end, as rows: questions in advance (web, email, cards at
two shows, a partner system), live comments over the broadcast, groups with how each ended the
meeting, the agenda, and three staff accounts (two officers and the chair).

Who asked what is chosen so every rule shows: Kath, James and Sue share a group; John asks twice
with the same email (one answer); a rejected question's sender gets nothing; Linda did not agree
to be named.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from domain.models import (
    AgendaItem,
    AgendaItemGroup,
    AgendaSection,
    Channel,
    Coverage,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Phase,
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
    Role,
    StaffUser,
    Submission,
    SubmissionStatus,
    Theme,
)
from domain.runtime import Runtime

_addresses = itertools.count(1)


def sign_in(app: Flask, email: str) -> FlaskClient:
    """A test client signed in as ``email``, from an address of its own.

    Sign-in is rate limited per client address across the test process; a fresh loopback
    address per client keeps these tests from using up other tests' allowance.
    """
    client = app.test_client()
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = f"127.77.{n // 250 % 250}.{n % 250 + 1}"
    response = client.post("/triage/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


PASSWORD = "correct horse battery"
WRITER = "writer@opcc.example.org"
APPROVER = "approver@opcc.example.org"
CHAIR = "chair@opcc.example.org"

# (group, channel, name, town, email, handle, consent, event, text, status, kind, minute)
# minute None: sent in advance; otherwise minutes into the broadcast (live).
ROWS = [
    ("theft", "web", "Richard", None, "richard@example.net", None, True, None,
     "What are the police doing about theft of equipment and livestock?", "accepted", "question",
     None),
    ("theft", "event", "Jo", "Ludlow", None, None, False, "Ludlow Food Festival",
     "Quad bikes keep going missing from farms near Ludlow.", "accepted", "question", None),
    ("asb", "web", "Kath", "Shifnal", "kath@example.net", None, True, None,
     "Youths racing cars at night in Shifnal, what will you do?", "accepted", "question", None),
    ("asb", "email", "James", "Kidderminster", "james@example.net", None, True, None,
     "Vandalism and cannabis smoking in the park every night.", "accepted", "question", None),
    ("asb", "event", "Sue", "Redditch", None, None, True, "Shropshire County Show",
     "No visible police presence to stop anti-social behaviour.", "accepted", "question", None),
    ("roads", "web", "John", "Evesham", "john@example.net", None, True, None,
     "Motorcycles speeding on Fish Hill at weekends.", "accepted", "question", None),
    ("roads", "web", "John", "Evesham", "John@Example.net", None, True, None,
     "Have you given up on roads policing?", "accepted", "question", None),
    ("roads", "web", "Linda", "Broadway", "linda@example.net", None, False, None,
     "Dangerous parking near the school in Broadway, call me on 07700 900123.", "accepted",
     "question", None),
    ("roads", "web", "Troll", None, "troll@example.net", None, False, None,
     "abusive text that moderation rejected", "rejected", "question", None),
    ("burglary", "api", "Peter", "Hagley", "peter@example.net", None, True, None,
     "Why are burglaries in Hagley never solved?", "accepted", "question", None),
    ("burglary", "event", None, None, None, None, False, "Hereford Food Festival",
     "Burglaries of sheds and outbuildings are rising.", "accepted", "question", None),
    ("wildlife", "web", "Steve", None, None, None, True, None,
     "What about hare coursing?", "accepted", "question", None),
    ("live_rural", "facebook", "Jane Smith", "Wyre Forest", None, "jane.smith.77", True, None,
     "How are officers expected to deal with rising demand?", "accepted", "question", 5),
    ("live_rural", "facebook", "Tom Brown", None, None, "tom.b", False, None,
     "Same question, fewer officers in rural areas", "accepted", "question", 6),
    ("live_rural", "facebook", "Ann Green", None, None, "ann.g", False, None,
     "Rural areas feel forgotten", "accepted", "question", 6),
    ("live_roads", "twitter", "Phil Jones", None, None, "@phil_j", True, None,
     "Is rural speeding a priority? #PCCLive", "accepted", "question", 20),
    (None, "facebook", "Kim", None, None, "kim.k", False, None, "Hello from Wem!", "accepted",
     "noise", 1),
    (None, "facebook", "Lee", None, None, "lee.l", False, None, "can't hear", "accepted",
     "noise", 2),
    (None, "twitter", "Max", None, None, "@max_m", False, None, "👍", "accepted", "noise", 30),
    (None, "facebook", "Amy", None, None, "amy.a", False, None,
     "Great to see the PCC doing this", "accepted", "comment", 40),
]  # fmt: skip

GROUPS = {
    # name: (theme slug, coverage, composed question)
    "theft": ("rural-crime", Coverage.ASKED,
              "What are the police doing to address the theft of equipment and livestock?"),
    "asb": ("asb", Coverage.ASKED,
            "What are the police doing to engage with local communities about anti-social "
            "behaviour?"),
    "roads": ("roads", Coverage.NOT_COVERED,
              "Have the police given up on roads policing: speeding and dangerous parking?"),
    "burglary": ("burglary", Coverage.NOT_COVERED,
                 "Why are so few burglaries in rural villages solved?"),
    "wildlife": ("wildlife", Coverage.ANSWERED_WITHIN, "What is being done about hare coursing?"),
    "live_rural": ("rural-crime", Coverage.ASKED,
                   "How are officers expected to deal with rising demand in rural areas?"),
    "live_roads": ("roads", Coverage.NOT_COVERED, "Is rural speeding a priority for the force?"),
}  # fmt: skip

THEMES = {
    "rural-crime": "Rural crime",
    "asb": "Anti-social behaviour",
    "roads": "Road safety",
    "burglary": "Burglary",
    "wildlife": "Wildlife crime",
}


@dataclass
class MeetingRun:
    """Ids a test needs."""

    meeting_id: int
    slug: str
    groups: dict[str, int]
    writer_id: int
    approver_id: int
    chair_id: int


def seed_meeting_run(rt: Runtime, *, slug: str = "rural-crime-live") -> MeetingRun:
    """Store the meeting, its questions, groups, agenda and staff; the meeting is closed."""
    start = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    with rt.db.transaction() as session:
        meeting = Meeting(
            slug=slug, title="Rural crime – Facebook Live", theme="Rural crime",
            kind=MeetingKind.FACEBOOK_LIVE, status=MeetingStatus.CLOSED, venue="Hindlip",
            scheduled_start=start, length_minutes=60, closed_at=start + timedelta(minutes=52),
        )  # fmt: skip
        session.add(meeting)
        users = []
        for email, role in ((WRITER, Role.STAFF), (APPROVER, Role.STAFF), (CHAIR, Role.CHAIR)):
            user = StaffUser(email=email, display_name=email.split("@")[0], role=role)
            user.set_password(PASSWORD)
            session.add(user)
            users.append(user)
        themes = {}
        for theme_slug, label in THEMES.items():
            themes[theme_slug] = Theme(slug=f"{slug}-{theme_slug}", label=label)
            session.add(themes[theme_slug])
        session.flush()
        groups = {}
        for name, (theme_slug, coverage, composed) in GROUPS.items():
            groups[name] = QuestionGroup(
                meeting_id=meeting.id, title=name, composed_question=composed,
                coverage=coverage, theme_id=themes[theme_slug].id,
                covered_at=start + timedelta(minutes=50),
            )  # fmt: skip
            session.add(groups[name])
        session.flush()
        for n, row in enumerate(ROWS, start=1):
            group, channel, name, town, email, handle, consent, event, text = row[:9]
            status, kind, minute = row[9:]
            live = minute is not None
            received = start + timedelta(minutes=minute) if live else start - timedelta(days=2)
            sub = Submission(
                meeting_id=meeting.id, channel=Channel(channel), external_id=f"{slug}-{n}",
                reference=f"{slug[:6].upper()}{n:04d}", raw_text=text, author_name=name,
                location=town, contact_email=email, author_handle=handle,
                permalink=f"https://example.social/{handle}/{n}" if handle else None,
                consent_publish=consent, event_name=event, received_at=received,
                phase=Phase.LIVE if live else Phase.ADVANCE, status=SubmissionStatus.PROCESSED,
            )  # fmt: skip
            session.add(sub)
            session.flush()
            session.add(
                Question(
                    submission_id=sub.id,
                    meeting_id=meeting.id,
                    text=text,
                    redacted_text=text.replace("07700 900123", "[phone number]"),
                    status=QuestionStatus(status),
                    kind=QuestionKind(kind),
                    group_id=groups[group].id if group else None,
                    theme_id=themes[GROUPS[group][0]].id if group else None,
                )
            )
        agenda = [
            (AgendaSection.PUBLIC_SESSION, ["theft"], "", "", ""),
            (AgendaSection.PUBLIC_SESSION, ["asb"], "", "", ""),
            (AgendaSection.PUBLIC_SESSION, ["roads"], "", "", ""),
            (AgendaSection.HOLDING_TO_ACCOUNT, [], "OCC performance",
             "Can the CC provide an update on the 999 action plan?",
             "Action (CC): written update on unresourced incidents for the next meeting"),
            (AgendaSection.SOCIAL_MEDIA, ["live_rural"], "", "", ""),
        ]  # fmt: skip
        for position, (section, names, title, question, notes) in enumerate(agenda):
            item = AgendaItem(
                meeting_id=meeting.id, section=section, position=position, title=title,
                question=question, minutes=10, notes=notes,
            )  # fmt: skip
            session.add(item)
            session.flush()
            for k, name in enumerate(names):
                session.add(AgendaItemGroup(agenda_item_id=item.id, group_id=groups[name].id,
                                            position=k))  # fmt: skip
        session.flush()
        return MeetingRun(
            meeting_id=meeting.id, slug=slug, groups={k: g.id for k, g in groups.items()},
            writer_id=users[0].id, approver_id=users[1].id, chair_id=users[2].id,
        )  # fmt: skip


# Addresses the not-covered groups' answers go to (John once; the rejected sender never).
ROADS_EMAILS = {"john@example.net", "linda@example.net"}
BURGLARY_EMAILS = {"peter@example.net"}
PERSONAL = ["Richard", "Kath", "James", "Linda", "Peter", "Jane", "Phil", "example.net",
            "jane.smith.77", "@phil_j", "kim.k", "Shifnal", "Evesham"]  # fmt: skip
