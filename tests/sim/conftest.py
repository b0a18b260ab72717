"""Fixtures for the planner simulation.

``line_world``: places 0..n-1 on a line, 600 s and 5 km apart, depot at 0 (hand-computed
days). ``kurate``: Kurate's real world (road graph built once per run into a temporary cache,
meeting points, weights), for the shipped scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from dispatch.params import ServiceParams, load_params
from routing import load_router
from routing.config import load_area
from routing.router import Router
from routing.stops import load_stops, stop_nodes
from sim.scenario import (
    DemandSpec,
    OperationsSpec,
    Scenario,
    VehicleGroup,
    load_scenario,
)
from sim.world import World, area_world

ROOT = Path(__file__).resolve().parents[2]
AREA_FILE = ROOT / "areas" / "kurate" / "area.toml"
SCENARIOS = AREA_FILE.parent / "scenarios"
H = 3600


def line_world(places: int = 4, step_s: int = 600, step_m: int = 5000) -> World:
    idx = np.arange(places)
    gap = np.abs(idx[:, None] - idx[None, :])
    return World(
        name="line",
        place_ids=tuple(f"L-{i:03d}" for i in range(places)),
        place_names=tuple(f"place {i}" for i in range(places)),
        x=idx * float(step_m),
        y=np.zeros(places),
        geographic=False,
        duration_s=gap * step_s,
        distance_m=gap * step_m,
        population=np.ones(places),
        features={},
        depots=(0,),
        nearby=tuple(() for _ in range(places)),
    )


def small_scenario(
    vehicles: int = 1,
    start_s: int = 8 * H,
    end_s: int = 12 * H,
    *,
    sigma: float = 0.0,
    no_show_wait_s: int = 0,
    depart_early_share: float = 0.0,
    demand: DemandSpec | None = None,
) -> Scenario:
    return Scenario(
        name="small",
        title_ja="小さな一日",
        title_en="A small day",
        world="grid",
        day="weekday",
        service_start_s=start_s,
        service_end_s=end_s,
        fleet=(VehicleGroup(vehicles, 8, 1),),
        demand=demand or DemandSpec(trips_per_day=0),
        operations=OperationsSpec(sigma, no_show_wait_s, depart_early_share),
    )


def without_noise(scenario: Scenario) -> Scenario:
    """The same scenario with exact drives and drivers who do not wait for no-shows."""
    return replace(scenario, operations=OperationsSpec(0.0, 0, 0.25))


@dataclass(frozen=True)
class Kurate:
    router: Router
    world: World
    params: ServiceParams
    cache_dir: Path


@pytest.fixture(scope="session")
def kurate(tmp_path_factory: pytest.TempPathFactory) -> Kurate:
    """Kurate's road graph (built once into a temporary cache), world and service parameters."""
    cfg = load_area(AREA_FILE)
    cache = tmp_path_factory.mktemp("sim-graph-cache")
    router, _ = load_router(cfg, cache)
    stops = load_stops(cfg.meeting_points)
    world = area_world(router, cfg, stops, stop_nodes(router, stops))
    return Kurate(router, world, load_params(AREA_FILE.parent / "service.toml"), cache)


@pytest.fixture
def params() -> ServiceParams:
    return ServiceParams()


def shipped(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.toml")
