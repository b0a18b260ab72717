"""The LINE channel's settings, validated once from :class:`common.settings.Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from common.errors import ConfigError
from common.settings import Settings

PUSH_KINDS = ("confirmed", "reminder", "approaching", "delay", "cancelled", "stranded")
"""Notifications by push: booking confirmed (made by phone or app), the day-before
reminder, the van about to arrive, a delay beyond the promise, cancelled by the operator,
the van taken out of service with no other van able to take the ride."""
STANDIN_PATH = "/line-standin"  # where the demo serves the LINE stand-in


def _bad(name: str, ja: str, en: str) -> ConfigError:
    return ConfigError(
        f"LINE の設定 DRT_{name.upper()} が正しくありません: {ja}",
        f"LINE setting DRT_{name.upper()} is invalid: {en}",
        key=name,
    )


@dataclass(frozen=True, slots=True)
class LineConfig:
    channel_secret: str
    access_token: str
    api_base: str
    api_data_base: str
    push_kinds: frozenset[str]
    push_daily_cap: int
    reminder_at: time
    approaching_s: int
    delay_notice_s: int
    notifier_interval_s: float
    state_ttl_s: int
    standin: bool

    def __post_init__(self) -> None:
        unknown = sorted(self.push_kinds - set(PUSH_KINDS))
        if unknown:
            raise _bad(
                "line_push_kinds",
                f"知らない通知の種類 {unknown}(使えるのは {', '.join(PUSH_KINDS)})",
                f"unknown kinds {unknown}; use some of {', '.join(PUSH_KINDS)}",
            )
        for name in ("push_daily_cap", "approaching_s", "delay_notice_s"):
            if getattr(self, name) < 0:
                raise _bad(f"line_{name}", "0 以上にしてください", "must be >= 0")
        if self.notifier_interval_s < 0:
            raise _bad("line_notifier_interval_s", "0 以上にしてください", "must be >= 0")
        if self.state_ttl_s < 600:
            raise _bad("line_state_ttl_s", "600 秒以上にしてください", "must be >= 600 s")
        if self.standin and not self.api_base.endswith(STANDIN_PATH):
            raise _bad(
                "line_standin",
                f"デモ専用です。DRT_LINE_API_BASE を …{STANDIN_PATH} にしてください",
                f"demos only: it needs DRT_LINE_API_BASE pointing at …{STANDIN_PATH}",
            )
        for name in ("api_base", "api_data_base"):
            if not getattr(self, name).startswith(("http://", "https://")):
                raise _bad(f"line_{name}", "http(s):// で始まる URL です", "an http(s) URL")

    @property
    def enabled(self) -> bool:
        """The channel runs only with a secret and a token (``drt serve`` without them: off)."""
        return bool(self.channel_secret and self.access_token)

    @classmethod
    def from_settings(cls, s: Settings) -> LineConfig:
        try:
            hh, mm = (int(x) for x in s.line_reminder_at.split(":"))
            reminder = time(hh, mm)
        except ValueError:
            raise _bad("line_reminder_at", "「17:00」の形です", "HH:MM, e.g. 17:00") from None
        kinds = frozenset(k.strip() for k in s.line_push_kinds.split(",") if k.strip())
        return cls(
            channel_secret=s.line_channel_secret,
            access_token=s.line_channel_access_token,
            api_base=s.line_api_base.rstrip("/"),
            api_data_base=s.line_api_data_base.rstrip("/"),
            push_kinds=kinds,
            push_daily_cap=s.line_push_daily_cap,
            reminder_at=reminder,
            approaching_s=s.line_approaching_s,
            delay_notice_s=s.line_delay_notice_s,
            notifier_interval_s=s.line_notifier_interval_s,
            state_ttl_s=s.line_state_ttl_s,
            standin=s.line_standin,
        )
