"""The gravity demand model: counts, times, places and behaviour follow the scenario."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from dispatch.model import Mode
from sim.demand import GravityDemand, attraction, hourly_weights, outbound_probability
from sim.simulator import rider_streams
from tests.sim.conftest import Kurate, shipped

H = 3600


def test_riders_follow_the_scenario(kurate: Kurate) -> None:
    base = shipped("kurate-2028")
    sc = replace(base, demand=replace(base.demand, trips_per_day=3000))
    spec = sc.demand
    riders = GravityDemand().riders(sc, kurate.world, rider_streams(4)[0])
    assert abs(len(riders) - 3000) < 4 * np.sqrt(3000)
    assert len({r.id for r in riders}) == len(riders)
    for r in riders:
        assert r.origin != r.destination
        assert 1 <= r.persons <= len(spec.group_sizes)
        if r.mode == Mode.ASAP:
            assert r.request_s == r.desired_s
            assert sc.service_start_s <= r.desired_s <= sc.service_end_s - 1800
        else:
            assert spec.booking_opens_s <= r.request_s <= r.desired_s - spec.advance_lead_min_s
            assert r.time_s == r.desired_s
            assert r.time_s % 300 == 0
        if r.mode == Mode.ARRIVE_BY:
            assert r.purpose == "outbound"
    modes = Counter(r.mode for r in riders)
    assert abs(modes[Mode.ASAP] / len(riders) - (1 - spec.advance_share)) < 0.04
    wheel = sum(r.wheelchairs for r in riders) / len(riders)
    assert abs(wheel - spec.wheelchair_share) < 0.015
    assert abs(sum(r.cancels for r in riders) / len(riders) - spec.cancel_share) < 0.02
    assert not any(r.cancels and r.no_show for r in riders)


def test_profile_purpose_and_attraction(kurate: Kurate) -> None:
    sc = shipped("kurate-today")
    sc = replace(sc, demand=replace(sc.demand, trips_per_day=4000))
    riders = GravityDemand().riders(sc, kurate.world, rider_streams(9)[0])
    hours = hourly_weights(sc)
    assert hours[6] == hours[19] == 0  # outside the timetable
    assert hours[18] < hours[9]  # the last half hour takes no new trips
    by_hour = Counter(r.desired_s // H for r in riders if r.mode != Mode.ARRIVE_BY)
    assert by_hour[9] > 2 * by_hour[18]
    assert outbound_probability(8) > outbound_probability(12) > outbound_probability(16)
    morning = [r for r in riders if r.desired_s < 10 * H and r.purpose != "other"]
    assert sum(r.purpose == "outbound" for r in morning) > 0.7 * len(morning)
    weight = attraction(kurate.world, sc.demand)
    town_hall = kurate.world.place_ids.index("KUR-001")
    assert weight[town_hall] > 10 * np.median(weight)
    to_hall = sum(r.destination == town_hall for r in riders if r.purpose == "outbound")
    outbound = sum(r.purpose == "outbound" for r in riders)
    assert to_hall > 5 * outbound / kurate.world.size


def test_the_population_proxy_is_residential_road_length(kurate: Kurate) -> None:
    pop = kurate.world.population
    assert pop.shape == (kurate.world.size,)
    assert (pop >= 0).all()
    assert 50_000 < pop.sum() < 500_000  # metres of residential road in town
