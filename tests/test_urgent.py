"""A possible emergency happening now is flagged, stored as urgent and listed first for staff."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from domain.models import Meeting, StaffUser
from domain.queue import SubmissionMessage
from domain.runtime import Runtime
from tests.conftest import STAFF_EMAIL, STAFF_PASSWORD
from workers import processing
from workers.ingest import store_submission
from workers.pipeline.engine import Item, Pipeline
from workers.pipeline.linear_head import HEADS_DIR, HeadIntegrityError
from workers.pipeline.moderation import OUT_OF_SCOPE, moderate
from workers.pipeline.moderation.urgent import load_urgent_head, urgent_reason
from workers.pipeline.normalise import normalise


@pytest.mark.parametrize(
    "text",
    [
        "theres a lad waving a machete about outside the co-op in Tenbury RIGHT NOW",
        "my neighbour is being beaten up in the street in Leominster, please send someone",
        "Car on fire in the lay-by on the A44 near Bromyard, someone still inside I think",
        "old man collapsed at the bus stop in Droitwich and hes not breathing what do i do",
        "someone is in my garden trying the doors, I'm scared, Hereford",
        "drunk driver heading towards Bewdley on the A456 swerving all over, blue van",
        "can't find my daughter she's 4, we're at the Three Counties Show, please help",
        # told by how long it has lasted, or by where the sender is as they write
        "Is it normal someone has been trying my back door handle for the last 5 mins? Bewdley",
        "I'm writing this from the car park in Ludlow, a man has been following me for an hour",
        "being followed by 2 lads since I got off the train at Shrewsbury, they speed up when I do",
        "my housemate has taken a load of tablets about 10 minutes ago and is getting sleepy",
        "just been mugged by the cashpoint in Kidderminster 2 mins ago, they ran to the buses",
    ],
)
def test_an_emergency_happening_now_is_urgent(text: str) -> None:
    flags = [f for f in moderate(normalise(text)) if f.code == OUT_OF_SCOPE]
    assert len(flags) == 1 and flags[0].urgent
    assert "call 999" in flags[0].reason


@pytest.mark.parametrize(
    "text",
    [
        "What is being done about knife crime in Redditch?",
        "My car was broken into last month and nobody has called me back.",
        "There are fires on the common every summer, who is dealing with it?",
        "Drunk drivers on the A49 are a menace, when will there be more checks?",
        "What should I do if I see a crash on the motorway?",
        "I rang 999 when a man was attacking someone outside my house and it took ages.",
        "Youths gather outside our house every night drinking, what can you do?",
        "Is a car being broken into right now a 999 or 101 call?",
        "Right now the 101 wait is over an hour, why?",
        "A man kept following me home from the bus last week, what are police doing on stalking?",
        "I'm on my own most evenings and worry about burglaries, are there more patrols?",
        "Someone set fire to the bins outside my house two days ago and nobody came",
        "I was followed home a few weeks ago and nothing was done, why?",
    ],
)
def test_the_same_subjects_told_as_past_habit_or_question_are_not(text: str) -> None:
    assert urgent_reason(normalise(text).match_text) is None
    assert not any(f.urgent for f in moderate(normalise(text)))


def test_an_urgent_comment_is_stored_flagged_and_shown_first_with_the_999_advice(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    texts = {
        "rude": "You are all useless muppets",
        "urgent": "There's a man with a machete outside my house on Bath Road right now help",
        "fine": "Why was the Ludlow front desk closed on Saturdays?",
    }
    for n, (key, text) in enumerate(texts.items()):
        msg = SubmissionMessage(
            meeting_id=meeting.id, channel="facebook", external_id=key, reference=f"U-{n}",
            text=text, received_at=datetime.now(UTC).isoformat(),
        )  # fmt: skip
        with rt.db.transaction() as session:
            store_submission(session, msg)
    processing.process_batch(rt, meeting.id, 256)

    response = client.post("/triage/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302
    page = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    banner = re.search(r'<div class="govuk-notification-banner of-urgent-banner".*?</div>\s*</div>',
                       page, re.S)  # fmt: skip
    assert banner and "1 item may report an emergency" in banner.group(0)
    assert "call 999" in banner.group(0)
    queue = page[page.index('id="moderation"') :]
    flagged = re.findall(r'<li class="of-card of-card--flagged".*?</li>', queue, re.S)
    assert len(flagged) == 2
    assert "machete" in flagged[0] and "Possible emergency" in flagged[0]
    assert "muppets" in flagged[1] and "Possible emergency" not in flagged[1]
    assert not any("Ludlow front desk" in item for item in flagged)


def test_the_learned_head_marks_what_no_rule_foresaw_and_reads_welsh_through_its_gloss() -> None:
    pipeline = Pipeline()
    urgent = [
        "two blokes with crowbars just jumped the fence into the builders yard on Bridge St",
        "a van has just driven into the crowd at the Bromyard fete, people on the ground",
        "Mae dyn yn ymosod ar ddynes tu allan i dafarn y Llew yn Nhrefyclo, dewch yn gyflym",
    ]
    ordinary = [
        "How many officers are on duty in Ludlow tonight?",
        "Burglaries in Knighton have doubled since the station closed, what is the plan?",
        "There was a stabbing outside the Swan last year and nothing has changed",
    ]
    assert all(urgent_reason(normalise(t).match_text) is None for t in urgent)
    items = [Item(id=str(i), text=t, channel="facebook") for i, t in enumerate(urgent + ordinary)]
    marked = [any(f.urgent for f in a.flags) for a in pipeline.analyse(items)]
    assert marked == [True] * len(urgent) + [False] * len(ordinary)


def test_the_urgent_head_is_checked_against_its_recorded_digest(tmp_path: Path) -> None:
    for name in ("urgent.json", "sha256sums.txt"):
        shutil.copy(HEADS_DIR / name, tmp_path / name)
    assert load_urgent_head(tmp_path).threshold > 0.5
    data = json.loads((tmp_path / "urgent.json").read_text(encoding="utf-8"))
    data["threshold"] = 0.01
    (tmp_path / "urgent.json").write_text(json.dumps(data), encoding="utf-8")
    load_urgent_head.cache_clear()
    with pytest.raises(HeadIntegrityError):
        load_urgent_head(tmp_path)
