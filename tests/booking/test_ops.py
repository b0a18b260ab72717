"""What the town's IT staff watch: /readyz, /metrics, request ids, the front page, JSON logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from common.db import make_engine, make_sessionmaker
from common.logfmt import JsonFormatter, masked, request_id
from core.host import DispatchHost
from core.world import World
from server.app import create_app
from server.logs import log_config
from server.observe import landing_page, readiness
from tests.booking.conftest import START, Clock, Svc, make_settings, service_app, signed_in
from tests.harness import Backends, IsolatedDatabase
from tests.logscan import Keeper

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-for-tests"


@pytest.fixture
def ops(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[Svc]:
    """The service with a metrics token set (DRT_METRICS_TOKEN)."""
    clock = Clock(START)
    service_app(db_schema, redis_prefix, service_backends, world, clock)  # migrate, staff
    settings = make_settings(service_backends, redis_prefix).model_copy(
        update={"metrics_token": TOKEN}
    )
    app = create_app(settings, world=world, clock=clock, engine=db_schema.engine)
    with TestClient(app) as client:
        yield signed_in(client, clock, db_schema, world)


def _quote(svc: Svc) -> dict:
    _, rider = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(hours=1)).isoformat()}  # fmt: skip
    r = svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider))
    assert r.status_code == 200, r.text
    return dict(r.json())


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return 0.0


def test_ready_when_everything_answers(ops: Svc) -> None:
    r = ops.client.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["writer_lock"] == "ok"
    assert body["checks"]["replica"]["lag"] == 0


def test_not_ready_names_what_is_wrong(
    world: World, db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str
) -> None:
    from server.migrate import upgrade

    upgrade(db_schema.engine)
    live = DispatchHost(
        world.fork(), db_schema.sessionmaker(), redis_client, redis_prefix, Clock(START)
    )
    assert readiness(live)[0]
    # the writer lock held with no expiry: no turn could ever take it again
    redis_client.set(live.keys.writer(live.area), "gone-process")
    ok, checks = readiness(live)
    assert (ok, checks["writer_lock"]) == (False, "stuck (held without expiry)")
    redis_client.delete(live.keys.writer(live.area))
    # no Redis (a port nobody listens on) and no PostgreSQL
    dead_redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    dead_db: sessionmaker = make_sessionmaker(
        make_engine(
            "postgresql+psycopg://postgres@127.0.0.1:1/test", connect_args={"connect_timeout": 1}
        )
    )
    down = DispatchHost(world.fork(), dead_db, dead_redis, redis_prefix, Clock(START))
    ok, checks = readiness(down)
    assert not ok
    assert checks["postgres"].startswith("unavailable")
    assert checks["redis"].startswith("unavailable")
    assert "problem" in checks["replica"]


def test_metrics_count_requests_by_route_and_quotes_by_outcome(ops: Svc) -> None:
    before = ops.client.get("/metrics", headers=ops.auth(TOKEN)).text
    q = _quote(ops)
    booking = ops.client.post(
        "/v1/bookings", json={"quote_id": q["offer"]["quote_id"]},
        headers=ops.auth(ops.operator_token, **{"Idempotency-Key": q["offer"]["quote_id"]}),
    ).json()  # fmt: skip
    assert (
        ops.client.get(
            f"/v1/bookings/{booking['id']}", headers=ops.auth(ops.operator_token)
        ).status_code
        == 200
    )
    ops.client.get("/v1/no/such/path")
    r = ops.client.get("/metrics", headers=ops.auth(TOKEN))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    after = r.text
    route = {"method": "GET", "route": "/v1/bookings/{booking_id}", "status": "200"}
    assert (
        _sample(after, "drt_http_requests_total", **route)
        == _sample(before, "drt_http_requests_total", **route) + 1
    )
    assert booking["id"] not in after  # a route's template, never a path with an id
    assert _sample(after, "drt_http_requests_total", route="unmatched", status="404") >= 1
    offers = _sample(after, "drt_quotes_total", outcome="offer")
    assert offers == _sample(before, "drt_quotes_total", outcome="offer") + 1
    assert _sample(after, "drt_writer_turn_seconds_count") > _sample(
        before, "drt_writer_turn_seconds_count"
    )
    assert "drt_vehicles_behind" in after
    assert "drt_riders_at_risk" in after
    assert "drt_line_pushes_total" in after
    assert "drt_replica_seq" in after


def test_metrics_need_the_token_or_this_machine(ops: Svc, svc: Svc) -> None:
    no_token = ops.client.get("/metrics")
    assert (no_token.status_code, no_token.json()["error"]["code"]) == (401, "not_authenticated")
    wrong = ops.client.get("/metrics", headers=ops.auth("guess"))
    assert wrong.status_code == 401
    # no token configured: nobody (a reverse proxy would make every client look local)
    remote = svc.client.get("/metrics")
    assert (remote.status_code, remote.json()["error"]["code"]) == (403, "forbidden")
    assert "DRT_METRICS_TOKEN" in remote.json()["error"]["message_en"]


def test_every_answer_has_a_request_id(ops: Svc) -> None:
    mine = ops.client.get("/healthz", headers={"X-Request-ID": "proxy-abc.123"})
    assert mine.headers["x-request-id"] == "proxy-abc.123"
    odd = ops.client.get("/healthz", headers={"X-Request-ID": "a b\\c" + "x" * 80})
    assert odd.headers["x-request-id"] != "a b\\c" + "x" * 80
    assert len(odd.headers["x-request-id"]) == 16
    fresh = {ops.client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(fresh) == 3


def test_the_front_page_links_the_pages_the_service_has(ops: Svc) -> None:
    r = ops.client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for path in ("/guide/", "/console/", "/driver/", "/docs", "/metrics", "/readyz"):
        assert f'href="{path}"' in r.text
        assert ops.client.get(path).status_code in (200, 401)  # every link is served
    assert "/line/demo" not in r.text  # the LINE demo only in the demo
    assert 'href="/line/demo"' in landing_page(line_demo=True)


def test_json_log_lines_carry_the_request_id_and_no_query_string() -> None:
    formatter = JsonFormatter()
    token = request_id.set("req-1")
    try:
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d',
                                   ("127.0.0.1:5", "GET", "/v1/driver/stream?token=secret", "1.1", 200),
                                   None)  # fmt: skip
        line = json.loads(formatter.format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-1"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/driver/stream", 200)
    config = log_config("info", "json")
    assert config["formatters"]["json"]["()"] == "common.logfmt.JsonFormatter"
    assert {h["formatter"] for h in config["handlers"].values()} == {"json"}
    assert masked("U4af4980629abcdef") == "U4af49…(17)"


def test_the_log_scan_finds_a_residents_phone() -> None:
    keeper = Keeper()
    keeper.emit(logging.makeLogRecord({"msg": "booked for %s", "args": ("090-1111-2222",)}))
    keeper.emit(logging.makeLogRecord({"msg": "booked for %s", "args": ("resident r_123",)}))
    assert len(keeper.findings()) == 1


def test_workers_metrics_add_up_under_multiprocess_mode(tmp_path: Path) -> None:
    """`drt serve --workers N`: each worker writes its samples, /metrics reads them all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from common import metrics; metrics.QUOTES.labels('offer', '').inc()"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, cwd=ROOT)
    read = "from common import metrics; print(metrics.exposition()[0].decode())"
    out = subprocess.run([sys.executable, "-c", read], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert _sample(out, "drt_quotes_total", outcome="offer") == 2


def test_without_a_token_only_the_embedded_demo_shows_metrics_on_this_machine() -> None:
    from starlette.requests import Request

    from common.errors import Forbidden
    from server.observe import require_metrics_reader

    def asked_from(host: str) -> Request:
        return Request({"type": "http", "headers": [], "client": (host, 5000)})

    require_metrics_reader(asked_from("127.0.0.1"), "", embedded=True)  # the demo, locally
    with pytest.raises(Forbidden):
        require_metrics_reader(asked_from("192.0.2.7"), "", embedded=True)
    with pytest.raises(Forbidden):  # drt serve: behind a proxy every client looks local
        require_metrics_reader(asked_from("127.0.0.1"), "", embedded=False)


def test_a_closed_account_signs_in_and_books_no_more_and_frees_its_phone(svc: Svc) -> None:
    rid, token = svc.register(phone="090-2222-3333")
    op = svc.auth(svc.operator_token)
    r = svc.client.post(f"/v1/operator/residents/{rid}/close", headers=op)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["closed_at"]
    assert closed["suspended"]
    assert closed["channels"] == []
    again = svc.client.post(f"/v1/operator/residents/{rid}/close", headers=op)
    assert again.json()["closed_at"] == closed["closed_at"]  # twice: the same
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(hours=1)).isoformat()}  # fmt: skip
    assert svc.client.post("/v1/quotes", json=body, headers=svc.auth(token)).status_code == 401
    rid2, _ = svc.register(phone="090-2222-3333")  # the number is free to register again
    assert rid2 != rid
    log = svc.client.get("/v1/operator/audit", params={"resident_id": rid, "action": "resident.close"},
                         headers=op)  # fmt: skip
    assert [e["resident_id"] for e in log.json()] == [rid]


def test_an_account_with_a_ride_to_take_is_not_closed(svc: Svc) -> None:
    rid, token = svc.register(phone="090-4444-5555")
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(hours=1)).isoformat()}  # fmt: skip
    q = svc.client.post("/v1/quotes", json=body, headers=svc.auth(token)).json()
    b = svc.client.post("/v1/bookings", json={"quote_id": q["offer"]["quote_id"]},
                        headers=svc.auth(token, **{"Idempotency-Key": q["offer"]["quote_id"]}))  # fmt: skip
    assert b.status_code == 201, b.text
    r = svc.client.post(f"/v1/operator/residents/{rid}/close", headers=svc.auth(svc.operator_token))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "resident_has_open_bookings")
    assert b.json()["id"] in r.json()["error"]["message_en"]
    person = svc.client.get(f"/v1/operator/residents/{rid}", headers=svc.auth(svc.operator_token))
    assert person.json()["closed_at"] is None
