"""Walking coverage: the union-along-the-road arithmetic, and the shipped set's figures."""

from __future__ import annotations

import numpy as np
import pytest

from routing.config import AreaConfig
from routing.coverage import RoadSet, coverage_report, covered_length, uncovered_spans
from routing.router import Router


def _roads() -> RoadSet:
    # Three roads on nodes 0..3: 0-1 is 400 m, 1-2 is 100 m, 2-3 is 700 m.
    return RoadSet(
        a=np.array([0, 1, 2]),
        b=np.array([1, 2, 3]),
        length_m=np.array([400.0, 100.0, 700.0]),
        edge=np.array([10, 11, 12]),
    )


def test_union_along_each_road_by_hand() -> None:
    # One stop at node 0; walking distances to nodes 0..3 are 0, 400, 500, 1200.
    dist = np.array([0.0, 400.0, 500.0, 1200.0])
    assert covered_length(_roads(), dist, 300).tolist() == [300.0, 0.0, 0.0]
    assert covered_length(_roads(), dist, 450).tolist() == [400.0, 50.0, 0.0]
    # Stops at 0 and 3: the 700 m road is reached 300 m from its far end only.
    dist = np.array([0.0, 400.0, 500.0, 0.0])
    assert covered_length(_roads(), dist, 300).tolist() == [300.0, 0.0, 300.0]
    # Both ends of a road within reach: the union never counts more than the road.
    dist = np.array([0.0, 100.0, 200.0, 900.0])
    assert covered_length(_roads(), dist, 300).tolist() == [400.0, 100.0, 100.0]


def test_uncovered_spans_by_hand() -> None:
    dist = np.array([0.0, 400.0, 500.0, 0.0])
    spans = uncovered_spans(_roads(), dist, 300)
    assert spans == [(10, 300.0, 400.0), (11, 0.0, 100.0), (12, 0.0, 400.0)]


def test_shipped_points_meet_the_target(
    router: Router, area_cfg: AreaConfig, nodes: list[int]
) -> None:
    report = coverage_report(router.graph, router.area, nodes, area_cfg.stops.coverage_highways)
    assert report["within_300m"] >= 0.97
    assert report["within_200m"] <= report["within_300m"] <= report["within_500m"] <= 1.0
    assert 90 <= report["road_km"] <= 110  # about 100 km of residential roads in the town


def test_coverage_is_monotone_in_the_stops(
    router: Router, area_cfg: AreaConfig, nodes: list[int]
) -> None:
    highways = area_cfg.stops.coverage_highways
    half = coverage_report(router.graph, router.area, nodes[::2], highways)
    full = coverage_report(router.graph, router.area, nodes, highways)
    none = coverage_report(router.graph, router.area, [], highways)
    assert none["within_500m"] == 0.0
    assert half["within_300m"] < full["within_300m"]
    assert full["road_km"] == pytest.approx(half["road_km"])
