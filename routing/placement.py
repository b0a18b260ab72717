"""Generate a town's meeting points: named POIs, plus coverage points chosen by optimisation.

1. Named public facilities, schools, clinics, shops and post offices inside the town become
   meeting points at the road node nearest to them.
2. The rest are placed at road junctions by a maximum-coverage model on network walking
   distance: residential roads are cut into short pieces, and HiGHS (through SciPy's ``milp``)
   picks the junctions that put the most road length within the walking radius, then, as a
   smaller second aim, within two thirds of it (shorter walks for older riders). A greedy
   cover is computed too and reported, so the gain of the optimiser is visible.
3. Each coverage point is named from real data: its 大字 or 丁目 and the nearest named POI
   or named road, e.g. 「大字小牧・県道27号沿い」.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from routing.config import AreaConfig, StopsConfig
from routing.coverage import RoadSet, road_set, walking_graph
from routing.errors import OutsideServiceArea, TooFarFromRoad
from routing.geo import FloatArray
from routing.graph import IntArray
from routing.names import district_label, facility_name, landmark, short_name
from routing.osm_features import Place, Poi
from routing.router import Router
from routing.stops import MeetingPoint, MeetingPointSet

PIECE_M = 25.0
SECOND_RADIUS_SHARE = 2 / 3
SECOND_AIM_WEIGHT = 0.2

#: OSM kind -> meeting point kind, in order of priority when two share a junction.
POI_KIND_MAP: dict[str, str] = {
    "townhall": "town_hall",
    "hospital": "hospital",
    "clinic": "hospital",
    "doctors": "hospital",
    "pharmacy": "hospital",
    "station": "station",
    "bus_station": "station",
    "post_office": "post_office",
    "community_centre": "public",
    "library": "public",
    "museum": "public",
    "police": "public",
    "fire_station": "public",
    "supermarket": "shop",
    "convenience": "shop",
    "shop": "shop",
    "restaurant": "shop",
    "school": "school",
    "kindergarten": "kindergarten",
}
_PRIORITY = {kind: i for i, kind in enumerate(dict.fromkeys(POI_KIND_MAP.values()))}
_COMPASS = ("東", "北東", "北", "北西", "西", "南西", "南", "南東")

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class PlacementResult:
    points: list[MeetingPoint]
    nodes: list[int]
    poi_count: int
    coverage_count: int
    solver: str
    solver_objective_km: float
    greedy_objective_km: float
    greedy_nodes: list[int]


def compass(dx: float, dy: float) -> str:
    """Japanese 8-point compass direction of the vector (dx east, dy north)."""
    angle = math.degrees(math.atan2(dy, dx)) % 360
    return _COMPASS[int(((angle + 22.5) % 360) // 45)]


def poi_meeting_points(
    router: Router, cfg: AreaConfig, pois: list[Poi]
) -> list[tuple[int, Poi, str]]:
    """(node, poi, kind) for every wanted named POI inside the town, one per junction."""
    wanted = set(cfg.stops.poi_kinds)
    area = router.area
    chosen: dict[int, tuple[int, Poi, str]] = {}
    for poi in pois:
        kind = POI_KIND_MAP.get(poi.kind) or POI_KIND_MAP.get(poi.key)
        if kind is None or not ({poi.kind, poi.key} & wanted):
            continue
        x, y = area.projection.to_xy(poi.lat, poi.lon)
        if not bool(area.contains_xy(float(x), float(y), margin=False)):
            continue
        try:
            snap = router.snap(poi.lat, poi.lon, max_snap_m=cfg.stops.poi_max_snap_m)
        except (OutsideServiceArea, TooFarFromRoad):
            continue
        current = chosen.get(snap.node)
        if current is None or _PRIORITY[kind] < _PRIORITY[current[2]]:
            chosen[snap.node] = (snap.node, poi, kind)
    return sorted(chosen.values(), key=lambda t: (_PRIORITY[t[2]], t[1].name))


def candidate_nodes(router: Router, highways: tuple[str, ...]) -> IntArray:
    """Junctions inside the boundary that touch a road where a minibus may stop."""
    g = router.graph
    ok_class = np.isin(
        g.edge_highway, [i for i, h in enumerate(g.highway_names.tolist()) if h in set(highways)]
    )
    touches = np.zeros(g.n_nodes, dtype=bool)
    touches[g.edge_u[ok_class]] = True
    touches[g.edge_v[ok_class]] = True
    x, y = g.node_xy()
    inside = np.asarray(router.area.contains_xy(x, y, margin=False), dtype=bool)
    return np.flatnonzero(touches & inside).astype(np.int64)


def _pieces(roads: RoadSet) -> tuple[IntArray, FloatArray, FloatArray]:
    """Cut roads into pieces of at most PIECE_M: (road index, offset of midpoint, weight m)."""
    count = np.maximum(1, np.ceil(roads.length_m / PIECE_M)).astype(np.int64)
    road = np.repeat(np.arange(count.shape[0]), count)
    k = np.arange(road.shape[0]) - np.repeat(np.cumsum(count) - count, count)
    piece_len = roads.length_m[road] / count[road]
    return road, (k + 0.5) * piece_len, piece_len


def _cover_matrix(
    dist: FloatArray, roads: RoadSet, road: IntArray, offset: FloatArray, radius: float
) -> sp.csc_matrix:
    """Pieces x candidates: 1 where the candidate is within ``radius`` of the piece."""
    length = roads.length_m[road]
    d = np.minimum(dist[:, roads.a[road]] + offset, dist[:, roads.b[road]] + (length - offset))
    cand, piece = np.nonzero(d <= radius)
    data = np.ones(cand.shape[0])
    return sp.csc_matrix((data, (piece, cand)), shape=(road.shape[0], dist.shape[0]))


def _greedy(cover: sp.csc_matrix, weight: FloatArray, fixed: IntArray, k: int) -> IntArray:
    covered = np.asarray(cover[:, fixed].sum(axis=1)).ravel() > 0
    chosen = list(fixed.tolist())
    cover_csc = cover.tocsc()
    for _ in range(k - len(chosen)):
        gain = cover_csc.T @ (weight * ~covered)
        gain[chosen] = -1
        best = int(np.argmax(gain))
        chosen.append(best)
        covered |= cover_csc[:, best].toarray().ravel() > 0
    return np.array(chosen, dtype=np.int64)


def _objective(cover: sp.csc_matrix, weight: FloatArray, chosen: IntArray) -> float:
    covered = np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0
    return float(weight[covered].sum())


def _solve(
    cover: sp.csc_matrix,
    cover_near: sp.csc_matrix,
    weight: FloatArray,
    fixed: IntArray,
    k: int,
    time_limit_s: float,
) -> IntArray | None:
    """Max coverage ILP: choose k candidates (fixed ones included). None if no solution."""
    n_c, n_p = cover.shape[1], cover.shape[0]
    # Variables: x (candidates, binary), y (pieces covered at R), z (pieces covered at R*2/3).
    c = np.concatenate((np.zeros(n_c), -weight, -SECOND_AIM_WEIGHT * weight))
    eye = sp.identity(n_p, format="csc")
    zeros = sp.csc_matrix((n_p, n_p))
    rows = sp.vstack(
        (
            sp.hstack((-cover, eye, zeros)),
            sp.hstack((-cover_near, zeros, eye)),
            sp.hstack((sp.csc_matrix(np.ones((1, n_c))), sp.csc_matrix((1, 2 * n_p)))),
        ),
        format="csc",
    )
    lb_rows = np.concatenate((np.full(2 * n_p, -np.inf), [k]))
    ub_rows = np.concatenate((np.zeros(2 * n_p), [k]))
    lower = np.zeros(n_c + 2 * n_p)
    lower[fixed] = 1.0
    integrality = np.concatenate((np.ones(n_c), np.zeros(2 * n_p)))
    result = milp(
        c,
        constraints=LinearConstraint(rows, lb_rows, ub_rows),
        integrality=integrality,
        bounds=Bounds(lower, np.ones(n_c + 2 * n_p)),
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-4},
    )
    if result.x is None:
        return None
    return np.flatnonzero(result.x[:n_c] > 0.5).astype(np.int64)


def optimise_coverage(
    router: Router, cfg: AreaConfig, fixed_nodes: list[int], step: Step | None = None
) -> tuple[list[int], str, float, float, list[int]]:
    """Coverage junctions to add to ``fixed_nodes``.

    Returns (nodes, solver used, objective km, greedy km, the whole greedy set) where the
    objectives are the piece lengths covered at the walking radius.
    """
    say = step or (lambda _m: None)
    radius = cfg.stops.walk_radius_m
    roads = road_set(router.graph, router.area, cfg.stops.coverage_highways)
    cands = np.union1d(candidate_nodes(router, cfg.stops.candidate_highways), fixed_nodes)
    walk = walking_graph(router.graph)
    say(
        f"候補 {cands.size} 地点からの歩行距離を計算中 / walking distances from {cands.size} candidates"
    )
    dist = np.asarray(dijkstra(walk, directed=False, indices=cands, limit=radius), dtype=np.float64)
    road, offset, weight = _pieces(roads)
    cover = _cover_matrix(dist, roads, road, offset, radius)
    cover_near = _cover_matrix(dist, roads, road, offset, radius * SECOND_RADIUS_SHARE)
    fixed_idx = np.searchsorted(cands, np.asarray(sorted(set(fixed_nodes)), dtype=np.int64))
    k = max(cfg.stops.target_count, fixed_idx.size)
    say("貪欲法で初期解を計算中 / greedy cover")
    greedy = _greedy(cover, weight, fixed_idx, k)
    greedy_km = _objective(cover, weight, greedy) / 1000
    say(f"HiGHS で最適化中(上限 {cfg.stops.solver_time_limit_s:.0f} 秒)/ optimising with HiGHS")
    solved = _solve(cover, cover_near, weight, fixed_idx, k, cfg.stops.solver_time_limit_s)
    chosen, solver = greedy, "greedy"
    if solved is not None and _objective(cover, weight, solved) >= greedy_km * 1000 - 1e-6:
        chosen, solver = solved, "highs-milp"
    nodes = sorted(set(cands[chosen].tolist()) - set(fixed_nodes))
    objective_km = _objective(cover, weight, chosen) / 1000
    return nodes, solver, objective_km, greedy_km, sorted(cands[greedy].tolist())


# -- naming ----------------------------------------------------------------------------------


#: POI kinds that make poor landmarks for a stop name (an expressway parking area, say).
_NOT_LANDMARKS = frozenset({"parking", "parking_space", "toilets", "bench", "waste_basket"})
#: Expressway service and parking areas (…PA上り店, 鞍手ＰＡ（下り）) cannot be reached from town roads.
_EXPRESSWAY_FACILITY = re.compile(r"[PSＰＳ][AＡ]\s*(?:[（(]|上り|下り)")
LANDMARK_NEAR_M = 150.0
LANDMARK_FAR_M = 600.0
ROAD_NEAR_M = 30.0


class Namer:
    """Names a junction from its 大字/丁目 and the nearest named POI or named road."""

    def __init__(
        self, router: Router, places: list[Place], pois: list[Poi], stops: StopsConfig
    ) -> None:
        self.router = router
        self.aliases = stops.name_aliases
        self.drop_prefixes = stops.name_drop_prefixes
        proj = router.area.projection
        districts = [p for p in places if p.place in ("quarter", "neighbourhood", "suburb")]
        px, py = proj.to_xy(
            np.array([p.lat for p in districts]), np.array([p.lon for p in districts])
        )
        inside = np.asarray(router.area.contains_xy(px, py, margin=False), dtype=bool)
        self.districts = [d for d, ok in zip(districts, inside, strict=True) if ok]
        self.district_xy = np.column_stack((px[inside], py[inside]))
        self.pois = [
            p
            for p in pois
            if p.kind not in _NOT_LANDMARKS and not _EXPRESSWAY_FACILITY.search(p.name)
        ]
        qx, qy = proj.to_xy(
            np.array([p.lat for p in self.pois]), np.array([p.lon for p in self.pois])
        )
        self.poi_xy = np.column_stack((qx, qy))
        self.poi_tree = cKDTree(self.poi_xy) if self.pois else None

    def xy(self, node: int) -> tuple[float, float]:
        g = self.router.graph
        x, y = g.projection.to_xy(g.node_lat[node], g.node_lon[node])
        return float(x), float(y)

    def district(self, x: float, y: float) -> str:
        """The 丁目 whose point is within 300 m, else the nearest 大字 (by its place point)."""
        if not self.districts:
            return self.router.area.name
        d = np.hypot(self.district_xy[:, 0] - x, self.district_xy[:, 1] - y)
        order: list[int] = [int(i) for i in np.argsort(d, kind="stable")]
        hoods = [i for i in order if self.districts[i].place == "neighbourhood"]
        if hoods and d[hoods[0]] <= 300:
            return self.districts[hoods[0]].name
        quarters = [i for i in order if self.districts[i].place != "neighbourhood"]
        return self.districts[(quarters or order)[0]].name

    def road_name(self, node: int) -> str | None:
        """The name of a named road at this junction (or passing within ROAD_NEAR_M)."""
        g = self.router.graph
        incident = np.flatnonzero((g.edge_u == node) | (g.edge_v == node))
        named = sorted({int(g.edge_name[e]) for e in incident if g.edge_name[e] >= 0})
        if not named:
            try:
                snap = self.router.snap(
                    float(g.node_lat[node]), float(g.node_lon[node]), max_snap_m=ROAD_NEAR_M
                )
            except (OutsideServiceArea, TooFarFromRoad):
                return None
            named = [int(g.edge_name[snap.edge])] if g.edge_name[snap.edge] >= 0 else []
        return str(g.street_names[named[0]]) if named else None

    def name(self, node: int) -> str:
        """「古門・新延郵便局付近」, else 「古門・直方宗像線沿い」, else 「古門・鞍手分校の西」
        (a landmark within LANDMARK_FAR_M, by direction, never by distance), else 「古門」."""
        x, y = self.xy(node)
        district = district_label(self.district(x, y))
        if self.poi_tree is not None:
            d, i = self.poi_tree.query((x, y))
            poi = self.pois[int(i)]
            if d <= LANDMARK_NEAR_M:
                return f"{district}・{self.landmark(poi)}付近"
        road = self.road_name(node)
        if road:
            return f"{district}・{road}沿い"
        if self.poi_tree is not None and d <= LANDMARK_FAR_M:
            dx, dy = x - self.poi_xy[i, 0], y - self.poi_xy[i, 1]
            return f"{district}・{self.landmark(poi)}の{compass(dx, dy)}"
        return district

    def facility(self, official: str) -> str:
        """A facility's name as residents say it (the area's aliases and dropped prefixes)."""
        return facility_name(official, self.aliases, self.drop_prefixes)

    def landmark(self, poi: Poi) -> str:
        return landmark(self.facility(poi.name))

    def coverage_names(self, nodes: list[int], taken: set[str]) -> list[str]:
        """The names of coverage points at these junctions, apart from each other and from
        the names ``taken`` (by facilities, by staff)."""
        names = [self.name(node) for node in nodes]
        xy = [self.xy(node) for node in nodes]
        return unique_names([f"{n}・付近" if n in taken else n for n in names], xy)


def unique_names(names: list[str], xy: list[tuple[float, float]]) -> list[str]:
    """Tell apart equal names by compass direction from their group's centre, then by order."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        groups[name].append(i)
    out = list(names)
    for name, members in groups.items():
        if len(members) == 1:
            continue
        cx = sum(xy[i][0] for i in members) / len(members)
        cy = sum(xy[i][1] for i in members) / len(members)
        labelled: dict[str, list[int]] = defaultdict(list)
        for i in members:
            labelled[f"{name}({compass(xy[i][0] - cx, xy[i][1] - cy)})"].append(i)
        for label, same in labelled.items():
            if len(same) == 1:
                out[same[0]] = label
            else:
                for n, i in enumerate(sorted(same, key=lambda j: (xy[j][0], xy[j][1])), start=1):
                    out[i] = f"{label[:-1]}・{n})"
    return out


