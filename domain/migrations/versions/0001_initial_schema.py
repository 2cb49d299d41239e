"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-02 01:11:38.268167
"""

from __future__ import annotations

from domain.initial_schema import agenda, grouping, intake, staff

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    intake.create()
    staff.create()
    grouping.create()
    agenda.create()


def downgrade() -> None:
    agenda.drop()
    grouping.drop()
    staff.drop()
    intake.drop()
