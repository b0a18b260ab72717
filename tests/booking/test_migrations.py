"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from common.db import Base
from server.migrate import upgrade
from server.tables import register_tables
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def test_models_and_migrations_agree(db_schema: IsolatedDatabase) -> None:
    register_tables()
    upgrade(db_schema.engine)
    with db_schema.engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(db_schema: IsolatedDatabase) -> None:
    upgrade(db_schema.engine)
    upgrade(db_schema.engine)
