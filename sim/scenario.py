"""Scenarios: what a planner varies (fleet, hours, demand, behaviour), as TOML data files.

A scenario names its world (``area``: the service area's meeting points on its real road
network, Kurate's for the files in ``areas/kurate/scenarios``; ``grid``: a synthetic city for
stress tests), the day type whose timetable sets the service
hours, the fleet, the demand and how riders and vehicles behave. Every table is validated on
load; a bad file is refused with a message that names the setting. Times in files are
``"HH:MM"`` strings or whole seconds (``*_s``) or minutes (``*_min``); inside, integer seconds
since midnight of the simulated day (booking may open the evening before: negative times).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from common.errors import ConfigError, DrtError
from dispatch.params import FROM_AREA, ServiceParams

DAY_TYPES = ("weekday", "weekend")
WORLDS = ("area", "grid")
H = 3600


class ScenarioError(DrtError):
    """A scenario file is missing, malformed or has an invalid setting."""

    code = "scenario_invalid"
    http_status = 422


class UnknownScenario(DrtError):
    code = "scenario_not_found"
    http_status = 404


def invalid_setting(
    key: str, rule_ja: str, rule_en: str, source: Path | None = None
) -> ScenarioError:
    where = f" ({source})" if source else ""
    return ScenarioError(
        f"シナリオの設定「{key}」が正しくありません: {rule_ja}{where}",
        f"Scenario setting '{key}' is invalid: {rule_en}{where}",
        key=key,
    )


def parse_clock(key: str, value: Any) -> int:
    """Seconds since midnight from "HH:MM" (may pass 24:00 or be negative: "-07:00")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        sign = -1 if value.startswith("-") else 1
        try:
            hh, mm = value.lstrip("-").split(":")
            if 0 <= int(mm) < 60 and 0 <= int(hh) <= 48:
                return sign * (int(hh) * H + int(mm) * 60)
        except ValueError:
            pass
    raise invalid_setting(
        key, f"「{value}」は時刻(HH:MM)ではありません", f"'{value}' is not a time (HH:MM)"
    )


def clock_text(seconds: int) -> str:
    """ "HH:MM" for seconds since midnight (negative: the evening before, e.g. "-05:00")."""
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class BreakSpec:
    """A driver's break: it starts within [earliest_s, latest_s] and lasts duration_s."""

    earliest_s: int
    latest_s: int
    duration_s: int

    def __post_init__(self) -> None:
        if not 0 < self.duration_s <= 4 * H or self.latest_s < self.earliest_s:
            raise invalid_setting(
                "fleet.breaks",
                "開始の幅と長さ(0〜4時間)を確認してください",
                "needs earliest <= latest and a duration of 0-4 hours",
            )


@dataclass(frozen=True, slots=True)
class VehicleGroup:
    """``count`` identical vehicles; a shift of None means the timetable's service hours."""

    count: int
    seats: int
    wheelchairs: int = 0
    shift_start_s: int | None = None
    shift_end_s: int | None = None
    breaks: tuple[BreakSpec, ...] = ()

    def __post_init__(self) -> None:
        if self.count < 0 or not 1 <= self.seats <= 60 or not 0 <= self.wheelchairs <= 8:
            raise invalid_setting(
                "fleet",
                "台数は0以上、座席は1〜60、車いすは0〜8です",
                "count >= 0, seats 1-60, wheelchairs 0-8",
            )
        if (self.shift_start_s is None) != (self.shift_end_s is None):
            raise invalid_setting(
                "fleet.shift", "開始と終了の両方を指定してください", "give both start and end"
            )
        start, end = self.shift_start_s, self.shift_end_s
        if start is not None and end is not None and end <= start:
            raise invalid_setting("fleet.shift", "終了は開始より後です", "end must be after start")


