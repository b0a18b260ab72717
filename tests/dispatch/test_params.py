"""Service parameters load from TOML and refuse bad values with the setting's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from dispatch.params import ServiceParams, load_params

KURATE = Path(__file__).resolve().parents[2] / "areas" / "kurate" / "service.toml"


def test_kurate_service_file() -> None:
    params = load_params(KURATE)
    assert params.pickup_window_s == 600
    assert params.replan_shift_s == 300
    assert params.alternative_shifts_s == (-1800, -900, 900, 1800)
    # min(1.5 * direct + 10 min, 45 min)
    assert params.max_ride_s(600) == 1500
    assert params.max_ride_s(3600) == 2700


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[promise\n", "TOML"),
        ("[promise]\nwindow = 600\n", "window"),
        ("[promise]\npickup_window_s = 0\n", "pickup_window_s"),
        ("[promise]\nride_alpha = 9\n", "ride_alpha"),
        ("[timing]\ndwell_board_s = -5\n", "dwell_board_s"),
    ],
)
def test_bad_service_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "service.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert needle in err.value.message_en
    assert err.value.message_ja


def test_missing_service_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "none.toml")
    assert ServiceParams().hold_ttl_s == 120
