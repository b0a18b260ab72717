"""A booking an operator protected stays on its vehicle: no delay repair and no
re-optimisation moves it; an operator's own move or a withdrawal still does."""

from __future__ import annotations

import pytest

from dispatch.engine import Dispatcher
from dispatch.model import InvalidTransition, Offer, VehicleSpec
from dispatch.params import ServiceParams
from dispatch.reoptimize import reoptimize
from tests.dispatch.conftest import (
    NOW,
    H,
    ask,
    check_invariants,
    line_matrix,
    make_dispatcher,
    nearby,
)


def _confirmed(d: Dispatcher, rid: str, o: int, dest: int) -> str:
    offer = d.quote(ask(rid, o, dest), NOW)
    assert isinstance(offer, Offer)
    return d.confirm(offer.booking_id, NOW).id


def test_a_delay_moves_the_rider_unless_protected() -> None:
    for protected in (False, True):
        d = make_dispatcher(vans=2)
        b = d.bookings[_confirmed(d, "a", 3, 5)]
        first = b.vehicle_id
        if protected:
            d.protect(b.id, True)
        at_risk = d.update_vehicle(first, 0, NOW + 40 * 60, NOW + 60)  # stuck for 40 min
        if protected:
            assert b.vehicle_id == first  # kept where the operator put it ...
            assert {r.booking_id for r in at_risk} == {b.id}  # ... and listed to be told
        else:
            assert b.vehicle_id != first
            assert at_risk == []
        check_invariants(d)


def test_re_optimisation_leaves_a_protected_booking_on_its_van() -> None:
    """As test_reoptimize's nearby-van case, where the ride would move to v2."""
    d = Dispatcher(ServiceParams(), line_matrix(), nearby)
    d.add_vehicle(VehicleSpec("v1", 8, 1, depot=5, shift_start_s=7 * H, shift_end_s=19 * H))
    d.add_vehicle(VehicleSpec("v2", 8, 1, depot=0, shift_start_s=7 * H, shift_end_s=19 * H))
    d.start_shift("v1", 5, NOW)
    b = d.bookings[_confirmed(d, "a", 0, 1)]
    d.protect(b.id, True)
    d.start_shift("v2", 0, NOW + 60)
    reoptimize(d, NOW + 60, time_limit_s=1.0)
    assert b.vehicle_id == "v1"
    assert [e[0] for e in d.plans["v1"]] == [b.id, b.id]
    check_invariants(d)
    d.protect(b.id, False)  # let go: the engine may move it again
    assert reoptimize(d, NOW + 60, time_limit_s=1.0).adopted
    assert b.vehicle_id == "v2"


def test_an_operator_move_still_moves_it_and_it_stays_protected() -> None:
    d = make_dispatcher(vans=2)
    b = d.bookings[_confirmed(d, "a", 3, 5)]
    d.protect(b.id, True)
    other = next(v for v in d.vehicles if v != b.vehicle_id)
    assert d.move_to(b.id, other, NOW, apply=True).fits
    assert b.vehicle_id == other
    assert b.protected
    check_invariants(d)


def test_only_a_confirmed_booking_can_be_protected() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 3, 5), NOW)
    assert isinstance(offer, Offer)
    with pytest.raises(InvalidTransition):
        d.protect(offer.booking_id, True)  # held, not confirmed
    d.confirm(offer.booking_id, NOW)
    d.cancel(offer.booking_id, NOW)
    with pytest.raises(InvalidTransition):
        d.protect(offer.booking_id, True)
