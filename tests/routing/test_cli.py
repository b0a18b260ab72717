"""The `drt` command line: the JSON interfaces reviews call, and errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drt.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, graph_cache: Path, router: object) -> None:
    monkeypatch.setenv("DRT_CACHE_DIR", str(graph_cache))  # the graph the session built


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_routing_info_json() -> None:
    data = _json(["routing", "info", "--format", "json"])
    assert data["nodes"] > 4000
    assert data["edges"] > 10000
    assert data["dropped_components"] >= 1
    assert data["source"].endswith("kurate_drive.graphml.gz")
    assert data["bbox"]["min_lat"] < 33.74 < 33.82 < data["bbox"]["max_lat"]


def test_stops_list_is_a_feature_collection() -> None:
    data = _json(["stops", "list", "--format", "json"])
    assert data["type"] == "FeatureCollection"
    props = data["features"][0]["properties"]
    assert {"id", "name", "kind"} <= set(props)


def test_stops_coverage_json(tmp_path: Path) -> None:
    png = tmp_path / "cov.png"
    data = _json(["stops", "coverage", "--format", "json", "--png", str(png)])
    assert 0.97 <= data["within_300m"] <= data["within_500m"] <= 1
    assert 0 < data["within_200m"] <= data["within_300m"]
    assert 0 < data["unclassified"]["within_300m"] < 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_route_and_matrix_agree() -> None:
    route = _json(["routing", "route", "KUR-001", "33.7858,130.6873", "--format", "json"])
    matrix = _json(
        ["routing", "matrix", "--from", "KUR-001", "--to", "33.7858,130.6873", "--format", "json"]
    )
    assert matrix["duration_s"] == [[route["duration_s"]]]
    assert matrix["distance_m"] == [[route["distance_m"]]]
    assert route["polyline"]


def test_outside_point_is_exit_2_with_a_code() -> None:
    result = runner.invoke(app, ["routing", "route", "KUR-001", "33.59,130.40", "--format", "json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "outside_service_area"
    assert error["details"]["limit_m"] == 300


def test_add_rename_remove_round_trip(area_copy: Path) -> None:
    base = ["--area", str(area_copy), "stops"]
    file = area_copy.parent / "meeting_points.geojson"
    before = json.loads(file.read_text())
    added = _json(
        [
            *base,
            "add",
            "--lat",
            "33.8010",
            "--lon",
            "130.6560",
            "--name",
            "試験の乗降ポイント",
            "--format",
            "json",
        ]
    )
    new_id = added["meeting_point"]["id"]
    assert new_id == f"KUR-{before['drt']['next_id']:03d}"
    _json(
        [*base, "rename", new_id, "試験の乗降ポイント(改)", "--kana", "しけん", "--format", "json"]
    )
    listed = {
        f["properties"]["id"]: f["properties"]
        for f in _json([*base, "list", "--format", "json"])["features"]
    }
    assert listed[new_id]["name"] == "試験の乗降ポイント(改)"
    assert (listed[new_id]["kana"], listed[new_id]["kana_source"]) == ("シケン", "staff")
    _json([*base, "rename", new_id, "古門・古月小学校の東", "--format", "json"])
    again = {
        f["id"]: f["properties"] for f in _json([*base, "list", "--format", "json"])["features"]
    }
    assert again[new_id]["kana"] == "フルモン・フルツキショウガッコウノヒガシ"  # read by machine
    assert (again[new_id]["kana_source"], again[new_id]["short_name"]) == (
        "machine",
        "古門・古月小学校の東",
    )
    _json([*base, "remove", new_id, "--format", "json"])
    after = json.loads(file.read_text())
    assert after["features"] == before["features"]
    assert after["drt"]["next_id"] == before["drt"]["next_id"] + 1  # the id is not reused


@pytest.mark.parametrize(
    "args",
    [
        ["remove", "KUR-999"],
        ["rename", "KUR-001", ""],
        ["add", "--lat", "33.59", "--lon", "130.40", "--name", "福岡"],
        ["add", "--lat", "33.8010", "--lon", "130.6560", "--name", "x", "--kind", "bus"],
    ],
)
def test_bad_edits_exit_2_and_leave_the_file_alone(area_copy: Path, args: list[str]) -> None:
    file = area_copy.parent / "meeting_points.geojson"
    before = file.read_bytes()
    result = runner.invoke(app, ["--area", str(area_copy), "stops", *args, "--format", "json"])
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"]["code"]
    assert file.read_bytes() == before


def test_an_error_names_its_code_on_the_terminal(area_copy: Path) -> None:
    """Rich read 「[meeting_point_not_found]」 as markup and printed nothing of it."""
    result = runner.invoke(app, ["--area", str(area_copy), "stops", "remove", "KUR-999"])
    assert result.exit_code == 2
    assert "[meeting_point_not_found]" in result.output
    assert "KUR-999" in result.output


def test_missing_area_file_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--area", str(tmp_path / "none.toml"), "routing", "info", "--format", "json"]
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "config_invalid"


def test_bench_offers_json_is_json_alone() -> None:
    """Progress goes to stderr: `-f json` output parses (it had progress lines in it)."""
    rows = _json(["bench", "offers", "--vehicles", "3", "--quotes", "5", "--format", "json"])
    assert [r["vehicles"] for r in rows] == [3]  # type: ignore[index]
    assert rows[0]["quotes"] == 5  # type: ignore[index]
