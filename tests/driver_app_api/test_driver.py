"""The driver side end to end: a shift from sign-in to the end, over HTTP, on PG and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from common.clock import at
from driver_app_api.service import DISPATCH_EVERY_S, create_device, create_driver
from tests.booking.conftest import START, Svc

pytestmark = pytest.mark.services

DEVICE = "tablet-token-van-1"


def decode(encoded: str) -> list[tuple[float, float]]:
    """Decode an encoded polyline (precision 5), as the tablet does."""
    points, i, lat, lon = [], 0, 0, 0
    while i < len(encoded):
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(encoded[i]) - 63
                i += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat, lon = lat + deltas[0], lon + deltas[1]
        points.append((lat / 1e5, lon / 1e5))
    return points


@pytest.fixture
def driver(svc: Svc) -> str:
    """A signed-in driver on van-1's tablet; returns the session token."""
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", DEVICE)
        create_driver(s, "1001", "遠賀 進", "1234")
        s.commit()
    r = svc.client.post(
        "/v1/driver/sessions", json={"device_token": DEVICE, "login": "1001", "pin": "1234"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def book(
    svc: Svc, token: str, origin: str = "KUR-010", destination: str = "KUR-001", **extra: object
) -> dict:
    q = svc.client.post(
        "/v1/quotes",
        json={"origin": origin, "destination": destination, "passengers": {"adult": 1}, **extra},
        headers=svc.auth(token),
    ).json()
    offer = q["offer"] or q["alternatives"][0]
    r = svc.client.post(
        "/v1/bookings", json={"quote_id": offer["quote_id"]},
        headers=svc.auth(token, **{"Idempotency-Key": offer["quote_id"]}),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def event(svc: Svc, drv: str, kind: str, eid: str, **body: object) -> tuple[int, dict]:
    r = svc.client.post(
        "/v1/driver/events",
        json={"client_event_id": eid, "kind": kind, **body},
        headers=svc.auth(drv),
    )
    return r.status_code, r.json()


def manifest(svc: Svc, drv: str) -> dict:
    r = svc.client.get("/v1/driver/manifest", headers=svc.auth(drv))
    assert r.status_code == 200, r.text
    return dict(r.json())


def eta(svc: Svc, token: str, booking_id: str, key: str = "eta_pickup") -> int:
    b = svc.client.get(f"/v1/bookings/{booking_id}", headers=svc.auth(token)).json()
    return int(datetime.fromisoformat(b[key]).timestamp())


def drive(
    svc: Svc, drv: str, route: list[tuple[float, float]], seconds: int
) -> list[tuple[int, int]]:
    """Post GPS along the route over ``seconds`` of (simulated) time, every 15 s.

    Returns (time, road node) at each point the dispatcher was told about."""
    steps = max(2, seconds // DISPATCH_EVERY_S)
    told = []
    for k in range(1, steps + 1):
        svc.clock.advance(seconds // steps)
        lat, lon = route[min(len(route) - 1, k * (len(route) - 1) // steps)]
        pts = [{"t": svc.clock.now_s, "lat": lat, "lon": lon, "speed_mps": 8.0}]
        r = svc.client.post("/v1/driver/positions", json={"points": pts}, headers=svc.auth(drv))
        assert r.status_code == 200, r.text
        if r.json()["dispatcher_updated"]:
            told.append((svc.clock.now_s, svc.world.router.snap(lat, lon).node))
    return told


def test_a_whole_ride_from_booking_to_fare(svc: Svc, driver: str) -> None:
    _, rider = svc.register()
    b = book(svc, rider)
    first_eta = eta(svc, rider, b["id"])
    s = svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver))
    assert s.status_code == 200, s.text
    m = manifest(svc, driver)
    assert [st["stop_id"] for st in m["stops"]] == ["KUR-010", "KUR-001"]
    rider_row = m["stops"][0]["riders"][0]
    assert rider_row["reservation_number"] == b["reservation_number"]
    assert rider_row["fare_yen"] == 200
    assert rider_row["action"] == "board"
    route = decode(m["polyline"])
    assert len(route) >= 2
    # The van is slow: it takes twice the routed time. The rider's ETA follows it.
    stop_node = svc.world.router.snap(*route[-1]).node
    told = drive(svc, driver, route, 2 * max(m["route_duration_s"], 4 * DISPATCH_EVERY_S))
    assert told
    for now_s, node in told[-1:]:
        remaining = svc.world.router.route(node, stop_node).duration_s
        assert eta(svc, rider, b["id"]) >= now_s + remaining
    assert eta(svc, rider, b["id"]) > first_eta  # the delay moved the promise-keeping ETA
    code, _ = event(svc, driver, "arrived", "e1", stop_id="KUR-010")
    assert code == 200
    code, boarded = event(svc, driver, "boarded", "e2", booking_id=b["id"], payment_method="cash")
    assert code == 200, boarded
    assert boarded["booking_status"] == "onboard"
    again = event(svc, driver, "boarded", "e2", booking_id=b["id"], payment_method="cash")
    assert again == (200, boarded)  # a retried event is answered, not repeated
    assert event(svc, driver, "departed", "e3", stop_id="KUR-010")[0] == 200
    m = manifest(svc, driver)
    assert [st["stop_id"] for st in m["stops"]] == ["KUR-001"]
    drive(svc, driver, decode(m["polyline"]), max(m["route_duration_s"], 2 * DISPATCH_EVERY_S))
    assert event(svc, driver, "arrived", "e4", stop_id="KUR-001")[0] == 200
    code, done = event(svc, driver, "alighted", "e5", booking_id=b["id"])
    assert code == 200
    assert done["booking_status"] == "completed"
    final = svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(rider)).json()
    assert final["status"] == "completed"
    with svc.db.sessionmaker()() as session:
        from core.models import Booking

        row = session.get(Booking, b["id"])
        assert row is not None
        assert (row.payment_method, row.fare_paid_yen) == ("cash", 200)
    assert event(svc, driver, "departed", "e6", stop_id="KUR-001")[0] == 200
    end = svc.client.post("/v1/driver/shift/end", headers=svc.auth(driver))
    assert end.status_code == 200
    stale = svc.client.get("/v1/driver/manifest", headers=svc.auth(driver))
    assert stale.status_code == 401  # the session ended with the shift
    assert stale.json()["error"]["code"] == "not_authenticated"


def test_bad_events_are_refused_and_change_nothing(svc: Svc, driver: str) -> None:
    _, rider = svc.register()
    b = book(svc, rider)
    tomorrow = (START + timedelta(days=1)).isoformat()
    other = book(svc, rider, "KUR-020", "KUR-030", mode="depart_at", time=tomorrow)
    assert (
        svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver)).status_code
        == 200
    )
    before = manifest(svc, driver)

    cases = [
        ("boarded", {"booking_id": "Bnothere", "payment_method": "cash"}, 404, "not_found"),
        ("boarded", {"booking_id": b["id"], "payment_method": "cash"}, 409, "not_arrived"),
        ("boarded", {"booking_id": other["id"], "payment_method": "cash"}, 403, "other_vehicle"),
        ("arrived", {"stop_id": "KUR-030"}, 409, "event_refused"),
    ]
    for i, (kind, body, status, code) in enumerate(cases):
        got, answer = event(svc, driver, kind, f"bad{i}", **body)
        assert (got, answer["error"]["code"]) == (status, code), (kind, body, answer)
        assert answer["error"]["message_ja"]
    assert manifest(svc, driver)["stops"] == before["stops"]

    svc.clock.now_s = int(datetime.fromisoformat(b["pickup_from"]).timestamp())
    assert event(svc, driver, "arrived", "a1", stop_id="KUR-010")[0] == 200
    got, answer = event(svc, driver, "no_show", "n1", booking_id=b["id"])
    assert (got, answer["error"]["code"]) == (409, "no_show_too_early")
    svc.clock.advance(svc.world.config.policy.no_show_wait_s)
    got, answer = event(svc, driver, "no_show", "n2", booking_id=b["id"])
    assert got == 200
    assert answer["booking_status"] == "no_show"
    reused = event(svc, driver, "boarded", "n2", booking_id=b["id"], payment_method="cash")
    assert reused[0] == 422
    assert reused[1]["error"]["code"] == "event_id_reused"
    garbage = svc.client.get("/v1/driver/manifest", headers=svc.auth("not-a-token"))
    assert garbage.status_code == 401


def test_gps_batches_tolerate_duplicates_and_disorder(svc: Svc, driver: str) -> None:
    assert (
        svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver)).status_code
        == 200
    )
    p = svc.world.stops.get("KUR-010")
    t0 = svc.clock.now_s
    pts = [{"t": t0 + k, "lat": p.lat + k * 1e-5, "lon": p.lon} for k in (3, 1, 2, 2, 4)]
    r = svc.client.post(
        "/v1/driver/positions", json={"points": pts}, headers=svc.auth(driver)
    ).json()
    assert (r["accepted"], r["duplicates"], r["stale"]) == (4, 1, 0)
    old = [{"t": t0 + 2, "lat": p.lat, "lon": p.lon}]
    r = svc.client.post(
        "/v1/driver/positions", json={"points": old}, headers=svc.auth(driver)
    ).json()
    assert (r["accepted"], r["stale"]) == (0, 1)
    m = manifest(svc, driver)
    assert m["position"]["t"] == t0 + 4


