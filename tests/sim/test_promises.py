"""A simulated day never breaks a promise silently, and the same seed gives the same day.

Without travel-time noise (and with drivers who do not wait for riders who do not come) every
served rider is picked up inside the promised window, dropped off by the promised time and
rides no longer than promised, and the dispatcher never has to report a rider at risk. With
noise, promises can break, but each broken one was reported (``AtRisk``) before the pickup or
drop-off that broke it, and counted in the KPIs.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from common.errors import ConfigError
from sim.kpi import compute_kpis, promise_late_s
from sim.records import DayResult, Outcome, TripRecord
from sim.scenario import GridSpec, OperationsSpec, Scenario
from sim.simulator import simulate
from sim.world import World, grid_world
from tests.sim.conftest import Kurate, shipped, without_noise

SMALL_CITY = GridSpec(size_km=4.0, spacing_m=500.0, speed_kmh=25.0, depots=2, layout_seed=7)


def small_city(sigma: float) -> tuple[Scenario, World]:
    """Six vans, about 300 trips on a 4 x 4 km synthetic grid (so riders get moved between vans)."""
    base = shipped("city-scale")
    sc = replace(
        base.with_fleet(6),
        demand=replace(base.demand, trips_per_day=300),
        operations=OperationsSpec(sigma, 0 if sigma == 0 else 120, 0.25),
        grid=SMALL_CITY,
    )
    return sc, grid_world(SMALL_CITY)


def served(day: DayResult) -> list[TripRecord]:
    return [t for t in day.trips if t.outcome == Outcome.SERVED]


def assert_every_promise_kept(day: DayResult, dwell_board_s: int) -> None:
    riders = served(day)
    assert len(riders) >= 0.5 * len(day.trips)
    for t in riders:
        p = t.promise
        assert p is not None
        assert t.board_s is not None
        assert t.alight_s is not None
        assert p.pickup_from_s <= t.board_s <= p.pickup_to_s, t
        assert t.alight_s <= p.dropoff_by_s, t
        assert t.alight_s - (t.board_s + dwell_board_s * t.persons) <= p.max_ride_s, t
    assert day.risks == []
    assert not [t for t in day.trips if t.outcome in (Outcome.PENDING, Outcome.CONFIRMED)]


@pytest.mark.parametrize("name", ["kurate-today", "kurate-2028"])
def test_without_noise_kurate_keeps_every_promise(kurate: Kurate, name: str) -> None:
    day = simulate(without_noise(shipped(name)), kurate.world, kurate.params, seed=11)
    assert_every_promise_kept(day, kurate.params.dwell_board_s)
    assert compute_kpis(day, kurate.params.dwell_board_s)["promises_broken"] == 0


def test_without_noise_a_busy_city_keeps_every_promise(kurate: Kurate) -> None:
    sc, world = small_city(0.0)
    day = simulate(sc, world, kurate.params, seed=3)
    assert_every_promise_kept(day, kurate.params.dwell_board_s)


@pytest.mark.parametrize("where", ["kurate", "city"])
def test_with_noise_a_broken_promise_was_announced_first(kurate: Kurate, where: str) -> None:
    if where == "kurate":
        sc = replace(shipped("kurate-2028"), operations=OperationsSpec(0.3, 120, 0.25))
        world = kurate.world
    else:
        sc, world = small_city(0.3)
    day = simulate(sc, world, kurate.params, seed=5)
    dwell = kurate.params.dwell_board_s
    first_notice: dict[str, int] = {}
    for r in day.risks:
        first_notice.setdefault(r.booking_id, r.at_s)
    broken = [t for t in served(day) if promise_late_s(t, dwell) > 0]
    assert broken, "noise this large should break some promises"
    for t in broken:
        assert t.promise is not None
        assert t.board_s is not None
        assert t.alight_s is not None
        assert t.booking_id in first_notice, t
        assert t.at_risk_reports > 0
        broke_at = t.board_s if t.board_s > t.promise.pickup_to_s else t.alight_s
        assert first_notice[t.booking_id] <= broke_at, t
    kpis = compute_kpis(day, dwell)
    assert kpis["promises_broken"] == len(broken)
    late_pickups = [t for t in broken if t.board_s > t.promise.pickup_to_s]  # type: ignore[union-attr, operator]
    late_dropoffs = [t for t in broken if t.alight_s > t.promise.dropoff_by_s]  # type: ignore[union-attr, operator]
    assert (kpis["pickups_late"], kpis["dropoffs_late"]) == (len(late_pickups), len(late_dropoffs))
    assert late_pickups  # this much noise makes some pickups late
    n = len(served(day))
    assert kpis["on_time_pickup_share"] == round(1 - len(late_pickups) / n, 4)
    assert kpis["on_time_dropoff_share"] == round(1 - len(late_dropoffs) / n, 4)
    assert kpis["at_risk_reports"] == len(day.risks) >= len(broken)


def test_the_same_seed_gives_the_same_day(kurate: Kurate) -> None:
    sc = shipped("kurate-today")
    dwell = kurate.params.dwell_board_s
    one = simulate(sc, kurate.world, kurate.params, seed=5)
    two = simulate(sc, kurate.world, kurate.params, seed=5)
    assert compute_kpis(one, dwell) == compute_kpis(two, dwell)
    assert [t.row() for t in one.trips] == [t.row() for t in two.trips]
    assert one.legs == two.legs
    other = simulate(sc, kurate.world, kurate.params, seed=6)
    assert compute_kpis(other, dwell) != compute_kpis(one, dwell)


def test_demand_does_not_depend_on_the_fleet(kurate: Kurate) -> None:
    """Common random numbers: a fleet what-if sees the very same riders."""
    sc = shipped("kurate-today")
    one = simulate(sc, kurate.world, kurate.params, seed=8)
    three = simulate(sc.with_fleet(3), kurate.world, kurate.params, seed=8)
    wishes = [(t.rider, t.request_s, t.origin, t.destination, t.mode) for t in one.trips]
    assert wishes == [(t.rider, t.request_s, t.origin, t.destination, t.mode) for t in three.trips]
    assert len(served(three)) >= len(served(one))


def test_a_planning_factor_keeps_more_promises_under_noise(kurate: Kurate) -> None:
    """``plan_travel_pct`` (a service parameter, so the live service can use it too)."""
    sc = replace(shipped("kurate-2028"), operations=OperationsSpec(0.1, 120, 0.25))
    dwell = kurate.params.dwell_board_s
    broken = []
    for pct in (100, 120):  # the factor alone: no slack, no peak hours
        params = replace(kurate.params, promise_slack_s=0, plan_peak_traffic=False,
                         plan_travel_pct=pct)  # fmt: skip
        day = simulate(sc, kurate.world, params, seed=4)
        broken.append(compute_kpis(day, dwell)["promises_broken"])
    assert broken[1] < broken[0]


def test_the_shipped_promise_slack_keeps_more_promises_under_noise(kurate: Kurate) -> None:
    """The same noisy day planned with the whole promise and with Kurate's slack."""
    sc = shipped("kurate-2028")
    dwell = kurate.params.dwell_board_s
    assert kurate.params.promise_slack_s > 0
    late = []
    for slack in (0, kurate.params.promise_slack_s):
        day = simulate(sc, kurate.world, replace(kurate.params, promise_slack_s=slack), seed=2)
        k = compute_kpis(day, dwell)
        late.append((k["pickups_late"], k["dropoffs_late"], k["promises_broken"]))
    assert late[1][2] < late[0][2]
    assert late[1][0] < late[0][0]
    assert late[1][1] < late[0][1]


