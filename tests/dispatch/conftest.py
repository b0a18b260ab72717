"""A small documented world for the live engine.

Six meeting points on a line, 0..5, two minutes apart (|i - j| * 120 s). Two 8-seat vans with
one wheelchair space each, based at place 0, on shift from 07:00 to 19:00. Default promises:
a 10-minute pickup window, rides at most min(1.5 * direct + 10 min, 45 min).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from common.errors import DrtError
from dispatch.engine import Dispatcher
from dispatch.model import BookingStatus, Mode, Offer, StopKind, TripRequest, VehicleSpec
from dispatch.params import ServiceParams

H = 3600
NOW = 8 * H
PLACES = 6


def line_matrix(n: int = PLACES, step_s: int = 120) -> np.ndarray:
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]) * step_s


def nearby(place: int) -> list[int]:
    return [q for q in (place - 1, place + 1) if 0 <= q < PLACES]


def van(name: str, seats: int = 8) -> VehicleSpec:
    return VehicleSpec(
        name, seats=seats, wheelchairs=1, depot=0, shift_start_s=7 * H, shift_end_s=19 * H
    )


def make_dispatcher(
    vans: int = 2, seats: int = 8, params: ServiceParams | None = None
) -> Dispatcher:
    d = Dispatcher(params or ServiceParams(), line_matrix(), nearby)
    for i in range(vans):
        d.add_vehicle(van(f"v{i + 1}", seats))
        d.start_shift(f"v{i + 1}", 0, NOW)
    return d


def ask(
    rid: str,
    o: int,
    dest: int,
    seats: int = 1,
    mode: Mode = Mode.ASAP,
    at: int | None = None,
    wheel: int = 0,
) -> TripRequest:
    return TripRequest(rid, o, dest, mode, at, seats, wheel)


Trip = tuple[int, int, int]  # origin, destination, minutes after 08:05


def trips(max_minute: int, min_size: int = 0, max_size: int = 6) -> st.SearchStrategy[list[Trip]]:
    """Depart-at trips between different places of the line, from 08:05 on."""
    trip = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, max_minute))
    return st.lists(trip.filter(lambda t: t[0] != t[1]), min_size=min_size, max_size=max_size)


def book_all(d: Dispatcher, wanted: list[Trip]) -> None:
    """Quote each trip at 08:00 and confirm every offer."""
    for i, (o, dest, minute) in enumerate(wanted):
        offer = d.quote(ask(f"r{i}", o, dest, mode=Mode.DEPART_AT, at=NOW + 300 + 60 * minute), NOW)
        if isinstance(offer, Offer):
            d.confirm(offer.booking_id, NOW)


def check_invariants(d: Dispatcher) -> None:
    """Re-derive every rule from the plans, without the kernels."""
    p = d.params
    seen: dict[str, set[str]] = {}
    for vid, v in d.vehicles.items():
        stops = d.plan(vid)
        load = sum(
            b.request.seats
            for b in d.bookings.values()
            if b.vehicle_id == vid and b.status == BookingStatus.ONBOARD
        )
        t_prev, place_prev, svc_prev = v.available_s, v.place, 0
        picked: dict[str, int] = {}
        for s in stops:
            if s.kind == StopKind.BREAK:
                t_prev, place_prev, svc_prev = s.planned_s, s.place, s.planned_s - s.planned_s
                continue
            b = d.bookings[s.booking_id]
            seen.setdefault(s.booking_id, set()).add(vid)
            travel = int(d._tt[place_prev, s.place]) + (
                p.stop_overhead_s if place_prev != s.place else 0
            )
            assert s.planned_s >= t_prev + svc_prev + travel, (vid, s)
            assert s.earliest_s <= s.planned_s <= s.latest_s, (vid, s)
            if s.kind == StopKind.PICKUP:
                assert b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)
                if not b.promise_broken:
                    assert b.promise.pickup_from_s <= s.planned_s <= b.promise.pickup_to_s
                picked[b.id] = s.planned_s + p.dwell_board_s * b.persons
                load += b.request.seats
                svc_prev = p.dwell_board_s * b.persons
            else:
                start = picked.get(b.id, b.ride_started_s)
                assert start is not None, f"{b.id}: drop-off before pickup"
                assert s.planned_s - start <= b.promise.max_ride_s
                assert s.planned_s <= b.promise.dropoff_by_s
                load -= b.request.seats
                svc_prev = p.dwell_alight_s * b.persons
            assert 0 <= load <= v.spec.seats
            t_prev, place_prev = s.planned_s, s.place
    for b in d.bookings.values():
        if b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.ONBOARD):
            assert seen.get(b.id) == {b.vehicle_id}, b.id
        else:
            assert b.id not in seen, b.id


def assert_explained(exc: DrtError) -> None:
    """A refusal names a code and says why in Japanese and English."""
    assert exc.code
    assert exc.message_ja
    assert exc.message_en


@pytest.fixture
def dispatcher() -> Dispatcher:
    return make_dispatcher()
