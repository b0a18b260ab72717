"""Service test harness: choose the backends once per run, isolate every test's state.

The fixtures built on this live in ``tests/conftest.py``; this module holds the logic so
it can be tested itself (``tests/common/test_harness.py``).

Backends
    Real PostgreSQL and Redis (``DRT_DATABASE_URL`` / ``DRT_REDIS_URL`` or the defaults in
    :mod:`common.settings`) when both answer. In CI (``CI`` set) an unreachable service is
    fatal: the run must not quietly test something else. On a bare developer machine the
    harness falls back to SQLite files and fakeredis, and says so loudly.

Isolation
    PostgreSQL: every test gets its own fresh schema, set as the connections'
    ``search_path`` and dropped afterwards. SQLite: every test gets a fresh database file.
    Redis: every test gets a unique key prefix whose keys are deleted afterwards; the
    server is never flushed, as other programs may share it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from common.db import Base, check_database, make_engine, make_sessionmaker
from common.redis import check_redis, make_redis
from common.settings import load_settings, redact_url

PROBE_TIMEOUT_S = 3.0
SCHEMA_PREFIX = "drt_test_"
REDIS_PREFIX = "drt-test:"


class BackendsUnavailableError(Exception):
    """The run cannot use the services it must use (only raised in CI or on bad config)."""


@dataclass(frozen=True)
class Backends:
    """Which database and Redis the service tests of this run use."""

    embedded: bool
    """True: SQLite files and fakeredis instead of PostgreSQL and Redis."""
    database_url: str
    """The PostgreSQL URL (when ``embedded`` is false)."""
    redis_url: str
    """The Redis URL (with ``embedded`` it only names the fakeredis instance)."""
    fallback_reason: str | None = None
    """Why the embedded stand-ins are used, for the banner."""

    def header_lines(self) -> list[str]:
        if not self.embedded:
            return [
                f"drt services: PostgreSQL {redact_url(self.database_url)} (fresh schema per test)",
                f"drt services: Redis {redact_url(self.redis_url)} (unique key prefix per test)",
            ]
        return [
            "drt services: EMBEDDED FALLBACK - SQLite (fresh file per test) and fakeredis "
            "instead of PostgreSQL and Redis",
            f"drt services: reason: {self.fallback_reason}",
        ]


def choose_backends(*, ci: bool, timeout_s: float = PROBE_TIMEOUT_S) -> Backends:
    """Decide the backends from the ``DRT_*`` environment, probing the servers once.

    Raises :class:`BackendsUnavailableError` in CI when a service is unreachable, and
    :class:`common.errors.ConfigError` when the settings themselves are invalid.
    """
    settings = load_settings()
    if settings.embedded:
        if ci:
            raise BackendsUnavailableError(
                "CI is set, so the tests must run against real PostgreSQL and Redis, "
                "but DRT_EMBEDDED is set too. Unset DRT_EMBEDDED in the CI environment."
            )
        return Backends(
            embedded=True,
            database_url=settings.database_url,
            redis_url=settings.redis_url,
            fallback_reason="DRT_EMBEDDED is set",
        )
    backend = make_url(settings.database_url).get_backend_name()
    if backend != "postgresql":
        raise BackendsUnavailableError(
            f"DRT_DATABASE_URL={redact_url(settings.database_url)!r} is a {backend} URL; "
            "the tests need PostgreSQL (or, outside CI, they fall back to SQLite by "
            "themselves when PostgreSQL is unreachable). Unset it or point it at PostgreSQL."
        )

    problems: list[str] = []
    db_reason = check_database(settings.database_url, timeout_s)
    if db_reason is not None:
        problems.append(
            f"PostgreSQL at {redact_url(settings.database_url)} (DRT_DATABASE_URL) "
            f"is unreachable: {db_reason}"
        )
    redis_reason = check_redis(settings.redis_url, timeout_s)
    if redis_reason is not None:
        problems.append(
            f"Redis at {redact_url(settings.redis_url)} (DRT_REDIS_URL) "
            f"is unreachable: {redis_reason}"
        )
    if not problems:
        return Backends(
            embedded=False, database_url=settings.database_url, redis_url=settings.redis_url
        )
    if ci:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise BackendsUnavailableError(
            "CI is set, so the tests must run against real PostgreSQL and Redis "
            f"(they are never skipped in CI), but:\n{listing}\n"
            "Start the service(s), or point DRT_DATABASE_URL / DRT_REDIS_URL at reachable "
            "servers."
        )
    return Backends(
        embedded=True,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        fallback_reason="; ".join(problems),
    )


# --- database -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsolatedDatabase:
    """A database only one test sees: a fresh PostgreSQL schema or a fresh SQLite file."""

    engine: Engine
    """Engine whose connections see only this test's schema (or file)."""
    schema: str | None
    """The PostgreSQL schema name; ``None`` on SQLite."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def sessionmaker(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    def create_all(self, metadata: MetaData | None = None) -> None:
        """Create the tables of ``metadata`` (default: every model on ``common.db.Base``)."""
        (metadata if metadata is not None else Base.metadata).create_all(self.engine)


def new_schema_name() -> str:
    return f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:16]}"


def _search_path_setter(schema: str) -> Any:
    def set_search_path(dbapi_connection: Any, _record: Any) -> None:
        # Outside a transaction, so a later ROLLBACK (pool reset) cannot undo it.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f'SET search_path TO "{schema}"')
            finally:
                cursor.close()
        finally:
            dbapi_connection.autocommit = autocommit

    return set_search_path


@contextmanager
def isolated_database(
    backends: Backends, admin_engine: Engine, tmp_dir: Path
) -> Iterator[IsolatedDatabase]:
    """Create an isolated database, yield it, and remove it again.

    ``admin_engine`` (PostgreSQL) creates and drops the schema; ``tmp_dir`` (SQLite) holds
    the database file.
    """
    if backends.embedded:
        path = tmp_dir / f"{uuid.uuid4().hex[:12]}.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        try:
            yield IsolatedDatabase(engine=engine, schema=None)
        finally:
            engine.dispose()
        return

    schema = new_schema_name()
    with admin_engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(backends.database_url)
    # insert=True: runs before SQLAlchemy's first-connect initialisation, so the dialect's
    # default schema is the test schema too.
    event.listen(engine, "connect", _search_path_setter(schema), insert=True)
    try:
        yield IsolatedDatabase(engine=engine, schema=schema)
    finally:
        engine.dispose()
        with admin_engine.begin() as connection:
            # A test that leaked an open transaction must fail the teardown, not hang it.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def schema_exists(engine: Engine, schema: str) -> bool:
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
            {"name": schema},
        ).first()
    return found is not None


# --- redis ----------------------------------------------------------------------------------


def make_test_redis(backends: Backends) -> redis.Redis:
    """The run's Redis client; in embedded mode it shares data with ``make_redis(url, True)``."""
    return make_redis(backends.redis_url, embedded=backends.embedded)


