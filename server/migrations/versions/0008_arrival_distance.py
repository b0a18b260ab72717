"""Stop events keep how far from the stop an arrival was recorded (the tablet's latest GPS
point to the meeting point, in metres), so that arrivals recorded far away can be reviewed.

Revision ID: 0008_arrival_distance
Revises: 0007_audit_actors
Create Date: 2026-12-03 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_arrival_distance"
down_revision = "0007_audit_actors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stop_events") as batch_op:
        batch_op.add_column(sa.Column("distance_m", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stop_events") as batch_op:
        batch_op.drop_column("distance_m")
