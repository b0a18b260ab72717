"""An operator plans a driver's break: between rides, where it costs least, every promise
kept; refused where it fits nowhere; dropped once its window passes without the driver
starting it."""

from __future__ import annotations

import pytest

from dispatch.model import Break, InvalidTransition, Mode, Offer, StopKind
from tests.dispatch.conftest import NOW, ask, check_invariants, make_dispatcher


def _book(d, rid: str, o: int, dest: int, minute: int) -> str:  # type: ignore[no-untyped-def]
    offer = d.quote(ask(rid, o, dest, mode=Mode.DEPART_AT, at=NOW + 60 * minute), NOW)
    assert isinstance(offer, Offer)
    d.confirm(offer.booking_id, NOW)
    return str(offer.booking_id)


def test_a_break_goes_between_rides_and_keeps_every_promise() -> None:
    d = make_dispatcher(vans=1)
    first = _book(d, "a", 1, 5, 10)  # 08:10 from 1 to 5
    second = _book(d, "b", 5, 0, 40)  # 08:40 from 5 back to 0
    promised = {b: d.bookings[b].promise for b in (first, second)}
    bid = d.add_break("v1", Break(NOW + 15 * 60, NOW + 60 * 60, 15 * 60, 5), NOW)
    kinds = [(i, k) for i, k in d.plans["v1"]]
    at = kinds.index((bid, StopKind.BREAK))
    assert kinds[:at] == [(first, StopKind.PICKUP), (first, StopKind.DROPOFF)]  # nobody aboard
    assert kinds[at + 1 :] == [(second, StopKind.PICKUP), (second, StopKind.DROPOFF)]
    stop = next(s for s in d.plan("v1") if s.kind == StopKind.BREAK)
    assert NOW + 15 * 60 <= stop.planned_s <= NOW + 60 * 60
    assert all(d.bookings[b].promise == promised[b] for b in promised)
    check_invariants(d)
    assert d.add_break("v1", Break(NOW + 3 * 3600, NOW + 4 * 3600, 600, 0), NOW) != bid


def test_a_break_that_fits_nowhere_is_refused_and_changes_nothing() -> None:
    d = make_dispatcher(vans=1)
    _book(d, "a", 1, 5, 10)
    plan, breaks = list(d.plans["v1"]), dict(d.breaks)
    with pytest.raises(InvalidTransition):  # an hour's break that must start at once
        d.add_break("v1", Break(NOW, NOW + 60, 3600, 0), NOW)
    assert d.plans["v1"] == plan
    assert d.breaks == breaks


def test_a_missed_break_leaves_the_plan_when_the_van_is_re_timed() -> None:
    d = make_dispatcher(vans=1)
    bid = d.add_break("v1", Break(NOW + 600, NOW + 1200, 900, 0), NOW)
    later = NOW + 1500  # the window passed; the driver never started it
    assert d.behind(later) == ["v1"]
    d.retime(later)
    assert (bid, StopKind.BREAK) not in d.plans["v1"]
    assert d.behind(later) == []
    offer = d.quote(ask("c", 1, 3), later)  # the van takes riders again
    assert isinstance(offer, Offer)
    check_invariants(d)
