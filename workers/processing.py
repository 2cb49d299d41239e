"""Turn pending submissions into questions: the pipeline plus the database and event bus.

One worker at a time processes a meeting (a short Redis lock, renewed while a batch runs,
so the lock of a worker that died frees itself within seconds), so its in-memory indexes are the
meeting's. Before each batch it catches up with the database: questions stored by other
worker processes, and staff decisions (which always win). Group membership lives in the
database: a new question joins the *current* group of the question it matched, so a staff
move, merge or split is followed by every later placement.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from domain import events
from domain.models import (
    Question,
    QuestionGroup,
    QuestionKind,
    QuestionStatus,
    Submission,
    SubmissionStatus,
)
from domain.runtime import Runtime
from workers.learning.layer import LearnedLayer
from workers.learning.store import latest_version_id, load_layer
from workers.pipeline.embedding import default_embedder
from workers.pipeline.engine import Analysis, Item, Pipeline, StageClock, is_new
from workers.pipeline.flags import Flag
from workers.pipeline.normalise import normalise
from workers.pipeline.themes import ThemeClassifier
from workers.pipeline_lock import pipeline_lock
from workers.theme_store import ThemeMap, seed_taxonomy

log = logging.getLogger(__name__)


@dataclass
class MeetingState:
    """A worker process's view of one meeting."""

    pipeline: Pipeline
    themes: ThemeMap
    last_question_id: int = 0
    last_decision: datetime | None = None
    last_promotion: datetime | None = None
    theme_version: int = 0
    known_submissions: set[int] = field(default_factory=set)
    layer_version: int | None = None


_states: dict[tuple[str, int], MeetingState] = {}
_layers: dict[tuple[str, int], LearnedLayer] = {}


def process_batch(rt: Runtime, meeting_id: int, limit: int) -> int:
    """Process up to ``limit`` pending submissions of a meeting; returns how many."""
    with pipeline_lock(rt, meeting_id):
        return _process_locked(rt, meeting_id, limit)


def _process_locked(rt: Runtime, meeting_id: int, limit: int) -> int:
    started = time.perf_counter()
    state = _state(rt, meeting_id)
    clock = StageClock()
    with rt.db.transaction() as session:
        _catch_up(rt, session, meeting_id, state)
        pending = session.scalars(
            select(Submission)
            .where(
                Submission.meeting_id == meeting_id,
                Submission.status == SubmissionStatus.PENDING,
            )
            .order_by(Submission.id)
            .limit(limit)
        ).all()
        if not pending:
            return 0
        clock.lap("catch_up")
        analyses = state.pipeline.analyse([_item(s) for s in pending])
        clock.restart()
        created = _store(session, meeting_id, pending, analyses, state)
    clock.lap("store")
    _save_themes(rt, meeting_id, state)
    clock.lap("share_themes")
    # stage order: catch-up, the pipeline's own stages, then store and share
    timings = {"catch_up": clock.laps["catch_up"], **state.pipeline.last_timings}
    timings.update({k: clock.laps[k] for k in ("store", "share_themes")})
    elapsed = time.perf_counter() - started
    events.publish(
        rt.redis, rt.prefix, meeting_id, "questions.created",
        {"question_ids": created, "count": len(created), "seconds": round(elapsed, 4),
         "stages": timings},
    )  # fmt: skip
    log.info(
        "meeting %s: %d questions in %.3fs (%s)", meeting_id, len(created), elapsed,
        ", ".join(f"{k} {v:.3f}s" for k, v in timings.items()),
    )  # fmt: skip
    return len(created)


def _item(sub: Submission) -> Item:
    return Item(
        id=str(sub.id),
        text=sub.raw_text,
        name=sub.author_name,
        location=sub.location,
        channel=sub.channel.value,
        author=author_key(sub.channel.value, sub.author_name, sub.external_id),
        at=sub.received_at.timestamp(),
    )


def author_key(channel: str, name: str | None, external_id: str) -> str:
    """Stable sender key for campaign detection (kept in memory as a hash, never shown)."""
    return f"{channel}:{(name or external_id).lower()}"


