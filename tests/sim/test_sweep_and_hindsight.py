"""Fleet sweeps on any executor, and the hindsight comparison on the hand-computed day."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from dispatch.params import ServiceParams
from sim.hindsight import hindsight, work_periods
from sim.simulator import simulate
from sim.sweep import SweepJob, run_sweep, summarise, sweep_figure, sweep_jobs
from sim.world import grid_world
from tests.sim.conftest import Kurate, line_world, shipped, small_scenario
from tests.sim.test_hand_day import riders
from tests.sim.test_promises import SMALL_CITY


class InProcess:
    """An executor with only ``map``, like a Dask client's or a Ray pool."""

    def __init__(self) -> None:
        self.calls = 0

    def map(self, fn: Callable[[SweepJob], Any], jobs: Iterable[SweepJob], /) -> Iterator[Any]:
        self.calls += 1
        return map(fn, jobs)


def tiny_jobs(params: ServiceParams) -> list[SweepJob]:
    base = shipped("city-scale")
    sc = replace(base, demand=replace(base.demand, trips_per_day=60), grid=SMALL_CITY)
    return sweep_jobs(sc, grid_world(SMALL_CITY), params, [1, 3], [1, 2])


def test_a_sweep_runs_on_any_executor_with_map(params: ServiceParams) -> None:
    jobs = tiny_jobs(params)
    seen: list[dict[str, Any]] = []
    executor = InProcess()
    rows = run_sweep(jobs, executor=executor, on_result=seen.append)
    assert executor.calls == 1
    assert rows == seen
    assert [(r["vehicles"], r["seed"]) for r in rows] == [(1, 1), (1, 2), (3, 1), (3, 2)]
    summary = summarise(rows)
    assert [s["vehicles"] for s in summary] == [1, 3]
    assert summary[1]["served_share_mean"] >= summary[0]["served_share_mean"]
    one = [r["served_share"] for r in rows if r["vehicles"] == 1]
    assert summary[0]["served_share_mean"] == pytest.approx(sum(one) / 2, abs=1e-4)
    assert summary[0]["served_share_min"] == min(one)
    assert sweep_figure(summary, "t").axes


def test_the_local_process_pool_gives_the_same_rows(params: ServiceParams) -> None:
    jobs = tiny_jobs(params)[:2]

    def kpis(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]

    assert kpis(run_sweep(jobs, workers=2)) == kpis(run_sweep(jobs, executor=InProcess()))


def test_hindsight_on_the_hand_computed_day(params: ServiceParams) -> None:
    """Offline, the two riders share the van on the same 30 km round trip: ratios of 1."""
    world = line_world()
    day = simulate(small_scenario(), world, params, seed=1, riders=riders())
    h = hindsight(day, world, params, riders(), time_limit_s=0.2)
    assert (h.requests, h.online_served, h.offline_served) == (2, 2, 2)
    assert (h.online_km, h.offline_km) == (30.0, 30.0)
    assert (h.served_ratio, h.km_ratio) == (1.0, 1.0)


def test_hindsight_keeps_the_vehicle_hours_and_breaks(kurate: Kurate) -> None:
    sc = shipped("kurate-2028")
    day = simulate(sc, kurate.world, kurate.params, seed=2)
    periods = work_periods(day)
    assert len(periods) == 6  # three vans, each cut once by its lunch break
    worked = sum(p[4] - p[3] for p in periods)
    assert worked == 3 * (12 * 3600 - 45 * 60)
    h = hindsight(day, kurate.world, kurate.params, _riders(sc, kurate), time_limit_s=1.0)
    assert h.requests >= h.online_served > 0
    assert h.offline_served > 0
    assert h.served_ratio is not None
    assert h.km_ratio is not None


def _riders(sc: Any, kurate: Kurate) -> Any:
    from sim.demand import demand_model
    from sim.simulator import rider_streams

    return demand_model(sc.demand.model).riders(sc, kurate.world, rider_streams(2)[0])
