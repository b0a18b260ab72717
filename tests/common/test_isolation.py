"""The service harness really isolates tests from each other."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from common.redis import check_redis, make_redis
from tests.harness import (
    SCHEMA_PREFIX,
    Backends,
    IsolatedDatabase,
    delete_prefix,
    isolated_database,
    redis_prefix_scope,
    schema_exists,
)

pytestmark = pytest.mark.services


# Both runs create the same table without IF NOT EXISTS: the second would fail, or count 2
# rows, if it saw the first one's schema.
@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_a_fresh_database(db_schema: IsolatedDatabase, run: str) -> None:
    with db_schema.engine.begin() as connection:
        connection.execute(text("CREATE TABLE isolation_probe (id INTEGER PRIMARY KEY, run TEXT)"))
        connection.execute(text("INSERT INTO isolation_probe VALUES (1, :run)"), {"run": run})
    with db_schema.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM isolation_probe")).scalar_one() == 1
        assert connection.execute(text("SELECT run FROM isolation_probe")).scalar_one() == run


def test_connections_use_the_test_schema(db_schema: IsolatedDatabase, db_session: Session) -> None:
    if db_schema.dialect == "postgresql":
        assert db_schema.schema is not None
        assert db_schema.schema.startswith(SCHEMA_PREFIX)
        # Every pooled connection, and the ORM session, is pinned to the schema,
        # also after a rollback resets the connection.
        for _ in range(3):
            with db_schema.engine.connect() as connection:
                assert connection.execute(text("SELECT current_schema()")).scalar_one() == (
                    db_schema.schema
                )
                connection.rollback()
        assert db_session.execute(text("SELECT current_schema()")).scalar_one() == (
            db_schema.schema
        )
    else:
        assert db_schema.dialect == "sqlite"
        assert db_schema.schema is None
        assert db_session.execute(text("SELECT 1")).scalar_one() == 1


def test_isolated_database_is_removed_afterwards(
    service_backends: Backends, db_engine: Engine, tmp_path: Path
) -> None:
    with isolated_database(service_backends, db_engine, tmp_path) as first:
        with first.engine.begin() as connection:
            connection.execute(text("CREATE TABLE leftover (id INTEGER)"))
        if first.schema is not None:
            assert schema_exists(db_engine, first.schema)
    if first.schema is not None:
        assert not schema_exists(db_engine, first.schema)
    with isolated_database(service_backends, db_engine, tmp_path) as second:
        if second.schema is not None:
            assert second.schema != first.schema
        else:
            assert second.engine.url.database != first.engine.url.database
        with second.engine.connect() as connection:
            tables = (
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'leftover' "
                "AND table_schema = current_schema()"
                if second.dialect == "postgresql"
                else "SELECT count(*) FROM sqlite_master WHERE name = 'leftover'"
            )
            assert connection.execute(text(tables)).scalar_one() == 0


def test_redis_keys_live_under_the_test_prefix(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    assert redis_prefix.startswith("drt-test:")
    assert redis_prefix.endswith(":")
    redis_client.set(f"{redis_prefix}vehicle:1", "idle")
    redis_client.hset(f"{redis_prefix}trip:7", mapping={"seats": "3"})
    assert redis_client.get(f"{redis_prefix}vehicle:1") == "idle"  # decoded str, not bytes
    assert redis_client.hget(f"{redis_prefix}trip:7", "seats") == "3"
    assert sorted(redis_client.scan_iter(match=f"{redis_prefix}*")) == [
        f"{redis_prefix}trip:7",
        f"{redis_prefix}vehicle:1",
    ]


def test_redis_prefix_scope_deletes_only_its_own_keys(redis_client: redis.Redis) -> None:
    with redis_prefix_scope(redis_client) as outer:
        neighbour = f"{outer}neighbour"
        redis_client.set(neighbour, "keep")
        with redis_prefix_scope(redis_client) as prefix:
            assert prefix != outer
            for i in range(1200):  # more than one delete batch
                redis_client.set(f"{prefix}k{i}", i)
            assert redis_client.exists(f"{prefix}k0", f"{prefix}k1199") == 2
        assert redis_client.exists(f"{prefix}k0", f"{prefix}k1199") == 0
        assert next(redis_client.scan_iter(match=f"{prefix}*"), None) is None
        assert redis_client.get(neighbour) == "keep"
    assert redis_client.exists(neighbour) == 0


def test_delete_prefix_treats_glob_characters_literally(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    redis_client.set(f"{redis_prefix}a*:1", "x")
    redis_client.set(f"{redis_prefix}abc:1", "y")
    assert delete_prefix(redis_client, f"{redis_prefix}a*:") == 1
    assert redis_client.get(f"{redis_prefix}abc:1") == "y"
    with pytest.raises(ValueError, match="empty prefix"):
        delete_prefix(redis_client, "")


def test_app_clients_share_data_with_the_test_client(
    service_backends: Backends, redis_client: redis.Redis, redis_prefix: str
) -> None:
    # Code under test builds its own client from the URL; it must see the same data.
    app_client = make_redis(service_backends.redis_url, embedded=service_backends.embedded)
    try:
        app_client.set(f"{redis_prefix}from-app", "hello")
        assert redis_client.get(f"{redis_prefix}from-app") == "hello"
    finally:
        app_client.close()


def test_check_redis_reports_unreachable_servers() -> None:
    reason = check_redis("redis://127.0.0.1:1/0", timeout_s=1)
    assert reason is not None
    assert "ConnectionError" in reason
    bad = check_redis("http://user:secret@127.0.0.1/0")
    assert bad is not None
    assert bad.startswith("invalid Redis URL")
    assert "secret" not in bad
