"""Meeting point generation on the real data: coverage, determinism and names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.config import AreaConfig
from routing.coverage import coverage_report
from routing.osm_features import read_places, read_pois
from routing.placement import PlacementResult, compass, generate_meeting_points, unique_names
from routing.router import Router


@pytest.fixture(scope="module")
def generated(router: Router, area_cfg: AreaConfig) -> tuple[PlacementResult, AreaConfig]:
    cfg = replace(area_cfg, stops=replace(area_cfg.stops, target_count=150, solver_time_limit_s=30))
    pois, places = read_pois(cfg.roads_pois), read_places(cfg.places)
    return generate_meeting_points(router, cfg, pois, places, "KUR"), cfg


def test_generation_reaches_the_coverage_target(
    router: Router, generated: tuple[PlacementResult, AreaConfig]
) -> None:
    result, cfg = generated
    assert len(result.points) == 150 == len(set(result.nodes))
    assert result.poi_count >= 20  # the town's named schools, post offices, town hall, ...
    report = coverage_report(router.graph, router.area, result.nodes, cfg.stops.coverage_highways)
    assert report["within_300m"] >= 0.97
    assert result.solver_objective_km >= result.greedy_objective_km


def test_generation_is_deterministic(
    router: Router, generated: tuple[PlacementResult, AreaConfig]
) -> None:
    result, cfg = generated
    pois, places = read_pois(cfg.roads_pois), read_places(cfg.places)
    again = generate_meeting_points(router, cfg, pois, places, "KUR")
    assert again.nodes == result.nodes
    assert [p.name for p in again.points] == [p.name for p in result.points]


def test_poi_points_carry_the_poi_name(generated: tuple[PlacementResult, AreaConfig]) -> None:
    result, cfg = generated
    names = {p.name for p in result.points if p.source == "poi"}
    assert {"鞍手町役場", "鞍手町立病院", "鞍手郵便局"} <= names  # the name residents say
    pois = {p.name for p in read_pois(cfg.roads_pois)}
    aliases = cfg.stops.name_aliases
    assert names <= (pois - set(aliases)) | set(aliases.values())  # never an invented landmark


def test_compass_and_unique_names() -> None:
    assert compass(1, 0) == "東"
    assert compass(0, 1) == "北"
    assert compass(-1, -1) == "南西"
    names = unique_names(["A", "A", "B", "A"], [(0, 100), (0, -100), (5, 5), (0, -120)])
    assert names[2] == "B"
    assert len(set(names)) == 4
    assert names[0] == "A(北)"
