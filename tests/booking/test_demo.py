"""The demo's simulated fleet carries bookings through boarding and alighting."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.demo import RIDER_EVERY_S, DemoFleet, demo_clock
from tests.booking.conftest import JST, START, Svc

pytestmark = pytest.mark.services


def test_simulated_vans_board_and_drop_riders(svc: Svc) -> None:
    _, token = svc.register()
    q = svc.client.post(
        "/v1/quotes", json={"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1}},
        headers=svc.auth(token),
    ).json()  # fmt: skip
    b = svc.client.post(
        "/v1/bookings", json={"quote_id": q["offer"]["quote_id"]},
        headers=svc.auth(token, **{"Idempotency-Key": "demo"}),
    ).json()  # fmt: skip
    fleet = DemoFleet(svc.client.app.state.host)  # type: ignore[attr-defined]
    fleet._next_rider_s = svc.clock.now_s + 10 * RIDER_EVERY_S  # no demo riders in this test

    def status() -> dict:
        return svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(token)).json()

    fleet.tick()
    assert status()["status"] == "confirmed"  # not due yet
    svc.clock.now_s = int(datetime.fromisoformat(status()["eta_pickup"]).timestamp())
    fleet.tick()
    onboard = status()
    assert onboard["status"] == "onboard"
    assert onboard["eta_dropoff"] is not None
    svc.clock.now_s = int(datetime.fromisoformat(onboard["eta_dropoff"]).timestamp())
    fleet.tick()
    assert status()["status"] == "completed"


def test_demo_clock_moves_into_service_hours(svc: Svc) -> None:
    cal = svc.world.config.calendar
    night = int(datetime(2026, 12, 2, 23, 0, tzinfo=JST).timestamp())
    clock = demo_clock(cal, night)
    shifted = datetime.fromtimestamp(night + clock.offset_s, JST)
    assert shifted == datetime(2026, 12, 3, 7, 30, tzinfo=JST)
    assert demo_clock(cal, int(START.timestamp())).offset_s == 0  # open: real time
