"""`drt sim`: list, run (files and report) and sweep, as a planner calls them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drt.cli import app
from tests.sim.conftest import Kurate

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, kurate: Kurate) -> None:
    monkeypatch.setenv("DRT_CACHE_DIR", str(kurate.cache_dir))  # the graph the session built


def _json(args: list[str]) -> Any:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_shows_the_scenarios() -> None:
    names = {row["name"] for row in _json(["sim", "list", "--format", "json"])}
    assert {"kurate-today", "kurate-2028", "city-scale"} <= names


def test_run_writes_kpis_csvs_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "day"
    data = _json(
        ["sim", "run", "kurate-today", "--seed", "3", "--out", str(out), "--format", "json"]
    )
    kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert kpis == data["kpis"]
    for key in ("served_share", "wait_mean_s", "wait_p90_s", "passenger_trips_per_vehicle_hour",
                "pooling_rate", "empty_km"):  # fmt: skip
        assert key in kpis
    with (out / "trips.csv").open(encoding="utf-8-sig") as fh:
        trips = list(csv.DictReader(fh))
    assert len(trips) == kpis["requests"]
    assert sum(t["outcome"] == "served" for t in trips) == kpis["served"]
    with (out / "kpis_by_hour.csv").open(encoding="utf-8-sig") as fh:
        hours = list(csv.DictReader(fh))
    assert sum(int(h["requests"]) for h in hours) == kpis["requests"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert "OpenStreetMap contributors, ODbL" in page
    assert "乗れた割合" in page
    assert "Served share" in page
    again = _json(
        ["sim", "run", "kurate-today", "--seed", "3", "--out", str(out), "--format", "json"]
    )
    assert again["kpis"] == kpis  # the same seed gives the same day


def test_an_unknown_scenario_is_explained() -> None:
    result = runner.invoke(app, ["sim", "run", "kurate-2099", "--format", "json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "scenario_not_found"
    assert "kurate-today" in error["message_en"]
    assert error["message_ja"]


def test_sweep_writes_rows_summary_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sim", "sweep", "kurate-today", "--fleet", "1,2", "--seeds", "2", "--out", str(out)]
    data = _json([*args, "--jobs", "2", "--format", "json"])
    assert [row["vehicles"] for row in data["summary"]] == [1, 2]
    with (out / "sweep.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 4
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = runner.invoke(app, ["sim", "sweep", "kurate-today", "--fleet", "0,x", "--format", "json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["code"] == "scenario_invalid"
