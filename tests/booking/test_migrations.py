"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from booking import models  # noqa: F401  (registers the tables)
from booking.migrate import upgrade
from common.db import Base
from driver_app_api import models as driver_models  # noqa: F401
from line_channel import models as line_models  # noqa: F401
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def test_models_and_migrations_agree(db_schema: IsolatedDatabase) -> None:
    upgrade(db_schema.engine)
    with db_schema.engine.connect() as connection:
        ctx = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(db_schema: IsolatedDatabase) -> None:
    upgrade(db_schema.engine)
    upgrade(db_schema.engine)