@dataclass(frozen=True, slots=True)
class DemandSpec:
    """Who asks for which trip and when, and how riders behave (see ``sim.demand``)."""

    model: str = "gravity"
    trips_per_day: float = 40.0
    #: Relative demand per hour of the day, by desired travel time: ((hour, weight), ...).
    hourly: tuple[tuple[int, float], ...] = ()
    advance_share: float = 0.6
    arrive_by_share: float = 0.2
    advance_lead_min_s: int = 3600
    advance_lead_max_s: int = 20 * H
    booking_opens_s: int = -7 * H
    group_sizes: tuple[float, ...] = (0.8, 0.15, 0.05)
    wheelchair_share: float = 0.03
    cancel_share: float = 0.05
    no_show_share: float = 0.03
    accept_alternative: float = 0.6
    confirm_delay_min_s: int = 5
    confirm_delay_max_s: int = 60
    decay_s: float = 1200.0
    other_share: float = 0.1
    #: Attraction of a place: 1 plus these weights per point of interest of each kind near it.
    attraction: tuple[tuple[str, float], ...] = ()
    #: Extra attraction for named places (meeting point ids), e.g. a known supermarket.
    extra_attraction: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        shares = {
            "advance_share": self.advance_share,
            "arrive_by_share": self.arrive_by_share,
            "wheelchair_share": self.wheelchair_share,
            "cancel_share": self.cancel_share,
            "no_show_share": self.no_show_share,
            "accept_alternative": self.accept_alternative,
            "other_share": self.other_share,
        }
        for key, value in shares.items():
            if not 0.0 <= value <= 1.0:
                raise invalid_setting(f"demand.{key}", "0〜1 の割合です", "must be a share 0..1")
        if not 0 <= self.trips_per_day <= 1_000_000:
            raise invalid_setting(
                "demand.trips_per_day", "0〜1,000,000 です", "must be 0..1,000,000"
            )
        if (
            not self.group_sizes
            or any(p < 0 for p in self.group_sizes)
            or sum(self.group_sizes) <= 0
        ):
            raise invalid_setting(
                "demand.group_sizes", "人数ごとの割合(1人, 2人, …)です", "shares for 1, 2, … riders"
            )
        if not 0 < self.advance_lead_min_s <= self.advance_lead_max_s:
            raise invalid_setting(
                "demand.advance_lead", "最小 ≤ 最大、正の値です", "needs 0 < min <= max"
            )
        if not 0 <= self.confirm_delay_min_s <= self.confirm_delay_max_s:
            raise invalid_setting(
                "demand.confirm_delay", "最小 ≤ 最大です", "needs 0 <= min <= max"
            )
        if self.decay_s <= 0:
            raise invalid_setting("demand.decay_s", "正の値です", "must be positive")
        for hour, weight in self.hourly:
            if not 0 <= hour <= 23 or weight < 0 or not math.isfinite(weight):
                raise invalid_setting(
                    "demand.hourly", "時(0〜23)と0以上の重みです", "hour 0-23, weight >= 0"
                )


@dataclass(frozen=True, slots=True)
class OperationsSpec:
    """How vehicles behave on the road and at stops."""

    #: Multiplicative lognormal noise on each drive (sigma of the log; 0 = exactly as planned).
    travel_noise_sigma: float = 0.15
    #: How long a driver waits for a rider who does not come before recording a no-show.
    no_show_wait_s: int = 120
    #: Drivers leave this share of the drive time earlier than the plan's latest departure
    #: (and wait at the stop), so that a slow drive still arrives on time.
    depart_early_share: float = 0.25
    #: Drives in the world's peak periods (the area's ``[[routing.peak]]``) take its peak
    #: factor longer (the dispatcher plans them so when the service's plan_peak_traffic is on).
    peak_traffic: bool = False
    #: Drives take the area's learned travel times instead (``learned_travel.toml`` from
    #: ``drt learn-travel``: a factor and a spread per road class and time band; the spread
    #: replaces travel_noise_sigma where one was learned) and peak_traffic is not applied.
    learned_travel: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.travel_noise_sigma <= 1.0:
            raise invalid_setting("operations.travel_noise_sigma", "0〜1 です", "must be 0..1")
        if not 0.0 <= self.depart_early_share <= 2.0:
            raise invalid_setting("operations.depart_early_share", "0〜2 です", "must be 0..2")
        if not 0 <= self.no_show_wait_s <= 1800:
            raise invalid_setting(
                "operations.no_show_wait_s", "0〜1800 秒です", "must be 0..1800 s"
            )


