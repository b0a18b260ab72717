"""Service parameters: what the operator promises, and how long things take (from TOML)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from common.errors import ConfigError


def _bad(key: str, rule_ja: str, rule_en: str) -> ConfigError:
    return ConfigError(
        f"サービス設定「{key}」が正しくありません: {rule_ja}",
        f"Service setting '{key}' is invalid: {rule_en}",
        key=key,
    )


@dataclass(frozen=True, slots=True)
class ServiceParams:
    """Promises and timings, all in whole seconds.

    A rider is promised a pickup window ``pickup_window_s`` wide around the planned pickup; a
    later re-plan may move the pickup at most ``replan_shift_s`` from the time first planned
    (and never out of the window). The ride may last at most
    ``min(ride_alpha * direct + ride_beta_s, ride_cap_s)``.

    "As soon as possible" is searched in stages (``asap_wait_stages_s``): the cheapest
    insertion with a pickup within the first stage's wait, else within the next, up to
    ``asap_max_wait_s``; empty, the whole wait at once (the cheapest insertion anywhere in
    it, which tends to place ASAP pickups late). ``asap_wait_weight`` prices an ASAP rider's
    wait in the insertion cost: a second of wait costs that many seconds of driving (0: the
    cheapest drive inside the stage's window, however late in it).

    ``hold_by_channel_s``: an offer made on these channels is held longer than
    ``hold_ttl_s`` (LINE: an older rider reads the offer and finds the button).

    ``promise_slack_s``: the plan keeps each pickup this long before the end of the window
    the rider is told, each drop-off this long before the promised latest drop-off and each
    ride this much shorter than promised, so a slower drive than the router's still keeps
    the promise (0: the plan may use the whole promise).

    ``plan_travel_pct``: the plan gives every drive this share of the router's time (like
    GTFS-Flex's ``safe_duration_factor``: 103 plans drives 3 % longer), so that drives a
    little slower than the router's on average still keep the plan.

    ``plan_peak_traffic``: the plan drives the area's peak periods slower, as the roads do
    (``peak_bands``: (start, end, percent) in seconds of the local day, filled from the
    area's ``[[routing.peak]]`` by :meth:`with_peak_bands`; ``local_offset_s`` turns a
    dispatcher time into local time, e.g. 32400 for Unix seconds in Japan, 0 in the
    simulator). A drive takes the factor of the band in which the stop it drives to is due.
    """

    pickup_window_s: int = 600
    replan_shift_s: int = 300
    ride_alpha: float = 1.5
    ride_beta_s: int = 600
    ride_cap_s: int = 2700
    dwell_board_s: int = 30
    dwell_alight_s: int = 20
    stop_overhead_s: int = 30
    hold_ttl_s: int = 120
    hold_by_channel_s: tuple[tuple[str, int], ...] = ()  # longer holds: ("line", 300)
    asap_max_wait_s: int = 1800
    asap_wait_stages_s: tuple[int, ...] = ()
    asap_wait_weight: float = 0.0
    promise_slack_s: int = 0
    depart_flex_s: int = 900
    arrive_flex_s: int = 1200
    min_lead_s: int = 120
    alternative_shifts_s: tuple[int, ...] = (-1800, -900, 900, 1800)
    nearby_stops: int = 3
    plan_travel_pct: int = 100
    plan_peak_traffic: bool = False
    peak_bands: tuple[tuple[int, int, int], ...] = ()
    local_offset_s: int = 0

    def __post_init__(self) -> None:
        positive = ("pickup_window_s", "ride_cap_s", "hold_ttl_s", "asap_max_wait_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise _bad(name, "正の値にしてください", "must be positive")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise _bad(f.name, "0 以上にしてください", "must not be negative")
        if not 0 <= self.replan_shift_s <= self.pickup_window_s:
            raise _bad(
                "replan_shift_s", "0〜pickup_window_s の範囲です", "must be 0..pickup_window_s"
            )
        if not 100 <= self.plan_travel_pct <= 200:
            raise _bad("plan_travel_pct", "100〜200 (%) です", "must be 100..200 (percent)")
        if not self.asap_wait_weight <= 10.0:
            raise _bad("asap_wait_weight", "0〜10 の範囲です", "must be 0..10")
        if not 1.0 <= self.ride_alpha <= 5.0:
            raise _bad("ride_alpha", "1.0〜5.0 の範囲です", "must be 1.0..5.0")
        if self.promise_slack_s > self.pickup_window_s // 2:
            raise _bad("promise_slack_s", "pickup_window_s の半分以下にしてください",
                       "must be at most half of pickup_window_s")  # fmt: skip
        if any(len(c) != 2 or not isinstance(c[0], str) or not 0 < c[1] <= 1800
               for c in self.hold_by_channel_s):  # fmt: skip
            raise _bad(
                "hold_by_channel_s",
                "チャネルごとに 1〜1800 秒です",
                "must be 1..1800 s per channel",
            )
        stages = self.asap_wait_stages_s
        if any(b <= a for a, b in pairwise(stages)) or any(
            not 0 < w < self.asap_max_wait_s for w in stages
        ):
            raise _bad(
                "asap_wait_stages_s",
                "増えていく順に、0 より大きく asap_max_wait_s より小さい値にしてください",
                "must increase, each above 0 and below asap_max_wait_s",
            )

        spans = sorted(self.peak_bands)
        if any(len(b) != 3 or not 0 <= b[0] < b[1] <= 86400 or not 50 <= b[2] <= 400
               for b in spans) or any(a[1] > b[0] for a, b in pairwise(spans)):  # fmt: skip
            raise _bad("peak_bands", "重ならない時間帯 (開始, 終了, 50〜400 %) にしてください",
                       "must be non-overlapping (start, end, 50..400 percent) spans of a day")  # fmt: skip

    def with_peak_bands(
        self, bands: tuple[tuple[int, int, int], ...], local_offset_s: int
    ) -> ServiceParams:
        """These parameters with the area's peak periods, when the plan uses them."""
        if not self.plan_peak_traffic:
            return self
        return replace(self, peak_bands=tuple(sorted(bands)), local_offset_s=local_offset_s)

    def hold_s(self, channel: str) -> int:
        """How long an offer made on this channel is held (LINE's riders read slowly)."""
        return dict(self.hold_by_channel_s).get(channel, self.hold_ttl_s)

    def peak_pct(self, time_s: int) -> int:
        """The planned factor (percent) of a drive to a stop due at ``time_s``."""
        t = (time_s + self.local_offset_s) % 86400
        return next((pct for a, b, pct in self.peak_bands if a <= t < b), 100)

    def to_json(self) -> dict[str, Any]:
        """The parameters as plain JSON (for the dispatch log)."""
        return {f.name: [list(x) if isinstance(x, tuple) else x for x in v]
                if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self)}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceParams:
        """The inverse of :meth:`to_json` (validated like any parameters)."""
        values: dict[str, Any] = {
            k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
            for k, v in data.items()
        }  # fmt: skip
        return cls(**values)

    def max_ride_s(self, direct_s: int) -> int:
        """Longest ride allowed for a trip whose direct drive takes ``direct_s``."""
        return int(min(self.ride_alpha * direct_s + self.ride_beta_s, self.ride_cap_s))

    def direct_ride_s(self, direct_s: int, persons: int) -> int:
        """From the start of boarding to the drop-off with no detour: boarding, the stop
        overhead and the direct drive of ``direct_s``."""
        return self.dwell_board_s * persons + self.stop_overhead_s + direct_s


