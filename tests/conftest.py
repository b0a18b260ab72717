"""Fixtures for service tests (PostgreSQL and Redis); see ``tests/harness.py`` for the rules.

Use them like this::

    pytestmark = pytest.mark.services

    def test_something(db_schema, db_session, redis_client, redis_prefix):
        db_schema.create_all(MyBase.metadata)      # tables in this test's own schema/file
        db_session.add(MyRow(...)); db_session.commit()
        redis_client.set(f"{redis_prefix}queue", "x")  # every key under redis_prefix

Fixtures
    ``service_backends`` (session): the :class:`~tests.harness.Backends` chosen for the run.
    ``db_engine`` (session): an engine on the server (PostgreSQL ``public`` schema, or a
    session SQLite file) - shared, NOT isolated; prefer ``db_schema``.
    ``db_schema``: an :class:`~tests.harness.IsolatedDatabase` (``.engine``, ``.schema``,
    ``.sessionmaker()``, ``.create_all()``), fresh for each test, removed afterwards.
    ``db_session``: an ORM session on ``db_schema.engine``, closed after the test.
    ``redis_prefix``: a key prefix unique to the test; its keys are deleted afterwards.
    ``redis_client``: the run's Redis client (``decode_responses=True``); put keys under
    ``redis_prefix`` only. Code under test must take its key prefix as a parameter.

Tests using any of these fixtures get the ``services`` marker automatically; mark the
modules explicitly too (``pytestmark = pytest.mark.services``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from common.db import make_engine
from common.errors import ConfigError
from tests import logscan
from tests.harness import (
    Backends,
    BackendsUnavailableError,
    IsolatedDatabase,
    choose_backends,
    isolated_database,
    make_test_redis,
    redis_prefix_scope,
)
from tests.logscan import Keeper

# Property tests check behaviour, never speed: a loaded CI machine must not fail them for
# being slow (each test's own @settings still sets its examples).
settings.register_profile(
    "drt", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("drt")

SERVICE_FIXTURES = frozenset(
    {
        "service_backends",
        "db_engine",
        "db_schema",
        "db_session",
        "redis_connection",
        "redis_client",
        "redis_prefix",
    }
)
_BACKENDS = pytest.StashKey[Backends]()
_LOGS = pytest.StashKey[Keeper]()


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "help", False):
        return
    config.stash[_LOGS] = logscan.install()  # every log line of the run, scanned at the end
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.stash[_WORKERS] = WorkerLogs()  # the controller of an xdist run
        config.pluginmanager.register(config.stash[_WORKERS], "drt-worker-logs")
    ci = bool(os.environ.get("CI", "").strip())
    try:
        backends = choose_backends(ci=ci)
    except (BackendsUnavailableError, ConfigError) as exc:
        pytest.exit(f"service tests cannot run: {exc}", returncode=3)
    config.stash[_BACKENDS] = backends


def pytest_report_header(config: pytest.Config) -> list[str]:
    backends = config.stash.get(_BACKENDS, None)
    return backends.header_lines() if backends is not None else []


def _banner(config: pytest.Config) -> None:
    backends = config.stash.get(_BACKENDS, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if backends is None or not backends.embedded or reporter is None:
        return
    reporter.write_sep(
        "!",
        "EMBEDDED FALLBACK: SQLite + fakeredis, NOT PostgreSQL + Redis",
        red=True,
        bold=True,
    )
    reporter.write_line(f"reason: {backends.fallback_reason}", red=True)
    reporter.write_line(
        "Start PostgreSQL and Redis (or set DRT_DATABASE_URL / DRT_REDIS_URL) to test for real;"
        " in CI this fallback is an error.",
        red=True,
    )


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Iterator[None]:
    yield  # the terminal reporter prints the header first
    _banner(session.config)


class WorkerLogs:
    """Under pytest-xdist (``make test`` runs two workers): each worker scans its own log
    lines and sends the count and its findings back; the controller adds them to its own."""

    def __init__(self) -> None:
        self.lines = 0
        self.found: list[str] = []

    @pytest.hookimpl
    def pytest_testnodedown(self, node: object, error: object) -> None:
        out = getattr(node, "workeroutput", {})
        self.lines += int(out.get("log_lines", 0))
        self.found += list(out.get("log_findings", []))


_WORKERS = pytest.StashKey[WorkerLogs]()


def _log_scan(config: pytest.Config) -> tuple[int, list[str]]:
    """(lines kept, lines with personal data) of this process and, on the controller, of
    every worker."""
    keeper = config.stash.get(_LOGS, None)
    lines, found = (len(keeper.lines), keeper.findings()) if keeper is not None else (0, [])
    workers = config.stash.get(_WORKERS, None)
    if workers is not None:
        lines, found = lines + workers.lines, found + workers.found
    return lines, found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _banner(terminalreporter.config)
    lines, found = _log_scan(terminalreporter.config)
    terminalreporter.write_line(
        f"logs: {lines} lines kept, {len(found)} with a resident's personal data", red=bool(found)
    )
    for line in found[:20]:
        terminalreporter.write_line(f"  {line[:300]}", red=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A name, reading, phone, address or token of a seeded resident in any log line of the
    run fails the run (tests/logscan.py), whatever the tests said; a worker sends its scan
    to the controller, which decides."""
    workeroutput = getattr(session.config, "workeroutput", None)
    keeper = session.config.stash.get(_LOGS, None)
    if workeroutput is not None:
        workeroutput["log_lines"] = len(keeper.lines) if keeper is not None else 0
        workeroutput["log_findings"] = keeper.findings()[:100] if keeper is not None else []
        return
    _, found = _log_scan(session.config)
    if found and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def service_backends(pytestconfig: pytest.Config) -> Backends:
    return pytestconfig.stash[_BACKENDS]


@pytest.fixture(scope="session")
def db_engine(
    service_backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if service_backends.embedded:
        path = tmp_path_factory.mktemp("drt-db") / "session.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
    else:
        engine = make_engine(service_backends.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_schema(
    service_backends: Backends, db_engine: Engine, tmp_path: Path
) -> Iterator[IsolatedDatabase]:
    with isolated_database(service_backends, db_engine, tmp_path) as database:
        yield database


@pytest.fixture
def db_session(db_schema: IsolatedDatabase) -> Iterator[Session]:
    with db_schema.sessionmaker()() as session:
        yield session


@pytest.fixture(scope="session")
def redis_connection(service_backends: Backends) -> Iterator[redis.Redis]:
    client = make_test_redis(service_backends)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_connection: redis.Redis) -> Iterator[str]:
    with redis_prefix_scope(redis_connection) as prefix:
        yield prefix


@pytest.fixture
def redis_client(redis_connection: redis.Redis, redis_prefix: str) -> redis.Redis:
    return redis_connection


@pytest.fixture
def embedded_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`drt` commands on an embedded database of their own (a SQLite file under the test's
    temporary folder, which is returned)."""
    monkeypatch.setenv("DRT_EMBEDDED", "1")
    monkeypatch.setenv("DRT_CACHE_DIR", str(tmp_path))
    return tmp_path
