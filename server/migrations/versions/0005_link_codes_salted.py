"""Link codes stored as salted scrypt hashes (not an unsalted hash of resident id and code)

An unsalted SHA-256 of "<resident id>:<six digits>" falls to a million guesses per resident
if the table leaks. The table is recreated: codes live 24 hours, and codes issued before
this migration stop working (the operator issues a new one).

Revision ID: 0005_link_codes_salted
Revises: 0004_live_truth
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0005_link_codes_salted"
down_revision = "0004_live_truth"
branch_labels = None
depends_on = None


def _create(key: str) -> None:
    """The table keyed by ``id`` (salted hashes) or, for a downgrade, by ``code_hash``."""
    columns: list[sa.Column[Any]] = [
        sa.Column("code_hash", sa.String(length=200 if key == "id" else 64), nullable=False)
    ]
    if key == "id":
        columns.insert(0, sa.Column("id", sa.Integer(), autoincrement=True, nullable=False))
    op.create_table(
        "link_codes",
        *columns,
        sa.Column("resident_id", sa.String(length=24), nullable=False),
        sa.Column("expires_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_link_codes_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint(key, name=op.f("pk_link_codes")),
    )
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_link_codes_resident_id"), ["resident_id"], unique=False
        )


def _drop() -> None:
    with op.batch_alter_table("link_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_link_codes_resident_id"))
    op.drop_table("link_codes")


def upgrade() -> None:
    _drop()
    _create("id")


def downgrade() -> None:
    _drop()
    _create("code_hash")