def _store(
    session: Session,
    meeting_id: int,
    pending: Sequence[Submission],
    analyses: list[Analysis],
    state: MeetingState,
) -> list[int]:
    """Write questions and groups for one analysed batch: one INSERT each, one UPDATE."""
    matched_ids = {int(a.match.matched_item_id) for a in analyses if a.match.matched_item_id}
    matched_ids |= {int(s.member_id) for a in analyses for s in a.match.suggestions}
    # a question's group: an existing group id, or ("new", n) for the n-th group made here
    group_of: dict[int, int | tuple[str, int] | None] = dict(
        session.execute(
            select(Question.submission_id, Question.group_id).where(
                Question.submission_id.in_(matched_ids)
            )
        ).all()
    )
    new_groups: list[dict[str, object]] = []
    theme_ids: list[int | None] = []
    for sub, a in zip(pending, analyses, strict=True):
        theme_id = state.themes.row_for(session, a.theme) if a.theme else None
        theme_ids.append(theme_id)
        group: int | tuple[str, int] | None = None
        if a.forwarded:  # comments, noise and flagged questions are not grouped
            matched = a.match.matched_item_id
            if not is_new(a.match) and matched is not None:
                group = group_of.get(int(matched))
            if group is None:
                group = ("new", len(new_groups))
                new_groups.append(
                    {"meeting_id": meeting_id, "title": a.redacted, "theme_id": theme_id}
                )
        group_of[sub.id] = group
    made: list[int] = []
    if new_groups:
        made = list(
            session.scalars(
                insert(QuestionGroup).returning(QuestionGroup.id, sort_by_parameter_order=True),
                new_groups,
            )
        )
    rows = []
    for sub, a, theme_id in zip(pending, analyses, theme_ids, strict=True):
        group = group_of[sub.id]
        group_id = made[group[1]] if isinstance(group, tuple) else group
        rows.append({
            "submission_id": sub.id,
            "meeting_id": meeting_id,
            "text": a.normalised.clean,
            "redacted_text": a.redacted,
            "match_hash": a.normalised.hash,
            "status": QuestionStatus.FLAGGED if a.blocked else QuestionStatus.NEW,
            "kind": a.kind,
            "flags": a.flag_codes,
            "flag_reasons": [_flag_reason(f) for f in a.flags],
            "group_id": group_id,
            "theme_id": theme_id,
            "match_kind": a.match.kind.value,
            "match_score": float(a.match.score),
            "theme_score": float(a.theme.score) if a.theme else None,
            "embedding": np.asarray(a.vector, dtype=np.float16).tobytes(),
            "suggestions": _suggestions(a, group_id, group_of, made),
        })  # fmt: skip
    ids = list(
        session.scalars(insert(Question).returning(Question.id, sort_by_parameter_order=True), rows)
    )
    submission_ids = [sub.id for sub in pending]
    session.execute(
        update(Submission)
        .where(Submission.id.in_(submission_ids))
        .values(status=SubmissionStatus.PROCESSED)
        .execution_options(synchronize_session=False)
    )
    state.known_submissions.update(submission_ids)
    if ids:
        state.last_question_id = max(state.last_question_id, max(ids))
    return ids


def _flag_reason(flag: Flag) -> dict[str, object]:
    """A flag as stored: {"code", "reason"}, and "urgent": true for a possible emergency."""
    out: dict[str, object] = {"code": flag.code, "reason": flag.reason}
    if flag.urgent:
        out["urgent"] = True
    return out


def _suggestions(
    a: Analysis,
    own: int | None,
    group_of: dict[int, int | tuple[str, int] | None],
    made: list[int],
) -> list[dict[str, object]]:
    """A question's candidate groups as stored: [{"group_id": 12, "score": 0.61}, ...]."""
    out: list[dict[str, object]] = []
    for s in a.match.suggestions:
        group = group_of.get(int(s.member_id))
        group_id = made[group[1]] if isinstance(group, tuple) else group
        if group_id is not None and group_id != own and all(o["group_id"] != group_id for o in out):
            out.append({"group_id": group_id, "score": round(float(s.score), 4)})
    return out


def _state(rt: Runtime, meeting_id: int) -> MeetingState:
    key = (rt.settings.resolved_database_url() + "|" + rt.prefix, meeting_id)
    version, layer = _layer(rt)
    state = _states.get(key)
    if state is not None and state.layer_version != version:
        # a new layer maps vectors differently: rebuild the meeting's index from the database
        # (its groups live there), as a restarted worker would
        state = None
    if state is None:
        with rt.db.transaction() as session:
            seed_taxonomy(session)
        pipeline = Pipeline(layer=layer)
        state = MeetingState(pipeline=pipeline, themes=ThemeMap(), layer_version=version)
        _states[key] = state
    return state


def _layer(rt: Runtime) -> tuple[int | None, LearnedLayer | None]:
    """The newest learned layer for this worker's sentence model, when LEARNED_LAYER is on."""
    if not rt.settings.learned_layer:
        return None, None
    with rt.db.transaction() as session:
        version = latest_version_id(session, default_embedder().name)
        if version is None:
            return None, None
        key = (rt.settings.resolved_database_url(), version)
        if key not in _layers:
            _layers[key] = load_layer(session, version)
    return version, _layers[key]


