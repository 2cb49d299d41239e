"""The layer learned across meetings from staff decisions: pairs, training, job, pipeline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update

from domain.models import (
    LearnedLayerVersion,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Question,
    QuestionGroup,
    StaffUser,
)
from domain.queue import MAINTENANCE_QUEUE, SubmissionMessage, queue
from domain.runtime import Runtime
from openfloor.scheduler import tick
from triage import decisions
from workers import processing
from workers.ingest import store_submission
from workers.learning.layer import (
    LayerIntegrityError,
    LearnedLayer,
    PairSet,
    TrainOptions,
    TrainReport,
    pair_loss,
    train_layer,
)
from workers.learning.pairs import MeetingDecisions, derive_pairs, meeting_pairs
from workers.learning.store import load_layer, read_meetings, save_layer
from workers.periodic import PERIODIC_JOBS
from workers.pipeline.embedding import default_embedder, l2_normalise

DIM = 384


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Retrain after a handful of decisions (the default waits for 50)."""
    return {**settings, "learned_layer_min_decisions": 5}


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    return l2_normalise(rng.standard_normal((n, DIM)))


def _confusable_pairs(seed: int, asks: int = 12, per_ask: int = 4, topic_seed: int = 0) -> PairSet:
    """Asks that differ along a few directions, buried under a shared "topic" direction the
    model over-weights: every question looks alike to the identity map."""
    rng = np.random.default_rng(seed)
    topic = _unit(np.random.default_rng(topic_seed), 1)[0]
    centres = _unit(rng, asks)
    a, b, y = [], [], []
    for i in range(asks):
        members = l2_normalise(3.0 * topic + 0.8 * centres[i] + 0.1 * _unit(rng, per_ask))
        others = l2_normalise(3.0 * topic + 0.8 * centres[(i + 1) % asks] + 0.1 * _unit(rng, 2))
        for j in range(1, per_ask):
            a.append(members[0]), b.append(members[j]), y.append(True)
        for other in others:
            a.append(members[0]), b.append(other), y.append(False)
    return PairSet(np.array(a, np.float32), np.array(b, np.float32), np.array(y))


# --- the layer itself -------------------------------------------------------------------


def test_training_reduces_the_pair_loss_on_pairs_it_has_not_seen() -> None:
    opt = TrainOptions(rank=4, steps=200)
    train = _confusable_pairs(1)
    identity = LearnedLayer.identity(DIM, 4)
    layer, report = train_layer(train, opt)
    assert report.loss_after < 0.5 * report.loss_before
    assert report.loss_before == pytest.approx(pair_loss(identity, train, opt), rel=1e-6)
    # same topic direction, new asks: what it learnt (ignore the topic) carries over
    unseen = _confusable_pairs(2, asks=6)
    assert pair_loss(layer, unseen, opt) < pair_loss(identity, unseen, opt)


def test_training_is_deterministic_and_the_artefact_round_trips() -> None:
    pairs = _confusable_pairs(2)
    first, _ = train_layer(pairs, TrainOptions(rank=4, steps=30))
    again, _ = train_layer(pairs, TrainOptions(rank=4, steps=30))
    assert first.sha256 == again.sha256
    loaded = LearnedLayer.from_bytes(first.to_bytes(), first.sha256)
    x = _unit(np.random.default_rng(3), 5)
    np.testing.assert_allclose(loaded.apply(x), first.apply(x), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(first.apply(x), axis=1), 1.0, atol=1e-5)
    # a stored (mapped) vector gives back the model's vector, for re-use of a known text
    np.testing.assert_allclose(first.unapply(first.apply(x)), x, atol=1e-4)
    np.testing.assert_allclose(LearnedLayer.identity().apply(x), x, atol=1e-6)


def test_a_tampered_artefact_is_refused() -> None:
    layer, _ = train_layer(_confusable_pairs(4), TrainOptions(rank=2, steps=5))
    data = bytearray(layer.to_bytes())
    data[-1] ^= 1
    with pytest.raises(LayerIntegrityError):
        LearnedLayer.from_bytes(bytes(data), layer.sha256)


# --- pairs from decisions ---------------------------------------------------------------


