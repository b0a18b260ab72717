"""Fleet-size what-ifs: many simulated days (fleet size x seed), run in parallel.

A sweep is a list of independent :class:`SweepJob` values, each carrying everything it needs
(the scenario, the world's arrays, the service parameters, the fleet size and the seed) and
each returning a small dict of KPIs from :func:`run_job`, a plain top-level function. Any
executor with a ``map(fn, jobs)`` runs them: by default a local
``concurrent.futures.ProcessPoolExecutor``; for a large sweep, a Dask client's
``client.get_executor()`` or a Ray ``ray.util.multiprocessing.Pool`` can be passed to
:func:`run_sweep` with no change to the simulation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dispatch.params import ServiceParams
from sim.kpi import compute_kpis
from sim.scenario import Scenario
from sim.simulator import simulate
from sim.world import World

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: KPIs summarised per fleet size (mean, and the range over seeds).
SUMMARY_KPIS = (
    "served_share",
    "wait_mean_s",
    "wait_p90_s",
    "passenger_trips_per_vehicle_hour",
    "pooling_rate",
    "empty_km",
    "promises_broken",
)


@dataclass(frozen=True, slots=True)
class SweepJob:
    scenario: Scenario
    world: World
    params: ServiceParams
    fleet: int
    seed: int


JobFn = Callable[[SweepJob], dict[str, Any]]


class Executor(Protocol):
    """Anything that maps a function over jobs, like ``concurrent.futures.Executor``."""

    def map(self, fn: JobFn, jobs: Iterable[SweepJob], /) -> Iterable[dict[str, Any]]: ...


def run_job(job: SweepJob) -> dict[str, Any]:
    """One simulated day of the sweep: its KPIs and how long it took."""
    day = simulate(job.scenario.with_fleet(job.fleet), job.world, job.params, job.seed)
    kpis = compute_kpis(day, job.params.dwell_board_s)
    kpis["wall_s"] = round(day.wall_s, 3)
    return kpis


def sweep_jobs(
    scenario: Scenario,
    world: World,
    params: ServiceParams,
    fleets: Sequence[int],
    seeds: Sequence[int],
) -> list[SweepJob]:
    return [SweepJob(scenario, world, params, f, s) for f in fleets for s in seeds]


def run_sweep(
    jobs: Sequence[SweepJob],
    executor: Executor | None = None,
    workers: int = 2,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Every job's KPIs, in job order (``on_result`` sees each as it comes)."""

    def collect(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in results:
            out.append(row)
            if on_result is not None:
                on_result(row)
        return out

    if executor is not None:
        return collect(executor.map(run_job, jobs))
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        return collect(pool.map(run_job, jobs))


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per fleet size: the mean, minimum and maximum of each summary KPI over the seeds."""
    out = []
    for fleet in sorted({r["vehicles"] for r in rows}):
        mine = [r for r in rows if r["vehicles"] == fleet]
        row: dict[str, Any] = {"vehicles": fleet, "seeds": len(mine)}
        for key in SUMMARY_KPIS:
            values = [r[key] for r in mine if r.get(key) is not None]
            row[f"{key}_mean"] = round(float(np.mean(values)), 4) if values else None
            row[f"{key}_min"] = min(values) if values else None
            row[f"{key}_max"] = max(values) if values else None
        out.append(row)
    return out


def sweep_figure(summary: Sequence[dict[str, Any]], title: str) -> Figure:
    """Served share and waits against fleet size (mean over seeds, bars = range)."""
    from sim.report import new_figure

    fleets = np.array([r["vehicles"] for r in summary])
    fig, (left, right) = new_figure(11, 4.2, ncols=2)

    def band(ax: Any, key: str, scale: float, label: str, colour: str) -> None:
        rows = [r for r in summary if r[f"{key}_mean"] is not None]
        x = np.array([r["vehicles"] for r in rows])
        mean = np.array([r[f"{key}_mean"] for r in rows]) * scale
        lo = mean - np.array([r[f"{key}_min"] for r in rows]) * scale
        hi = np.array([r[f"{key}_max"] for r in rows]) * scale - mean
        ax.errorbar(x, mean, yerr=[lo, hi], marker="o", capsize=4, color=colour, label=label)

    band(left, "served_share", 100, "乗れた割合 / served share", "#1b9e77")
    left.set_ylabel("乗れた割合(%)/ served share (%)")
    left.set_ylim(0, 105)
    band(right, "wait_mean_s", 1 / 60, "平均 / mean", "#7570b3")
    band(right, "wait_p90_s", 1 / 60, "90%", "#d95f02")
    right.set_ylabel("待ち時間(分)/ wait (minutes)")
    right.set_ylim(bottom=0)
    for ax in (left, right):
        ax.set_xlabel("車の台数 / vehicles")
        ax.set_xticks(fleets)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    fig.suptitle(title)
    return fig
