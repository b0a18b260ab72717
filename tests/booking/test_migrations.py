"""The Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from common.db import Base, make_engine
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


def test_the_demo_s_sqlite_file_migrates_to_head_and_agrees_with_the_models(
    tmp_path: Path,
) -> None:
    """`make demo` runs on SQLite, where Alembic rebuilds tables in batches (0007 failed
    there: an index on a column renamed in the same batch)."""
    engine = make_engine(f"sqlite:///{tmp_path}/demo.sqlite3")
    try:
        register_tables()
        upgrade(engine, "0006_dispatch_snapshots")
        with engine.begin() as c:  # a staff action from before 0007
            c.execute(text("INSERT INTO audit_log (at, staff_id, action, details) "
                           "VALUES ('2026-12-01 00:00:00', 'S1', 'resident.view', '{}')"))  # fmt: skip
        upgrade(engine)
        with engine.connect() as connection:
            ctx = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
            row = connection.execute(text("SELECT actor_kind, actor_id FROM audit_log")).one()
        assert tuple(row) == ("staff", "S1")
    finally:
        engine.dispose()
