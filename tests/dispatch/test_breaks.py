"""Drivers' breaks in the live engine, and the search window a quote uses.

The small line world of conftest.py: places 0..5, two minutes apart; one van based at 0 with a
30-minute break at the depot that must start between 09:00 and 10:00.
"""

from __future__ import annotations

import pytest

from dispatch.engine import Dispatcher
from dispatch.model import Break, InvalidTransition, Mode, Offer, StopKind, VehicleSpec
from dispatch.params import ServiceParams
from tests.dispatch.conftest import NOW, H, ask, check_invariants, line_matrix, nearby

BREAK_ID = "break:v1:0"


def van_with_break() -> Dispatcher:
    d = Dispatcher(ServiceParams(), line_matrix(), nearby)
    d.add_vehicle(
        VehicleSpec("v1", 8, 1, 0, 7 * H, 19 * H, breaks=(Break(9 * H, 10 * H, 1800, 0),))
    )
    d.start_shift("v1", 0, NOW)
    return d


def test_the_break_is_in_the_plan_within_its_window() -> None:
    (stop,) = van_with_break().plan("v1")
    assert (stop.booking_id, stop.kind, stop.place) == (BREAK_ID, StopKind.BREAK, 0)
    assert 9 * H <= stop.planned_s <= 10 * H


def test_taking_the_break_frees_the_van_after_it() -> None:
    d = van_with_break()
    brk = d.take_break("v1", BREAK_ID, 9 * H)
    assert brk.duration_s == 1800
    assert d.plan("v1") == []
    # Asked at 09:05, the van is on its break at place 0 until 09:30, then 2 x 2 min to place 2.
    offer = d.quote(ask("a", 2, 4), 9 * H + 300)
    assert isinstance(offer, Offer)
    assert offer.promise.pickup_planned_s >= 9 * H + 1800 + 2 * 120 + 30
    check_invariants(d)


def test_a_break_that_is_not_next_cannot_start() -> None:
    d = van_with_break()
    offer = d.quote(ask("a", 1, 4, mode=Mode.DEPART_AT, at=9 * H), NOW)
    assert isinstance(offer, Offer)
    assert d.plan("v1")[0].kind == StopKind.PICKUP
    with pytest.raises(InvalidTransition):
        d.take_break("v1", BREAK_ID, 9 * H)


def test_search_window_is_the_window_of_the_quote() -> None:
    d = van_with_break()
    p = d.params
    early, late, drop_by, max_ride = d.search_window(ask("a", 1, 4), NOW)
    assert (early, late) == (NOW + p.min_lead_s, NOW + p.min_lead_s + p.asap_max_wait_s)
    assert max_ride == p.max_ride_s(3 * 120)
    assert drop_by == late + p.dwell_board_s + max_ride
    offer = d.quote(ask("a", 1, 4), NOW)
    assert isinstance(offer, Offer)
    assert early <= offer.promise.pickup_planned_s <= late
