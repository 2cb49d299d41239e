"""Keep the worker's theme classifier and the staff-editable Theme table in step."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.models import Theme as ThemeRow
from workers.pipeline.themes import Theme, ThemeAssignment, ThemeClassifier, load_seed_taxonomy
from workers.pipeline.themes.taxonomy import AUTO_LABEL, auto_label


def unique_label(session: Session, label: str, row_id: int | None = None) -> str:
    """``label``, or ``label (2)``, ``(3)``… if another theme already has it."""
    taken = {
        value.lower()
        for value in session.scalars(
            select(ThemeRow.label).where(
                func.lower(ThemeRow.label).like(label.lower().replace("%", "") + "%"),
                ThemeRow.id != (row_id or -1),
            )
        )
    }
    candidate, n = label, 2
    while candidate.lower() in taken:
        candidate, n = f"{label} ({n})", n + 1
    return candidate


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
            elif info is not None and info.label != row.label and not _automatic(row):
                classifier.rename(slug, row.label)

    def row_for(self, session: Session, assignment: ThemeAssignment) -> int:
        """Theme row id for an assignment (a discovered theme gets a new row)."""
        row_id = self.to_row.get(assignment.slug)
        if row_id is not None:
            if assignment.discovered:
                self._relabel(session, row_id, assignment)
            return row_id
        row = session.scalar(select(ThemeRow).where(ThemeRow.slug == assignment.slug))
        if row is None:
            base = re.sub(r"[^a-z0-9]+", "-", assignment.label.lower()).strip("-")[:40]
            row = ThemeRow(
                slug=f"discovered-{base or 'theme'}-{uuid.uuid4().hex[:6]}",
                label=unique_label(session, auto_label(assignment.slug, assignment.label)),
                description="Found by the worker in questions that fitted no theme.",
                examples=[],
                discovered=True,
            )
            session.add(row)
            session.flush()
        self.to_row[assignment.slug] = row.id
        return row.id

    def _relabel(self, session: Session, row_id: int, assignment: ThemeAssignment) -> None:
        """Follow the discovered theme's better label as it grows, until staff name it."""
        row = session.get(ThemeRow, row_id)
        if row is None or not _automatic(row):
            return
        wanted = auto_label(assignment.slug, assignment.label)
        if row.label != wanted and not row.label.startswith(wanted + " ("):
            row.label = unique_label(session, wanted, row.id)

    def slug_for(self, row_id: int) -> str | None:
        """Classifier slug of a Theme row, if the classifier knows it."""
        for slug, rid in self.to_row.items():
            if rid == row_id:
                return slug
        return None


def _automatic(row: ThemeRow) -> bool:
    return bool(row.discovered and row.label.startswith(AUTO_LABEL))
