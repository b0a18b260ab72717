"""Alembic environment: migrations run on the connection server.migrate hands over."""

from __future__ import annotations

from alembic import context

from common.db import Base
from server.tables import register_tables

register_tables()  # every package's tables on Base.metadata
config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through server.migrate (drt db upgrade)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
