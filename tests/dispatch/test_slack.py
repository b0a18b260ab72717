"""Promises with slack (``promise_slack_s``): the plan keeps every pickup, drop-off and ride
that much inside what the rider is told, so a drive slower than the router's by less than
the slack keeps the promise, and nobody is told of a delay that does not break it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.errors import ConfigError
from dispatch.model import Mode, Offer
from dispatch.params import ServiceParams
from tests.dispatch.conftest import NOW, ask, check_invariants, make_dispatcher

SLACK = 240


@settings(max_examples=60, deadline=None)
@given(
    trips=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 60), st.booleans()).filter(
            lambda t: t[0] != t[1]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_plan_keeps_the_slack_inside_every_promise(
    trips: list[tuple[int, int, int, bool]],
) -> None:
    d = make_dispatcher(vans=1, params=ServiceParams(promise_slack_s=SLACK))
    for i, (o, dest, minute, asap) in enumerate(trips):
        r = (
            ask(f"r{i}", o, dest)
            if asap
            else ask(f"r{i}", o, dest, mode=Mode.DEPART_AT, at=NOW + 300 + 60 * minute)
        )
        offer = d.quote(r, NOW)
        if isinstance(offer, Offer):
            d.confirm(offer.booking_id, NOW)
    for b in d.bookings.values():
        p = b.promise
        assert b.pickup_latest_s <= p.pickup_to_s - SLACK
        assert b.dropoff_latest_s <= p.dropoff_by_s - SLACK
        assert b.ride_limit_s == p.max_ride_s - SLACK
        assert p.pickup_from_s <= p.pickup_planned_s <= b.pickup_latest_s
        assert p.dropoff_planned_s <= b.dropoff_latest_s
    check_invariants(d)  # the plans keep the planned limits, so the promises too


def test_a_delay_within_the_slack_breaks_no_promise_and_tells_nobody() -> None:
    d = make_dispatcher(vans=1, params=ServiceParams(promise_slack_s=SLACK))
    offer = d.quote(ask("a", 5, 1, mode=Mode.DEPART_AT, at=NOW + 900), NOW)
    assert isinstance(offer, Offer)
    d.confirm(offer.booking_id, NOW)
    b = d.bookings[offer.booking_id]
    told = b.promise
    late = b.pickup_latest_s - told.pickup_planned_s + 60  # a minute past the planned limit
    assert late <= told.pickup_to_s - told.pickup_planned_s  # ... still inside the promise
    assert d.update_vehicle("v1", 0, told.pickup_planned_s - 5 * 120 - 30 + late, NOW) == []
    assert not b.promise_broken
    assert b.promise == told
    assert b.pickup_latest_s > told.pickup_planned_s  # the plan took some of the slack


def test_the_same_delay_without_slack_is_told() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 5, 1, mode=Mode.DEPART_AT, at=NOW + 900), NOW)
    assert isinstance(offer, Offer)
    d.confirm(offer.booking_id, NOW)
    told = offer.promise
    late = told.pickup_to_s - told.pickup_planned_s + 60  # a minute past the window
    risk = d.update_vehicle("v1", 0, told.pickup_planned_s - 5 * 120 - 30 + late, NOW)
    assert {r.booking_id for r in risk} == {offer.booking_id}
    assert d.bookings[offer.booking_id].promise_broken


@pytest.mark.parametrize("slack", [301, 1000])
def test_the_slack_is_at_most_half_the_window(slack: int) -> None:
    with pytest.raises(ConfigError, match="promise_slack_s"):
        ServiceParams(promise_slack_s=slack)
