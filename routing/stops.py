"""Meeting points (virtual stops): the places where riders board and alight.

They live in a GeoJSON FeatureCollection in the repository, one Point feature per meeting
point at the road node where the vehicle stops. Ids are stable: a regenerated set keeps the
id of a point that stays, and a removed id is never given out again (``next_id``).
Every change is validated first and written atomically, so a refused change leaves the file
exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.errors import DrtError
from routing.area import InvalidGeoJSON, read_geojson
from routing.names import SHORT_NAME_MAX, district_label, short_name

if TYPE_CHECKING:
    from routing.readings import Reader
    from routing.router import Router

#: Kinds of meeting point, with the Japanese label shown to people.
KINDS: dict[str, str] = {
    "town_hall": "役場・公共施設",
    "public": "公共施設",
    "hospital": "病院・診療所",
    "school": "学校",
    "kindergarten": "保育所・幼稚園",
    "post_office": "郵便局",
    "shop": "お店",
    "station": "駅・バス",
    "coverage": "地域の乗降ポイント",
    "manual": "追加した乗降ポイント",
}

_ID = re.compile(r"^([A-Z]{2,5})-(\d{3,6})$")


class StopError(DrtError):
    code = "meeting_point_invalid"
    http_status = 422


class UnknownStop(DrtError):
    code = "meeting_point_not_found"
    http_status = 404


@dataclass(frozen=True, slots=True)
class MeetingPoint:
    id: str
    name: str
    kind: str
    lat: float
    lon: float
    kana: str | None = None
    district: str | None = None
    source: str = "manual"  # "poi", "coverage" or "manual"
    #: At most SHORT_NAME_MAX characters, for buttons; None: made from the name.
    short_name: str | None = None
    #: Who gave the reading: "machine" (routing/readings.py, until staff confirm) or "staff".
    kana_source: str | None = None

    @property
    def label(self) -> str:
        """The name on a button or a tablet line: the short name, else one made from the name."""
        return self.short_name or short_name(self.name)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise StopError(
                f"乗降ポイントの番号「{self.id}」の形式が正しくありません(例: KUR-001)",
                f"Meeting point id '{self.id}' is malformed (expected e.g. KUR-001)",
                id=self.id,
            )
        if not self.name.strip() or len(self.name) > 60:
            raise StopError(
                "乗降ポイントの名前は1〜60文字で入力してください",
                "A meeting point name must be 1 to 60 characters",
                id=self.id,
            )
        if self.short_name is not None and not 1 <= len(self.short_name) <= SHORT_NAME_MAX:
            raise StopError(
                f"短い名前は1〜{SHORT_NAME_MAX}文字で入力してください(LINEのボタンに入る長さ)",
                f"A short name must be 1 to {SHORT_NAME_MAX} characters (a LINE button's width)",
                id=self.id,
            )
        if self.kana_source not in (None, "machine", "staff"):
            raise StopError(
                "読みの出どころは machine か staff です",
                "kana_source must be machine or staff",
                id=self.id,
            )
        if self.kind not in KINDS:
            raise StopError(
                f"種類「{self.kind}」は使えません。使える種類: {', '.join(KINDS)}",
                f"Unknown kind '{self.kind}'. Allowed: {', '.join(KINDS)}",
                id=self.id,
                kind=self.kind,
            )
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise StopError(
                f"座標が正しくありません: ({self.lat}, {self.lon})",
                f"Invalid coordinates: ({self.lat}, {self.lon})",
                id=self.id,
            )

    def to_feature(self) -> dict[str, Any]:
        props = {k: v for k, v in asdict(self).items() if k not in ("lat", "lon")}
        props["short_name"] = self.label
        props["kind_ja"] = KINDS[self.kind]
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": {"type": "Point", "coordinates": [round(self.lon, 7), round(self.lat, 7)]},
            "properties": props,
        }


@dataclass(frozen=True, slots=True)
class MeetingPointSet:
    """An ordered, validated set of meeting points with its id counter."""

    prefix: str
    points: tuple[MeetingPoint, ...]
    next_id: int
    attribution: str = "© OpenStreetMap contributors, ODbL 1.0"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        names: set[str] = set()
        for p in self.points:
            if p.id in seen:
                raise StopError(f"番号 {p.id} が重複しています", f"Duplicate id {p.id}", id=p.id)
            if p.name in names:
                raise StopError(
                    f"名前「{p.name}」が重複しています。区別できる名前にしてください。",
                    f"Duplicate name '{p.name}': names must tell points apart",
                    id=p.id,
                    name=p.name,
                )
            seen.add(p.id)
            names.add(p.name)
            if _id_number(p.id) >= self.next_id:
                raise StopError(
                    f"番号 {p.id} が次の番号 {self.next_id} 以上です",
                    f"Id {p.id} is not below next_id {self.next_id}",
                    id=p.id,
                )

    def districts(self) -> list[str]:
        """The 大字 (and 丁目) the meeting points lie in, as residents name them (「中山」):
        what a resident's address is placed in when it omits the word 大字."""
        return sorted({district_label(p.district) for p in self.points if p.district})

    def get(self, stop_id: str) -> MeetingPoint:
        for p in self.points:
            if p.id == stop_id:
                return p
        raise UnknownStop(
            f"乗降ポイント {stop_id} は見つかりません", f"No meeting point {stop_id}", id=stop_id
        )

    def new_id(self, offset: int = 0) -> str:
        return f"{self.prefix}-{self.next_id + offset:03d}"

    def with_added(self, point: MeetingPoint) -> MeetingPointSet:
        if point.id != self.new_id():
            raise StopError(
                f"新しい番号は {self.new_id()} である必要があります",
                f"A new point must take id {self.new_id()}",
                id=point.id,
            )
        return replace(self, points=(*self.points, point), next_id=self.next_id + 1)

    def with_removed(self, stop_id: str) -> MeetingPointSet:
        self.get(stop_id)
        return replace(self, points=tuple(p for p in self.points if p.id != stop_id))

    def with_renamed(
        self,
        stop_id: str,
        name: str,
        kana: str | None,
        short: str | None = None,
        kana_source: str | None = None,
    ) -> MeetingPointSet:
        """A new name; ``kana``/``short``/``kana_source`` None keep the old ones (the caller
        makes new ones for a new name: ``readings.Reader``, ``names.short_name``)."""
        old = self.get(stop_id)
        new = replace(
            old,
            name=name.strip(),
            kana=kana if kana is not None else old.kana,
            kana_source=kana_source if kana_source is not None else old.kana_source,
            short_name=short if short is not None else old.short_name,
        )
        return self.with_replaced(new)

    def with_replaced(self, point: MeetingPoint) -> MeetingPointSet:
        self.get(point.id)
        return replace(self, points=tuple(point if p.id == point.id else p for p in self.points))

    def to_geojson(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"prefix": self.prefix, "next_id": self.next_id}
        if extra:
            meta.update(extra)
        return {
            "type": "FeatureCollection",
            "attribution": self.attribution,
            "drt": meta,
            "features": [p.to_feature() for p in self.points],
        }