@dataclass(frozen=True, slots=True)
class GridSpec:
    """A synthetic city: places on a jittered square grid, Manhattan-distance streets."""

    size_km: float = 12.0
    spacing_m: float = 500.0
    speed_kmh: float = 25.0
    depots: int = 4
    layout_seed: int = 2028

    def __post_init__(self) -> None:
        if not 1.0 <= self.size_km <= 100.0 or not 100.0 <= self.spacing_m <= 5000.0:
            raise invalid_setting(
                "grid", "大きさ1〜100 km、間隔100〜5000 m です", "size 1-100 km, spacing 100-5000 m"
            )
        if not 5.0 <= self.speed_kmh <= 120.0 or not 1 <= self.depots <= 16:
            raise invalid_setting(
                "grid", "速度5〜120 km/h、車庫1〜16か所です", "speed 5-120 km/h, 1-16 depots"
            )

    @property
    def side(self) -> int:
        return int(self.size_km * 1000 // self.spacing_m) + 1


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title_ja: str
    title_en: str
    world: str
    day: str
    service_start_s: int
    service_end_s: int
    fleet: tuple[VehicleGroup, ...]
    demand: DemandSpec = field(default_factory=DemandSpec)
    operations: OperationsSpec = field(default_factory=OperationsSpec)
    grid: GridSpec | None = None
    source: str = ""
    #: Service settings this scenario's town sets over the area's service.toml ([service]).
    service: tuple[tuple[str, Any], ...] = ()

    def service_params(self, base: ServiceParams) -> ServiceParams:
        """The area's service parameters with this scenario's own settings over them."""
        return replace(base, **dict(self.service)) if self.service else base

    def __post_init__(self) -> None:
        if self.world not in WORLDS:
            raise invalid_setting(
                "scenario.world", f"{', '.join(WORLDS)} のどれかです", f"one of {WORLDS}"
            )
        if self.day not in DAY_TYPES:
            raise invalid_setting(
                "scenario.day", f"{', '.join(DAY_TYPES)} のどれかです", f"one of {DAY_TYPES}"
            )
        if not 0 <= self.service_start_s < self.service_end_s <= 30 * H:
            raise invalid_setting("timetable", "開始は終了より前です", "start must be before end")
        if not self.fleet or sum(g.count for g in self.fleet) < 0:
            raise invalid_setting(
                "fleet", "車両を1組以上指定してください", "at least one vehicle group"
            )

    @property
    def vehicle_count(self) -> int:
        return sum(g.count for g in self.fleet)

    def vehicle_templates(self) -> list[VehicleGroup]:
        """One group of count 1 per vehicle, in file order."""
        return [replace(g, count=1) for g in self.fleet for _ in range(g.count)]

    def with_fleet(self, vehicles: int) -> Scenario:
        """The same scenario with ``vehicles`` vehicles, taking the file's vehicles in turn."""
        if vehicles < 1:
            raise invalid_setting("fleet", "1台以上にしてください", "at least one vehicle")
        templates = self.vehicle_templates() or [replace(self.fleet[0], count=1)]
        chosen = [templates[i % len(templates)] for i in range(vehicles)]
        return replace(self, fleet=tuple(chosen))

    def shift_of(self, group: VehicleGroup) -> tuple[int, int]:
        if group.shift_start_s is not None and group.shift_end_s is not None:
            return group.shift_start_s, group.shift_end_s
        return self.service_start_s, self.service_end_s


# -- loading ---------------------------------------------------------------------------------


def _seconds(table: dict[str, Any], key: str, default: int, where: str) -> int:
    """A duration from ``key_s`` (seconds) or ``key_min`` (minutes)."""
    if f"{key}_s" in table:
        value = table.pop(f"{key}_s")
        scale = 1
    elif f"{key}_min" in table:
        value = table.pop(f"{key}_min")
        scale = 60
    else:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid_setting(f"{where}.{key}", "数値です", "must be a number")
    return round(value * scale)


def _pair(table: dict[str, Any], key: str, default: tuple[int, int], where: str) -> tuple[int, int]:
    """A [min, max] duration from ``key_min`` (minutes) or ``key_s`` (seconds)."""
    for suffix, scale in (("_s", 1), ("_min", 60)):
        if key + suffix in table:
            value = table.pop(key + suffix)
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(isinstance(v, int | float) for v in value)
            ):
                raise invalid_setting(
                    f"{where}.{key}{suffix}", "[最小, 最大] です", "must be [min, max]"
                )
            return round(value[0] * scale), round(value[1] * scale)
    return default


def _no_unknown(table: dict[str, Any], where: str, source: Path) -> None:
    if table:
        raise invalid_setting(
            f"{where}.{', '.join(sorted(table))}", "不明な設定です", "unknown setting", source
        )


def _breaks(raw: Any, source: Path) -> tuple[BreakSpec, ...]:
    if not isinstance(raw, list):
        raise invalid_setting("fleet.breaks", "表の配列です", "must be an array of tables", source)
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise invalid_setting(
                "fleet.breaks", "表の配列です", "must be an array of tables", source
            )
        b = dict(item)
        earliest = parse_clock("fleet.breaks.earliest", b.pop("earliest", None))
        latest = parse_clock("fleet.breaks.latest", b.pop("latest", None))
        duration = _seconds(b, "duration", 0, "fleet.breaks")
        _no_unknown(b, "fleet.breaks", source)
        out.append(BreakSpec(earliest, latest, duration))
    return tuple(out)