FROM_AREA = frozenset({"peak_bands", "local_offset_s"})


def load_params(path: Path) -> ServiceParams:
    """Read ``[promise]`` and ``[timing]`` tables of a service TOML file, validated."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"サービス設定ファイルがありません: {path}", f"Service file not found: {path}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"サービス設定ファイルの書式が誤っています: {exc}", f"Malformed service TOML: {exc}"
        ) from None
    merged: dict[str, Any] = {}
    for table in ("promise", "timing", "offers"):
        merged.update(data.get(table, {}))
    known = {f.name for f in fields(ServiceParams)} - FROM_AREA  # peaks: area.toml's
    unknown = sorted(set(merged) - known)
    if unknown:
        raise _bad(", ".join(unknown), "不明な設定です", "unknown setting")
    for key in ("alternative_shifts_s", "asap_wait_stages_s"):
        if key in merged:
            merged[key] = tuple(int(v) for v in merged[key])
    if isinstance(merged.get("hold_by_channel_s"), dict):  # { line = 300 }
        merged["hold_by_channel_s"] = tuple(
            sorted((str(k), int(v)) for k, v in merged["hold_by_channel_s"].items())
        )
    try:
        return ServiceParams(**merged)
    except TypeError as exc:
        raise _bad("(file)", str(exc), str(exc)) from None
