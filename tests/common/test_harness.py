"""How the harness chooses backends: real services, loud fallback, or a hard stop in CI."""

from __future__ import annotations

import pytest

from tests.harness import Backends, BackendsUnavailableError, choose_backends

DEAD_DB = "postgresql+psycopg://postgres@127.0.0.1:1/test"
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def dead_services(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("DRT_EMBEDDED", raising=False)
    monkeypatch.setenv("DRT_DATABASE_URL", DEAD_DB)
    monkeypatch.setenv("DRT_REDIS_URL", DEAD_REDIS)
    return monkeypatch


def test_outside_ci_unreachable_services_fall_back_with_a_reason(
    dead_services: pytest.MonkeyPatch,
) -> None:
    backends = choose_backends(ci=False, timeout_s=2)
    assert backends.embedded
    assert backends.fallback_reason is not None
    assert f"PostgreSQL at {DEAD_DB} (DRT_DATABASE_URL) is unreachable" in backends.fallback_reason
    assert f"Redis at {DEAD_REDIS} (DRT_REDIS_URL) is unreachable" in backends.fallback_reason
    header = "\n".join(backends.header_lines())
    assert "EMBEDDED FALLBACK" in header
    assert DEAD_DB in header


def test_in_ci_unreachable_services_stop_the_run(dead_services: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendsUnavailableError) as info:
        choose_backends(ci=True, timeout_s=2)
    message = str(info.value)
    assert "CI is set" in message
    assert "never skipped" in message
    assert f"PostgreSQL at {DEAD_DB}" in message
    assert f"Redis at {DEAD_REDIS}" in message


def test_in_ci_only_the_unreachable_service_is_named(
    dead_services: pytest.MonkeyPatch, service_backends: Backends
) -> None:
    if service_backends.embedded:
        # No known-good server in this run: at least the dead database must be named.
        with pytest.raises(BackendsUnavailableError, match="PostgreSQL at"):
            choose_backends(ci=True, timeout_s=2)
        return
    dead_services.setenv("DRT_DATABASE_URL", service_backends.database_url)
    with pytest.raises(BackendsUnavailableError) as info:
        choose_backends(ci=True, timeout_s=2)
    assert f"Redis at {DEAD_REDIS}" in str(info.value)
    assert "PostgreSQL at" not in str(info.value)


def test_embedded_is_refused_in_ci_and_honoured_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRT_EMBEDDED", "1")
    with pytest.raises(BackendsUnavailableError, match="DRT_EMBEDDED"):
        choose_backends(ci=True)
    backends = choose_backends(ci=False)
    assert backends.embedded
    assert backends.fallback_reason == "DRT_EMBEDDED is set"


def test_non_postgresql_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRT_EMBEDDED", raising=False)
    monkeypatch.setenv("DRT_DATABASE_URL", "sqlite:///somewhere.sqlite3")
    with pytest.raises(BackendsUnavailableError, match="sqlite URL"):
        choose_backends(ci=False)


def test_header_lines_hide_passwords() -> None:
    backends = Backends(
        embedded=False,
        database_url="postgresql+psycopg://drt:s3cret@db:5432/drt",
        redis_url="redis://:s3cret@cache:6379/0",
    )
    header = "\n".join(backends.header_lines())
    assert "s3cret" not in header
    assert "fresh schema per test" in header
    assert "unique key prefix per test" in header
