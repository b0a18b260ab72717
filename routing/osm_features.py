"""Named things a resident recognises: POIs from the OSM extract and place names (大字, 丁目)."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from common.errors import ConfigError
from routing.area import read_geojson

#: OSM tag keys whose value says what a POI is, in order of preference.
_KIND_KEYS = ("amenity", "shop", "tourism", "leisure", "railway", "public_transport", "office")


@dataclass(frozen=True, slots=True)
class Poi:
    lat: float
    lon: float
    name: str
    kind: str  # the OSM value, e.g. "school", "post_office", "supermarket"
    key: str  # the OSM key it came from, e.g. "amenity", "shop"


@dataclass(frozen=True, slots=True)
class Place:
    lat: float
    lon: float
    name: str
    place: str  # OSM place=*: quarter (大字), neighbourhood (丁目), town, ...


def read_pois(path: Path) -> list[Poi]:
    """Named, tagged nodes of an OSM XML file (.osm or .osm.gz), in file order."""
    if not path.is_file():
        raise ConfigError(
            f"POI のファイルがありません: {path}", f"POI file not found: {path}", file=str(path)
        )
    opener = gzip.open if path.suffix == ".gz" else open
    pois: list[Poi] = []
    try:
        with opener(path, "rb") as fh:
            for _, element in ET.iterparse(fh):
                if element.tag == "node":
                    tags = {t.get("k", ""): t.get("v", "") for t in element.iter("tag")}
                    name = tags.get("name", "").strip()
                    key = next((k for k in _KIND_KEYS if k in tags), None)
                    if name and key is not None:
                        kind = tags[key] if tags[key] != "yes" else key
                        lat, lon = (
                            float(element.get("lat", "nan")),
                            float(element.get("lon", "nan")),
                        )
                        pois.append(Poi(lat, lon, name, kind, key))
                    element.clear()
                elif element.tag in ("way", "relation"):
                    element.clear()
    except (ET.ParseError, OSError, EOFError) as exc:
        raise ConfigError(
            f"POI のファイルが読めません: {path} ({exc})",
            f"Cannot read the POI file: {path} ({exc})",
            file=str(path),
        ) from None
    return pois


def read_places(path: Path) -> list[Place]:
    data = read_geojson(path, "地名", "Place names")
    places = []
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        if geom.get("type") != "Point" or not props.get("name"):
            continue
        lon, lat = geom["coordinates"][:2]
        places.append(
            Place(float(lat), float(lon), str(props["name"]), str(props.get("place", "")))
        )
    return places
