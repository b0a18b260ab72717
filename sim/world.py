"""The places a simulated day happens on: meeting points, travel times, distances and weights.

A :class:`World` is plain arrays, so it can be handed to worker processes (or a Dask or Ray
cluster) with a job. Two are built here:

- :func:`area_world`: the area's meeting points (Kurate's 180) on the real road graph. Travel times and
  distances come from one ``Router.matrix`` call (the numbers the live dispatcher uses).
  There is no population data offline, so the *population weight* of a meeting point is a
  documented proxy: the length of residential and living-street road (the area's coverage
  classes) whose nearer end is closest, walking, to that meeting point. The *attraction
  features* count the named OpenStreetMap points of interest of each kind (clinics, shops,
  the town hall, stations, …) within the walking radius of the meeting point, each counted
  at its nearest meeting point only.
- :func:`grid_world`: a synthetic city for stress tests, not a real place: places on a
  jittered square grid, Manhattan street distances at one speed, population falling off from
  the centre with random variation, and a few made-up attractors.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from sim.scenario import GridSpec

if TYPE_CHECKING:
    from routing.config import AreaConfig
    from routing.osm_features import Poi
    from routing.router import Router
    from routing.stops import MeetingPointSet

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: OSM kinds of points of interest, grouped into the attraction categories of a scenario.
POI_CATEGORY: dict[str, str] = {
    "townhall": "town_hall",
    "hospital": "hospital",
    "clinic": "clinic",
    "doctors": "clinic",
    "dentist": "clinic",
    "pharmacy": "pharmacy",
    "chemist": "pharmacy",
    "supermarket": "supermarket",
    "mall": "supermarket",
    "department_store": "supermarket",
    "convenience": "convenience",
    "post_office": "post_bank",
    "bank": "post_bank",
    "community_centre": "community",
    "library": "community",
    "museum": "community",
    "station": "station",
    "bus_station": "station",
    "halt": "station",
    "school": "school",
    "kindergarten": "school",
}
#: Any other named shop counts as a "shop".
OTHER_SHOP = "shop"
NEARBY_MAX = 3


@dataclass(frozen=True, slots=True, eq=False)
class World:
    """Places 0..n-1 with their matrices (whole seconds, whole metres) and demand weights.

    ``x``/``y`` are longitude/latitude when ``geographic`` else metres (for the map);
    ``features`` maps an attraction category to a count per place.
    """

    name: str
    place_ids: tuple[str, ...]
    place_names: tuple[str, ...]
    x: Floats
    y: Floats
    geographic: bool
    duration_s: Ints
    distance_m: Ints
    population: Floats
    features: dict[str, Floats]
    depots: tuple[int, ...]
    nearby: tuple[tuple[int, ...], ...]
    nodes: tuple[int, ...] = field(default=())
    #: The area's peak periods: (start, end) seconds of the local day and the factor in
    #: percent by which drives starting then are slower than free flow (area.toml).
    peak: tuple[tuple[int, int, int], ...] = field(default=())

    #: Highway classes and, per place pair, the share of the free-flow time driven on each
    #: (area worlds; ``routing.learn.class_shares``), for learned travel times.
    classes: tuple[str, ...] = field(default=())
    class_share: Floats | None = field(default=None, repr=False)
    #: The area's learned travel times (``learned_travel.toml``): (highway, start, end, percent,
    #: sigma) with start/end in seconds of the local day; the off-peak band spans the day.
    learned: tuple[tuple[str, int, int, int, float], ...] = field(default=())

    def learned_at(self, a: int, b: int, time_s: int) -> tuple[float, float | None]:
        """(percent, sigma) of a drive from place a to b starting at ``time_s``: each
        class's learned factor of the narrowest band holding that time (100 % where nothing
        was learned), weighted by the class's share of the drive; sigma likewise, or None
        when no class of the drive has a learned spread."""
        if self.class_share is None or not self.learned:
            return 100.0, None
        t = time_s % 86400
        pct, sigma, known = 0.0, 0.0, 0.0
        for c, share in enumerate(self.class_share[a, b]):
            if share <= 0.0:
                continue
            rows = [r for r in self.learned if r[0] == self.classes[c] and r[1] <= t < r[2]]
            row = min(rows, key=lambda r: r[2] - r[1]) if rows else None
            pct += share * (row[3] if row else 100)
            if row:
                sigma, known = sigma + share * row[4], known + share
        return (pct if pct > 0 else 100.0), (sigma / known if known else None)

    def peak_pct(self, time_s: int) -> int:
        """The peak factor (percent, 100 = free flow) of a drive starting at ``time_s``."""
        t = time_s % 86400
        return next((pct for start, end, pct in self.peak if start <= t < end), 100)

    def __post_init__(self) -> None:
        n = len(self.place_ids)
        if self.duration_s.shape != (n, n) or self.distance_m.shape != (n, n):
            raise ValueError("matrices must be n x n for n places")
        if self.population.shape != (n,) or not self.depots:
            raise ValueError("one population weight per place, and at least one depot")

    @property
    def size(self) -> int:
        return len(self.place_ids)

    def nearby_places(self, place: int) -> list[int]:
        """Other meeting points a rider could walk to (for alternative offers)."""
        return list(self.nearby[place])


def _nearby(x_m: Floats, y_m: Floats, max_walk_m: float) -> tuple[tuple[int, ...], ...]:
    """Up to three nearest other places within ``max_walk_m`` (straight line), nearest first."""
    dx = x_m[:, None] - x_m[None, :]
    dy = y_m[:, None] - y_m[None, :]
    dist = np.hypot(dx, dy)
    np.fill_diagonal(dist, np.inf)
    out = []
    for i in range(dist.shape[0]):
        order = np.lexsort((np.arange(dist.shape[0]), dist[i]))[:NEARBY_MAX]
        out.append(tuple(int(j) for j in order if dist[i, j] <= max_walk_m))
    return tuple(out)


def residential_length_m(router: Router, cfg: AreaConfig, nodes: list[int]) -> Floats:
    """Population proxy: residential road length (m) nearest, walking, to each meeting point.

    Each road of the area's coverage classes inside the boundary is given whole to the
    meeting point nearest to its nearer end (walking both ways along drivable roads).
    """
    from scipy.sparse.csgraph import dijkstra

    from routing.coverage import road_set, walking_graph

    roads = road_set(router.graph, router.area, cfg.stops.coverage_highways)
    unique = np.unique(np.asarray(nodes, dtype=np.int64))
    dist, _, source = dijkstra(
        walking_graph(router.graph),
        directed=False,
        indices=unique,
        min_only=True,
        return_predecessors=True,
    )
    end = np.where(dist[roads.a] <= dist[roads.b], roads.a, roads.b)
    owner = source[end]
    reached = owner >= 0
    per_node = dict.fromkeys(unique.tolist(), 0.0)
    for node, length in zip(owner[reached].tolist(), roads.length_m[reached].tolist(), strict=True):
        per_node[int(node)] += float(length)
    sharing: dict[int, int] = {}
    for n in nodes:
        sharing[n] = sharing.get(n, 0) + 1
    return np.array([per_node[n] / sharing[n] for n in nodes], dtype=np.float64)


def poi_features(
    x_m: Floats, y_m: Floats, poi_xy: list[tuple[float, float, str]], radius_m: float
) -> dict[str, Floats]:
    """Count points of interest per category at their nearest place within ``radius_m``."""
    from scipy.spatial import cKDTree

    features: dict[str, Floats] = {}
    if not poi_xy:
        return features
    tree = cKDTree(np.column_stack((x_m, y_m)))
    for px, py, category in poi_xy:
        dist, idx = tree.query((px, py))
        if dist <= radius_m:
            counts = features.setdefault(category, np.zeros(x_m.shape[0]))
            counts[int(idx)] += 1.0
    return features


def poi_category(poi: Poi) -> str | None:
    if poi.kind in POI_CATEGORY:
        return POI_CATEGORY[poi.kind]
    return OTHER_SHOP if poi.key == "shop" else None


def area_world(router: Router, cfg: AreaConfig, stops: MeetingPointSet, nodes: list[int]) -> World:
    """The area's meeting points on its real road graph (see the module docstring)."""
    from routing.learn import class_shares, read_learned
    from routing.osm_features import read_pois

    points = stops.points
    classes, shares = class_shares(router, nodes)
    m = router.matrix(nodes, nodes)
    proj = router.area.projection
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    x_m, y_m = (np.asarray(a, dtype=np.float64) for a in proj.to_xy(lat, lon))
    pois = []
    for poi in read_pois(cfg.roads_pois):
        category = poi_category(poi)
        if category is not None:
            px, py = proj.to_xy(poi.lat, poi.lon)
            pois.append((float(px), float(py), category))
    radius = float(cfg.stops.walk_radius_m)
    depot = next((i for i, p in enumerate(points) if p.kind == "town_hall"), 0)
    return World(
        name=cfg.name_en.lower(),
        place_ids=tuple(p.id for p in points),
        place_names=tuple(p.name for p in points),
        x=lon,
        y=lat,
        geographic=True,
        duration_s=m.duration_s.astype(np.int64),
        distance_m=m.distance_m.astype(np.int64),
        population=residential_length_m(router, cfg, nodes),
        features=poi_features(x_m, y_m, pois, radius),
        depots=(depot,),
        nearby=_nearby(x_m, y_m, 2 * radius),
        peak=tuple((p.start_s, p.end_s, p.factor_pct) for p in cfg.routing.peak),
        nodes=tuple(int(n) for n in nodes),
        classes=classes,
        class_share=shares,
        learned=tuple(
            (f.highway, f.band.start_s, f.band.end_s, f.factor_pct, f.sigma)
            for f in read_learned(learned_file(cfg))
        ),
    )