def test_a_decided_question_pairs_with_its_group_and_against_the_group_it_left() -> None:
    rng = np.random.default_rng(5)
    vectors = _unit(rng, 6)
    vectors[5] = l2_normalise(vectors[0:1] + 0.05 * vectors[5:6])[0]  # 5 looks like 0
    meeting = MeetingDecisions(
        vectors={str(i): vectors[i] for i in range(6)},
        group={"0": "A", "1": "A", "2": "A", "3": "B", "4": "B", "5": "C"},
    )
    meeting.decided("0", "B")  # staff moved 0 out of B into A
    pairs = {(a, b): same for a, b, same in meeting_pairs(meeting, near_negatives=1)}
    assert pairs == {
        ("0", "1"): True,
        ("0", "2"): True,
        ("0", "3"): False,
        ("0", "4"): False,
        ("0", "5"): False,  # the nearest question staff left in another group
    }
    # the undecided questions give no pairs; vectors, never ids or text, go to training
    as_vectors = derive_pairs([meeting])
    assert len(as_vectors) == 5 and as_vectors.positives == 2
    np.testing.assert_array_equal(as_vectors.a[0], vectors[0])


def _new_meeting(rt: Runtime, slug: str) -> Meeting:
    with rt.db.transaction() as session:
        m = Meeting(slug=slug, title=slug, theme="Rural crime", kind=MeetingKind.FACEBOOK_LIVE,
                    status=MeetingStatus.OPEN, venue="Hindlip",
                    scheduled_start=datetime.now(UTC) + timedelta(days=7))  # fmt: skip
        session.add(m)
    return m


def _question(rt: Runtime, meeting_id: int, n: int, group_id: int, vec: np.ndarray) -> int:
    msg = SubmissionMessage(meeting_id=meeting_id, channel="web", external_id=f"q-{meeting_id}-{n}",
                            reference=f"L{meeting_id}-{n}", text=f"question {n}",
                            received_at=datetime.now(UTC).isoformat())  # fmt: skip
    with rt.db.transaction() as session:
        sub_id, _ = store_submission(session, msg)
        q = Question(submission_id=sub_id, meeting_id=meeting_id, text=msg.text,
                     redacted_text=msg.text, group_id=group_id,
                     embedding=vec.astype(np.float16).tobytes())  # fmt: skip
        session.add(q)
        session.flush()
        return q.id


def _staffed_meeting(rt: Runtime, meeting: Meeting, user: StaffUser, seed: int) -> list[int]:
    """Four asks of five questions; the worker put each ask's last two in the next ask's group
    and staff move them back. Returns the groups, one per ask."""
    rng = np.random.default_rng(seed)
    topic = _unit(rng, 1)[0]
    centres = _unit(rng, 4)
    with rt.db.transaction() as session:
        groups = [QuestionGroup(meeting_id=meeting.id, title=f"ask {k}") for k in range(4)]
        session.add_all(groups)
        session.flush()
        group_ids = [g.id for g in groups]
    misplaced = []
    for k in range(4):
        vecs = l2_normalise(2.0 * topic + centres[k] + 0.2 * _unit(rng, 5))
        for n in range(5):
            wrong = n >= 3
            qid = _question(rt, meeting.id, 10 * k + n, group_ids[(k + wrong) % 4], vecs[n])
            if wrong:
                misplaced.append((qid, group_ids[k]))
    for qid, right in misplaced:
        decisions.move_question(rt, meeting.id, qid, right, user.id)
    return group_ids


