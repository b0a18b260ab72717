"""PostgreSQL or Redis down: 503 with ``Retry-After`` and the error envelope, never a 500.

And every 503 the service answers carries ``Retry-After``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import exc as sa_exc

from common.db import make_engine, make_sessionmaker
from common.errors import ServiceBusy, TooManyAttempts
from core.web import host_of, session_dep
from tests.booking.conftest import Svc

pytestmark = pytest.mark.services


def closed_port() -> int:
    """A local port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_unavailable(r: Response, code: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "2"
    error = r.json()["error"]
    assert error["code"] == code
    assert error["message_ja"]
    assert error["message_en"]


@pytest.fixture
def app(svc: Svc) -> Iterator[FastAPI]:
    app: FastAPI = svc.client.app  # type: ignore[assignment]
    yield app
    app.dependency_overrides.clear()


def test_postgresql_down_for_one_request(svc: Svc, raw: TestClient, app: FastAPI) -> None:
    """The request's sessions on an engine pointed at a closed port, then back."""
    _, token = svc.register()
    real = app.state.sessions
    dead = make_engine(f"postgresql+psycopg://drt:x@127.0.0.1:{closed_port()}/drt")
    app.state.sessions = make_sessionmaker(dead)
    try:
        assert_unavailable(
            raw.get("/v1/residents/me", headers=svc.auth(token)), "database_unavailable"
        )
    finally:
        app.state.sessions = real
        dead.dispose()
    assert svc.client.get("/v1/residents/me", headers=svc.auth(token)).status_code == 200


def raising(error: BaseException):  # type: ignore[no-untyped-def]
    def dependency() -> Iterator[None]:
        raise error
        yield  # pragma: no cover

    return dependency


DB_ERRORS = [
    sa_exc.OperationalError(
        "SELECT 1", {}, psycopg.OperationalError("server closed the connection")
    ),
    sa_exc.OperationalError("SELECT 1", {}, Exception("database is locked")),  # SQLite, embedded
    sa_exc.DBAPIError("SELECT 1", {}, Exception("connection reset"), connection_invalidated=True),
    psycopg.OperationalError("connection refused"),
    sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
]


@pytest.mark.parametrize("error", DB_ERRORS, ids=lambda e: type(e).__name__)
def test_database_errors_of_an_outage(
    svc: Svc, raw: TestClient, app: FastAPI, error: Exception
) -> None:
    app.dependency_overrides[session_dep] = raising(error)
    assert_unavailable(raw.get("/v1/residents/me", headers=svc.auth(svc.operator_token)),
                       "database_unavailable")  # fmt: skip


REDIS_ERRORS = [
    redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    redis.TimeoutError("Timeout reading from socket"),
    redis.RedisError("unexpected"),
]


@pytest.mark.parametrize("error", REDIS_ERRORS, ids=lambda e: type(e).__name__)
def test_redis_errors(svc: Svc, raw: TestClient, app: FastAPI, error: Exception) -> None:
    app.dependency_overrides[host_of] = raising(error)
    _, token = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1}}
    assert_unavailable(
        raw.post("/v1/quotes", json=body, headers=svc.auth(token)), "redis_unavailable"
    )


def test_redis_down_for_one_request(svc: Svc, raw: TestClient, app: FastAPI, driver: str) -> None:
    """The driver's positions write the live position to Redis first: a dead client, then back."""
    host = app.state.host
    real = host.redis
    host.redis = redis.Redis(port=closed_port(), socket_connect_timeout=1)
    point = {"t": svc.clock.now_s, "lat": 33.79, "lon": 130.68}
    try:
        r = raw.post("/v1/driver/positions", json={"points": [point]}, headers=svc.auth(driver))
    finally:
        host.redis.close()
        host.redis = real
    assert_unavailable(r, "redis_unavailable")
    r = svc.client.post("/v1/driver/positions", json={"points": [point]}, headers=svc.auth(driver))
    assert r.status_code == 200, r.text


def test_a_busy_writer_gets_retry_after(svc: Svc, raw: TestClient, app: FastAPI) -> None:
    app.dependency_overrides[host_of] = raising(ServiceBusy("混んでいます。", "Busy."))
    _, token = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1}}
    assert_unavailable(raw.post("/v1/quotes", json=body, headers=svc.auth(token)), "service_busy")


def test_every_503_has_retry_after(svc: Svc) -> None:
    """The LINE webhook of an app without a LINE channel secret answers 503 too."""
    r = svc.client.post(
        "/v1/line/webhook", content=b"{}", headers={"content-type": "application/json"}
    )
    assert_unavailable(r, "line_not_configured")


def test_other_database_errors_are_a_500_envelope(svc: Svc, raw: TestClient, app: FastAPI) -> None:
    error = sa_exc.IntegrityError(
        "INSERT ...", {"phone": "09012345678"}, Exception("duplicate key")
    )
    app.dependency_overrides[session_dep] = raising(error)
    r = raw.get("/v1/residents/me", headers=svc.auth(svc.operator_token))
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "09012345678" not in r.text


def test_a_lockout_says_when_to_try_again(svc: Svc, raw: TestClient, app: FastAPI) -> None:
    error = TooManyAttempts("しばらくお待ちください。", "Wait a while.", retry_after_s=42.3)
    app.dependency_overrides[session_dep] = raising(error)
    r = raw.get("/v1/residents/me", headers=svc.auth(svc.operator_token))
    assert r.status_code == 429
    assert r.headers["retry-after"] == "42"
