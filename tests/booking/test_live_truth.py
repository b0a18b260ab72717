"""One live truth: a rider moved to another van is seen there by the API, both tablets and the
published events (two vans, on PG and Redis).

Before the plan became the only source of planned times and vehicle, the booking row kept
the old van and the published events named only the van the rider left.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from core.world import World
from driver_app_api.service import create_device, create_driver
from tests.booking.conftest import START, Clock, Svc, service_app, signed_in
from tests.harness import Backends, IsolatedDatabase

pytestmark = pytest.mark.services
DAY = START.date().isoformat()


@pytest.fixture
def two_vans(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[Svc]:
    """The service with van-1 and van-2 (same depot, same seats), each with a tablet."""
    van = world.config.vehicles[0]
    config = replace(world.config, vehicles=(van, replace(van, id="van-2", name="2号車")))
    clock = Clock(START)
    app = service_app(
        db_schema, redis_prefix, service_backends, replace(world, config=config), clock
    )
    with db_schema.sessionmaker()() as s:
        for n in (1, 2):
            create_device(s, f"van-{n}", f"tablet-van-{n}")
            create_driver(s, f"100{n}", f"運転手 {n}", "1234")
        s.commit()
    with TestClient(app) as client:
        yield signed_in(client, clock, db_schema, world)


def tablet(svc: Svc, n: int) -> str:
    r = svc.client.post(
        "/v1/driver/sessions",
        json={"device_token": f"tablet-van-{n}", "login": f"100{n}", "pin": "1234"},
    )
    assert r.status_code == 200, r.text
    token = str(r.json()["access_token"])
    start = svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(token))
    assert start.status_code == 200, start.text
    return token


def riders_on(svc: Svc, token: str) -> list[str]:
    r = svc.client.get("/v1/driver/manifest", headers=svc.auth(token))
    assert r.status_code == 200, r.text
    return [x["booking_id"] for stop in r.json()["stops"] for x in stop["riders"]]


def messages(pubsub: Any) -> list[dict[str, Any]]:
    out = []
    while (m := pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)) is not None:
        out.append(json.loads(m["data"]))
    return out


def test_a_rider_moved_to_another_van_is_seen_there_everywhere(
    two_vans: Svc, redis_client: redis.Redis
) -> None:
    svc = two_vans
    tablets = {n: tablet(svc, n) for n in (1, 2)}
    _, rider = svc.register()
    when = START + timedelta(hours=1)
    q = svc.client.post(
        "/v1/quotes",
        json={"origin": "KUR-010", "destination": "KUR-001", "mode": "depart_at",
              "time": when.isoformat(), "passengers": {"adult": 1}},
        headers=svc.auth(rider),
    ).json()  # fmt: skip
    assert q["status"] == "offer", q
    b = svc.client.post(
        "/v1/bookings", json={"quote_id": q["offer"]["quote_id"]},
        headers=svc.auth(rider, **{"Idempotency-Key": "move-1"}),
    ).json()  # fmt: skip
    host = svc.client.app.state.host  # type: ignore[attr-defined]
    with svc.db.sessionmaker()() as s:
        from core.models import Booking

        row = s.get(Booking, b["id"])
        assert row is not None
        dispatch_id = row.dispatch_id
    with host.read() as d:
        live = d.booking(dispatch_id)
    assert live is not None
    first = int(live.vehicle_id.partition("@")[0][-1])  # the van the rider was put on
    other = 3 - first
    assert b["id"] in riders_on(svc, tablets[first])
    assert b["id"] not in riders_on(svc, tablets[other])

    pubsub = redis_client.pubsub()
    pubsub.subscribe(host.channel)
    pubsub.get_message(timeout=1.0)  # the subscription's confirmation
    # The first van's driver stops for two hours: it cannot make the 11:00 pickup any more.
    r = svc.client.post("/v1/driver/break", json={"minutes": 120}, headers=svc.auth(tablets[first]))
    assert r.status_code == 204, r.text

    # The dispatcher moved the rider, within the promise, to the other van ...
    with host.read() as d:
        moved = d.booking(dispatch_id)
        plan = d.plan(f"van-{other}@{DAY}")
    assert moved is not None
    assert moved.vehicle_id == f"van-{other}@{DAY}"
    assert not moved.promise_broken
    pickup_s = next(ps.planned_s for ps in plan if ps.booking_id == dispatch_id)
    # ... the API reads its time from that van's plan, inside the window promised ...
    got = svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(rider)).json()
    eta = datetime.fromisoformat(got["eta_pickup"])
    assert int(eta.timestamp()) == pickup_s
    assert (
        datetime.fromisoformat(got["pickup_from"])
        <= eta
        <= datetime.fromisoformat(got["pickup_to"])
    )
    # ... the tablets show the rider on the new van only ...
    assert b["id"] in riders_on(svc, tablets[other])
    assert b["id"] not in riders_on(svc, tablets[first])
    # ... and the published events name both vans, so both tablets refresh.
    events = messages(pubsub)
    pubsub.close()
    move = [e for e in events if e["type"] == "booking_moved"]
    assert [(e["dispatch_id"], e["from_vehicle"], e["to_vehicle"]) for e in move] == [
        (dispatch_id, f"van-{first}@{DAY}", f"van-{other}@{DAY}")
    ]
    changed = [e for e in events if e["type"] == "plan_changed"]
    assert len(changed) == 1
    assert {f"van-{first}@{DAY}", f"van-{other}@{DAY}"} <= set(changed[0]["vehicles"])


def test_a_tablet_rebuilds_its_manifest_only_for_changes_to_its_own_van(
    two_vans: Svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    import driver_app_api.service as driver_service

    svc = two_vans
    tablets = {n: tablet(svc, n) for n in (1, 2)}
    _, rider = svc.register()
    when = (START + timedelta(hours=1)).isoformat()
    q = svc.client.post(
        "/v1/quotes",
        json={"origin": "KUR-010", "destination": "KUR-001", "mode": "depart_at", "time": when,
              "passengers": {"adult": 1}},
        headers=svc.auth(rider),
    ).json()  # fmt: skip
    b = svc.client.post(
        "/v1/bookings", json={"quote_id": q["offer"]["quote_id"]},
        headers=svc.auth(rider, **{"Idempotency-Key": "move-2"}),
    ).json()  # fmt: skip
    first = next(n for n in (1, 2) if b["id"] in riders_on(svc, tablets[n]))
    other = 3 - first
    builds: list[str] = []
    real = driver_service.manifest

    def counted(host: Any, session: Any, actor: Any) -> Any:
        if actor.vehicle_id == f"van-{other}":
            builds.append(actor.vehicle_id)
        return real(host, session, actor)

    monkeypatch.setattr(driver_service, "manifest", counted)
    seen = []
    with svc.client.stream("GET", f"/v1/driver/stream?token={tablets[other]}&limit=2") as r:
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            seen.append(json.loads(line[6:]))
            if len(seen) == 1:
                builds.clear()
                # a change on the first van only: its driver pauses for a minute
                brief = {"minutes": 1}
                ok = svc.client.post(
                    "/v1/driver/break", json=brief, headers=svc.auth(tablets[first])
                )
                assert ok.status_code == 204
                # then a long break: the rider moves to this tablet's van
                long = {"minutes": 120}
                ok = svc.client.post(
                    "/v1/driver/break", json=long, headers=svc.auth(tablets[first])
                )
                assert ok.status_code == 204
    riders = [x["booking_id"] for stop in seen[1]["stops"] for x in stop["riders"]]
    assert riders == [b["id"], b["id"]]  # boards and alights on this van now
    assert builds == [f"van-{other}"]  # one rebuild: the short break was not this van's business