def learned_file(cfg: AreaConfig) -> Path:
    """Where ``drt learn-travel`` writes the area's learned travel times."""
    return cfg.source.parent / "learned_travel.toml"


def grid_world(spec: GridSpec) -> World:
    """A synthetic city (see the module docstring); deterministic for ``spec.layout_seed``."""
    rng = np.random.Generator(np.random.PCG64(spec.layout_seed))
    side = spec.side
    gx, gy = np.meshgrid(np.arange(side), np.arange(side), indexing="xy")
    jitter = spec.spacing_m * 0.2
    x = gx.ravel() * spec.spacing_m + rng.uniform(-jitter, jitter, side * side)
    y = gy.ravel() * spec.spacing_m + rng.uniform(-jitter, jitter, side * side)
    manhattan = np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])
    distance = np.ceil(manhattan).astype(np.int64)
    duration = np.ceil(manhattan / (spec.speed_kmh / 3.6)).astype(np.int64)
    centre = spec.size_km * 500.0
    r_km = np.hypot(x - centre, y - centre) / 1000.0
    population = np.exp(-r_km / (spec.size_km / 4)) * rng.lognormal(0.0, 0.5, x.shape[0])
    n = x.shape[0]
    features: dict[str, Floats] = {
        k: np.zeros(n) for k in ("hospital", "supermarket", "station", "town_hall", "clinic")
    }
    middle = int(np.argmin(r_km))
    features["town_hall"][middle] = 1.0
    features["station"][middle] = 1.0
    for category, count in (("hospital", 3), ("supermarket", 8), ("clinic", 20)):
        chosen = rng.choice(n, size=count, replace=False, p=population / population.sum())
        features[category][chosen] += 1.0
    q = spec.size_km * 1000.0 / 4
    corners = [(q, q), (3 * q, q), (q, 3 * q), (3 * q, 3 * q)]
    anchors = [(centre, centre), *corners, (centre, q), (centre, 3 * q), (q, centre)]
    depots = []
    for ax, ay in anchors[: spec.depots]:
        depots.append(int(np.argmin(np.hypot(x - ax, y - ay))))
    return World(
        name="grid",
        place_ids=tuple(f"C-{i + 1:04d}" for i in range(n)),
        place_names=tuple(f"格子 {i % side},{i // side}" for i in range(n)),
        x=x,
        y=y,
        geographic=False,
        duration_s=duration,
        distance_m=distance,
        population=population,
        features=features,
        depots=tuple(dict.fromkeys(depots)),
        nearby=_nearby(x, y, spec.spacing_m * 1.5),
    )


