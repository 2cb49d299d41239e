"""Versions of the layer learned from staff decisions (workers/learning/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base, utcnow


class LearnedLayerVersion(Base):
    """One trained layer: its weights, their sha256, and what it was trained on.

    Only counts and ids are kept beside the weights: no question text, no personal data.
    """

    __tablename__ = "learned_layer"
    __table_args__ = (UniqueConstraint("embedder", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The sentence model whose vectors it maps (a layer only fits its own model).
    embedder: Mapped[str] = mapped_column(String(80), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    weights: Mapped[bytes] = mapped_column(LargeBinary)
    # The newest audit event (staff decision) it has seen: retraining waits for new ones.
    decisions_upto: Mapped[int] = mapped_column(Integer, default=0)
    # Pair counts and losses before and after training.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
