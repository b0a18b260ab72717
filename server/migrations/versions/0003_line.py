"""LINE channel: webhook events seen, pushes sent, riders' favourite places

Revision ID: 0003_line
Revises: 0002_driver
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0003_line"
down_revision = "0002_driver"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_webhook_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("received_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_line_webhook_events")),
    )
    with op.batch_alter_table("line_webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_webhook_events_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_line_webhook_events_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "line_pushes",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("retry_key", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("booking_id", sa.String(length=24), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_line_pushes")),
    )
    with op.batch_alter_table("line_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_pushes_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_line_pushes_day_status", ["day", "status"], unique=False)

    op.create_table(
        "line_favourites",
        sa.Column("resident_id", sa.String(length=24), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("stop_id", sa.String(length=16), nullable=False),
        sa.Column("updated_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_line_favourites_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("resident_id", "slot", name=op.f("pk_line_favourites")),
    )


def downgrade() -> None:
    op.drop_table("line_favourites")
    with op.batch_alter_table("line_pushes", schema=None) as batch_op:
        batch_op.drop_index("ix_line_pushes_day_status")
        batch_op.drop_index(batch_op.f("ix_line_pushes_booking_id"))

    op.drop_table("line_pushes")
    with op.batch_alter_table("line_webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_webhook_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_line_webhook_events_received_at"))

    op.drop_table("line_webhook_events")
