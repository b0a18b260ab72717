"""Property: the per-vehicle arrays ``build_problem`` reuses are always those it would rebuild.

Any sequence of quotes, confirmations, cancellations, delays (which move riders between vans
or widen their windows), boardings, drop-offs and breaks on the line world of conftest.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import DrtError
from dispatch.engine import Dispatcher
from dispatch.model import BookingStatus, Break, Mode, StopKind, VehicleSpec
from tests.dispatch.conftest import NOW, PLACES, H, ask, make_dispatcher

FIELDS = ("loc", "early", "late", "svc", "dq", "dw", "kind", "partner", "maxride", "ride_from")
VEHICLE_FIELDS = ("v_start", "v_end", "v_cap", "v_cap_w", "v_load0", "v_load0_w")

place = st.integers(0, PLACES - 1)
op = st.one_of(
    st.tuples(
        st.just("quote"), place, place, st.integers(1, 3), st.booleans(), st.integers(0, 5400)
    ),
    st.tuples(st.just("confirm"), st.integers(0, 40)),
    st.tuples(st.just("cancel"), st.integers(0, 40)),
    st.tuples(st.just("delay"), st.integers(0, 1), st.integers(0, 1800)),
    st.tuples(st.just("next_stop"), st.integers(0, 1)),
    st.tuples(st.just("wait"), st.integers(1, 900)),
)


def assert_cache_matches_rebuild(d: Dispatcher, now: int) -> None:
    vids = sorted(d.vehicles)
    cached, stop_of, _ = d.build_problem(vids, None, now)
    d._blocks.clear()
    fresh, fresh_stop_of, _ = d.build_problem(vids, None, now)
    assert stop_of == fresh_stop_of
    for name in FIELDS + VEHICLE_FIELDS:
        assert np.array_equal(getattr(cached, name), getattr(fresh, name)), name


def next_stop(d: Dispatcher, vid: str, now: int) -> int:
    """Drive the van to its next stop and serve it (board, alight, no-show or break)."""
    stops = d.plan(vid)
    if not stops:
        return now
    s = stops[0]
    now = max(now, s.planned_s)
    d.update_vehicle(vid, s.place, now, now)
    if s.kind == StopKind.BREAK:
        d.take_break(vid, s.booking_id, now)
        return now
    b = d.bookings[s.booking_id]
    if s.kind == StopKind.PICKUP and b.status == BookingStatus.CONFIRMED:
        d.board(b.id, now)
    elif s.kind == StopKind.DROPOFF:
        d.alight(b.id, now)
    return now


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=30))
def test_reused_plan_arrays_equal_a_fresh_build(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    d = make_dispatcher(vans=1)
    d.add_vehicle(VehicleSpec("v2", 8, 1, 0, 7 * H, 19 * H, (Break(9 * H, 11 * H, 900, 0),)))
    d.start_shift("v2", 0, NOW)
    now, n = NOW, 0
    for o in ops:
        try:
            if o[0] == "quote":
                _, a, b, seats, asap, offset = o
                n += 1
                mode, at = (Mode.ASAP, None) if asap else (Mode.DEPART_AT, now + 300 + offset)
                d.quote(ask(f"r{n}", a, b, seats=seats, mode=mode, at=at), now)
            elif o[0] in ("confirm", "cancel"):
                ids = sorted(d.bookings)
                if ids:
                    bid = ids[o[1] % len(ids)]
                    (d.confirm if o[0] == "confirm" else d.cancel)(bid, now)
            elif o[0] == "delay":
                vid = sorted(d.vehicles)[o[1]]
                v = d.vehicles[vid]
                d.update_vehicle(vid, v.place, max(v.available_s, now) + o[2], now)
            elif o[0] == "next_stop":
                now = next_stop(d, sorted(d.vehicles)[o[1]], now)
            else:
                now += o[1]
        except DrtError:
            pass  # a refused operation changes nothing; the arrays must still agree
        assert_cache_matches_rebuild(d, now)
