"""Garbage calendars in the 5374 format, as staff import them (town/garbage.py).

Revision ID: 0010_garbage_calendars
Revises: 0009_closed_accounts
Create Date: 2026-12-04 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0010_garbage_calendars"
down_revision = "0009_closed_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "garbage_calendars",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("imported_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_garbage_calendars_imported_at", "garbage_calendars", ["imported_at"])


def downgrade() -> None:
    op.drop_index("ix_garbage_calendars_imported_at", table_name="garbage_calendars")
    op.drop_table("garbage_calendars")
