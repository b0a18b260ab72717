"""Connection and file settings: the one place every service reads them from.

Values come from environment variables with the ``DRT_`` prefix (``DRT_DATABASE_URL``,
``DRT_REDIS_URL``, ``DRT_AREA``, ``DRT_CACHE_DIR``, ``DRT_EMBEDDED``). Nothing is read at
import time: callers create a :class:`Settings` explicitly with :func:`load_settings`.

With ``DRT_EMBEDDED=1`` the platform runs without any servers: a SQLite file under the
cache directory replaces PostgreSQL and an in-process stand-in replaces Redis.

The LINE official account is configured by ``DRT_LINE_*`` (secret, access token, API base,
push quota knobs); ``line_channel.config.LineConfig`` validates them (see docs/line.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.errors import ConfigError

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
EMBEDDED_DATABASE_FILE = "drt.sqlite3"

_REDIS_SCHEMES = ("redis", "rediss", "unix")


class Settings(BaseSettings):
    """Runtime settings; see the module docstring for the environment variables."""

    model_config = SettingsConfigDict(env_prefix="DRT_", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL of the PostgreSQL database (ignored when ``embedded`` is true)."""
    redis_url: str = DEFAULT_REDIS_URL
    """Redis URL (with ``embedded`` it only names the in-process stand-in)."""
    area: Path = Path("areas/kurate/area.toml")
    """The service area definition (TOML)."""
    cache_dir: Path = Path(".cache/drt")
    """Where downloaded and derived files, and the embedded SQLite database, live."""
    embedded: bool = False
    """Run without servers: SQLite file in ``cache_dir`` and an in-process Redis stand-in."""
    clock_offset_s: int = 0
    """Shift the service clock by this many seconds (demos, rehearsals and tests; 0 in production)."""
    redis_prefix: str = "drt:"
    """Every Redis key of the service starts with this (several deployments can share a server)."""
    metrics_token: str = ""
    """Bearer token a Prometheus scraper sends to ``/metrics``; empty: nobody may read them
    (the embedded demo: this machine, 127.0.0.1 or ::1)."""
    log_format: str = "json"
    """``json`` (one object per line, for a log collector) or ``text`` (uvicorn's, for a person)."""

    public_url: str = ""
    """The app's address as residents reach it (``https://…``): links in LINE messages (a
    survey's answer page); empty: no links."""

    survey_key: str = ""
    """The key of anonymous survey respondents' HMACs (town/surveys.py; at least 32
    characters, kept outside the database so that a copy of it does not say who answered).
    Set once: changing it while an anonymous survey is open lets a resident answer it again.
    ``drt serve`` refuses to start without it; empty elsewhere (demo, tests): derived from
    the database URL."""

    # -- the LINE official account (line_channel/, docs/line.md); off while the secret is empty
    line_channel_secret: str = ""
    """The channel secret: verifies ``x-line-signature`` on webhook bodies."""
    line_channel_access_token: str = ""
    """The long-lived channel access token of the Messaging API."""
    line_api_base: str = "https://api.line.me"
    """Base URL of the Messaging API (the demo and tests point it at the local stand-in)."""
    line_api_data_base: str = "https://api-data.line.me"
    """Base URL of the Messaging API's data host (rich menu images)."""
    line_push_kinds: str = "confirmed,reminder,approaching,delay,cancelled,stranded"
    """Which push notifications are sent, comma-separated (pushes cost the town's quota)."""
    line_push_daily_cap: int = 300
    """At most this many notification pushes per service day (0: none)."""
    line_reminder_at: str = "17:00"
    """The day-before reminder goes out at this local time."""
    line_approaching_s: int = 300
    """「まもなく到着」 when the van's planned arrival is this close."""
    line_delay_notice_s: int = 120
    """Tell the rider when the planned pickup is this much later than the promised window."""
    line_notifier_interval_s: float = 30.0
    """How often the notifier looks for notifications due (0: only when called, as in tests)."""
    line_state_ttl_s: int = 86_400
    """How long a half-finished LINE conversation is remembered (older riders pause)."""
    line_standin: bool = False
    """Serve the local LINE stand-in and the /line/demo page inside the app (demo only)."""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if not scheme:
            raise ValueError(
                "must be a SQLAlchemy URL such as postgresql+psycopg://user@host:5432/dbname"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in _REDIS_SCHEMES:
            raise ValueError("must be a Redis URL such as redis://host:6379/0")
        return value

    @property
    def embedded_database_url(self) -> str:
        """The SQLite URL of embedded mode (default ``sqlite:///.cache/drt/drt.sqlite3``)."""
        return f"sqlite:///{self.cache_dir / EMBEDDED_DATABASE_FILE}"

    @property
    def effective_database_url(self) -> str:
        """The database URL the application should actually connect to."""
        return self.embedded_database_url if self.embedded else self.database_url


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment; keyword arguments take precedence over it.

    Raises :class:`~common.errors.ConfigError` naming every invalid variable.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [
            f"DRT_{'.'.join(str(part) for part in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        listing = "; ".join(problems)
        raise ConfigError(
            f"設定（環境変数 DRT_*）が正しくありません。次の項目を直してください: {listing}",
            f"Invalid settings (DRT_* environment variables). Fix these: {listing}",
            problems=problems,
        ) from exc


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print in logs and messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))
