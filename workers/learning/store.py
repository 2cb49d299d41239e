"""The learner and the database: staff decisions in, layer versions out.

Decisions are read from the questions' current groups and the audit log's moves, splits and
merges (:func:`read_meetings`); only ids, group ids and the stored model vectors leave the
database. Layer versions are rows of ``learned_layer``, checked against their sha256 when
loaded (:func:`load_layer`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.models import (
    AuditEvent,
    LearnedLayerVersion,
    Question,
    QuestionKind,
    QuestionStatus,
)
from workers.learning.layer import LearnedLayer, TrainReport
from workers.learning.pairs import MeetingDecisions

#: Audit actions that are grouping decisions (labelled pairs).
DECISION_ACTIONS = ("question.move", "question.split", "group.merge")
_NOT_GROUPED = (QuestionStatus.FLAGGED, QuestionStatus.REJECTED)


def new_decisions(session: Session, after_id: int) -> tuple[int, int]:
    """How many grouping decisions have audit ids above ``after_id``, and the highest id."""
    count, top = session.execute(
        select(func.count(AuditEvent.id), func.max(AuditEvent.id)).where(
            AuditEvent.action.in_(DECISION_ACTIONS), AuditEvent.id > after_id
        )
    ).one()
    return int(count or 0), int(top or after_id)


def _left_groups(session: Session, upto: int) -> dict[int, set[int]]:
    """Question id → groups staff took it out of (moves and splits; merges keep the source)."""
    left: dict[int, set[int]] = {}
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.target_id, AuditEvent.details).where(
            AuditEvent.action.in_(DECISION_ACTIONS), AuditEvent.id <= upto
        )
    )
    for action, target_id, details in rows:
        if action == "group.merge":
            for qid in details.get("question_ids", []):
                left.setdefault(int(qid), set()).add(int(details["source"]))
        elif target_id is not None:
            groups = left.setdefault(int(target_id), set())
            if details.get("from_group") is not None:
                groups.add(int(details["from_group"]))
    return left


def read_meetings(session: Session, upto: int) -> list[MeetingDecisions]:
    """Every meeting with a grouping decision (audit id ≤ ``upto``), as the learner sees it."""
    left = _left_groups(session, upto)
    decided = set(left)
    meeting_ids = session.scalars(
        select(Question.meeting_id).where(Question.id.in_(decided)).distinct()
    ).all() if decided else []  # fmt: skip
    out = []
    for meeting_id in sorted(meeting_ids):
        meeting = MeetingDecisions()
        rows = session.execute(
            select(Question.id, Question.group_id, Question.embedding).where(
                Question.meeting_id == meeting_id,
                Question.group_id.is_not(None),
                Question.embedding.is_not(None),
                Question.kind == QuestionKind.QUESTION,
                Question.status.not_in(_NOT_GROUPED),
            )
        )
        for qid, group_id, blob in rows:
            if blob is None:
                continue
            key = str(qid)
            meeting.vectors[key] = np.frombuffer(blob, np.float16).astype(np.float32)
            meeting.group[key] = str(group_id)
            if qid in left:
                meeting.left[key] = {str(g) for g in left[qid]}
        if meeting.left:
            out.append(meeting)
    return out


def latest_version(session: Session, embedder: str) -> LearnedLayerVersion | None:
    """The newest layer trained for ``embedder``'s vectors, if any."""
    return session.scalars(
        select(LearnedLayerVersion)
        .where(LearnedLayerVersion.embedder == embedder)
        .order_by(LearnedLayerVersion.id.desc())
        .limit(1)
    ).first()


def latest_version_id(session: Session, embedder: str) -> int | None:
    """Id of the newest layer for ``embedder`` (one indexed look-up)."""
    return session.scalar(
        select(func.max(LearnedLayerVersion.id)).where(LearnedLayerVersion.embedder == embedder)
    )


def load_layer(session: Session, version_id: int) -> LearnedLayer:
    """A stored layer, after checking its weights against their recorded sha256."""
    row = session.get(LearnedLayerVersion, version_id)
    if row is None:
        raise LookupError(f"no learned layer {version_id}")
    return LearnedLayer.from_bytes(row.weights, row.sha256)


def save_layer(
    session: Session, embedder: str, layer: LearnedLayer, upto: int, report: TrainReport
) -> int:
    """Store a trained layer; returns its version (the existing one for the same weights)."""
    data = layer.to_bytes()
    digest = layer.sha256
    same = session.scalar(
        select(LearnedLayerVersion.id).where(
            LearnedLayerVersion.embedder == embedder, LearnedLayerVersion.sha256 == digest
        )
    )
    if same is not None:
        return int(same)
    row = LearnedLayerVersion(
        embedder=embedder, sha256=digest, weights=data, decisions_upto=upto,
        report=report.as_dict(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def versions(session: Session, embedder: str) -> Iterable[LearnedLayerVersion]:
    """Every stored layer for ``embedder``, oldest first."""
    return session.scalars(
        select(LearnedLayerVersion)
        .where(LearnedLayerVersion.embedder == embedder)
        .order_by(LearnedLayerVersion.id)
    ).all()