def new_redis_prefix() -> str:
    return f"{REDIS_PREFIX}{uuid.uuid4().hex[:16]}:"


def _glob_escape(text_: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text_)


def delete_prefix(client: redis.Redis, prefix: str, batch: int = 500) -> int:
    """Delete every key starting with ``prefix`` (SCAN, never FLUSHDB); returns how many."""
    if not prefix:
        raise ValueError("refusing to delete with an empty prefix (that is every key)")
    deleted = 0
    pending: list[Any] = []
    for key in client.scan_iter(match=f"{_glob_escape(prefix)}*", count=batch):
        pending.append(key)
        if len(pending) >= batch:
            deleted += int(client.delete(*pending))
            pending.clear()
    if pending:
        deleted += int(client.delete(*pending))
    return deleted


@contextmanager
def redis_prefix_scope(client: redis.Redis) -> Iterator[str]:
    """Yield a fresh key prefix; its keys are deleted on exit."""
    prefix = new_redis_prefix()
    try:
        yield prefix
    finally:
        delete_prefix(client, prefix)


# -- the system browser for the page tests (Debian's chromium; nothing downloads one) -----

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def require_chromium() -> None:
    """Skip a browser test without Chromium on a developer machine; fail it in CI."""
    import pytest

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium package (.ci/run installs it)")
        pytest.skip(
            "install Debian's chromium package to run the browser test (apt-get install chromium)"
        )
