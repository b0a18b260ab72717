"""The audit log names any actor (residents on LINE or the app too), not only staff

``staff_id`` becomes ``actor_id`` beside a new ``actor_kind`` (staff | resident); rows
written before this are staff actions.

Revision ID: 0007_audit_actors
Revises: 0006_dispatch_snapshots
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_actors"
down_revision = "0006_dispatch_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_staff_id"))
        batch_op.alter_column("staff_id", new_column_name="actor_id",
                              existing_type=sa.String(length=24), existing_nullable=False)  # fmt: skip
        batch_op.add_column(
            sa.Column("actor_kind", sa.String(length=16), nullable=False, server_default="staff")
        )
    with op.batch_alter_table("audit_log") as batch_op:  # SQLite: index the renamed column
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM audit_log WHERE actor_kind <> 'staff'")
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
        batch_op.drop_column("actor_kind")
        batch_op.alter_column("actor_id", new_column_name="staff_id",
                              existing_type=sa.String(length=24), existing_nullable=False)  # fmt: skip
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_staff_id"), ["staff_id"], unique=False)
