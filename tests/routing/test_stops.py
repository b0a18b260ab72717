"""The shipped meeting points, their ids and names, and safe edits of the file."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from routing.area import InvalidGeoJSON
from routing.names import district_label
from routing.router import Router
from routing.stops import (
    KINDS,
    MeetingPoint,
    MeetingPointSet,
    StopError,
    UnknownStop,
    assign_ids,
    load_stops,
    save_stops,
)


def test_shipped_set_size_and_kinds(stops: MeetingPointSet) -> None:
    assert 150 <= len(stops.points) <= 220
    kinds = {p.kind for p in stops.points}
    assert {"town_hall", "hospital", "school", "post_office", "coverage"} <= kinds
    assert kinds <= set(KINDS)
    assert any(p.name == "鞍手町役場" for p in stops.points)


def test_names_are_unique_and_recognisable(stops: MeetingPointSet) -> None:
    names = [p.name for p in stops.points]
    assert len(set(names)) == len(names)
    for name in names:
        assert not re.search(
            r"(?i)stop\s*\d+|^\d+$|ポイント\s*\d+$|[PＰ][AＡ]上り|[PＰ][AＡ]（下り", name
        ), name
    coverage = [p for p in stops.points if p.kind == "coverage"]
    # Coverage points start with their 大字 (without the word 大字) or 丁目, from OSM's places.
    assert all(p.district and p.name.startswith(district_label(p.district)) for p in coverage)


def test_every_point_sits_on_a_graph_node(
    router: Router, stops: MeetingPointSet, nodes: list[int]
) -> None:
    g = router.graph
    assert len(set(nodes)) == len(nodes)  # no two points share a junction
    for p, node in zip(stops.points, nodes, strict=True):
        assert (p.lat, p.lon) == pytest.approx((g.node_lat[node], g.node_lon[node]), abs=1e-6)


def test_points_lie_in_the_town(router: Router, stops: MeetingPointSet) -> None:
    lat = np.array([p.lat for p in stops.points])
    lon = np.array([p.lon for p in stops.points])
    x, y = router.area.projection.to_xy(lat, lon)
    assert np.all(router.area.contains_xy(x, y, margin=True))


def test_geojson_round_trip(stops: MeetingPointSet, tmp_path: Path) -> None:
    path = tmp_path / "mp.geojson"
    save_stops(stops, path)
    again = load_stops(path)
    assert again == stops
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert "OpenStreetMap" in data["attribution"]
    assert set(data["features"][0]["properties"]) >= {
        "id",
        "name",
        "short_name",
        "kind",
        "kana",
        "kana_source",
        "district",
    }


def _point(i: int, lat: float, name: str) -> MeetingPoint:
    return MeetingPoint(id=f"KUR-{i:03d}", name=name, kind="coverage", lat=lat, lon=130.67)


def test_regenerated_points_keep_their_ids_and_new_ids_are_never_reused() -> None:
    old = MeetingPointSet("KUR", (_point(1, 33.790, "A"), _point(2, 33.800, "B")), next_id=5)
    fresh = [_point(1, 33.8001, "B2"), _point(2, 33.810, "C"), _point(3, 33.7900, "A2")]
    new = assign_ids(old, "KUR", fresh, match_m=30)
    by_name = {p.name: p.id for p in new.points}
    assert by_name == {"A2": "KUR-001", "B2": "KUR-002", "C": "KUR-005"}
    assert new.next_id == 6


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: s.with_removed("KUR-999"), UnknownStop),
        (lambda s: s.with_renamed(s.points[0].id, s.points[1].name, None), StopError),
        (lambda s: s.with_renamed(s.points[0].id, "", None), StopError),
        (lambda s: s.with_added(replace(s.points[0], id=s.new_id())), StopError),  # same name
        (lambda s: s.with_added(replace(s.points[0], id="KUR-001", name="新しい")), StopError),
        (
            lambda s: s.with_added(replace(s.points[0], id=s.new_id(), name="x", kind="bus")),
            StopError,
        ),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    stops: MeetingPointSet, tmp_path: Path, change: object, error: type[Exception]
) -> None:
    path = tmp_path / "mp.geojson"
    save_stops(stops, path)
    before = path.read_bytes()
    with pytest.raises(error):
        save_stops(change(load_stops(path)), path)  # type: ignore[operator]
    assert path.read_bytes() == before


def test_edits(stops: MeetingPointSet) -> None:
    first = stops.points[0]
    renamed = stops.with_renamed(first.id, "鞍手町役場前", "くらてまちやくばまえ")
    assert renamed.get(first.id).name == "鞍手町役場前"
    assert renamed.get(first.id).kana == "くらてまちやくばまえ"
    removed = stops.with_removed(first.id)
    assert len(removed.points) == len(stops.points) - 1
    added = removed.with_added(replace(first, id=removed.new_id(), name="新しい乗降ポイント"))
    assert added.points[-1].id == f"KUR-{stops.next_id:03d}"
    assert added.next_id == stops.next_id + 1


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"type": "Topology"}',
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]}',
    ],
)
def test_malformed_stop_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mp.geojson"
    path.write_text(text)
    with pytest.raises(InvalidGeoJSON):
        load_stops(path)
