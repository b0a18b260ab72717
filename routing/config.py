"""Service-area configuration: which map files to use, road speeds, limits and stop targets.

An area is a TOML file (see ``areas/kurate/area.toml``). Every value is validated when it is
loaded, so a mistake in the file is reported before any work starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ConfigError

SECONDS_PER_DAY = 86_400
DEFAULT_CANDIDATE_HIGHWAYS = (
    "residential",
    "living_street",
    "unclassified",
    "tertiary",
    "secondary",
    "road",
)


def _bad(key: str, problem_ja: str, problem_en: str, path: Path | None = None) -> ConfigError:
    where = f" ({path})" if path else ""
    return ConfigError(
        f"設定「{key}」が正しくありません: {problem_ja}{where}",
        f"Setting '{key}' is invalid: {problem_en}{where}",
        key=key,
        file=str(path) if path else None,
    )


def parse_hhmm(key: str, text: str) -> int:
    try:
        hh, mm = text.split(":")
        seconds = int(hh) * 3600 + int(mm) * 60
    except ValueError:
        raise _bad(key, f"「{text}」は HH:MM ではありません", f"'{text}' is not HH:MM") from None
    if not 0 <= seconds <= SECONDS_PER_DAY or not 0 <= int(mm) < 60:
        raise _bad(key, f"「{text}」は0:00〜24:00の範囲外です", f"'{text}' is outside 00:00-24:00")
    return seconds


@dataclass(frozen=True, slots=True)
class PeakPeriod:
    """Travel times starting in [start_s, end_s) of the day are multiplied by factor_pct / 100."""

    start_s: int
    end_s: int
    factor_pct: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_s < self.end_s <= SECONDS_PER_DAY:
            raise _bad(
                "routing.peak", "開始が終了より前である必要があります", "start must be before end"
            )
        if not 50 <= self.factor_pct <= 400:
            raise _bad("routing.peak.factor_pct", "50〜400 で指定してください", "must be 50..400")


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    graph_buffer_m: float = 2000.0
    max_edge_m: float = 200.0
    service_margin_m: float = 300.0
    max_snap_m: float = 200.0
    excluded_highways: tuple[str, ...] = ("motorway", "motorway_link")
    default_speed_kmh: float = 30.0
    speeds_kmh: dict[str, float] = field(default_factory=dict)
    peak: tuple[PeakPeriod, ...] = ()

    def __post_init__(self) -> None:
        for key, value in (
            ("routing.graph_buffer_m", self.graph_buffer_m),
            ("routing.service_margin_m", self.service_margin_m),
        ):
            if not 0 <= value <= 50_000:
                raise _bad(key, "0〜50000 m で指定してください", "must be 0..50000 m")
        if self.max_edge_m != 0 and not 50 <= self.max_edge_m <= 10_000:
            raise _bad(
                "routing.max_edge_m",
                "0 または 50〜10000 m で指定してください",
                "must be 0 or 50..10000 m",
            )
        if not 1 <= self.max_snap_m <= 5_000:
            raise _bad("routing.max_snap_m", "1〜5000 m で指定してください", "must be 1..5000 m")
        for name, speed in [("default", self.default_speed_kmh), *self.speeds_kmh.items()]:
            if not 1 <= speed <= 150:
                raise _bad(
                    f"routing.speeds_kmh.{name}", "1〜150 km/h で指定してください", "must be 1..150"
                )
        spans = sorted((p.start_s, p.end_s) for p in self.peak)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise _bad("routing.peak", "時間帯が重なっています", "periods overlap")

    def speed_for(self, highway: str) -> float:
        return self.speeds_kmh.get(highway, self.default_speed_kmh)

    def factor_pct_at(self, time_of_day_s: int) -> int:
        """Peak factor (percent) for a trip departing at this second of the day."""
        t = time_of_day_s % SECONDS_PER_DAY
        for period in self.peak:
            if period.start_s <= t < period.end_s:
                return period.factor_pct
        return 100

    def graph_key(self) -> dict[str, Any]:
        """The part of the config that changes the compiled graph (for the cache key)."""
        return {
            "graph_buffer_m": self.graph_buffer_m,
            "max_edge_m": self.max_edge_m,
            "excluded_highways": sorted(self.excluded_highways),
            "default_speed_kmh": self.default_speed_kmh,
            "speeds_kmh": dict(sorted(self.speeds_kmh.items())),
        }


@dataclass(frozen=True, slots=True)
class StopsConfig:
    walk_radius_m: float = 300.0
    target_count: int = 180
    coverage_highways: tuple[str, ...] = ("residential", "living_street")
    poi_kinds: tuple[str, ...] = ()
    poi_max_snap_m: float = 150.0
    # Coverage points are placed only at junctions that touch a road of these classes,
    # so that a minibus can stop safely (not on a national route).
    candidate_highways: tuple[str, ...] = DEFAULT_CANDIDATE_HIGHWAYS
    # Time limit for the placement optimiser (HiGHS) in seconds.
    solver_time_limit_s: float = 60.0
    # Official names (OpenStreetMap) -> the name residents use, and organisation prefixes
    # dropped from facility names (routing/names.py).
    name_aliases: dict[str, str] = field(default_factory=dict)
    name_drop_prefixes: tuple[str, ...] = ()
    # Readings of the town's own words (hiragana), used before the reading library
    # (routing/readings.py), e.g. 小牧 = "おまき", which no dictionary knows.
    readings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 50 <= self.walk_radius_m <= 2000:
            raise _bad("stops.walk_radius_m", "50〜2000 m で指定してください", "must be 50..2000 m")
        if not 1 <= self.target_count <= 5000:
            raise _bad("stops.target_count", "1〜5000 で指定してください", "must be 1..5000")


@dataclass(frozen=True, slots=True)
class AreaConfig:
    """A service area: its name, its map files (absolute paths) and its parameters."""

    name: str
    name_en: str
    drive_graph: Path
    roads_pois: Path
    boundary: Path
    places: Path
    meeting_points: Path
    routing: RoutingConfig
    stops: StopsConfig
    source: Path

    def require_files(self) -> None:
        """Fail with a clear error naming the first map file that is missing."""
        for key in ("drive_graph", "roads_pois", "boundary", "places"):
            path: Path = getattr(self, key)
            if not path.is_file():
                raise _bad(
                    f"area.{key}",
                    f"ファイルがありません: {path}",
                    f"file not found: {path}",
                    self.source,
                )

    def graph_cache_key(self) -> str:
        """Hash of the graph source file, the boundary and every setting that shapes the graph."""
        digest = hashlib.sha256()
        for path in (self.drive_graph, self.boundary):
            digest.update(file_sha256(path).encode())
        digest.update(json.dumps(self.routing.graph_key(), sort_keys=True).encode())
        return digest.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _bad(key, "表（テーブル）である必要があります", "must be a table", path)
    return value


def load_area(path: Path | str) -> AreaConfig:
    """Read and validate an area TOML file; relative paths inside it are resolved against it."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError(
            f"エリア設定ファイルがありません: {path}",
            f"Area file not found: {path}",
            file=str(path),
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _bad(
            "(file)", f"TOML の書式が誤っています: {exc}", f"malformed TOML: {exc}", path
        ) from None
    area = _table(data, "area", path)
    routing = dict(_table(data, "routing", path))
    stops = dict(_table(data, "stops", path))
    try:
        peaks = tuple(
            PeakPeriod(
                start_s=parse_hhmm("routing.peak.start", str(p["start"])),
                end_s=parse_hhmm("routing.peak.end", str(p["end"])),
                factor_pct=int(p["factor_pct"]),
            )
            for p in routing.pop("peak", [])
        )
        routing_cfg = RoutingConfig(
            graph_buffer_m=float(routing.pop("graph_buffer_m", 2000)),
            max_edge_m=float(routing.pop("max_edge_m", 200)),
            service_margin_m=float(routing.pop("service_margin_m", 300)),
            max_snap_m=float(routing.pop("max_snap_m", 200)),
            excluded_highways=tuple(
                routing.pop("excluded_highways", ["motorway", "motorway_link"])
            ),
            default_speed_kmh=float(routing.pop("default_speed_kmh", 30)),
            speeds_kmh={str(k): float(v) for k, v in routing.pop("speeds_kmh", {}).items()},
            peak=peaks,
        )
        stops_cfg = StopsConfig(
            walk_radius_m=float(stops.pop("walk_radius_m", 300)),
            target_count=int(stops.pop("target_count", 180)),
            coverage_highways=tuple(
                stops.pop("coverage_highways", ["residential", "living_street"])
            ),
            poi_kinds=tuple(stops.pop("poi_kinds", [])),
            poi_max_snap_m=float(stops.pop("poi_max_snap_m", 150)),
            candidate_highways=tuple(stops.pop("candidate_highways", DEFAULT_CANDIDATE_HIGHWAYS)),
            solver_time_limit_s=float(stops.pop("solver_time_limit_s", 60)),
            name_aliases={str(k): str(v) for k, v in stops.pop("name_aliases", {}).items()},
            name_drop_prefixes=tuple(str(x) for x in stops.pop("name_drop_prefixes", [])),
            readings={str(k): str(v) for k, v in stops.pop("readings", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(
            "routing/stops", f"値が読めません: {exc!r}", f"unreadable value: {exc!r}", path
        ) from None
    unknown = sorted(f"routing.{k}" for k in routing) + sorted(f"stops.{k}" for k in stops)
    if unknown:
        raise _bad(", ".join(unknown), "不明な設定です", "unknown setting", path)

    def resolve(key: str, default: str | None = None) -> Path:
        value = area.get(key, default)
        if not isinstance(value, str) or not value:
            raise _bad(
                f"area.{key}", "ファイルのパスを指定してください", "a file path is required", path
            )
        return (path.parent / value).resolve()

    return AreaConfig(
        name=str(area.get("name", path.parent.name)),
        name_en=str(area.get("name_en", path.parent.name)),
        drive_graph=resolve("drive_graph"),
        roads_pois=resolve("roads_pois"),
        boundary=resolve("boundary"),
        places=resolve("places"),
        meeting_points=resolve("meeting_points", "meeting_points.geojson"),
        routing=routing_cfg,
        stops=stops_cfg,
        source=path,
    )


def config_as_dict(cfg: AreaConfig) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(asdict(cfg), default=str))
    return out
