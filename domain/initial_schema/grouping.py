"""Migration 0001: Themes, groups, questions and the learned layer over the sentence vectors."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create() -> None:
    """Create the tables and their indexes."""
    op.create_table(
        "learned_layer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("embedder", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("decisions_upto", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_layer")),
        sa.UniqueConstraint("embedder", "sha256", name=op.f("uq_learned_layer_embedder_sha256")),
    )
    with op.batch_alter_table("learned_layer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_layer_embedder"), ["embedder"], unique=False)
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("discovered", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theme")),
        sa.UniqueConstraint("slug", name=op.f("uq_theme_slug")),
    )
    op.create_table(
        "question_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("composed_question", sa.Text(), nullable=False),
        sa.Column(
            "coverage",
            sa.Enum(
                "open",
                "asked",
                "answered_within",
                "not_covered",
                name="coverage",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("covered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("staff_locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_question_group_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["theme.id"], name=op.f("fk_question_group_theme_id_theme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_group")),
    )
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("redacted_text", sa.Text(), nullable=False),
        sa.Column("match_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "flagged",
                "accepted",
                "rejected",
                "answered_live",
                "answered_written",
                name="questionstatus",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "question",
                "comment",
                "noise",
                name="questionkind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("flag_reasons", sa.JSON(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("match_kind", sa.String(length=20), nullable=True),
        sa.Column("match_score", sa.Float(), nullable=True),
        sa.Column("suggestions", sa.JSON(), nullable=False),
        sa.Column("theme_score", sa.Float(), nullable=True),
        sa.Column("group_locked", sa.Boolean(), nullable=False),
        sa.Column("theme_locked", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("written_answer", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["question_group.id"],
            name=op.f("fk_question_group_id_question_group"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_question_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_question_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["theme.id"], name=op.f("fk_question_theme_id_theme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_question_submission_id")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_question_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            "ix_question_meeting_decided", ["meeting_id", "decided_at"], unique=False
        )
        batch_op.create_index(
            "ix_question_meeting_hash", ["meeting_id", "match_hash"], unique=False
        )
        batch_op.create_index("ix_question_meeting_status", ["meeting_id", "status"], unique=False)


def drop() -> None:
    """Drop the indexes and the tables."""
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index("ix_question_meeting_status")
        batch_op.drop_index("ix_question_meeting_hash")
        batch_op.drop_index("ix_question_meeting_decided")
        batch_op.drop_index(batch_op.f("ix_question_group_id"))
        batch_op.drop_index(batch_op.f("ix_question_decided_at"))

    op.drop_table("question")
    op.drop_table("question_group")
    op.drop_table("theme")
    with op.batch_alter_table("learned_layer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_layer_embedder"))

    op.drop_table("learned_layer")
