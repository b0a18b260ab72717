"""An arrival recorded far from the stop is kept but flagged, with its distance (an arrival
8 km from the stop used to be accepted without a word)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from driver_app_api import models as dm
from tests.booking.conftest import Svc
from tests.driver_app_api.test_driver import book, driver, event  # noqa: F401

pytestmark = pytest.mark.services


def at_gps(svc: Svc, drv: str, lat: float, lon: float) -> None:
    pts = [{"t": svc.clock.now_s, "lat": lat, "lon": lon}]
    r = svc.client.post("/v1/driver/positions", json={"points": pts}, headers=svc.auth(drv))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("offset_deg", "far"), [(0.0, False), (0.07, True)])
def test_an_arrival_far_from_the_stop_is_flagged_with_its_distance(
    svc: Svc,
    driver: str,  # noqa: F811
    offset_deg: float,
    far: bool,
) -> None:
    _, rider = svc.register()
    booked = book(svc, rider)
    assert (
        svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver)).status_code
        == 200
    )
    stop = svc.world.stops.get(booked["origin"]["id"])
    svc.clock.advance(60)
    at_gps(svc, driver, stop.lat + offset_deg, stop.lon)  # 0.07° of latitude: about 7.8 km
    svc.clock.advance(60)
    status, result = event(svc, driver, "arrived", "a1", stop_id=stop.id)
    assert status == 200, result
    assert result["far_from_stop"] is far
    assert (result["distance_m"] > 7000) is far
    with svc.db.sessionmaker()() as s:
        row = s.scalars(select(dm.StopEvent).where(dm.StopEvent.kind == "arrived")).one()
        assert row.distance_m == result["distance_m"]  # kept for review