def test_the_stream_pushes_a_new_booking_and_resumes_after_a_reconnect(
    svc: Svc, driver: str
) -> None:
    assert (
        svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver)).status_code
        == 200
    )
    first = read_events(svc, driver, 1)
    assert first[0]["stops"] == []
    version = first[0]["version"]
    _, rider = svc.register()
    b = book(svc, rider)  # a change while the tablet was away
    resumed = read_events(svc, driver, 1, last_event_id=version)
    assert resumed[0]["version"] > version
    assert resumed[0]["stops"][0]["riders"][0]["booking_id"] == b["id"]


def read_events(svc: Svc, drv: str, n: int, last_event_id: int | None = None) -> list[dict]:
    import json

    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    out = []
    with svc.client.stream("GET", f"/v1/driver/stream?token={drv}&limit={n}", headers=headers) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def test_times_in_the_manifest_are_local(svc: Svc, driver: str) -> None:
    _, rider = svc.register()
    book(svc, rider)
    svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver))
    planned = datetime.fromisoformat(manifest(svc, driver)["stops"][0]["planned"])
    assert planned.utcoffset() == timedelta(hours=9)
    assert planned >= at(svc.clock.now_s)


def test_the_stream_says_when_the_session_ends(svc: Svc, driver: str) -> None:
    assert (
        svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver)).status_code
        == 200
    )
    kinds = []
    with svc.client.stream("GET", f"/v1/driver/stream?token={driver}") as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[7:])
                if kinds == ["manifest"]:  # the tablet is listening: the shift ends elsewhere
                    end = svc.client.post("/v1/driver/shift/end", headers=svc.auth(driver))
                    assert end.status_code == 200
                if line == "event: session_ended":
                    break
    assert kinds == ["manifest", "session_ended"]


