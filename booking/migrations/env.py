"""Alembic environment: migrations run on the connection booking.migrate hands over."""

from __future__ import annotations

from alembic import context

from booking import models  # noqa: F401  (registers the tables on Base.metadata)
from common.db import Base
from driver_app_api import models as driver_models  # noqa: F401
from line_channel import models as line_models  # noqa: F401

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through booking.migrate (drt db upgrade)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
