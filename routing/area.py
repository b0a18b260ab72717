"""The service area: the town's administrative boundary, read from GeoJSON, plus a margin."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from common.errors import ConfigError
from routing.geo import LocalProjection


class InvalidGeoJSON(ConfigError):
    code = "geojson_invalid"


def read_geojson(path: Path, what_ja: str, what_en: str) -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection or Feature, failing with a message naming the file."""
    if not path.is_file():
        raise ConfigError(
            f"{what_ja}のファイルがありません: {path}",
            f"{what_en} file not found: {path}",
            file=str(path),
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidGeoJSON(
            f"{what_ja}のファイルが GeoJSON として読めません: {path} ({exc})",
            f"{what_en} file is not valid GeoJSON: {path} ({exc})",
            file=str(path),
        ) from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise InvalidGeoJSON(
            f"{what_ja}のファイルは FeatureCollection である必要があります: {path}",
            f"{what_en} file must be a GeoJSON FeatureCollection: {path}",
            file=str(path),
        )
    return data


def _polygon_from(data: dict[str, Any], path: Path) -> Polygon | MultiPolygon:
    features = data["features"] if data["type"] == "FeatureCollection" else [data]
    polys = []
    for feature in features:
        try:
            geom = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            continue
        if isinstance(geom, Polygon | MultiPolygon) and geom.is_valid and not geom.is_empty:
            polys.append(geom)
    if not polys:
        raise InvalidGeoJSON(
            f"境界ファイルに有効なポリゴンがありません: {path}",
            f"Boundary file holds no valid Polygon: {path}",
            file=str(path),
        )
    merged = shapely.union_all(polys)
    assert isinstance(merged, Polygon | MultiPolygon)
    return merged


@dataclass(frozen=True, slots=True, eq=False)
class ServiceArea:
    """The boundary in lat/lon and in local metres, and the same buffered by the margin."""

    name: str
    boundary: Polygon | MultiPolygon
    projection: LocalProjection
    boundary_xy: Polygon | MultiPolygon
    allowed_xy: Polygon | MultiPolygon
    margin_m: float

    @classmethod
    def from_file(cls, path: Path, name: str, margin_m: float) -> ServiceArea:
        boundary = _polygon_from(read_geojson(path, "境界", "Boundary"), path)
        centre = boundary.centroid
        projection = LocalProjection(lat0=centre.y, lon0=centre.x)
        boundary_xy = shapely.transform(
            boundary, lambda lonlat: np.column_stack(projection.to_xy(lonlat[:, 1], lonlat[:, 0]))
        )
        allowed = boundary_xy.buffer(margin_m) if margin_m > 0 else boundary_xy
        shapely.prepare(boundary_xy)
        shapely.prepare(allowed)
        return cls(name, boundary, projection, boundary_xy, allowed, margin_m)

    def contains_xy(self, x: Any, y: Any, *, margin: bool = True) -> Any:
        """Vectorised point-in-area test on local metres (with or without the margin)."""
        return shapely.contains_xy(self.allowed_xy if margin else self.boundary_xy, x, y)

    def buffered_xy(self, buffer_m: float) -> Polygon | MultiPolygon:
        out = self.boundary_xy.buffer(buffer_m) if buffer_m > 0 else self.boundary_xy
        assert isinstance(out, Polygon | MultiPolygon)
        return out
