"""How much of the town's road length lies within a walk of a meeting point.

Walking runs along the drivable roads in both directions (footpaths are not counted, so the
figures are conservative). A road is counted once however many directed edges carry it, and
only where its midpoint lies inside the town boundary. Coverage is the union along each road:
a point at distance x from end a of a road of length L is min(da + x, db + L - x) from the
nearest meeting point, so the covered length is min(L, max(0, R - da) + max(0, R - db)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from routing.area import ServiceArea
from routing.geo import FloatArray
from routing.graph import IntArray, RoadGraph

RADII_M = (200, 300, 500)


@dataclass(frozen=True, slots=True, eq=False)
class RoadSet:
    """Undirected roads of some classes inside the boundary: end nodes, length, edge id."""

    a: IntArray
    b: IntArray
    length_m: FloatArray
    edge: IntArray

    @property
    def total_m(self) -> float:
        return float(self.length_m.sum())


def walking_graph(graph: RoadGraph) -> sp.csr_matrix:
    """Symmetric road graph weighted by length in metres (shortest of parallel edges)."""
    n = graph.n_nodes
    length = graph.edge_length_dm / 10.0
    u = np.concatenate((graph.edge_u, graph.edge_v))
    v = np.concatenate((graph.edge_v, graph.edge_u))
    w = np.concatenate((length, length))
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    keep = first & (u != v)
    return sp.csr_matrix((w[keep], (u[keep], v[keep])), shape=(n, n))


def road_set(graph: RoadGraph, area: ServiceArea, highways: Sequence[str]) -> RoadSet:
    """The roads of the given classes whose midpoint is inside the boundary, each counted once."""
    wanted = [i for i, name in enumerate(graph.highway_names.tolist()) if name in set(highways)]
    mask = np.isin(graph.edge_highway, wanted)
    mid = (graph.geom_ptr[:-1] + graph.geom_ptr[1:] - 1) // 2
    mx, my = graph.projection.to_xy(graph.geom_lat[mid], graph.geom_lon[mid])
    mask &= np.asarray(area.contains_xy(mx, my, margin=False), dtype=bool)
    idx = np.flatnonzero(mask)
    lo = np.minimum(graph.edge_u[idx], graph.edge_v[idx])
    hi = np.maximum(graph.edge_u[idx], graph.edge_v[idx])
    # A two-way road is two directed edges with the same ends and length: keep one.
    _, first = np.unique(
        np.column_stack((lo, hi, graph.edge_length_dm[idx])), axis=0, return_index=True
    )
    idx = np.sort(idx[first])
    return RoadSet(
        a=graph.edge_u[idx].astype(np.int64),
        b=graph.edge_v[idx].astype(np.int64),
        length_m=graph.edge_length_dm[idx] / 10.0,
        edge=idx.astype(np.int64),
    )


def distance_to_nearest(
    walk: sp.csr_matrix, stop_nodes: Sequence[int], limit_m: float
) -> FloatArray:
    """Walking distance (m) from every node to its nearest stop; inf beyond ``limit_m``."""
    if len(stop_nodes) == 0:
        return np.full(walk.shape[0], np.inf)
    nodes = np.unique(np.asarray(stop_nodes, dtype=np.int64))
    return np.asarray(
        dijkstra(walk, directed=False, indices=nodes, min_only=True, limit=limit_m),
        dtype=np.float64,
    )


def covered_length(roads: RoadSet, dist: FloatArray, radius_m: float) -> FloatArray:
    """Covered length (m) of each road at this walking radius (union along the road)."""
    reach_a = np.clip(radius_m - dist[roads.a], 0.0, None)
    reach_b = np.clip(radius_m - dist[roads.b], 0.0, None)
    return np.minimum(roads.length_m, reach_a + reach_b)


def uncovered_spans(
    roads: RoadSet, dist: FloatArray, radius_m: float
) -> list[tuple[int, float, float]]:
    """(edge, start_m, end_m) along each road that no meeting point reaches within the radius."""
    reach_a = np.clip(radius_m - dist[roads.a], 0.0, None)
    reach_b = np.clip(radius_m - dist[roads.b], 0.0, None)
    start = np.minimum(reach_a, roads.length_m)
    end = np.maximum(roads.length_m - reach_b, 0.0)
    gaps = np.flatnonzero(end > start + 1e-6)
    return [(int(roads.edge[i]), float(start[i]), float(end[i])) for i in gaps]


def coverage_report(
    graph: RoadGraph,
    area: ServiceArea,
    stop_nodes: Sequence[int],
    highways: Sequence[str],
    radii_m: Sequence[int] = RADII_M,
) -> dict[str, float]:
    """Share (0..1) of the road length of these classes within each radius, and the total km."""
    roads = road_set(graph, area, highways)
    dist = distance_to_nearest(walking_graph(graph), stop_nodes, float(max(radii_m)))
    total = roads.total_m
    out = {
        f"within_{r}m": (float(covered_length(roads, dist, r).sum()) / total if total else 0.0)
        for r in radii_m
    }
    out["road_km"] = total / 1000.0
    return out