def generate_meeting_points(
    router: Router,
    cfg: AreaConfig,
    pois: list[Poi],
    places: list[Place],
    prefix: str,
    step: Step | None = None,
) -> PlacementResult:
    """The full generated set (ids are provisional; ``stops.assign_ids`` makes them stable)."""
    say = step or (lambda _m: None)
    say("POI から乗降ポイントを作成中 / meeting points at named POIs")
    poi_points = poi_meeting_points(router, cfg, pois)
    fixed = [node for node, _, _ in poi_points]
    coverage_nodes, solver, objective_km, greedy_km, greedy_nodes = optimise_coverage(
        router, cfg, fixed, step
    )
    say("名前を付けています / naming the points")
    namer = Namer(router, places, pois, cfg.stops)
    g = router.graph
    points: list[MeetingPoint] = []
    for i, (node, poi, kind) in enumerate(poi_points):
        x, y = namer.xy(node)
        points.append(
            MeetingPoint(
                id=f"{prefix}-{i + 1:03d}",
                name=(name := namer.facility(poi.name)),
                short_name=short_name(name),
                kind=kind,
                lat=float(g.node_lat[node]),
                lon=float(g.node_lon[node]),
                district=namer.district(x, y),
                source="poi",
            )
        )
    xy = [namer.xy(node) for node in coverage_nodes]
    names = namer.coverage_names(coverage_nodes, {p.name for p in points})
    for node, name, (x, y) in zip(coverage_nodes, names, xy, strict=True):
        points.append(
            MeetingPoint(
                id=f"{prefix}-{len(points) + 1:03d}",
                name=name,
                short_name=short_name(name),
                kind="coverage",
                lat=float(g.node_lat[node]),
                lon=float(g.node_lon[node]),
                district=namer.district(x, y),
                source="coverage",
            )
        )
    return PlacementResult(
        points=points,
        nodes=fixed + coverage_nodes,
        poi_count=len(poi_points),
        coverage_count=len(coverage_nodes),
        solver=solver,
        solver_objective_km=objective_km,
        greedy_objective_km=greedy_km,
        greedy_nodes=greedy_nodes,
    )


def rename_generated(
    router: Router, cfg: AreaConfig, pois: list[Poi], places: list[Place], stops: MeetingPointSet
) -> MeetingPointSet:
    """Name again every generated point (source poi or coverage) by today's rules, keeping its
    id and place; a point staff named or read (kana_source staff, source manual) is kept."""
    namer = Namer(router, places, pois, cfg.stops)
    kept = [p for p in stops.points if p.source == "manual" or p.kana_source == "staff"]
    facilities = {
        p.id: namer.facility(p.name) for p in stops.points if p.source == "poi" and p not in kept
    }
    coverage = [p for p in stops.points if p.source == "coverage" and p not in kept]
    nodes = [router.snap(p.lat, p.lon).node for p in coverage]
    names = namer.coverage_names(nodes, {p.name for p in kept} | set(facilities.values()))
    fresh = dict(facilities) | {p.id: n for p, n in zip(coverage, names, strict=True)}
    points = tuple(
        replace(p, name=fresh[p.id], short_name=short_name(fresh[p.id])) if p.id in fresh else p
        for p in stops.points
    )
    return replace(stops, points=points)
