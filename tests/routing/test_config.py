"""Area files are validated on load, with errors that name the setting and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from routing.config import AreaConfig, load_area


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "area.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_kurate_area_loads(area_cfg: AreaConfig) -> None:
    assert area_cfg.name == "鞍手町"
    assert area_cfg.routing.speed_for("residential") == 30
    assert area_cfg.routing.speed_for("tertiary") == 40
    assert area_cfg.routing.speed_for("primary") == 50
    assert area_cfg.routing.speed_for("trunk") == 60
    assert area_cfg.routing.speed_for("no_such_class") == area_cfg.routing.default_speed_kmh
    assert area_cfg.drive_graph.is_file()


def test_peak_factor_by_time_of_day(area_cfg: AreaConfig) -> None:
    assert area_cfg.routing.factor_pct_at(8 * 3600) == 120
    assert area_cfg.routing.factor_pct_at(12 * 3600) == 100
    assert area_cfg.routing.factor_pct_at(86_400 + 8 * 3600) == 120  # next day, same hour


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[area\nname=", "TOML"),
        (
            '[area]\ndrive_graph="g"\nboundary="b"\nroads_pois="r"\nplaces="p"\n[routing]\nbogus=1',
            "routing.bogus",
        ),
        (
            '[area]\ndrive_graph="g"\nboundary="b"\nroads_pois="r"\nplaces="p"\n'
            "[routing.speeds_kmh]\nresidential=0",
            "routing.speeds_kmh.residential",
        ),
        (
            '[area]\ndrive_graph="g"\nboundary="b"\nroads_pois="r"\nplaces="p"\n'
            '[[routing.peak]]\nstart="9:00"\nend="8:00"\nfactor_pct=110',
            "routing.peak",
        ),
        ('[area]\nboundary="b"\nroads_pois="r"\nplaces="p"', "area.drive_graph"),
    ],
)
def test_bad_area_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_area(_write(tmp_path, text))
    assert needle in err.value.message_en
    assert err.value.message_ja


def test_missing_area_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_area(tmp_path / "nope.toml")
