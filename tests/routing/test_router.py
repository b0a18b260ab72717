"""Snapping, routes and matrices: exact agreement, triangle inequality, plausible times."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import DrtError
from routing.errors import OutsideServiceArea, TooFarFromRoad, UnknownLocation
from routing.router import Router, encode_polyline

TOWN_HALL = (33.79205, 130.67467)  # 鞍手町役場


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def test_snap_town_hall(router: Router) -> None:
    snap = router.snap(*TOWN_HALL)
    assert snap.road_m < 30
    assert snap.walk_m >= snap.road_m
    assert 0 <= snap.node < router.graph.n_nodes
    assert _haversine_m(snap.lat, snap.lon, snap.road_lat, snap.road_lon) == pytest.approx(
        snap.road_m, abs=0.5
    )


def test_snap_at_a_node_is_that_node(router: Router, nodes: list[int]) -> None:
    g = router.graph
    for node in nodes[:50]:
        snap = router.snap(float(g.node_lat[node]), float(g.node_lon[node]))
        assert snap.node == node
        assert snap.walk_m == pytest.approx(0, abs=0.01)


def test_outside_service_area_names_the_limit(router: Router) -> None:
    with pytest.raises(OutsideServiceArea) as err:
        router.snap(33.5902, 130.4017)  # Fukuoka city centre
    assert err.value.details["limit_m"] == 300
    assert err.value.details["distance_outside_m"] > 20_000
    assert "サービス区域の外" in err.value.message_ja
    assert "300 m" in err.value.message_en


def test_too_far_from_road_names_the_limit(router: Router) -> None:
    with pytest.raises(TooFarFromRoad) as err:
        router.snap(*TOWN_HALL, max_snap_m=2)
    assert err.value.details["limit_m"] == 2
    assert err.value.http_status == 422


@pytest.mark.parametrize("bad", [(float("nan"), 130.67), (95.0, 130.67)])
def test_invalid_coordinates(router: Router, bad: tuple[float, float]) -> None:
    with pytest.raises(OutsideServiceArea):
        router.snap(*bad)


def test_unknown_node(router: Router) -> None:
    with pytest.raises(UnknownLocation):
        router.route(0, router.graph.n_nodes)
    with pytest.raises(UnknownLocation):
        router.matrix([-1], [0])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lat=st.floats(33.70, 33.83), lon=st.floats(130.60, 130.72))
def test_snap_either_succeeds_within_limits_or_says_why(
    router: Router, lat: float, lon: float
) -> None:
    error: DrtError | None = None
    try:
        snap = router.snap(lat, lon)
    except DrtError as exc:
        error = exc
    if error is not None:
        assert error.code in {"outside_service_area", "too_far_from_road"}
        assert error.message_ja
        assert error.message_en
    else:
        assert snap.road_m <= router.config.max_snap_m
        assert snap.walk_m >= snap.road_m


def test_matrix_entries_equal_single_queries(router: Router, nodes: list[int]) -> None:
    rng = np.random.default_rng(3)
    sample = rng.choice(nodes, size=25, replace=False)
    m = router.matrix(sample, sample)
    for i, o in enumerate(sample.tolist()):
        for j, d in enumerate(sample.tolist()):
            if (i * 25 + j) % 7:
                continue
            r = router.route(o, d)
            assert (r.duration_s, r.distance_m) == (m.duration_s[i, j], m.distance_m[i, j])
            single = router.matrix([o], [d])
            assert single.duration_s[0, 0] == m.duration_s[i, j]


def test_route_totals_are_the_sum_of_its_edges(router: Router, nodes: list[int]) -> None:
    g = router.graph
    r = router.route(nodes[0], nodes[-1])
    edges = np.array(r.edges)
    assert r.duration_s == -(-int(g.edge_time_ms[edges].sum()) // 1000)
    assert r.distance_m == -(-int(g.edge_length_dm[edges].sum()) // 10)
    assert list(g.edge_u[edges][1:]) == list(g.edge_v[edges][:-1])
    assert r.nodes[0] == nodes[0]
    assert r.nodes[-1] == nodes[-1]
    start, end = r.polyline[0], r.polyline[-1]
    assert start == pytest.approx((g.node_lat[nodes[0]], g.node_lon[nodes[0]]))
    assert end == pytest.approx((g.node_lat[nodes[-1]], g.node_lon[nodes[-1]]))


def test_triangle_inequality_holds_exactly(router: Router, nodes: list[int]) -> None:
    rng = np.random.default_rng(5)
    sample = rng.choice(nodes, size=40, replace=False)
    t = router.matrix(sample, sample).duration_s.astype(np.int64)
    via = t[:, :, None] + t[None, :, :]  # i -> j -> k
    assert np.all(t[:, None, :] <= via)
    assert np.all(np.diag(t) == 0)


def test_travel_times_are_plausible_for_the_distances(router: Router, nodes: list[int]) -> None:
    g = router.graph
    rng = np.random.default_rng(11)
    sample = rng.choice(nodes, size=60, replace=False)
    m = router.matrix(sample, sample)
    ratios = []
    for i, o in enumerate(sample.tolist()):
        for j, d in enumerate(sample.tolist()):
            if i == j:
                continue
            crow = _haversine_m(g.node_lat[o], g.node_lon[o], g.node_lat[d], g.node_lon[d])
            dist, dur = int(m.distance_m[i, j]), int(m.duration_s[i, j])
            assert dist >= crow - 1  # never shorter than a straight line
            ratios.append(dist / crow)
            kmh = dist / dur * 3.6
            assert 14 <= kmh <= 61  # between living-street and trunk speeds
    # Hills in the west force a few long detours; typical trips are close to the crow line.
    assert 1.1 <= float(np.median(ratios)) <= 1.8


def test_peak_factor_slows_trips(router: Router, nodes: list[int]) -> None:
    free = router.matrix(nodes[:10], nodes[10:20]).duration_s
    peak = router.matrix(nodes[:10], nodes[10:20], depart_s=8 * 3600).duration_s
    noon = router.matrix(nodes[:10], nodes[10:20], depart_s=12 * 3600).duration_s
    assert np.array_equal(free, noon)
    assert np.all(peak >= free)
    assert np.all(peak <= np.ceil(free * 1.2) + 1)
    assert peak.sum() > free.sum() * 1.15


def test_all_meeting_points_reach_each_other(router: Router, nodes: list[int]) -> None:
    m = router.matrix(nodes, nodes)
    off = ~np.eye(len(nodes), dtype=bool)
    assert np.all(m.duration_s[off] > 0)
    assert m.duration_s.max() < 3600  # a town: under an hour end to end


def test_encoded_polyline_known_value() -> None:
    # The reference example of the Encoded Polyline Algorithm Format.
    points = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)]
    assert encode_polyline(points) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
