""" "As soon as possible" means soon: with ``asap_wait_stages_s`` an ASAP rider gets the
cheapest pickup within the first stage's wait that has room, not the cheapest anywhere in
the whole ``asap_max_wait_s`` (which put ASAP pickups late: a 30-minute mean wait on
kurate-today, docs/benchmarks.md)."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from common.errors import ConfigError
from dispatch.model import Mode, Offer
from dispatch.params import ServiceParams
from tests.dispatch.conftest import (
    NOW,
    Trip,
    ask,
    book_all,
    check_invariants,
    make_dispatcher,
    trips,
)

STAGED = ServiceParams(asap_wait_stages_s=(600, 1200))


@settings(max_examples=60, deadline=None)
@given(wanted=trips(40), o=st.integers(0, 5), d=st.integers(0, 5))
def test_an_asap_rider_is_picked_up_within_the_first_stage_that_has_room(
    wanted: list[Trip], o: int, d: int
) -> None:
    if o == d:
        return
    staged = make_dispatcher(vans=1, params=STAGED)
    book_all(staged, wanted)
    soonest = NOW + STAGED.min_lead_s

    def has_room(stage: int) -> bool:  # the same plans, searched only within this wait
        probe = copy.deepcopy(staged)
        probe.params = replace(STAGED, asap_wait_stages_s=(), asap_max_wait_s=stage)
        return isinstance(probe.quote(ask("probe", o, d), NOW), Offer)

    room = next((s for s in STAGED.asap_wait_stages_s if has_room(s)), None)
    assume(room is not None)
    offer = staged.quote(ask("rider", o, d), NOW)
    assert isinstance(offer, Offer)
    assert offer.promise.pickup_planned_s <= soonest + room
    check_invariants(staged)


def test_without_stages_the_whole_wait_is_searched_at_once() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 1, 4), NOW)
    assert isinstance(offer, Offer)
    assert offer.promise.pickup_planned_s <= NOW + d.params.min_lead_s + d.params.asap_max_wait_s


@pytest.mark.parametrize("stages", [(1200, 600), (0,), (1800,), (600, 600)])
def test_stages_must_increase_within_the_longest_wait(stages: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="asap_wait_stages_s"):
        ServiceParams(asap_wait_stages_s=stages)


def _shared_ride_world(weight: float) -> tuple[Offer, int]:
    """One van at 0; a rider booked from 2 to 5 departing 8:25. An ASAP rider from 2 to 5
    at 8:00 costs least riding along at 8:25 (a 25-minute wait) and more driving if picked
    up now (to 5 and back to 2 before 8:25)."""
    params = ServiceParams(asap_wait_weight=weight)
    d = make_dispatcher(vans=1, params=params)
    first = d.quote(ask("a", 2, 5, mode=Mode.DEPART_AT, at=NOW + 25 * 60), NOW)
    assert isinstance(first, Offer)
    d.confirm(first.booking_id, NOW)
    offer = d.quote(ask("asap", 2, 5), NOW)
    assert isinstance(offer, Offer)
    check_invariants(d)
    return offer, NOW + params.min_lead_s


def test_a_priced_wait_picks_an_asap_rider_up_sooner_at_more_driving() -> None:
    cheapest, soonest = _shared_ride_world(0.0)
    priced, _ = _shared_ride_world(1.0)
    assert cheapest.promise.pickup_planned_s - soonest >= 15 * 60  # rides along with "a"
    # picked up before "a" instead (the schedule may still start it later than at once: it
    # delays a departure to cut waiting further on, within the search window)
    assert priced.promise.pickup_planned_s - soonest <= 10 * 60


@settings(max_examples=40)
@given(wanted=trips(30), o=st.integers(0, 5), d=st.integers(0, 5), w=st.sampled_from([0.5, 2.0]))
def test_a_priced_wait_never_plans_a_later_asap_pickup_than_driving_cost_alone(
    wanted: list[Trip], o: int, d: int, w: float
) -> None:
    """On the same plans, the rider's planned wait with a price on it is never longer than
    without (exact: the search compares the schedule's own pickup times)."""
    assume(o != d)
    plain = make_dispatcher(vans=2)
    book_all(plain, wanted)
    priced = copy.deepcopy(plain)
    priced.params = replace(plain.params, asap_wait_weight=w)
    a, b = plain.quote(ask("r", o, d), NOW), priced.quote(ask("r", o, d), NOW)
    assume(isinstance(a, Offer))
    assert isinstance(b, Offer)
    assert b.promise.pickup_planned_s <= a.promise.pickup_planned_s
    check_invariants(priced)


@pytest.mark.parametrize("weight", [-0.5, 10.5, float("nan")])
def test_the_wait_weight_is_checked(weight: float) -> None:
    with pytest.raises(ConfigError, match="asap_wait_weight"):
        ServiceParams(asap_wait_weight=weight)