def _catch_up(rt: Runtime, session: Session, meeting_id: int, state: MeetingState) -> None:
    """Apply what happened since this process last looked: other workers, staff, theme edits."""
    _load_themes(rt, meeting_id, state)
    state.themes.sync_from_table(session, state.pipeline.classifier)
    rows = session.execute(
        select(
            Question.id,
            Question.submission_id,
            Question.embedding,
            Question.status,
            Question.kind,
            Question.theme_id,
            Submission.raw_text,
            Submission.location,
            Submission.channel,
            Submission.author_name,
            Submission.external_id,
            Submission.received_at,
        )
        .join(Submission, Submission.id == Question.submission_id)
        .where(Question.meeting_id == meeting_id, Question.id > state.last_question_id)
        .order_by(Question.id)
    ).all()
    for qid, sub_id, blob, status, kind, theme_id, raw, location, *sender in rows:
        state.last_question_id = max(state.last_question_id, qid)
        if sub_id in state.known_submissions or blob is None:
            continue
        state.known_submissions.add(sub_id)
        n = normalise(raw)
        # copies sent through other workers count towards a copy-paste campaign here too
        channel, name, external_id, received_at = sender
        if n.match_text:  # emoji-only items share the empty text: no campaign (engine.py)
            state.pipeline.repeats.observe(
                n.hash, author_key(channel.value, name, external_id), received_at.timestamp()
            )
        if status == QuestionStatus.FLAGGED or kind != QuestionKind.QUESTION:
            continue
        vec = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        theme = state.themes.slug_for(theme_id) if theme_id is not None else None
        state.pipeline.place_stored(str(sub_id), n, vec, location, theme)
    _apply_staff_decisions(session, meeting_id, state)
    _apply_promotions(session, meeting_id, state)


def _apply_promotions(session: Session, meeting_id: int, state: MeetingState) -> None:
    """Comments staff promoted to questions become anchors later questions can join."""
    stmt = (
        select(Question.submission_id, Question.embedding, Question.decided_at, Question.theme_id,
               Submission.raw_text, Submission.location)
        .join(Submission, Submission.id == Question.submission_id)
        .where(Question.meeting_id == meeting_id, Question.decided_at.is_not(None),
               Question.kind == QuestionKind.QUESTION, Question.group_locked,
               Question.status != QuestionStatus.FLAGGED)
    )  # fmt: skip
    if state.last_promotion is not None:
        stmt = stmt.where(Question.decided_at > state.last_promotion)
    for sub_id, blob, decided_at, theme_id, raw, location in session.execute(stmt):
        state.last_promotion = _latest(state.last_promotion, decided_at)
        if blob is None or str(sub_id) in state.pipeline.dedupe:
            continue
        n = normalise(raw)
        vec = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        theme = state.themes.slug_for(theme_id) if theme_id is not None else None
        state.pipeline.place_stored(str(sub_id), n, vec, location, theme)


def _apply_staff_decisions(session: Session, meeting_id: int, state: MeetingState) -> None:
    stmt = select(Question).where(
        Question.meeting_id == meeting_id,
        Question.decided_at.is_not(None),
        Question.theme_locked,
    )
    if state.last_decision is not None:
        stmt = stmt.where(Question.decided_at > state.last_decision)
    for q in session.scalars(stmt.order_by(Question.decided_at)):
        state.last_decision = _latest(state.last_decision, q.decided_at)
        if q.theme_id is None or q.embedding is None:
            continue
        slug = state.themes.slug_for(q.theme_id)
        if slug is None:
            continue
        vec = np.frombuffer(q.embedding, dtype=np.float16).astype(np.float32)
        state.pipeline.learn_theme(str(q.submission_id), slug, vec, q.text)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _themes_key(rt: Runtime, meeting_id: int) -> str:
    return f"{rt.prefix}:themes:{meeting_id}"


def _save_themes(rt: Runtime, meeting_id: int, state: MeetingState) -> None:
    """Share the classifier (discovered themes, staff examples) with other worker processes."""
    payload = json.dumps(
        {"classifier": state.pipeline.classifier.to_state(), "rows": state.themes.to_row}
    )
    key = _themes_key(rt, meeting_id)
    version = int(rt.redis.incr(key + ":version"))
    rt.redis.set(key, payload)
    state.theme_version = version


def _load_themes(rt: Runtime, meeting_id: int, state: MeetingState) -> None:
    key = _themes_key(rt, meeting_id)
    version = int(rt.redis.get(key + ":version") or 0)
    if version == state.theme_version or version == 0:
        return
    raw = rt.redis.get(key)
    if raw is None:
        return
    data = json.loads(raw)
    state.pipeline.classifier = ThemeClassifier.from_state(
        data["classifier"], state.pipeline.embedder, head=state.pipeline.classifier.head
    )
    state.themes = ThemeMap(data["rows"])
    state.theme_version = version
