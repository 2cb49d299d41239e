"""Suggested groups: stored by the worker, shown on the board, accepted in one click."""

from __future__ import annotations

import numpy as np
from flask.testing import FlaskClient
from sqlalchemy import select

from domain.models import AuditEvent, Meeting, Question, StaffUser
from domain.runtime import Runtime
from tests.test_triage import _questions, _sign_in
from workers.pipeline.dedupe import DedupeIndex


def test_worker_stores_suggestions_and_staff_accept_one(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    qs = _questions(
        rt, meeting,
        ("Sheep are being stolen from farms near Clun. What is being done?", "Clun"),
        ("How many officers will the new funding pay for?", None),
        ("Quad bikes and trailers keep disappearing from farmyards round here", "Wem"),
    )  # fmt: skip
    farm, officers, quads = qs
    assert quads.group_id not in (farm.group_id, officers.group_id)
    assert quads.suggestions, "a question that joined nothing carries candidate groups"
    first = quads.suggestions[0]
    assert first["group_id"] == farm.group_id and 0.0 < first["score"] < 1.0
    assert all(s["group_id"] != quads.group_id for s in quads.suggestions)

    _sign_in(client)
    page = client.get(f"/triage/meetings/{meeting.id}").get_data(as_text=True)
    assert f'data-suggestions-for="{quads.id}"' in page
    assert f"/questions/{quads.id}/suggestions/{farm.group_id}/accept" in page

    bogus = client.post(
        f"/triage/meetings/{meeting.id}/questions/{quads.id}/suggestions/999/accept"
    )
    assert bogus.status_code == 400
    done = client.post(
        f"/triage/meetings/{meeting.id}/questions/{quads.id}/suggestions/{farm.group_id}/accept"
    )
    assert done.status_code == 302
    with rt.db.transaction() as session:
        moved = session.get(Question, quads.id)
        assert moved is not None and moved.group_id == farm.group_id and moved.group_locked
        assert session.scalars(select(AuditEvent.action)).all()[-1] == "question.move"


def test_accepting_pulls_near_neighbours_suggestions(
    client: FlaskClient, rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    qs = _questions(
        rt, meeting,
        ("Why do the police never come when you report anti-social behaviour?", "Ludlow"),
        ("Fireworks were let off at horses in the field again last night", "Clun"),
        ("Why do police never turn up when we report anti social behaviour?", "Wem"),
        ("Who checks the Commissioner's spending?", None),
    )  # fmt: skip
    target = qs[3]
    with rt.db.transaction() as session:
        mover, other, twin = (session.get(Question, q.id) for q in qs[:3])
        assert mover is not None and other is not None and twin is not None
        vec = np.frombuffer(mover.embedding, dtype=np.float16)
        twin.embedding = vec.tobytes()  # cosine 1 with the question staff will place
        other.embedding = (-vec).tobytes()  # cosine -1
        twin.group_id = other.group_id = None
        for q in (twin, other):
            q.suggestions = []
        mover.suggestions = [{"group_id": target.group_id, "score": 0.3}]
    _sign_in(client)
    client.post(
        f"/triage/meetings/{meeting.id}/questions/{qs[0].id}/suggestions/{target.group_id}/accept"
    )
    with rt.db.transaction() as session:
        twin = session.get(Question, qs[2].id)
        other = session.get(Question, qs[1].id)
        assert twin is not None and other is not None
        assert twin.suggestions == [{"group_id": target.group_id, "score": 1.0}]
        assert other.suggestions == []


def test_suggestions_survive_the_index_state() -> None:
    index = DedupeIndex(2, join_threshold=0.9)
    index.place("a", "a", np.array([1.0, 0.0], np.float32))
    d = index.place("b", "b", np.array([0.6, 0.8], np.float32))
    assert [s.group_key for s in d.suggestions] == ["a"]
    restored = DedupeIndex.from_state(index.to_state())
    assert restored.decision_of("b").suggestions == d.suggestions
