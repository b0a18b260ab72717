"""Fixtures on the real Kurate data: the area, a router built once per run, the stops."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routing import load_router
from routing.config import AreaConfig, load_area
from routing.router import Router
from routing.stops import MeetingPointSet, load_stops, stop_nodes

ROOT = Path(__file__).resolve().parents[2]
AREA_FILE = ROOT / "areas" / "kurate" / "area.toml"


@pytest.fixture(scope="session")
def area_cfg() -> AreaConfig:
    return load_area(AREA_FILE)


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def router(area_cfg: AreaConfig, graph_cache: Path) -> Router:
    """Built from the OSM file once per run (into a temporary cache), then shared."""
    built, _ = load_router(area_cfg, graph_cache)
    return built


@pytest.fixture(scope="session")
def stops(area_cfg: AreaConfig) -> MeetingPointSet:
    return load_stops(area_cfg.meeting_points)


@pytest.fixture(scope="session")
def nodes(router: Router, stops: MeetingPointSet) -> list[int]:
    return stop_nodes(router, stops)


@pytest.fixture
def area_copy(tmp_path: Path) -> Path:
    """A writable copy of the Kurate area folder (map files linked, stops copied)."""
    dst = tmp_path / "kurate"
    (dst / "osm").mkdir(parents=True)
    for f in (AREA_FILE.parent / "osm").iterdir():
        (dst / "osm" / f.name).symlink_to(f)
    shutil.copy(AREA_FILE, dst / "area.toml")
    shutil.copy(AREA_FILE.parent / "meeting_points.geojson", dst / "meeting_points.geojson")
    return dst / "area.toml"
