"""Snapshots of the dispatch replica: a start-up replays only the log after the newest one

Revision ID: 0006_dispatch_snapshots
Revises: 0005_link_codes_salted
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0006_dispatch_snapshots"
down_revision = "0005_link_codes_salted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_snapshots",
        sa.Column("area", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area", "seq", "fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("dispatch_snapshots")