def test_decisions_in_the_database_become_pairs_undo_included(
    rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    groups = _staffed_meeting(rt, meeting, staff_user, seed=6)
    with rt.db.transaction() as session:
        first = session.scalars(
            select(Question).where(Question.group_id == groups[0]).order_by(Question.id)
        ).all()
    new_group = decisions.split_question(rt, meeting.id, first[0].id, staff_user.id)
    decisions.merge_groups(rt, meeting.id, new_group, groups[0], staff_user.id)  # changed mind
    with rt.db.transaction() as session:
        (read,) = read_meetings(session, upto=10**9)
    assert len(read.left) == 9  # eight moves, and the split question (merged back)
    assert read.group[str(first[0].id)] == str(groups[0])
    assert read.left[str(first[0].id)] == {str(groups[0]), str(new_group)}
    labels = {frozenset((a, b)): same for a, b, same in meeting_pairs(read)}
    # a moved question is the same ask as its group, not the same as the one it left
    moved = next(k for k in read.left if k != str(first[0].id))
    for other, group in read.group.items():
        if other != moved and frozenset((moved, other)) in labels:
            assert labels[frozenset((moved, other))] == (group == read.group[moved])
    assert sum(labels.values()) >= 20 and len(labels) - sum(labels.values()) >= 20


# --- the job ------------------------------------------------------------------------------


def _run_maintenance(rt: Runtime) -> list[Any]:
    q = queue(rt.redis, rt.prefix, MAINTENANCE_QUEUE)
    jobs = [j for j in q.jobs if j.func_name == "workers.learning.jobs.retrain_layer"]
    q.empty()
    for job in jobs:
        q.enqueue_job(job)
    SimpleWorker([q], connection=rt.redis, serializer=JSONSerializer).work(burst=True)
    return [j.return_value() for j in jobs]


def test_the_scheduled_job_trains_once_per_batch_of_new_decisions(
    rt: Runtime, meeting: Meeting, staff_user: StaffUser
) -> None:
    assert any(p.job == "workers.learning.jobs.retrain_layer" for p in PERIODIC_JOBS)
    tick(rt)
    assert _run_maintenance(rt) == [None]  # no decisions yet: nothing trained
    _staffed_meeting(rt, meeting, staff_user, seed=7)
    rt.redis.delete(f"{rt.prefix}:periodic:retrain-learned-layer")
    tick(rt)
    (version,) = _run_maintenance(rt)
    assert version is not None
    rt.redis.delete(f"{rt.prefix}:periodic:retrain-learned-layer")
    tick(rt)
    assert _run_maintenance(rt) == [None]  # idempotent: no new decisions, no new version
    with rt.db.transaction() as session:
        row = session.get(LearnedLayerVersion, version)
        assert row is not None and row.embedder == default_embedder().name
        assert row.report["loss_after"] < row.report["loss_before"]
        assert session.scalar(select(func.count(LearnedLayerVersion.id))) == 1
        load_layer(session, version)  # its checksum holds


# --- the pipeline -------------------------------------------------------------------------

TEXTS = (
    "Why are there so few police patrols in our villages at night?",
    "What is being done about drug dealing outside the primary school?",
)


def _collapsing_layer() -> LearnedLayer:
    """A (still invertible) map that sends every vector near one direction: all one ask."""
    vecs = default_embedder().embed(list(TEXTS))
    v = l2_normalise(vecs.sum(0, keepdims=True))[0]
    u = np.zeros((DIM, 1), np.float32)
    u[0, 0] = 1.0
    return LearnedLayer(np.full(DIM, 1e-3, np.float32), u, 50.0 * v[:, None])


def _store(rt: Runtime, layer: LearnedLayer) -> int:
    report = TrainReport(pairs=0, positives=0, loss_before=0.0, loss_after=0.0, steps=0)
    with rt.db.transaction() as session:
        return save_layer(session, default_embedder().name, layer, 0, report)


def _grouped(rt: Runtime, meeting: Meeting) -> int:
    for n, text in enumerate(TEXTS):
        msg = SubmissionMessage(meeting_id=meeting.id, channel="web",
                                external_id=f"p-{meeting.id}-{n}", reference=f"P{meeting.id}-{n}",
                                text=text, received_at=datetime.now(UTC).isoformat())  # fmt: skip
        with rt.db.transaction() as session:
            store_submission(session, msg)
    processing.process_batch(rt, meeting.id, 256)
    with rt.db.transaction() as session:
        return len(set(session.scalars(
            select(Question.group_id).where(Question.meeting_id == meeting.id))))  # fmt: skip


def _switched(rt: Runtime, on: bool = True) -> Runtime:
    settings = dataclasses.replace(rt.settings, learned_layer=on)
    return Runtime(settings=settings, redis_url=rt.redis_url)


def test_the_pipeline_maps_vectors_through_the_layer_only_when_switched_on(
    rt: Runtime, meeting: Meeting
) -> None:
    _store(rt, _collapsing_layer())
    assert not rt.settings.learned_layer  # off by default
    assert _grouped(rt, meeting) == 2  # switched off: the layer is stored but not used
    on = _switched(rt)
    try:
        assert _grouped(on, _new_meeting(rt, "with-layer")) == 1
    finally:
        on.close()


def test_a_new_layer_version_rebuilds_a_meetings_index(rt: Runtime, meeting: Meeting) -> None:
    on = _switched(rt)
    try:
        assert _grouped(on, meeting) == 2  # no layer stored yet
        version = _store(rt, _collapsing_layer())
        processing.process_batch(on, meeting.id, 256)
        key = (rt.settings.resolved_database_url() + "|" + rt.prefix, meeting.id)
        state = processing._states[key]
        assert state.layer_version == version and state.pipeline.layer is not None
        assert len(state.pipeline.dedupe) == 2  # rebuilt from the stored questions
    finally:
        on.close()


def test_a_tampered_layer_in_the_database_is_refused(rt: Runtime, meeting: Meeting) -> None:
    version = _store(rt, _collapsing_layer())
    with rt.db.transaction() as session:
        weights = session.get(LearnedLayerVersion, version).weights  # type: ignore[union-attr]
        session.execute(update(LearnedLayerVersion).values(weights=weights[:-4] + b"\0\0\0\0"))
    with rt.db.transaction() as session, pytest.raises(LayerIntegrityError):
        load_layer(session, version)
    on = _switched(rt)
    try:
        with pytest.raises(LayerIntegrityError):
            _grouped(on, meeting)
    finally:
        on.close()
