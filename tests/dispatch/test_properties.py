"""Property: whatever happens, every plan keeps every rule and every booking is in one plan."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import DrtError
from dispatch.model import BookingStatus, Mode, Offer, Rejection, StopKind
from dispatch.reoptimize import reoptimize
from tests.dispatch.conftest import (
    NOW,
    PLACES,
    ask,
    assert_explained,
    check_invariants,
    make_dispatcher,
)

place = st.integers(0, PLACES - 1)
op = st.one_of(
    st.tuples(
        st.just("quote"),
        place,
        place,
        st.integers(1, 4),
        st.sampled_from(list(Mode)),
        st.integers(0, 7200),
    ),
    st.tuples(st.just("confirm"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("wait"), st.integers(1, 900)),
    st.tuples(st.just("delay"), st.integers(0, 1), st.integers(0, 1800)),
    st.tuples(st.just("serve"), st.integers(0, 1)),
    st.tuples(st.just("reoptimize")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=25), vans=st.integers(1, 2), seats=st.integers(2, 8))
def test_any_sequence_keeps_every_promise(ops: list[tuple], vans: int, seats: int) -> None:  # type: ignore[type-arg]
    d = make_dispatcher(vans=vans, seats=seats)
    now = NOW
    n = 0
    for o in ops:
        try:
            if o[0] == "quote":
                _, a, b, k, mode, offset = o
                n += 1
                at = None if mode == Mode.ASAP else now + 300 + offset
                answer = d.quote(ask(f"r{n}", a, b, seats=k, mode=mode, at=at), now)
                assert isinstance(answer, Offer | Rejection)
                if isinstance(answer, Rejection):
                    assert len(answer.alternatives) <= 3
            elif o[0] in ("confirm", "cancel"):
                ids = sorted(d.bookings)
                if ids:
                    bid = ids[o[1] % len(ids)]
                    (d.confirm if o[0] == "confirm" else d.cancel)(bid, now)
            elif o[0] == "wait":
                now += o[1]
                d.expire(now)
            elif o[0] == "delay":
                vid = sorted(d.vehicles)[o[1] % len(d.vehicles)]
                v = d.vehicles[vid]
                d.update_vehicle(vid, v.place, max(v.available_s, now) + o[2], now)
            elif o[0] == "reoptimize":
                result = reoptimize(d, now, time_limit_s=0.01)
                assert result.cost_after <= result.cost_before + 1e-6 or not result.adopted
            elif o[0] == "serve":
                vid = sorted(d.vehicles)[o[1] % len(d.vehicles)]
                stops = d.plan(vid)
                if stops and stops[0].kind != StopKind.BREAK:
                    s = stops[0]
                    b = d.bookings[s.booking_id]
                    now = max(now, s.planned_s)
                    d.update_vehicle(vid, s.place, now, now)
                    if s.kind == StopKind.PICKUP and b.status == BookingStatus.CONFIRMED:
                        d.board(b.id, now)
                    elif s.kind == StopKind.DROPOFF:
                        d.alight(b.id, now)
        except DrtError as exc:
            assert_explained(exc)
        check_invariants(d)