def _id_number(stop_id: str) -> int:
    match = _ID.match(stop_id)
    return int(match.group(2)) if match else -1


def id_prefix_for(name_en: str) -> str:
    letters = re.sub(r"[^A-Za-z]", "", name_en).upper()
    return (letters[:3] or "MP").ljust(2, "X")


def load_stops(path: Path) -> MeetingPointSet:
    """Read and validate a meeting-point file."""
    data = read_geojson(path, "乗降ポイント", "Meeting points")
    meta = data.get("drt") or {}
    try:
        points = tuple(
            MeetingPoint(
                id=str(f["properties"]["id"]),
                name=str(f["properties"]["name"]),
                kind=str(f["properties"]["kind"]),
                lat=float(f["geometry"]["coordinates"][1]),
                lon=float(f["geometry"]["coordinates"][0]),
                kana=f["properties"].get("kana"),
                district=f["properties"].get("district"),
                source=str(f["properties"].get("source", "manual")),
                short_name=f["properties"].get("short_name"),
                kana_source=f["properties"].get("kana_source"),
            )
            for f in data.get("features", [])
        )
        prefix = str(meta.get("prefix") or (points[0].id.split("-")[0] if points else "MP"))
        next_id = int(meta.get("next_id", 1 + max((_id_number(p.id) for p in points), default=0)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InvalidGeoJSON(
            f"乗降ポイントのファイルの内容が正しくありません: {path} ({exc!r})",
            f"Meeting point file has a malformed feature: {path} ({exc!r})",
            file=str(path),
        ) from None
    return MeetingPointSet(prefix=prefix, points=points, next_id=next_id)


def save_stops(stops: MeetingPointSet, path: Path, extra: dict[str, Any] | None = None) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    text = json.dumps(stops.to_geojson(extra), ensure_ascii=False, indent=1) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_meta(path: Path) -> dict[str, Any]:
    meta = read_geojson(path, "乗降ポイント", "Meeting points").get("drt") or {}
    return dict(meta)


def assign_ids(
    previous: MeetingPointSet | None, prefix: str, fresh: Iterable[MeetingPoint], match_m: float
) -> MeetingPointSet:
    """Give regenerated points the id of a previous point within ``match_m``, else a new id."""
    from routing.geo import LocalProjection

    fresh = list(fresh)
    if previous is None:
        return MeetingPointSet(
            prefix=prefix,
            points=tuple(replace(p, id=f"{prefix}-{i + 1:03d}") for i, p in enumerate(fresh)),
            next_id=len(fresh) + 1,
        )
    old = list(previous.points)
    proj = LocalProjection(old[0].lat, old[0].lon) if old else None
    taken: set[str] = set()
    out: list[MeetingPoint] = []
    next_id = previous.next_id
    for p in fresh:
        best: MeetingPoint | None = None
        if proj is not None:
            px, py = proj.to_xy(p.lat, p.lon)
            best_d = match_m
            for q in old:
                if q.id in taken:
                    continue
                qx, qy = proj.to_xy(q.lat, q.lon)
                d = float(((px - qx) ** 2 + (py - qy) ** 2) ** 0.5)
                if d <= best_d:
                    best, best_d = q, d
        if best is not None:
            taken.add(best.id)
            out.append(replace(p, id=best.id))
        else:
            out.append(replace(p, id=f"{previous.prefix}-{next_id:03d}"))
            next_id += 1
    out.sort(key=lambda p: _id_number(p.id))
    return MeetingPointSet(prefix=previous.prefix, points=tuple(out), next_id=next_id)


def stop_nodes(router: Router, stops: MeetingPointSet) -> list[int]:
    """The graph node of every meeting point; a point off the network is named in the error."""
    nodes = []
    for p in stops.points:
        try:
            nodes.append(router.snap(p.lat, p.lon).node)
        except DrtError as exc:
            raise StopError(
                f"乗降ポイント {p.id}「{p.name}」が道路網にありません: {exc.message_ja}",
                f"Meeting point {p.id} '{p.name}' is off the road network: {exc.message_en}",
                id=p.id,
            ) from exc
    return nodes


def with_machine_kana(stops: MeetingPointSet, reader: Reader) -> MeetingPointSet:
    """Every point whose reading staff did not give read by machine (kana_source machine)."""
    points = tuple(
        p
        if p.kana_source == "staff"
        else replace(p, kana=reader.kana(p.name), kana_source="machine")
        for p in stops.points
    )
    return replace(stops, points=points)
