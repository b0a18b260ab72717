"""OR-Tools re-optimisation adopts only plans that keep every promise and cost less."""

from __future__ import annotations

from dispatch.engine import Dispatcher
from dispatch.model import Offer, VehicleSpec
from dispatch.params import ServiceParams
from dispatch.reoptimize import reoptimize
from tests.dispatch.conftest import NOW, H, ask, check_invariants, line_matrix, nearby


def test_moves_a_ride_to_the_van_that_appeared_nearby() -> None:
    """Van v1 (based at 5) took a 0->1 ride while v2 (based at 0) was off shift."""
    d = Dispatcher(ServiceParams(), line_matrix(), nearby)
    d.add_vehicle(VehicleSpec("v1", 8, 1, depot=5, shift_start_s=7 * H, shift_end_s=19 * H))
    d.add_vehicle(VehicleSpec("v2", 8, 1, depot=0, shift_start_s=7 * H, shift_end_s=19 * H))
    d.start_shift("v1", 5, NOW)
    offer = d.quote(ask("a", 0, 1), NOW)
    assert isinstance(offer, Offer)
    booking = d.confirm(offer.booking_id, NOW)
    assert booking.vehicle_id == "v1"
    d.start_shift("v2", 0, NOW + 60)
    result = reoptimize(d, NOW + 60, time_limit_s=1.0)
    assert result.adopted, result.reason
    assert result.cost_after < result.cost_before
    assert booking.vehicle_id == "v2"
    assert d.plans["v1"] == []
    check_invariants(d)  # the promise made by v1's plan is kept by v2's


def test_keeps_an_already_good_plan() -> None:
    d = Dispatcher(ServiceParams(), line_matrix(), nearby)
    d.add_vehicle(VehicleSpec("v1", 8, 1, depot=0, shift_start_s=7 * H, shift_end_s=19 * H))
    d.start_shift("v1", 0, NOW)
    for rid, (o, dest) in {"a": (1, 3), "b": (2, 4)}.items():
        offer = d.quote(ask(rid, o, dest), NOW)
        assert isinstance(offer, Offer)
        d.confirm(offer.booking_id, NOW)
    before = list(d.plans["v1"])
    result = reoptimize(d, NOW, time_limit_s=0.5)
    assert not result.adopted
    assert result.cost_after >= result.cost_before - 1e-6
    assert d.plans["v1"] == before
    check_invariants(d)
