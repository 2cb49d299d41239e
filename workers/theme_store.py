"""Keep the worker's theme classifier and the staff-editable Theme table in step."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.models import Theme as ThemeRow
from workers.pipeline.themes import Theme, ThemeAssignment, ThemeClassifier, load_seed_taxonomy


def seed_taxonomy(session: Session) -> int:
    """Insert the seed themes that are not in the table yet; returns how many were added."""
    have = set(session.scalars(select(ThemeRow.slug)))
    added = 0
    for theme in load_seed_taxonomy():
        if theme.slug in have:
            continue
        session.add(
            ThemeRow(
                slug=theme.slug,
                label=theme.label,
                description=theme.description,
                examples=list(theme.examples),
            )
        )
        added += 1
    session.flush()
    return added


class ThemeMap:
    """Classifier slug ↔ Theme row id, creating rows for discovered themes on first sight."""

    def __init__(self, to_row: dict[str, int] | None = None) -> None:
        self.to_row: dict[str, int] = dict(to_row or {})

    def sync_from_table(self, session: Session, classifier: ThemeClassifier) -> None:
        """Pick up staff edits: renamed labels and themes staff added."""
        known = {info.slug: info for info in classifier.themes()}
        by_row = {row_id: slug for slug, row_id in self.to_row.items()}
        for row in session.scalars(select(ThemeRow).where(ThemeRow.active)):
            slug = by_row.get(row.id, row.slug)
            self.to_row.setdefault(slug, row.id)
            info = known.get(slug)
            if info is None and not row.discovered:
                classifier.add_theme(
                    Theme(
                        slug=row.slug,
                        label=row.label,
                        description=row.description or row.label,
                        examples=tuple(row.examples or ()) or (row.label,),
                    )
                )
            elif info is not None and info.label != row.label:
                classifier.rename(slug, row.label)

    def row_for(self, session: Session, assignment: ThemeAssignment) -> int:
        """Theme row id for an assignment (a discovered theme gets a new row)."""
        row_id = self.to_row.get(assignment.slug)
        if row_id is not None:
            return row_id
        row = session.scalar(select(ThemeRow).where(ThemeRow.slug == assignment.slug))
        if row is None:
            base = re.sub(r"[^a-z0-9]+", "-", assignment.label.lower()).strip("-")[:40]
            row = ThemeRow(
                slug=f"discovered-{base or 'theme'}-{uuid.uuid4().hex[:6]}",
                label=assignment.label[:120],
                description="Found by the worker in questions that fitted no theme.",
                examples=[],
                discovered=True,
            )
            session.add(row)
            session.flush()
        self.to_row[assignment.slug] = row.id
        return row.id

    def slug_for(self, row_id: int) -> str | None:
        """Classifier slug of a Theme row, if the classifier knows it."""
        for slug, rid in self.to_row.items():
            if rid == row_id:
                return slug
        return None
