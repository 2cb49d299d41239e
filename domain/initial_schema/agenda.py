"""Migration 0001: The agenda, what is on air, the chair's live suggestions and written answers."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create() -> None:
    """Create the tables and their indexes."""
    op.create_table(
        "agenda_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column(
            "section",
            sa.Enum(
                "introduction",
                "public_session",
                "holding_to_account",
                "social_media",
                "aob",
                "close",
                name="agendasection",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "asked",
                "skipped",
                "answered_within",
                name="agendastatus",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_agenda_item_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item")),
    )
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_item_meeting_id"), ["meeting_id"], unique=False)
    op.create_table(
        "published_agenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_published_agenda_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["staff_user.id"],
            name=op.f("fk_published_agenda_published_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_agenda")),
        sa.UniqueConstraint(
            "meeting_id", "version", name=op.f("uq_published_agenda_meeting_id_version")
        ),
    )
    op.create_table(
        "agenda_item_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_agenda_item_group_agenda_item_id_agenda_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["question_group.id"],
            name=op.f("fk_agenda_item_group_group_id_question_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_item_group")),
        sa.UniqueConstraint("group_id", name=op.f("uq_agenda_item_group_group_id")),
    )
    with op.batch_alter_table("agenda_item_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_item_group_agenda_item_id"), ["agenda_item_id"], unique=False
        )
    op.create_table(
        "on_air",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("current_item_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overlay_secret", sa.String(length=64), nullable=True),
        sa.Column("overlay_visible", sa.Boolean(), nullable=False),
        sa.Column("overlay_question", sa.Text(), nullable=False),
        sa.Column("overlay_attribution", sa.Text(), nullable=False),
        sa.Column("overlay_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_item_id"],
            ["agenda_item.id"],
            name=op.f("fk_on_air_current_item_id_agenda_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_on_air_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_on_air")),
        sa.UniqueConstraint("overlay_secret", name=op.f("uq_on_air_overlay_secret")),
    )
    op.create_table(
        "written_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("written_by", sa.Integer(), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["staff_user.id"],
            name=op.f("fk_written_answer_approved_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["question_group.id"],
            name=op.f("fk_written_answer_group_id_question_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_written_answer_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by"],
            ["staff_user.id"],
            name=op.f("fk_written_answer_written_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_written_answer")),
        sa.UniqueConstraint("group_id", name=op.f("uq_written_answer_group_id")),
    )
    with op.batch_alter_table("written_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_written_answer_meeting_id"), ["meeting_id"], unique=False
        )
    op.create_table(
        "answer_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient_key", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "claimed",
                "handing_over",
                "sent",
                "failed",
                "bounced",
                "unconfirmed",
                "cancelled",
                name="deliverystatus",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=40), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["written_answer.id"],
            name=op.f("fk_answer_delivery_answer_id_written_answer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_answer_delivery_submission_id_submission"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_delivery")),
        sa.UniqueConstraint(
            "answer_id", "recipient_key", name=op.f("uq_answer_delivery_answer_id_recipient_key")
        ),
    )
    with op.batch_alter_table("answer_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_delivery_answer_id"), ["answer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_answer_delivery_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_answer_delivery_submission_id"), ["submission_id"], unique=False
        )
    op.create_table(
        "live_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("suggested_by", sa.Integer(), nullable=True),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_live_suggestion_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
            name=op.f("fk_live_suggestion_question_id_question"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggested_by"],
            ["staff_user.id"],
            name=op.f("fk_live_suggestion_suggested_by_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_suggestion")),
        sa.UniqueConstraint("question_id", name=op.f("uq_live_suggestion_question_id")),
    )
    with op.batch_alter_table("live_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_suggestion_meeting_id"), ["meeting_id"], unique=False
        )


def drop() -> None:
    """Drop the indexes and the tables."""
    with op.batch_alter_table("live_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_suggestion_meeting_id"))

    op.drop_table("live_suggestion")
    with op.batch_alter_table("answer_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_delivery_submission_id"))
        batch_op.drop_index(batch_op.f("ix_answer_delivery_status"))
        batch_op.drop_index(batch_op.f("ix_answer_delivery_answer_id"))

    op.drop_table("answer_delivery")
    with op.batch_alter_table("written_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_written_answer_meeting_id"))

    op.drop_table("written_answer")
    op.drop_table("on_air")
    with op.batch_alter_table("agenda_item_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_group_agenda_item_id"))

    op.drop_table("agenda_item_group")
    op.drop_table("published_agenda")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_item_meeting_id"))

    op.drop_table("agenda_item")
