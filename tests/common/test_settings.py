from __future__ import annotations

from pathlib import Path

import pytest

import common.settings
from common.errors import ConfigError
from common.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    Settings,
    load_settings,
    redact_url,
)

DRT_VARS = ("DRT_DATABASE_URL", "DRT_REDIS_URL", "DRT_AREA", "DRT_CACHE_DIR", "DRT_EMBEDDED")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in DRT_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert settings.redis_url == "redis://127.0.0.1:6379/0" == DEFAULT_REDIS_URL
    assert settings.area == Path("areas/kurate/area.toml")
    assert settings.cache_dir == Path(".cache/drt")
    assert settings.embedded is False
    assert settings.effective_database_url == DEFAULT_DATABASE_URL


def test_reads_drt_environment_variables(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DRT_DATABASE_URL", "postgresql+psycopg://drt:pw@db.example:5433/drt")
    clean_env.setenv("DRT_REDIS_URL", "redis://cache.example:6380/2")
    clean_env.setenv("DRT_AREA", "/srv/areas/other/area.toml")
    clean_env.setenv("DRT_CACHE_DIR", "/var/cache/drt")
    clean_env.setenv("DRT_EMBEDDED", "1")
    settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://drt:pw@db.example:5433/drt"
    assert settings.redis_url == "redis://cache.example:6380/2"
    assert settings.area == Path("/srv/areas/other/area.toml")
    assert settings.cache_dir == Path("/var/cache/drt")
    assert settings.embedded is True
    assert settings.effective_database_url == "sqlite:////var/cache/drt/drt.sqlite3"


def test_unprefixed_variables_are_ignored(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://elsewhere/db")
    clean_env.setenv("EMBEDDED", "true")
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.embedded is False


def test_embedded_uses_sqlite_in_cache_dir(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DRT_EMBEDDED", "true")
    settings = load_settings()
    assert settings.effective_database_url == "sqlite:///.cache/drt/drt.sqlite3"
    assert settings.database_url == DEFAULT_DATABASE_URL  # kept, just not used


def test_keyword_overrides_beat_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DRT_REDIS_URL", "redis://from-env:6379/0")
    settings = load_settings(redis_url="redis://from-code:6379/1")
    assert settings.redis_url == "redis://from-code:6379/1"


def test_invalid_values_raise_config_error_naming_the_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("DRT_EMBEDDED", "maybe")
    clean_env.setenv("DRT_REDIS_URL", "http://127.0.0.1:6379")
    with pytest.raises(ConfigError) as info:
        load_settings()
    error = info.value
    assert error.code == "config_invalid"
    assert "DRT_EMBEDDED" in error.message_en
    assert "DRT_REDIS_URL" in error.message_en
    assert "DRT_EMBEDDED" in error.message_ja
    assert len(error.details["problems"]) == 2


def test_database_url_must_be_a_url(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DRT_DATABASE_URL", "127.0.0.1:5432")
    with pytest.raises(ConfigError, match="DRT_DATABASE_URL"):
        load_settings()


def test_settings_are_immutable(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.embedded = True


def test_nothing_is_read_at_import_time() -> None:
    module_values = vars(common.settings).values()
    assert not any(isinstance(value, Settings) for value in module_values)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://drt:s3cret@db:5432/drt", "postgresql+psycopg://drt:***@db:5432/drt"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "postgresql+psycopg://postgres@127.0.0.1/test",
            "postgresql+psycopg://postgres@127.0.0.1/test",
        ),
    ],
)
def test_redact_url_hides_passwords(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert "s3cret" not in redact_url(url)