def test_peak_traffic_slows_the_drives_that_start_in_the_area_s_peaks(kurate: Kurate) -> None:
    """Kurate's area.toml: 07:00-09:00 at 120 %, 16:30-18:30 at 115 %; with
    ``peak_traffic`` each simulated drive takes its start's factor, without noise exactly."""
    w = kurate.world
    assert w.peak == ((7 * 3600, 9 * 3600, 120), (16 * 3600 + 1800, 18 * 3600 + 1800, 115))
    exact = without_noise(shipped("kurate-2028"))
    seen = set()
    for peak in (False, True):
        sc = replace(exact, operations=replace(exact.operations, peak_traffic=peak))
        day = simulate(sc, w, kurate.params, seed=3)
        for leg in day.legs:
            real = int(w.duration_s[leg.origin, leg.destination])
            pct = w.peak_pct(leg.depart_s) if peak else 100
            assert (
                leg.arrive_s - leg.depart_s
                == round(real * pct / 100) + kurate.params.stop_overhead_s
            )
            seen.add((peak, pct))
    assert {(True, 120), (True, 115), (True, 100), (False, 100)} <= seen


def test_learned_travel_replays_each_class_s_learned_factor(kurate: Kurate) -> None:
    """``operations.learned_travel``: each drive takes, per highway class of its path, the
    factor learned for the band it starts in (here: main roads 150 % all day, residential
    streets 80 % in the morning peak, no spread), weighted by the class's share."""
    learned = (
        *((c, 0, 86400, 150, 0.0) for c in kurate.world.classes if c != "residential"),
        ("residential", 7 * 3600, 9 * 3600, 80, 0.0),
    )
    w = replace(kurate.world, learned=learned)
    exact = without_noise(shipped("kurate-2028"))
    sc = replace(exact, operations=replace(exact.operations, learned_travel=True))
    day = simulate(sc, w, kurate.params, seed=3)
    residential = w.classes.index("residential")
    checked = 0
    for leg in day.legs:
        real = int(w.duration_s[leg.origin, leg.destination])
        share = w.class_share[leg.origin, leg.destination]  # type: ignore[index]
        if real == 0:
            continue
        in_peak = 7 * 3600 <= leg.depart_s % 86400 < 9 * 3600
        pct = 150 * (1 - share[residential]) + (80 if in_peak else 100) * share[residential]
        assert (
            leg.arrive_s - leg.depart_s == round(real * pct / 100) + kurate.params.stop_overhead_s
        )
        checked += 1
    assert checked > 100


def test_learned_travel_needs_learned_times(kurate: Kurate) -> None:
    sc = shipped("kurate-2028")
    sc = replace(sc, operations=replace(sc.operations, learned_travel=True))
    with pytest.raises(ConfigError, match="learned_travel"):
        simulate(sc, replace(kurate.world, learned=()), kurate.params, seed=1)
