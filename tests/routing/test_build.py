"""The compiled graph: connectivity, speeds, the cache, and clear errors for bad sources."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from common.errors import ConfigError
from routing import load_router
from routing.area import InvalidGeoJSON, ServiceArea
from routing.build import cache_path, edge_speed_kmh, load_or_build, parse_maxspeed_kmh
from routing.config import AreaConfig, load_area
from routing.graph import RoadGraph
from routing.router import Router


def test_graph_is_one_strongly_connected_component(router: Router) -> None:
    count, _ = connected_components(router.graph.csr_matrix(), directed=True, connection="strong")
    assert count == 1
    assert router.graph.n_nodes > 4000


def test_report_accounts_for_what_was_dropped(router: Router) -> None:
    r = router.graph.report
    assert r.nodes == router.graph.n_nodes
    assert r.components > 1
    assert r.dropped_nodes > 0
    assert r.source_nodes == r.outside_extent_nodes + r.dropped_nodes + r.nodes - r.split_nodes
    assert r.split_nodes > 0
    assert r.split_edges > 0
    assert r.excluded_edges > 0  # the expressway is taken out


def test_long_roads_are_cut_into_short_edges(router: Router, area_cfg: AreaConfig) -> None:
    g = router.graph
    assert g.edge_length_dm.max() <= area_cfg.routing.max_edge_m * 10 + 1
    # Each part keeps the geometry of its stretch: the polyline is about as long as the edge.
    x, y = g.projection.to_xy(g.geom_lat, g.geom_lon)
    seg = np.hypot(np.diff(x), np.diff(y))
    ends = g.geom_ptr[1:-1] - 1
    seg[ends] = 0.0  # no segment joins the last point of an edge to the next edge
    per_edge = np.add.reduceat(seg, g.geom_ptr[:-1])
    assert np.allclose(per_edge, g.edge_length_dm / 10, rtol=0.02, atol=2.0)


def test_expressway_is_not_in_the_graph(router: Router) -> None:
    names = set(router.graph.highway_names[router.graph.edge_highway].tolist())
    assert not names & {"motorway", "motorway_link"}
    assert {"residential", "unclassified", "tertiary"} <= names


def test_every_edge_time_follows_the_speed_table(router: Router, area_cfg: AreaConfig) -> None:
    g = router.graph
    length_m = g.edge_length_dm / 10.0
    speed = np.array([area_cfg.routing.speed_for(h) for h in g.highway_names[g.edge_highway]])
    expected_ms = np.maximum(1, np.round(length_m * 3600.0 / speed))
    # Lengths are stored in whole decimetres; times come from the unrounded length.
    tol = 0.05 * 3600.0 / speed + 1
    # Mixed-class edges take the slowest of their classes, so they may only be slower.
    assert np.all(g.edge_time_ms >= expected_ms - tol)
    assert np.mean(np.abs(g.edge_time_ms - expected_ms) <= tol) > 0.97


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("50", 50.0), ("30 mph", 48.28032), (["40", "60"], 40.0), ("none", None), (None, None)],
)
def test_maxspeed_parsing(value: object, kmh: float | None) -> None:
    assert parse_maxspeed_kmh(value) == (pytest.approx(kmh) if kmh else None)


def test_maxspeed_wins_over_the_table(area_cfg: AreaConfig) -> None:
    assert edge_speed_kmh({"highway": "residential", "maxspeed": "20"}, area_cfg.routing) == (
        20.0,
        "maxspeed",
    )
    assert edge_speed_kmh({"highway": ["residential", "trunk"]}, area_cfg.routing) == (
        30.0,
        "table",
    )


def test_cache_round_trip_is_identical(
    router: Router, area_cfg: AreaConfig, graph_cache: Path
) -> None:
    loaded = RoadGraph.load(cache_path(area_cfg, graph_cache))
    for name in (
        "node_lat",
        "edge_time_ms",
        "edge_length_dm",
        "csr_indptr",
        "csr_edge",
        "geom_lat",
    ):
        assert np.array_equal(getattr(loaded, name), getattr(router.graph, name)), name
    assert loaded.report == router.graph.report
    again, cached = load_router(area_cfg, graph_cache)
    assert cached is True
    assert again.graph.n_edges == router.graph.n_edges


def test_cache_key_follows_the_config(area_cfg: AreaConfig) -> None:
    slower = replace(
        area_cfg,
        routing=replace(area_cfg.routing, speeds_kmh={**area_cfg.routing.speeds_kmh, "trunk": 50}),
    )
    assert slower.graph_cache_key() != area_cfg.graph_cache_key()
    # The peak profile does not change the graph, so it must not invalidate the cache.
    no_peak = replace(area_cfg, routing=replace(area_cfg.routing, peak=()))
    assert no_peak.graph_cache_key() == area_cfg.graph_cache_key()


def test_torn_cache_file_is_rebuilt(area_cfg: AreaConfig, tmp_path: Path, router: Router) -> None:
    path = cache_path(area_cfg, tmp_path)
    path.write_bytes(b"not a zip file")
    graph, cached = load_or_build(area_cfg, router.area, tmp_path)
    assert cached is False
    assert graph.n_edges == router.graph.n_edges
    assert RoadGraph.load(path).n_edges == router.graph.n_edges


def test_missing_osm_file_is_a_clear_error_and_writes_nothing(
    area_copy: Path, tmp_path: Path
) -> None:
    (area_copy.parent / "osm" / "kurate_drive.graphml.gz").unlink()
    cfg = load_area(area_copy)
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError) as err:
        load_router(cfg, cache)
    assert err.value.details["key"] == "area.drive_graph"
    assert "kurate_drive.graphml.gz" in err.value.message_ja
    assert not cache.exists()


def test_malformed_boundary_geojson_is_a_clear_error(area_copy: Path, tmp_path: Path) -> None:
    boundary = area_copy.parent / "osm" / "kurate_boundary.geojson"
    boundary.unlink()
    boundary.write_text('{"type": "FeatureCollection", "features": [')
    cfg = load_area(area_copy)
    with pytest.raises(InvalidGeoJSON) as err:
        ServiceArea.from_file(cfg.boundary, cfg.name, 300)
    assert err.value.code == "geojson_invalid"
    boundary.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"geometry": {"type": "Point", "coordinates": [130.6, 33.7]}}]}'
    )
    with pytest.raises(InvalidGeoJSON, match="Polygon"):
        ServiceArea.from_file(cfg.boundary, cfg.name, 300)
    assert not (tmp_path / "cache").exists()


def test_corrupt_osm_file_is_a_clear_error(area_copy: Path, tmp_path: Path) -> None:
    graph_file = area_copy.parent / "osm" / "kurate_drive.graphml.gz"
    graph_file.unlink()
    graph_file.write_bytes(b"\x1f\x8b garbage")
    cfg = load_area(area_copy)
    with pytest.raises(ConfigError, match="road network"):
        load_router(cfg, tmp_path / "cache")
    assert list((tmp_path / "cache").glob("*.npz")) == []
