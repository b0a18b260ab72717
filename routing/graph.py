"""The compiled road graph: compact NumPy arrays (CSR) that load from disk in milliseconds.

Travel times are integer milliseconds and lengths integer decimetres per edge. The shortest
path search runs on one combined weight, ``time_ms * scale + length_dm``, which is exact in
float64 (every sum stays below 2**53). One search therefore yields both the travel time and
the length of the fastest path (ties broken by the shorter one), and any two ways of asking
for the same trip (a single query or a matrix) give identical integers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from routing.geo import LocalProjection

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

FORMAT_VERSION = 2
MAX_EXACT = 2**53


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What the build kept and dropped, for `drt routing info` and the logs."""

    source: str
    source_sha256: str
    source_nodes: int
    source_edges: int
    excluded_edges: int
    outside_extent_nodes: int
    components: int
    dropped_nodes: int
    dropped_edges: int
    nodes: int
    edges: int
    split_edges: int
    split_nodes: int
    speed_source_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True, eq=False)
class RoadGraph:
    """A directed, strongly connected drivable graph as arrays.

    Nodes are 0..n-1; ``node_osmid`` maps them back to the source ids. Edges are 0..m-1 with
    their own geometry (``geom_ptr`` slices ``geom_lat``/``geom_lon``), highway class and name.
    The CSR arrays keep, for each ordered node pair, only the best of any parallel edges.
    """

    projection: LocalProjection
    node_osmid: IntArray
    node_lat: FloatArray
    node_lon: FloatArray
    edge_u: Int32Array
    edge_v: Int32Array
    edge_time_ms: IntArray
    edge_length_dm: IntArray
    edge_highway: Int32Array
    edge_name: Int32Array
    geom_ptr: IntArray
    geom_lat: FloatArray
    geom_lon: FloatArray
    highway_names: StrArray
    street_names: StrArray
    csr_indptr: Int32Array
    csr_indices: Int32Array
    csr_edge: Int32Array
    weight_scale: int
    report: BuildReport

    @property
    def n_nodes(self) -> int:
        return int(self.node_lat.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    def node_xy(self) -> tuple[FloatArray, FloatArray]:
        return self.projection.to_xy(self.node_lat, self.node_lon)

    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of the nodes."""
        return (
            float(self.node_lat.min()),
            float(self.node_lon.min()),
            float(self.node_lat.max()),
            float(self.node_lon.max()),
        )

    def combined_weights(self) -> FloatArray:
        """Per CSR entry: time_ms * weight_scale + length_dm (exact in float64)."""
        e = self.csr_edge
        w = self.edge_time_ms[e] * self.weight_scale + self.edge_length_dm[e]
        return w.astype(np.float64)

    def csr_matrix(self) -> sp.csr_matrix:
        n = self.n_nodes
        return sp.csr_matrix(
            (self.combined_weights(), self.csr_indices, self.csr_indptr), shape=(n, n)
        )

    def edge_geometry(self, edge: int) -> tuple[FloatArray, FloatArray]:
        a, b = int(self.geom_ptr[edge]), int(self.geom_ptr[edge + 1])
        return self.geom_lat[a:b], self.geom_lon[a:b]

    # -- persistence ---------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the graph as one uncompressed .npz (atomic: a temp file, then rename)."""
        meta = {
            "format": FORMAT_VERSION,
            "lat0": self.projection.lat0,
            "lon0": self.projection.lon0,
            "weight_scale": self.weight_scale,
            "report": self.report.to_dict(),
        }
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"unsupported graph cache format in {path}")
            arrays = {name: data[name] for name in _ARRAY_FIELDS}
        return cls(
            projection=LocalProjection(meta["lat0"], meta["lon0"]),
            weight_scale=int(meta["weight_scale"]),
            report=BuildReport(**meta["report"]),
            **arrays,
        )


_ARRAY_FIELDS = (
    "node_osmid",
    "node_lat",
    "node_lon",
    "edge_u",
    "edge_v",
    "edge_time_ms",
    "edge_length_dm",
    "edge_highway",
    "edge_name",
    "geom_ptr",
    "geom_lat",
    "geom_lon",
    "highway_names",
    "street_names",
    "csr_indptr",
    "csr_indices",
    "csr_edge",
)


def compile_csr(
    n_nodes: int, edge_u: Int32Array, edge_v: Int32Array, weight: IntArray
) -> tuple[Int32Array, Int32Array, Int32Array]:
    """CSR (indptr, indices, edge index) keeping the lightest of parallel edges per (u, v)."""
    order = np.lexsort((weight, edge_v, edge_u))
    u_sorted, v_sorted = edge_u[order], edge_v[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = (u_sorted[1:] != u_sorted[:-1]) | (v_sorted[1:] != v_sorted[:-1])
    kept = order[first]
    indptr = np.zeros(n_nodes + 1, dtype=np.int32)
    np.add.at(indptr, edge_u[kept] + 1, 1)
    np.cumsum(indptr, out=indptr)
    return indptr, edge_v[kept].astype(np.int32), kept.astype(np.int32)


def weight_scale_for(edge_length_dm: IntArray, edge_time_ms: IntArray) -> int:
    """Smallest power of two above any possible path length, checked for float64 exactness."""
    total_dm = int(edge_length_dm.sum())
    scale = 1 << max(1, total_dm.bit_length())
    if int(edge_time_ms.sum()) * scale + total_dm >= MAX_EXACT:
        raise ValueError("graph too large for exact combined weights")
    return scale
