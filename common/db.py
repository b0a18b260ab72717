"""SQLAlchemy 2 helpers shared by the services: declarative base, UTC timestamps, engines.

PostgreSQL is the production database; SQLite is the embedded/developer stand-in, so every
helper here behaves the same on both.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from common.settings import redact_url

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations can refer to (and drop) constraints."""


class Base(DeclarativeBase):
    """Declarative base for every ORM model of the platform."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that is always UTC in Python.

    Binding a naive datetime raises ``ValueError`` (wrapped by SQLAlchemy in a
    ``StatementError``): a time without a zone is ambiguous (JST or UTC?) and is a bug.
    Values are stored as ``timestamp with time zone`` on PostgreSQL and as UTC text on
    SQLite; both come back as aware datetimes in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} rejected: attach a time zone "
                "(e.g. datetime.now(UTC) or ZoneInfo('Asia/Tokyo'))"
            )
        utc = value.astimezone(UTC)
        # SQLite has no time zone support: store the UTC wall time and re-attach UTC on read.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


SQLITE_BUSY_TIMEOUT_S = 10
"""How long an SQLite connection waits for another's write lock before "database is locked"."""


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on; WAL (readers never block the writer, nor it them); a busy timeout;
    transactions begun by SQLAlchemy, not by the driver (so SAVEPOINTs work)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")  # a no-op ("memory") for in-memory databases
    finally:
        cursor.close()
    dbapi_connection.isolation_level = None  # pysqlite's implicit BEGIN breaks SAVEPOINT


def _begin_sqlite(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url``; extra keyword arguments go to ``create_engine``.

    Connections are pinged before use, so a restarted server does not break the pool: the
    first request after an outage gets a fresh connection. SQL parameters never appear in
    errors or logs (``hide_parameters``: they hold personal data such as phone numbers).
    On SQLite the file's directory is created, foreign keys are enforced (constraints
    behave as on PostgreSQL), the journal is WAL and a connection waits up to
    ``SQLITE_BUSY_TIMEOUT_S`` for another's write lock.
    """
    parsed = make_url(url)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": float(SQLITE_BUSY_TIMEOUT_S), **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(parsed, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; objects stay usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def _reason(exc: BaseException) -> str:
    """A one-line, human-readable reason for a connection failure."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    detail = lines[0] if lines else "no details"
    return f"{type(orig).__name__}: {detail}"


def check_database(url: str | URL, timeout_s: float = 3.0) -> str | None:
    """``None`` if the database at ``url`` answers ``SELECT 1``, otherwise why not.

    Connecting gives up after about ``timeout_s`` seconds (libpq counts whole seconds
    with a minimum of 2). Never raises.
    """
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        connect_args: dict[str, Any] = {}
        if backend == "postgresql":
            connect_args["connect_timeout"] = max(2, math.ceil(timeout_s))
        elif backend == "sqlite":
            connect_args["timeout"] = timeout_s
        engine = create_engine(
            parsed, poolclass=NullPool, connect_args=connect_args, hide_parameters=True
        )
    except Exception as exc:
        return f"invalid database URL {redact_url(str(url))!r}: {_reason(exc)}"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return _reason(exc)
    finally:
        engine.dispose()
    return None