def _fleet(raw: Any, source: Path) -> tuple[VehicleGroup, ...]:
    if not isinstance(raw, list) or not raw:
        raise invalid_setting(
            "fleet", "[[fleet]] を1つ以上書いてください", "needs at least one [[fleet]]", source
        )
    groups = []
    for item in raw:
        g = dict(item)
        shift = g.pop("shift", None)
        start = end = None
        if shift is not None:
            if not isinstance(shift, list) or len(shift) != 2:
                raise invalid_setting(
                    "fleet.shift", '["HH:MM", "HH:MM"] です', 'must be ["HH:MM", "HH:MM"]'
                )
            start, end = parse_clock("fleet.shift", shift[0]), parse_clock("fleet.shift", shift[1])
        breaks = _breaks(g.pop("breaks", []), source)
        try:
            groups.append(
                VehicleGroup(
                    count=int(g.pop("count", 1)),
                    seats=int(g.pop("seats")),
                    wheelchairs=int(g.pop("wheelchairs", 0)),
                    shift_start_s=start,
                    shift_end_s=end,
                    breaks=breaks,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise invalid_setting(
                "fleet", f"値が読めません ({exc})", f"cannot read a value ({exc})", source
            ) from None
        _no_unknown(g, "fleet", source)
    return tuple(groups)


def _weights(raw: Any, key: str, source: Path) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in raw.values()
    ):
        raise invalid_setting(
            key, "名前 = 0以上の数 の表です", "must map names to numbers >= 0", source
        )
    return tuple((str(k), float(v)) for k, v in raw.items())


def _demand(raw: dict[str, Any], source: Path) -> DemandSpec:
    d = dict(raw)
    base = DemandSpec()
    hourly = d.pop("hourly", {})
    if not isinstance(hourly, dict):
        raise invalid_setting(
            "demand.hourly",
            '{ "07" = 0.6, … } の表です',
            'must be a table { "07" = 0.6, … }',
            source,
        )
    try:
        hours = tuple(sorted((int(h), float(w)) for h, w in hourly.items()))
    except (TypeError, ValueError):
        raise invalid_setting(
            "demand.hourly", "時 = 重み の表です", "must map hours to weights", source
        ) from None
    lead = _pair(d, "advance_lead", (base.advance_lead_min_s, base.advance_lead_max_s), "demand")
    delay = _pair(
        d, "confirm_delay", (base.confirm_delay_min_s, base.confirm_delay_max_s), "demand"
    )
    opens = d.pop("booking_opens", None)
    groups = d.pop("group_sizes", list(base.group_sizes))
    kwargs: dict[str, Any] = {
        "hourly": hours,
        "advance_lead_min_s": lead[0],
        "advance_lead_max_s": lead[1],
        "confirm_delay_min_s": delay[0],
        "confirm_delay_max_s": delay[1],
        "booking_opens_s": (
            base.booking_opens_s if opens is None else parse_clock("demand.booking_opens", opens)
        ),
        "decay_s": float(_seconds(d, "decay", int(base.decay_s), "demand")),
        "attraction": _weights(d.pop("attraction", {}), "demand.attraction", source),
        "extra_attraction": _weights(
            d.pop("extra_attraction", {}), "demand.extra_attraction", source
        ),
    }
    if not isinstance(groups, list) or not all(isinstance(v, int | float) for v in groups):
        raise invalid_setting(
            "demand.group_sizes", "数の配列です", "must be an array of numbers", source
        )
    kwargs["group_sizes"] = tuple(float(v) for v in groups)
    for key in (
        "model",
        "trips_per_day",
        "advance_share",
        "arrive_by_share",
        "wheelchair_share",
        "cancel_share",
        "no_show_share",
        "accept_alternative",
        "other_share",
    ):
        if key in d:
            kwargs[key] = d.pop(key)
    _no_unknown(d, "demand", source)
    try:
        spec = DemandSpec(**kwargs)
    except TypeError as exc:
        raise invalid_setting("demand", str(exc), str(exc), source) from None
    if not isinstance(spec.model, str):
        raise invalid_setting("demand.model", "名前です", "must be a name", source)
    return spec


def scenario_from_dict(data: dict[str, Any], source: Path) -> Scenario:
    """Build and validate a scenario from parsed TOML (``source`` names it in messages)."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    head = data.pop("scenario", None)
    if not isinstance(head, dict):
        raise invalid_setting(
            "scenario", "[scenario] の表がありません", "the [scenario] table is missing", source
        )
    timetable = data.pop("timetable", {})
    day = str(head.pop("day", "weekday"))
    if day not in DAY_TYPES:
        raise invalid_setting(
            "scenario.day", f"{', '.join(DAY_TYPES)} のどれかです", f"one of {DAY_TYPES}", source
        )
    hours = timetable.get(day)
    if not isinstance(hours, list) or len(hours) != 2:
        raise invalid_setting(
            f"timetable.{day}",
            '["HH:MM", "HH:MM"] の運行時間がありません',
            "no service hours for that day type",
            source,
        )
    start, end = parse_clock("timetable", hours[0]), parse_clock("timetable", hours[1])
    ops_raw = data.pop("operations", {})
    try:
        ops = OperationsSpec(
            travel_noise_sigma=float(ops_raw.pop("travel_noise_sigma", 0.15)),
            no_show_wait_s=_seconds(ops_raw, "no_show_wait", 120, "operations"),
            depart_early_share=float(ops_raw.pop("depart_early_share", 0.25)),
            peak_traffic=bool(ops_raw.pop("peak_traffic", False)),
            learned_travel=bool(ops_raw.pop("learned_travel", False)),
        )
    except (TypeError, ValueError) as exc:
        raise invalid_setting("operations", str(exc), str(exc), source) from None
    _no_unknown(ops_raw, "operations", source)
    grid_raw = data.pop("grid", None)
    grid = None
    if grid_raw is not None:
        try:
            grid = GridSpec(**grid_raw)
        except TypeError as exc:
            raise invalid_setting("grid", str(exc), str(exc), source) from None
    fleet = _fleet(data.pop("fleet", None), source)
    demand = _demand(data.pop("demand", {}), source)
    service = _service(data.pop("service", {}), source)
    try:
        scenario = Scenario(
            name=str(head.pop("name", source.stem)),
            title_ja=str(head.pop("title_ja", source.stem)),
            title_en=str(head.pop("title_en", source.stem)),
            world=str(head.pop("world", "area")),
            day=day,
            service_start_s=start,
            service_end_s=end,
            fleet=fleet,
            demand=demand,
            operations=ops,
            grid=grid,
            source=str(source),
            service=service,
        )
    except ScenarioError as exc:
        raise ScenarioError(
            f"{exc.message_ja} ({source})", f"{exc.message_en} ({source})", **exc.details
        ) from None
    _no_unknown(head, "scenario", source)
    _no_unknown(data, "(top level)", source)
    if scenario.world == "grid" and scenario.grid is None:
        raise invalid_setting(
            "grid",
            'world = "grid" には [grid] が必要です',
            'world = "grid" needs a [grid] table',
            source,
        )
    return scenario


def _service(raw: dict[str, Any], source: Path) -> tuple[tuple[str, Any], ...]:
    """[service]: settings of dispatch.params.ServiceParams this scenario's town sets."""
    known = {f.name for f in fields(ServiceParams)} - FROM_AREA
    unknown = sorted(set(raw) - known)
    if unknown:
        raise invalid_setting(f"service.{unknown[0]}", "サービス設定にない項目です",
                              "not a service setting", source)  # fmt: skip
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        replace(ServiceParams(), **values)  # validated like the service file
    except (ConfigError, TypeError) as exc:
        raise invalid_setting("service", str(exc), str(exc), source) from None
    return tuple(sorted(values.items()))


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnknownScenario(
            f"シナリオのファイルがありません: {path}", f"Scenario file not found: {path}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            f"シナリオのファイルの書式が誤っています: {path} ({exc})",
            f"Malformed scenario TOML: {path} ({exc})",
        ) from None
    return scenario_from_dict(data, path)


def scenario_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def find_scenario(name_or_path: str, folder: Path) -> Scenario:
    """A scenario by name (a file in ``folder``) or by the path of a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        return load_scenario(path)
    for candidate in scenario_files(folder):
        if candidate.stem == name_or_path:
            return load_scenario(candidate)
    known = ", ".join(p.stem for p in scenario_files(folder)) or "(none)"
    raise UnknownScenario(
        f"シナリオ「{name_or_path}」は見つかりません。使えるシナリオ: {known}",
        f"No scenario '{name_or_path}'. Known scenarios: {known}",
        name=name_or_path,
    )
