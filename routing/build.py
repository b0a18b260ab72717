"""Build the routing graph from the shipped OSM extract, and cache it on disk.

Steps: load the drivable graph with osmnx, drop classes a town minibus does not use, keep the
roads within a buffer around the town, keep the largest strongly connected component, set a
speed on every edge (``maxspeed`` where present, else the per-class table) and compile arrays.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from common.errors import ConfigError
from routing.area import ServiceArea
from routing.config import AreaConfig, RoutingConfig, file_sha256
from routing.graph import BuildReport, RoadGraph, compile_csr, weight_scale_for

Step = Callable[[str], None]

_MPH = 1.609344
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("[") and text.endswith("]"):  # a list that round-tripped through graphml
        return [v.strip(" '\"") for v in text[1:-1].split(",") if v.strip(" '\"")]
    return [text]


def parse_maxspeed_kmh(value: Any) -> float | None:
    """km/h from an OSM maxspeed value ('50', '30 mph', ['40', '50']); None when unusable."""
    speeds = []
    for item in _as_list(value):
        match = _NUMBER.search(item)
        if match is None:
            continue
        speed = float(match.group(1)) * (_MPH if "mph" in item else 1.0)
        if 1 <= speed <= 150:
            speeds.append(speed)
    return min(speeds) if speeds else None


def edge_speed_kmh(data: dict[str, Any], cfg: RoutingConfig) -> tuple[float, str]:
    """Speed for one edge and where it came from ('maxspeed' or the highway class)."""
    posted = parse_maxspeed_kmh(data.get("maxspeed"))
    if posted is not None:
        return posted, "maxspeed"
    classes = _as_list(data.get("highway")) or ["unknown"]
    # A simplified edge may merge several classes: take the slowest, to promise safely.
    speed = min(cfg.speed_for(c) for c in classes)
    return speed, "table"


def _primary_class(data: dict[str, Any]) -> str:
    classes = _as_list(data.get("highway"))
    return classes[0] if classes else "unknown"


def _street_name(data: dict[str, Any]) -> str:
    names = _as_list(data.get("name"))
    return names[0] if names else ""


def split_long_edges(
    graph: nx.MultiDiGraph, max_edge_m: float, area: ServiceArea
) -> nx.MultiDiGraph:
    """Cut every edge longer than ``max_edge_m`` into equal parts at new nodes.

    The two directions of a two-way road share the new nodes: parts are made once per road
    (same ends, same length) in the direction from the lower to the higher node id.
    """
    from shapely import LineString
    from shapely.ops import substring

    proj = area.projection
    next_id = min(int(n) for n in graph.nodes) - 1
    made: dict[tuple[int, int, float], list[int]] = {}
    long_edges = [
        (u, v, k, d)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if float(d.get("length", 0.0)) > max_edge_m
    ]
    for u, v, k, data in sorted(long_edges, key=lambda e: (int(e[0]), int(e[1]), e[2])):
        length = float(data["length"])
        parts = math.ceil(length / max_edge_m)
        lo, hi = sorted((int(u), int(v)))
        road = (lo, hi, round(length, 1))
        geometry = data.get("geometry")
        if geometry is None:
            geometry = LineString(
                [
                    (graph.nodes[u]["x"], graph.nodes[u]["y"]),
                    (graph.nodes[v]["x"], graph.nodes[v]["y"]),
                ]
            )
        x, y = proj.to_xy(np.array(geometry.xy[1]), np.array(geometry.xy[0]))
        line = LineString(np.column_stack((x, y)))
        if road not in made:
            forward = int(u) == lo
            inner = []
            for i in range(1, parts):
                at = line.interpolate(i / parts if forward else 1 - i / parts, normalized=True)
                lat, lon = proj.to_latlon(at.x, at.y)
                graph.add_node(next_id, x=float(lon), y=float(lat))
                inner.append(next_id)
                next_id -= 1
            made[road] = inner if forward else inner[::-1]
        inner = made[road] if int(u) == lo else made[road][::-1]
        chain = [u, *inner, v]
        graph.remove_edge(u, v, k)
        for i in range(parts):
            piece = substring(line, i / parts, (i + 1) / parts, normalized=True)
            lat, lon = proj.to_latlon(np.array(piece.xy[0]), np.array(piece.xy[1]))
            part = dict(data)
            part["length"] = length / parts
            part["geometry"] = LineString(np.column_stack((lon, lat)))
            graph.add_edge(chain[i], chain[i + 1], **part)
    return graph


def build_road_graph(
    area_cfg: AreaConfig, area: ServiceArea, step: Step | None = None
) -> RoadGraph:
    """Build the compiled graph from the area's graphml file (no cache involved)."""
    import osmnx as ox  # heavy import kept to the one function that needs it

    def say(message: str) -> None:
        if step is not None:
            step(message)

    cfg = area_cfg.routing
    source = area_cfg.drive_graph
    if not source.is_file():
        raise ConfigError(
            f"道路データのファイルがありません: {source}",
            f"Road network file not found: {source}",
            file=str(source),
        )
    say("OSM の道路網を読み込み中 / loading the OSM road network")
    try:
        graph = ox.load_graphml(source)
    except Exception as exc:  # osmnx raises many types for a corrupt file
        raise ConfigError(
            f"道路データを読み込めません: {source} ({exc})",
            f"Cannot read the road network: {source} ({exc})",
            file=str(source),
        ) from None
    source_nodes, source_edges = graph.number_of_nodes(), graph.number_of_edges()

    say("対象外の道路と範囲外を除外中 / dropping excluded classes and far roads")
    excluded = set(cfg.excluded_highways)
    drop = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if excluded.intersection(_as_list(d.get("highway")))
    ]
    graph.remove_edges_from(drop)
    ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    lat = np.array([graph.nodes[n]["y"] for n in ids], dtype=np.float64)
    lon = np.array([graph.nodes[n]["x"] for n in ids], dtype=np.float64)
    x, y = area.projection.to_xy(lat, lon)
    import shapely

    inside = shapely.contains_xy(area.buffered_xy(cfg.graph_buffer_m), x, y)
    outside_nodes = int((~inside).sum())
    graph = graph.subgraph(ids[inside].tolist())

    say("最大の強連結成分を抽出中 / keeping the largest strongly connected component")
    components = sorted(nx.strongly_connected_components(graph), key=len, reverse=True)
    if not components:
        raise ConfigError(
            "サービス区域の周辺に道路がありません。境界と道路データが同じ町か確認してください。",
            "No roads near the service area: check that the boundary and road files match.",
            boundary=str(area_cfg.boundary),
            graph=str(source),
        )
    largest = components[0]
    kept_graph = graph.subgraph(largest)
    dropped_nodes = graph.number_of_nodes() - kept_graph.number_of_nodes()
    dropped_edges = graph.number_of_edges() - kept_graph.number_of_edges()
    before_split = (kept_graph.number_of_nodes(), kept_graph.number_of_edges())
    if cfg.max_edge_m > 0:
        say("長い道路を分割中 / cutting long roads")
        kept_graph = split_long_edges(nx.MultiDiGraph(kept_graph), cfg.max_edge_m, area)
        largest = set(kept_graph.nodes)

    say("速度と所要時間を計算中 / assigning speeds and travel times")
    node_ids = np.array(sorted(largest), dtype=np.int64)
    index = {int(n): i for i, n in enumerate(node_ids)}
    node_lat = np.array([kept_graph.nodes[n]["y"] for n in node_ids.tolist()], dtype=np.float64)
    node_lon = np.array([kept_graph.nodes[n]["x"] for n in node_ids.tolist()], dtype=np.float64)

    highway_names: list[str] = []
    highway_index: dict[str, int] = {}
    street_names: list[str] = []
    street_index: dict[str, int] = {}
    edge_u, edge_v, time_ms, length_dm, hw, name = [], [], [], [], [], []
    geom_ptr: list[int] = [0]
    geom_lat: list[float] = []
    geom_lon: list[float] = []
    speed_sources: Counter[str] = Counter()
    edges = sorted(
        kept_graph.edges(keys=True, data=True), key=lambda e: (index[e[0]], index[e[1]], e[2])
    )
    for u, v, _key, data in edges:
        speed, origin = edge_speed_kmh(data, cfg)
        speed_sources[origin] += 1
        length_m = float(data.get("length", 0.0))
        edge_u.append(index[u])
        edge_v.append(index[v])
        length_dm.append(max(1, round(length_m * 10)))
        time_ms.append(max(1, round(length_m * 3600.0 / speed)))
        cls = _primary_class(data)
        hw.append(highway_index.setdefault(cls, len(highway_names)))
        if hw[-1] == len(highway_names):
            highway_names.append(cls)
        street = _street_name(data)
        if street:
            name.append(street_index.setdefault(street, len(street_names)))
            if name[-1] == len(street_names):
                street_names.append(street)
        else:
            name.append(-1)
        geometry = data.get("geometry")
        if geometry is not None:
            coords = list(geometry.coords)
            geom_lon.extend(c[0] for c in coords)
            geom_lat.extend(c[1] for c in coords)
        else:
            geom_lat.extend((node_lat[index[u]], node_lat[index[v]]))
            geom_lon.extend((node_lon[index[u]], node_lon[index[v]]))
        geom_ptr.append(len(geom_lat))

    say("配列に変換中 / compiling arrays")
    u_arr = np.array(edge_u, dtype=np.int32)
    v_arr = np.array(edge_v, dtype=np.int32)
    t_arr = np.array(time_ms, dtype=np.int64)
    l_arr = np.array(length_dm, dtype=np.int64)
    scale = weight_scale_for(l_arr, t_arr)
    indptr, indices, csr_edge = compile_csr(len(node_ids), u_arr, v_arr, t_arr * scale + l_arr)
    report = BuildReport(
        source=str(source),
        source_sha256=file_sha256(source),
        source_nodes=source_nodes,
        source_edges=source_edges,
        excluded_edges=len(drop),
        outside_extent_nodes=outside_nodes,
        components=len(components),
        dropped_nodes=dropped_nodes,
        dropped_edges=dropped_edges,
        nodes=len(node_ids),
        edges=len(edge_u),
        split_edges=len(edge_u) - before_split[1],
        split_nodes=len(node_ids) - before_split[0],
        speed_source_counts=dict(speed_sources),
    )
    return RoadGraph(
        projection=area.projection,
        node_osmid=node_ids,
        node_lat=node_lat,
        node_lon=node_lon,
        edge_u=u_arr,
        edge_v=v_arr,
        edge_time_ms=t_arr,
        edge_length_dm=l_arr,
        edge_highway=np.array(hw, dtype=np.int32),
        edge_name=np.array(name, dtype=np.int32),
        geom_ptr=np.array(geom_ptr, dtype=np.int64),
        geom_lat=np.array(geom_lat, dtype=np.float64),
        geom_lon=np.array(geom_lon, dtype=np.float64),
        highway_names=np.array(highway_names, dtype=np.str_),
        street_names=np.array(street_names, dtype=np.str_),
        csr_indptr=indptr,
        csr_indices=indices,
        csr_edge=csr_edge,
        weight_scale=scale,
        report=report,
    )


def cache_path(area_cfg: AreaConfig, cache_dir: Path) -> Path:
    return cache_dir / f"roadgraph-{area_cfg.graph_cache_key()}.npz"


def load_or_build(
    area_cfg: AreaConfig,
    area: ServiceArea,
    cache_dir: Path,
    *,
    rebuild: bool = False,
    step: Step | None = None,
) -> tuple[RoadGraph, bool]:
    """The compiled graph from the cache when its key matches, else built and cached.

    Returns the graph and whether it came from the cache. A cache file that cannot be read
    (an older format, a torn write) is rebuilt rather than trusted.
    """
    area_cfg.require_files()
    path = cache_path(area_cfg, cache_dir)
    if path.is_file() and not rebuild:
        try:
            return RoadGraph.load(path), True
        except (OSError, ValueError, KeyError, TypeError):
            pass
    graph = build_road_graph(area_cfg, area, step)
    graph.save(path)
    return graph, False
