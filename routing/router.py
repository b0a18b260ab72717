"""Snapping, point-to-point routes and many-to-many matrices on the compiled road graph.

Locations are graph nodes. A latitude/longitude is first snapped to the nearest road and
then to the nearer end of that road segment; the walk to it is part of the answer.
Durations are whole seconds rounded up and distances whole metres rounded up, from exact
integer sums (see ``routing.graph``). Rounding up is subadditive, so the triangle inequality
holds exactly on the returned integers, and a matrix entry always equals the single query.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from routing.area import ServiceArea
from routing.config import RoutingConfig
from routing.errors import OutsideServiceArea, TooFarFromRoad, UnknownLocation
from routing.geo import FloatArray, project_onto_segments
from routing.graph import IntArray, RoadGraph

Int32Array = npt.NDArray[np.int32]

#: Road segments are cut into pieces no longer than this for the snapping index.
SNAP_PIECE_M = 40.0


@dataclass(frozen=True, slots=True)
class Snap:
    """Where a latitude/longitude joins the road network.

    ``road_m`` is the straight walk from the point to the road; ``walk_m`` adds the walk along
    the road to ``node``, the graph node used for routing.
    """

    lat: float
    lon: float
    edge: int
    road_lat: float
    road_lon: float
    road_m: float
    node: int
    node_lat: float
    node_lon: float
    walk_m: float


@dataclass(frozen=True, slots=True)
class Route:
    origin: int
    destination: int
    duration_s: int
    distance_m: int
    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    polyline: tuple[tuple[float, float], ...]

    def encoded_polyline(self) -> str:
        """The path in the Encoded Polyline Algorithm Format (precision 5), lat first."""
        return encode_polyline(self.polyline)


@dataclass(frozen=True, slots=True, eq=False)
class TravelMatrix:
    origins: tuple[int, ...]
    destinations: tuple[int, ...]
    duration_s: Int32Array
    distance_m: Int32Array


def encode_polyline(points: Sequence[tuple[float, float]], precision: int = 5) -> str:
    factor = 10**precision
    out: list[str] = []
    prev = (0, 0)
    for lat, lon in points:
        cur = (round(lat * factor), round(lon * factor))
        for delta in (cur[0] - prev[0], cur[1] - prev[1]):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        prev = cur
    return "".join(out)


class Router:
    """Routing queries over one area's graph. Build once (``routing.load_router``), share."""

    def __init__(self, graph: RoadGraph, area: ServiceArea, config: RoutingConfig) -> None:
        self.graph = graph
        self.area = area
        self.config = config
        self._csr: sp.csr_matrix = graph.csr_matrix()
        self._build_snap_index()

    # -- snapping ------------------------------------------------------------------------

    def _build_snap_index(self) -> None:
        g = self.graph
        gx, gy = g.projection.to_xy(g.geom_lat, g.geom_lon)
        n_pts = gx.shape[0]
        starts = np.arange(n_pts - 1)
        # A segment joins point j to j+1 unless j is the last point of its edge.
        last_of_edge = np.zeros(n_pts, dtype=bool)
        last_of_edge[g.geom_ptr[1:] - 1] = True
        starts = starts[~last_of_edge[:-1]]
        seg_edge = np.searchsorted(g.geom_ptr, starts, side="right") - 1
        ax, ay, bx, by = gx[starts], gy[starts], gx[starts + 1], gy[starts + 1]
        seg_len = np.hypot(bx - ax, by - ay)
        # Length along the edge before each segment, to know how far the snap is from u and v.
        cum = np.concatenate(([0.0], np.cumsum(seg_len)))
        edge_first_seg = np.searchsorted(seg_edge, np.arange(g.n_edges), side="left")
        seg_before = cum[:-1] - cum[edge_first_seg[seg_edge]]
        edge_geom_len = np.bincount(seg_edge, weights=seg_len, minlength=g.n_edges)
        # Cut long segments into pieces so that a piece's midpoint is near any point on it.
        pieces = np.maximum(1, np.ceil(seg_len / SNAP_PIECE_M)).astype(np.int64)
        piece_seg = np.repeat(np.arange(seg_len.shape[0]), pieces)
        piece_k = np.arange(piece_seg.shape[0]) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        frac = (piece_k + 0.5) / pieces[piece_seg]
        mid_x = ax[piece_seg] + frac * (bx - ax)[piece_seg]
        mid_y = ay[piece_seg] + frac * (by - ay)[piece_seg]
        self._seg = (ax, ay, bx, by)
        self._seg_len = seg_len
        self._seg_edge = seg_edge
        self._seg_before = seg_before
        self._edge_geom_len = edge_geom_len
        self._piece_seg = piece_seg
        self._piece_half_m = float((seg_len / pieces).max()) / 2.0
        self._tree = cKDTree(np.column_stack((mid_x, mid_y)))

    def snap(self, lat: float, lon: float, *, max_snap_m: float | None = None) -> Snap:
        """Snap a point to the road network, or explain which limit it breaks."""
        limit = self.config.max_snap_m if max_snap_m is None else max_snap_m
        if not (np.isfinite(lat) and np.isfinite(lon)) or not (-90 <= lat <= 90):
            raise OutsideServiceArea(
                f"緯度・経度が正しくありません: ({lat}, {lon})",
                f"Invalid latitude/longitude: ({lat}, {lon})",
                lat=lat,
                lon=lon,
            )
        px, py = self.area.projection.to_xy(lat, lon)
        px_f, py_f = float(px), float(py)
        if not bool(self.area.contains_xy(px_f, py_f)):
            self._raise_outside(lat, lon, px_f, py_f)
        d0, _ = self._tree.query((px_f, py_f))
        if d0 - self._piece_half_m > limit:
            self._raise_too_far(lat, lon, float(d0) - self._piece_half_m, limit)
        cand_pieces = self._tree.query_ball_point((px_f, py_f), float(d0) + 2 * self._piece_half_m)
        segs = np.unique(self._piece_seg[np.asarray(cand_pieces, dtype=np.int64)])
        ax, ay, bx, by = (a[segs] for a in self._seg)
        dist, t = project_onto_segments(px_f, py_f, ax, ay, bx, by)
        best = int(np.lexsort((segs, dist))[0])  # nearest; ties to the lowest segment id
        road_m = float(dist[best])
        if road_m > limit:
            self._raise_too_far(lat, lon, road_m, limit)
        seg = int(segs[best])
        edge = int(self._seg_edge[seg])
        along = float(self._seg_before[seg] + t[best] * self._seg_len[seg])
        to_v = max(0.0, float(self._edge_geom_len[edge]) - along)
        g = self.graph
        node = int(g.edge_u[edge]) if along <= to_v else int(g.edge_v[edge])
        road_x = float(ax[best] + t[best] * (bx[best] - ax[best]))
        road_y = float(ay[best] + t[best] * (by[best] - ay[best]))
        road_lat, road_lon = g.projection.to_latlon(road_x, road_y)
        return Snap(
            lat=lat,
            lon=lon,
            edge=edge,
            road_lat=float(road_lat),
            road_lon=float(road_lon),
            road_m=road_m,
            node=node,
            node_lat=float(g.node_lat[node]),
            node_lon=float(g.node_lon[node]),
            walk_m=road_m + max(0.0, min(along, to_v)),
        )

    def _raise_outside(self, lat: float, lon: float, px: float, py: float) -> None:
        import shapely

        outside_m = float(shapely.distance(self.area.boundary_xy, shapely.Point(px, py)))
        margin = self.area.margin_m
        raise OutsideServiceArea(
            f"この地点({lat:.5f}, {lon:.5f})はサービス区域の外です。"
            f"{self.area.name}の境界から {outside_m:.0f} m 離れています"
            f"(境界から {margin:.0f} m までが区域です)。",
            f"The point ({lat:.5f}, {lon:.5f}) is outside the service area: {outside_m:.0f} m "
            f"from the {self.area.name} boundary (the limit is {margin:.0f} m).",
            lat=lat,
            lon=lon,
            distance_outside_m=round(outside_m),
            limit_m=margin,
        )

    @staticmethod
    def _raise_too_far(lat: float, lon: float, road_m: float, limit: float) -> None:
        raise TooFarFromRoad(
            f"この地点({lat:.5f}, {lon:.5f})は車が通れる道路から {road_m:.0f} m 離れています"
            f"(上限 {limit:.0f} m)。道路の近くの場所を選んでください。",
            f"The point ({lat:.5f}, {lon:.5f}) is {road_m:.0f} m from the nearest drivable road "
            f"(the limit is {limit:.0f} m). Choose a place nearer a road.",
            lat=lat,
            lon=lon,
            distance_m=round(road_m),
            limit_m=limit,
        )

    # -- travel times --------------------------------------------------------------------

    @property
    def csr(self) -> sp.csr_matrix:
        """The graph as a CSR matrix of combined weights (see ``routing.graph``)."""
        return self._csr

    def check_nodes(self, nodes: Sequence[int] | IntArray) -> IntArray:
        arr = np.asarray(nodes, dtype=np.int64).reshape(-1)
        bad = (arr < 0) | (arr >= self.graph.n_nodes)
        if bad.any():
            raise UnknownLocation(
                f"道路網にない地点番号です: {int(arr[bad][0])}",
                f"Not a node of the road graph: {int(arr[bad][0])}",
                node=int(arr[bad][0]),
            )
        return arr

    def split(self, combined: FloatArray, depart_s: int | None) -> tuple[IntArray, IntArray]:
        """Exact (duration_s, distance_m), rounded up, from combined weights."""
        total = combined.astype(np.int64)
        scale = self.graph.weight_scale
        time_ms = total // scale
        length_dm = total - time_ms * scale
        pct = 100 if depart_s is None else self.config.factor_pct_at(depart_s)
        duration_s = (time_ms * pct + 99_999) // 100_000
        distance_m = (length_dm + 9) // 10
        return duration_s, distance_m

    def matrix(
        self,
        origins: Sequence[int] | IntArray,
        destinations: Sequence[int] | IntArray,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        """Travel time (s) and distance (m) between every origin and destination node.

        ``depart_s`` is the local time of day of departure (seconds); it selects the peak
        factor. None means free-flow times.
        """
        o = self.check_nodes(origins)
        d = self.check_nodes(destinations)
        unique, inverse = np.unique(o, return_inverse=True)
        if unique.size:
            combined = dijkstra(self._csr, directed=True, indices=unique)[:, d]
        else:
            combined = np.zeros((0, d.size))
        duration, distance = self.split(combined[inverse], depart_s)
        return TravelMatrix(
            origins=tuple(int(x) for x in o),
            destinations=tuple(int(x) for x in d),
            duration_s=duration.astype(np.int32),
            distance_m=distance.astype(np.int32),
        )

    def route(self, origin: int, destination: int, depart_s: int | None = None) -> Route:
        """The fastest path between two nodes with its time, length and polyline."""
        o, d = (int(x) for x in self.check_nodes([origin, destination]))
        dist, pred = dijkstra(self._csr, directed=True, indices=o, return_predecessors=True)
        nodes = [d]
        while nodes[-1] != o:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        g = self.graph
        edges = []
        for a, b in itertools.pairwise(nodes):
            lo, hi = int(g.csr_indptr[a]), int(g.csr_indptr[a + 1])
            k = lo + int(np.flatnonzero(g.csr_indices[lo:hi] == b)[0])
            edges.append(int(g.csr_edge[k]))
        duration, distance = self.split(np.array([dist[d]]), depart_s)
        return Route(
            origin=o,
            destination=d,
            duration_s=int(duration[0]),
            distance_m=int(distance[0]),
            nodes=tuple(nodes),
            edges=tuple(edges),
            polyline=self._polyline(nodes, edges),
        )

    def _polyline(self, nodes: list[int], edges: list[int]) -> tuple[tuple[float, float], ...]:
        g = self.graph
        if not edges:
            return ((float(g.node_lat[nodes[0]]), float(g.node_lon[nodes[0]])),)
        points: list[tuple[float, float]] = []
        for e in edges:
            lat, lon = g.edge_geometry(e)
            seg = list(zip(lat.tolist(), lon.tolist(), strict=True))
            points.extend(seg[1:] if points else seg)
        return tuple(points)
