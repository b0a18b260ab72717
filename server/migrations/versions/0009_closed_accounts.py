"""A resident's account can be closed (at the counter, on the resident's request): it keeps
when, so that the retention purge anonymises it once the town's period has passed.

Revision ID: 0009_closed_accounts
Revises: 0008_arrival_distance
Create Date: 2026-12-04 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0009_closed_accounts"
down_revision = "0008_arrival_distance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch_op:
        batch_op.add_column(sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("residents") as batch_op:
        batch_op.drop_column("closed_at")
