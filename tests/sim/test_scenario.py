"""Scenario files: the shipped ones load as documented, bad ones are refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import (
    ScenarioError,
    UnknownScenario,
    find_scenario,
    load_scenario,
    scenario_files,
)
from tests.sim.conftest import SCENARIOS, H, shipped

GOOD = """
[scenario]
name = "tiny"
world = "area"
day = "weekday"

[timetable]
weekday = ["07:00", "19:00"]
weekend = ["09:00", "18:00"]

[[fleet]]
count = 2
seats = 8
wheelchairs = 1
breaks = [{ earliest = "12:00", latest = "13:00", duration_min = 45 }]

[[fleet]]
seats = 4
shift = ["13:00", "19:00"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_scenarios() -> None:
    names = {p.stem for p in scenario_files(SCENARIOS)}
    assert {"kurate-today", "kurate-2028", "city-scale"} <= names
    for path in scenario_files(SCENARIOS):
        assert load_scenario(path).name == path.stem
    today, future, city = shipped("kurate-today"), shipped("kurate-2028"), shipped("city-scale")
    assert (today.vehicle_count, today.demand.trips_per_day) == (1, 40)
    assert (today.service_start_s, today.service_end_s) == (7 * H, 19 * H)
    assert (future.vehicle_count, future.demand.trips_per_day) == (3, 200)
    assert (city.vehicle_count, city.demand.trips_per_day, city.world) == (100, 5000, "grid")
    weekend = shipped("kurate-weekend")
    assert (weekend.day, weekend.service_start_s, weekend.service_end_s) == (
        "weekend",
        9 * H,
        18 * H,
    )


def test_fleet_groups_shifts_and_breaks(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD))
    vans = sc.vehicle_templates()
    assert [v.seats for v in vans] == [8, 8, 4]
    assert sc.shift_of(vans[0]) == (7 * H, 19 * H)  # the timetable's hours
    assert sc.shift_of(vans[2]) == (13 * H, 19 * H)
    assert vans[0].breaks[0].duration_s == 45 * 60
    assert [v.seats for v in sc.with_fleet(5).vehicle_templates()] == [8, 8, 4, 8, 8]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('day = "weekday"', 'day = "holiday"'), "scenario.day"),
        (('weekday = ["07:00", "19:00"]', 'weekday = ["07:00", "25:99"]'), "timetable"),
        (("seats = 4", "seats = 4\ncolour = 1"), "fleet.colour"),
        (("count = 2", "count = -1"), "fleet"),
        (('latest = "13:00"', 'latest = "11:00"'), "fleet.breaks"),
        (('world = "area"', 'world = "grid"'), "grid"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, GOOD.replace(*change)))
    assert info.value.code == "scenario_invalid"
    assert key in info.value.message_en
    assert info.value.message_ja


def test_bad_demand_share_and_malformed_toml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"demand\.cancel_share"):
        load_scenario(write(tmp_path, GOOD + "\n[demand]\ncancel_share = 1.5\n"))
    with pytest.raises(ScenarioError, match="Malformed"):
        load_scenario(write(tmp_path, GOOD + "\n[demand\n"))


def test_unknown_names_list_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownScenario) as info:
        find_scenario("kurate-2099", SCENARIOS)
    assert info.value.code == "scenario_not_found"
    assert "kurate-today" in info.value.message_en
    assert find_scenario(str(write(tmp_path, GOOD)), SCENARIOS).name == "tiny"


def test_a_scenario_s_town_sets_its_own_service_settings(tmp_path: Path) -> None:
    from dispatch.params import ServiceParams

    base = ServiceParams(promise_slack_s=270)
    sc = load_scenario(write(tmp_path, GOOD + "\n[service]\nplan_travel_pct = 103\n"))
    params = sc.service_params(base)
    assert (params.plan_travel_pct, params.promise_slack_s) == (103, 270)  # the rest: the area's
    assert load_scenario(write(tmp_path, GOOD)).service_params(base) == base
    assert shipped("city-scale").service_params(base).plan_travel_pct == 103


@pytest.mark.parametrize(
    ("table", "key"),
    [("plan_travel_pct = 20", "service"), ("peak_bands = []", "service.peak_bands"),
     ("colour = 1", "service.colour")],
)  # fmt: skip
def test_bad_service_settings_in_a_scenario_are_named(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, GOOD + f"\n[service]\n{table}\n"))
    assert key in info.value.message_en
