from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import pytest

from common.errors import ConfigError, DrtError


class SeatsFullError(DrtError):
    code = "seats_full"
    http_status = 409


def test_to_dict_carries_code_messages_and_details() -> None:
    error = SeatsFullError(
        "この便は満席です。別の時間を選んでください。",
        "This trip is full. Please choose another time.",
        trip_id=42,
        seats=8,
    )
    body = error.to_dict()
    assert body == {
        "code": "seats_full",
        "message_ja": "この便は満席です。別の時間を選んでください。",
        "message_en": "This trip is full. Please choose another time.",
        "details": {"trip_id": 42, "seats": 8},
    }
    # The body is what clients receive: it must survive JSON with the Japanese intact.
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body
    assert error.http_status == 409


def test_base_defaults_and_str_shows_both_languages() -> None:
    error = DrtError("日本語の説明", "English explanation")
    assert error.code == "error"
    assert error.http_status == 400
    assert error.to_dict()["details"] == {}
    assert str(error) == "[error] 日本語の説明 / English explanation"
    assert error.args == ("English explanation",)


def test_config_error_is_a_server_side_drt_error() -> None:
    with pytest.raises(DrtError) as info:
        raise ConfigError("設定ファイルがありません", "The settings file is missing", path="x.toml")
    assert isinstance(info.value, ConfigError)
    assert info.value.code == "config_invalid"
    assert info.value.http_status == 500
    assert info.value.to_dict()["details"] == {"path": "x.toml"}


def test_an_error_crosses_a_process_boundary() -> None:
    """Process pools (benchmarks, simulation sweeps) pickle the error a worker raised."""
    error = SeatsFullError("満席です。", "Full.", trip_id=42)
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_raise, error)
        with pytest.raises(SeatsFullError) as caught:
            future.result()
    assert caught.value.to_dict() == error.to_dict()


def _raise(error: DrtError) -> None:
    raise error
