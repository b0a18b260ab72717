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
from dispatch.model import Offer
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
