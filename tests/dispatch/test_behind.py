"""A van that falls behind its plan is re-timed, and the day stays open.

Time passing without the van reporting progress (stuck in traffic, a stop not recorded yet)
used to leave its plan unkeepable from now: every insertion into it failed, so every quote
for the rest of the day was refused with ``no_time_available``. ``Dispatcher.retime``
re-plans such a vehicle from where it was last known, free from now; riders it can no longer
serve on time are moved or reported ``AtRisk`` with their windows widened.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.model import Mode, Offer, StopKind
from tests.dispatch.conftest import (
    NOW,
    H,
    Trip,
    ask,
    book_all,
    check_invariants,
    make_dispatcher,
    trips,
)


def test_a_van_15_minutes_late_at_8_still_gets_offers_for_10() -> None:
    d = make_dispatcher(vans=1)
    d.start_shift("v1", 0, NOW - H)  # on the road since 07:00
    early = d.quote(ask("a", 5, 1, mode=Mode.DEPART_AT, at=NOW - 20 * 60), NOW - 40 * 60)
    assert isinstance(early, Offer)  # 07:40-07:50 at place 5; the van is at the depot (0)
    d.confirm(early.booking_id, NOW - 40 * 60)
    assert d.behind(NOW) == ["v1"]  # 08:00: it has not left the depot
    risk = d.retime(NOW)
    assert {(r.booking_id, r.kind) for r in risk} >= {(early.booking_id, StopKind.PICKUP)}
    assert d.behind(NOW) == []
    later = d.quote(ask("b", 2, 3, mode=Mode.DEPART_AT, at=NOW + 2 * H), NOW)
    assert isinstance(later, Offer)
    rider = d.bookings[early.booking_id]
    assert rider.promise_broken
    first = d.plan("v1")[0]
    assert (first.booking_id, first.kind) == (early.booking_id, StopKind.PICKUP)
    assert first.planned_s >= NOW + 5 * 120  # the new time it can tell the rider
    check_invariants(d)


def test_a_van_on_time_is_not_behind() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 3, 1, mode=Mode.DEPART_AT, at=NOW + H), NOW)
    assert isinstance(offer, Offer)
    d.confirm(offer.booking_id, NOW)
    assert d.behind(NOW + 10 * 60) == []
    assert d.retime(NOW + 10 * 60) == []


@settings(max_examples=60, deadline=None)
@given(
    wanted=trips(90, min_size=1, max_size=5), delay_min=st.integers(0, 45), vans=st.integers(1, 2)
)
def test_a_delay_never_refuses_a_request_after_the_re_timed_plan(
    wanted: list[Trip], delay_min: int, vans: int
) -> None:
    """Whatever the delay, once re-timed the plan is keepable again and a request after the
    re-timed plan (time for the van to get there included) is offered, as for a van that
    never fell behind: the delay consumes only the time it takes."""
    d = make_dispatcher(vans=vans)
    book_all(d, wanted)
    now = NOW + 60 * delay_min  # nobody reported anything meanwhile
    d.retime(now)
    assert d.behind(now) == []
    check_invariants(d)
    ends = [max([now] + [s.planned_s for s in d.plan(vid)]) for vid in d.vehicles]
    at = min(ends) + 5 * 120 + 30 + d.params.min_lead_s  # any place is 5 stops away at most
    later = d.quote(ask("late", 1, 4, mode=Mode.DEPART_AT, at=at), now)
    assert isinstance(later, Offer), later