WORLD_FORMAT = 3


def save_world(world: World, path: Path) -> None:
    """Write a world to one .npz file (atomically: a temporary file, then a rename)."""
    arrays: dict[str, Any] = {
        "x": world.x,
        "y": world.y,
        "duration_s": world.duration_s,
        "distance_m": world.distance_m,
        "population": world.population,
        "depots": np.array(world.depots, dtype=np.int64),
        "nodes": np.array(world.nodes, dtype=np.int64),
        "class_share": world.class_share if world.class_share is not None else np.zeros(0),
        "meta": np.array(
            json.dumps(
                {
                    "format": WORLD_FORMAT,
                    "name": world.name,
                    "place_ids": world.place_ids,
                    "place_names": world.place_names,
                    "geographic": world.geographic,
                    "nearby": world.nearby,
                    "features": sorted(world.features),
                    "peak": world.peak,
                    "classes": world.classes,
                    "learned": world.learned,
                },
                ensure_ascii=False,
            )
        ),
    }
    for name, counts in world.features.items():
        arrays[f"feature_{name}"] = counts
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_world(path: Path) -> World | None:
    """A world saved by :func:`save_world`, or None if the file is missing or not readable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != WORLD_FORMAT:
                return None
            return World(
                name=meta["name"],
                place_ids=tuple(meta["place_ids"]),
                place_names=tuple(meta["place_names"]),
                x=data["x"],
                y=data["y"],
                geographic=bool(meta["geographic"]),
                duration_s=data["duration_s"],
                distance_m=data["distance_m"],
                population=data["population"],
                features={name: data[f"feature_{name}"] for name in meta["features"]},
                depots=tuple(int(d) for d in data["depots"]),
                nearby=tuple(tuple(int(j) for j in row) for row in meta["nearby"]),
                nodes=tuple(int(n) for n in data["nodes"]),
                peak=tuple((int(a), int(b), int(c)) for a, b, c in meta["peak"]),
                classes=tuple(meta["classes"]),
                class_share=data["class_share"] if meta["classes"] else None,
                learned=tuple(
                    (str(h), int(a), int(b), int(p), float(g)) for h, a, b, p, g in meta["learned"]
                ),
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def area_world_key(cfg: AreaConfig) -> str:
    """Names the cached world: the graph, the meeting points, the POIs and the settings used."""
    from routing.config import file_sha256

    parts = [
        cfg.graph_cache_key(),
        file_sha256(cfg.meeting_points),
        file_sha256(cfg.roads_pois),
        str(cfg.stops.walk_radius_m),
        ",".join(cfg.stops.coverage_highways),
        str(WORLD_FORMAT),
        file_sha256(learned_file(cfg)) if learned_file(cfg).exists() else "no learned travel",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
