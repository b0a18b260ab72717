"""The booking side of a service area: fares, the service calendar, rules and the fleet.

Loaded from a TOML file next to the area file (``areas/kurate/booking.toml``) and validated
on load, so a wrong fare or an hour like ``25:00`` stops the service at start-up with a
message naming the key, not in the middle of a rider's call.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jpholiday

from common.errors import ConfigError

FARE_CATEGORIES_JA = {
    "adult": "大人",
    "child": "小学生",
    "disability": "障がい者",
    "preschool": "未就学児",
}


def _bad(key: str, rule_ja: str, rule_en: str, source: Path | None) -> ConfigError:
    where = f" ({source})" if source else ""
    return ConfigError(
        f"予約設定「{key}」が正しくありません{where}: {rule_ja}",
        f"Booking setting '{key}' is invalid{where}: {rule_en}",
        key=key,
    )


def _hhmm(value: Any, key: str, source: Path | None) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise _bad(
            key, "「07:00」の形で書いてください", "write it as HH:MM, e.g. 07:00", source
        ) from None


@dataclass(frozen=True, slots=True)
class Hours:
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    """Operating hours by day type; closures by month and day; Japanese public holidays."""

    time_zone: ZoneInfo
    weekday: Hours
    saturday: Hours
    sunday: Hours
    holiday: Hours
    closures: frozenset[tuple[int, int]]

    def hours(self, day: date) -> Hours | None:
        """The day's operating hours, or None when there is no service."""
        if (day.month, day.day) in self.closures:
            return None
        if jpholiday.is_holiday(day):
            return self.holiday
        if day.weekday() == 5:
            return self.saturday
        if day.weekday() == 6:
            return self.sunday
        return self.weekday

    def window_s(self, day: date) -> tuple[int, int] | None:
        """(opening, closing) of a service day as Unix seconds, or None."""
        h = self.hours(day)
        if h is None:
            return None
        opens = datetime.combine(day, h.opens, self.time_zone)
        closes = datetime.combine(day, h.closes, self.time_zone)
        return int(opens.timestamp()), int(closes.timestamp())

    def local_date(self, unix_s: int) -> date:
        return datetime.fromtimestamp(unix_s, self.time_zone).date()

    def days(self, first: date, count: int) -> list[date]:
        return [first + timedelta(days=i) for i in range(count)]


@dataclass(frozen=True, slots=True)
class Policy:
    book_ahead_days: int = 7
    cancel_cutoff_s: int = 1800
    no_show_limit: int = 3
    no_show_window_days: int = 90
    no_show_wait_s: int = 180  # a driver may record a no-show after waiting this long at the stop
    arrival_warn_m: int = 300  # an arrival recorded farther than this from the stop is flagged
    #: Offers one rider may hold at once, counted by request (an offer with its alternatives
    #: is one); a new quote releases the rider's oldest held offers beyond this.
    max_held_requests: int = 2


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    id: str
    name: str
    seats: int
    wheelchairs: int
    depot: str  # a meeting point id


@dataclass(frozen=True, slots=True)
class BookingConfig:
    fares: dict[str, int]
    calendar: ServiceCalendar
    policy: Policy
    vehicles: tuple[VehicleConfig, ...]
    operator_phone: str
    source: Path | None = field(default=None, compare=False)

    def fare_yen(self, counts: dict[str, int]) -> int:
        return sum(self.fares[c] * n for c, n in counts.items())


def parse_booking_config(raw: dict[str, Any], source: Path | None = None) -> BookingConfig:
    """Validate a parsed TOML document; raises :class:`ConfigError` naming the bad key."""
    fares_raw = raw.get("fares", {})
    fares: dict[str, int] = {}
    for cat in FARE_CATEGORIES_JA:
        value = fares_raw.get(cat)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000:
            raise _bad(
                f"fares.{cat}", "0〜100000 の整数(円)です", "an integer 0..100000 (yen)", source
            )
        fares[cat] = value
    unknown = set(fares_raw) - set(FARE_CATEGORIES_JA)
    if unknown:
        raise _bad(
            "fares",
            f"知らない料金区分 {sorted(unknown)}",
            f"unknown fare categories {sorted(unknown)}",
            source,
        )
    cal = raw.get("calendar", {})
    try:
        tz = ZoneInfo(str(cal.get("time_zone", "Asia/Tokyo")))
    except Exception:
        raise _bad(
            "calendar.time_zone", "タイムゾーン名です", "an IANA time zone", source
        ) from None

    def hours(key: str) -> Hours:
        pair = cal.get(key)
        if not isinstance(pair, list) or len(pair) != 2:
            raise _bad(f"calendar.{key}", '["07:00", "19:00"] の形です', "a pair of HH:MM", source)
        h = Hours(
            _hhmm(pair[0], f"calendar.{key}", source), _hhmm(pair[1], f"calendar.{key}", source)
        )
        if h.opens >= h.closes:
            raise _bad(f"calendar.{key}", "開始は終了より前です", "opens before it closes", source)
        return h

    closures: set[tuple[int, int]] = set()
    for item in cal.get("closures", []):
        try:
            mm, dd = (int(x) for x in str(item).split("-"))
            date(2024, mm, dd)  # a leap year, so 02-29 is allowed
        except ValueError:
            raise _bad(
                "calendar.closures", "「12-29」の形です", "MM-DD, e.g. 12-29", source
            ) from None
        closures.add((mm, dd))
    calendar = ServiceCalendar(
        tz,
        hours("weekday"),
        hours("saturday"),
        hours("sunday"),
        hours("holiday"),
        frozenset(closures),
    )
    pol = raw.get("policy", {})
    policy = Policy(**{k: pol[k] for k in pol if k in Policy.__dataclass_fields__})
    for name in Policy.__dataclass_fields__:
        value = getattr(policy, name)
        if not isinstance(value, int) or value < 0:
            raise _bad(f"policy.{name}", "0 以上の整数です", "a non-negative integer", source)
    if policy.max_held_requests < 1:
        raise _bad("policy.max_held_requests", "1 以上です", "at least 1", source)
    if not 1 <= policy.book_ahead_days <= 60:
        raise _bad("policy.book_ahead_days", "1〜60 日です", "1..60 days", source)
    vehicles = []
    for i, v in enumerate(raw.get("vehicles", [])):
        try:
            vc = VehicleConfig(
                str(v["id"]), str(v.get("name", v["id"])), int(v["seats"]),
                int(v.get("wheelchairs", 0)), str(v["depot"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError):
            raise _bad(
                f"vehicles[{i}]", "id, seats, depot が必要です", "needs id, seats and depot", source
            ) from None
        if vc.seats < 1 or vc.wheelchairs < 0 or "@" in vc.id:
            raise _bad(
                f"vehicles[{i}]",
                "座席は1以上、車いす席は0以上、id に @ は使えません",
                "seats >= 1, wheelchairs >= 0, no '@' in the id",
                source,
            )
        vehicles.append(vc)
    if not vehicles or len({v.id for v in vehicles}) != len(vehicles):
        raise _bad("vehicles", "1台以上、id は重複なし", "at least one, unique ids", source)
    phone = str(raw.get("contact", {}).get("operator_phone", ""))
    return BookingConfig(fares, calendar, policy, tuple(vehicles), phone, source)


def load_booking_config(path: Path) -> BookingConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _bad(
            "file", f"ファイルがありません: {path}", f"file not found: {path}", None
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise _bad(
            "file", f"TOML の書き方の誤り: {exc}", f"TOML syntax error: {exc}", path
        ) from None
    return parse_booking_config(raw, path)