def test_the_manifest_shows_riders_a_late_van_will_reach_after_their_promise(
    svc: Svc, driver: str
) -> None:
    _, rider = svc.register()
    b = book(svc, rider)
    svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver))
    before = manifest(svc, driver)
    assert before["late_riders"] == 0
    assert all(r["late_by_min"] == 0 for stop in before["stops"] for r in stop["riders"])
    # The van never reports; 25 minutes after the window, the next writer turn re-times its
    # plan from now.
    svc.clock.now_s = int(datetime.fromisoformat(b["pickup_to"]).timestamp()) + 25 * 60
    _, other = svc.register(phone="090-2222-3333")
    q = svc.client.post("/v1/quotes", headers=svc.auth(other), json={
        "origin": "KUR-100", "destination": "KUR-101", "passengers": {"adult": 1}})  # fmt: skip
    assert q.status_code == 200, q.text
    after = manifest(svc, driver)
    late = {r["booking_id"]: r["late_by_min"] for stop in after["stops"] for r in stop["riders"]}
    assert late[b["id"]] >= 25  # its pickup now lies at least 25 minutes past the window
    assert after["late_riders"] == 1
    planned = datetime.fromisoformat(after["stops"][0]["planned"])
    assert planned >= at(svc.clock.now_s)  # the re-timed plan, not the stale one
