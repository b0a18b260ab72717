"""One live truth: bookings no longer copy the planned times and the vehicle

The dispatcher's plan is the only source of a booking's planned pickup and drop-off times
and of its vehicle (a re-plan or a move to another van changes them); a copy in SQL went
stale. Quotes keep theirs: they record the offer as it was made.

Revision ID: 0004_live_truth
Revises: 0003_line
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0004_live_truth"
down_revision = "0003_line"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("vehicle_id")
        batch.drop_column("pickup_planned")
        batch.drop_column("dropoff_planned")


def downgrade() -> None:
    # The copies are refilled from the promise (the plan is not available to a migration).
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("vehicle_id", sa.String(length=40), nullable=True))
        batch.add_column(
            sa.Column("pickup_planned", common.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("dropoff_planned", common.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE bookings SET vehicle_id = '', pickup_planned = pickup_from, dropoff_planned = dropoff_by"
    )
    with op.batch_alter_table("bookings") as batch:
        batch.alter_column("vehicle_id", nullable=False)
        batch.alter_column("pickup_planned", nullable=False)
        batch.alter_column("dropoff_planned", nullable=False)
