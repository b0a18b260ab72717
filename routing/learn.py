"""Travel times learned from the vehicles' GPS tracks: a factor on the router's free-flow
time and its spread, per road class and time band.

A *leg* is a drive of at least a minute between thinned track points of one vehicle, all
on the move and none far apart: its observed seconds, and the router's free-flow seconds of the fastest path
between the two points' road nodes, split by the highway class of each edge. Within one
time band the observed time is modelled as ``sum_c factor_c * free_c`` times a mean-one
noise, so the factors are a non-negative least-squares fit (unbiased under that noise);
a class's spread is the standard deviation of ``log(observed / fitted)`` over the legs it
dominates (at least half their free-flow time). Classes with fewer than ``min_legs``
dominated legs in a band are left out (the router's own speeds stand there).

The result is written as ``learned_travel.toml`` beside the area's ``area.toml``
(``drt learn-travel``); the planner simulation replays it with the scenario option
``operations.learned_travel``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from scipy.optimize import nnls
from scipy.sparse.csgraph import dijkstra

from common.errors import ConfigError
from routing.errors import OutsideServiceArea, TooFarFromRoad
from routing.router import Router

OFF_PEAK = "off_peak"
LEG_S = 60  # a leg spans consecutive moving points until at least this long (the tablets
# keep a point every 15 s or 50 m: shorter legs say more about GPS jitter than about roads)
MAX_GAP_S = 300  # a longer gap between two points hides a stop or a detour: no leg across it
MIN_FREE_S = 20.0
MOVING_MPS = 1.0  # a point slower than this is at a stop or in a queue to one
RATIO_BOUNDS = (0.25, 4.0)  # observed / free-flow outside this: a detour or a bad fix


@dataclass(frozen=True, slots=True)
class Band:
    """A time band: seconds of the local day, [start, end). The off-peak band is the rest."""

    name: str
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Leg:
    depart_s: int  # seconds of the local day
    observed_s: float
    free_s: dict[str, float]  # free-flow seconds by highway class along the router's path


@dataclass(frozen=True, slots=True)
class LearnedFactor:
    highway: str
    band: Band
    factor_pct: int
    sigma: float
    legs: int


@dataclass(frozen=True, slots=True)
class TrackPoint:
    t: float  # Unix seconds
    lat: float
    lon: float
    speed_mps: float | None


def bands_for(peaks: Iterable[tuple[int, int]]) -> list[Band]:
    """The area's peak periods as bands, then the off-peak band (matched last)."""
    out = [Band(f"{_hhmm(a)}-{_hhmm(b)}", a, b) for a, b in sorted(peaks)]
    return [*out, Band(OFF_PEAK, 0, 86400)]


def band_of(bands: Sequence[Band], second_of_day: int) -> Band:
    t = second_of_day % 86400
    return next(b for b in bands if b.start_s <= t < b.end_s)


def _hhmm(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def free_seconds_by_class(router: Router, a: int, b: int) -> dict[str, float]:
    """Free-flow seconds of the fastest path from node a to node b, by highway class."""
    g = router.graph
    out: dict[str, float] = {}
    for e in router.route(a, b).edges:
        name = str(g.highway_names[g.edge_highway[e]])
        out[name] = out.get(name, 0.0) + float(g.edge_time_ms[e]) / 1000.0
    return out


def legs_from_track(router: Router, points: Sequence[TrackPoint], utc_offset_s: int) -> list[Leg]:
    """The legs of one vehicle's track (points in any order; see the module docstring)."""
    pts = sorted(points, key=lambda p: p.t)
    nodes: list[int | None] = []
    for p in pts:
        try:
            nodes.append(router.snap(p.lat, p.lon).node)
        except (OutsideServiceArea, TooFarFromRoad):  # no leg starts or ends here
            nodes.append(None)
    legs = []
    start = 0  # the leg's first point
    for i in range(len(pts)):
        p = pts[i]
        usable = nodes[i] is not None and (p.speed_mps is None or p.speed_mps >= MOVING_MPS)
        if not usable or (i > start and p.t - pts[i - 1].t > MAX_GAP_S):
            start = i + 1 if not usable else i  # a stop, a bad fix or a gap: begin anew
            continue
        if i == start or p.t - pts[start].t < LEG_S:
            continue
        a, b = nodes[start], nodes[i]
        assert a is not None
        assert b is not None
        gap = p.t - pts[start].t
        free = free_seconds_by_class(router, a, b) if a != b else {}
        total = sum(free.values())
        if total >= MIN_FREE_S and RATIO_BOUNDS[0] <= gap / total <= RATIO_BOUNDS[1]:
            legs.append(Leg(int(pts[start].t + utc_offset_s) % 86400, gap, free))
        start = i  # the next leg starts where this one ended
    return legs


def fit(legs: Sequence[Leg], bands: Sequence[Band], min_legs: int = 30) -> list[LearnedFactor]:
    """Factors and spreads per highway class and band (see the module docstring)."""
    out: list[LearnedFactor] = []
    for band in bands:
        mine = [leg for leg in legs if band_of(bands, leg.depart_s) == band]
        if not mine:
            continue
        dominant = [max(leg.free_s, key=lambda c: leg.free_s[c]) for leg in mine]
        counts = {c: dominant.count(c) for c in set(dominant)}
        classes = sorted(c for c, n in counts.items() if n >= min_legs)
        if not classes:
            continue
        a = np.array([[leg.free_s.get(c, 0.0) for c in classes] for leg in mine])
        other = np.array(
            [sum(v for c, v in leg.free_s.items() if c not in classes) for leg in mine]
        )
        y = np.array([leg.observed_s for leg in mine]) - other  # the rest at the router's speed
        factors, _ = nnls(a, y)
        fitted = a @ factors + other
        log_ratio = np.log(np.array([leg.observed_s for leg in mine]) / np.maximum(fitted, 1e-9))
        for k, c in enumerate(classes):
            chosen = np.array([d == c for d in dominant])
            spread = float(np.std(log_ratio[chosen], ddof=1)) if chosen.sum() > 1 else 0.0
            out.append(LearnedFactor(c, band, round(100 * float(factors[k])), round(spread, 3),
                                     int(chosen.sum())))  # fmt: skip
    return out


# -- the share of each class in the drives between places -------------------------------------


@numba.njit(cache=True)
def _accumulate(order, pred, edge_class, edge_s, k):  # type: ignore[no-untyped-def]
    out = np.zeros((pred.shape[0], k))
    for v in order:  # by distance from the source: a node's parent comes first
        p = pred[v]
        if p >= 0:
            out[v] = out[p]
            out[v, edge_class[v]] += edge_s[v]
    return out


def class_shares(router: Router, nodes: Sequence[int]) -> tuple[tuple[str, ...], np.ndarray]:
    """(classes, shares): ``shares[i, j, c]`` is the share of the free-flow time of the
    fastest path from ``nodes[i]`` to ``nodes[j]`` driven on highway class ``classes[c]``
    (all zero from a node to itself)."""
    g = router.graph
    classes = tuple(str(x) for x in g.highway_names)
    src = np.asarray(nodes, dtype=np.int64)
    unique, inverse = np.unique(src, return_inverse=True)
    dist, pred = dijkstra(router.csr, directed=True, indices=unique, return_predecessors=True)
    edge_of = sp.csr_matrix(
        (g.csr_edge.astype(np.int64) + 1, g.csr_indices, g.csr_indptr), shape=(g.n_nodes,) * 2
    )
    shares = np.zeros((len(unique), len(src), len(classes)))
    for i in range(len(unique)):
        p = pred[i].astype(np.int64)
        has = p >= 0
        edge = np.full(g.n_nodes, -1, dtype=np.int64)
        edge[has] = np.asarray(edge_of[p[has], np.flatnonzero(has)]).ravel() - 1
        cls = np.where(has, g.edge_highway[np.maximum(edge, 0)], 0).astype(np.int64)
        secs = np.where(has, g.edge_time_ms[np.maximum(edge, 0)] / 1000.0, 0.0)
        by_class = _accumulate(np.argsort(dist[i], kind="stable"), p, cls, secs, len(classes))
        total = by_class[src].sum(axis=1, keepdims=True)
        shares[i] = np.divide(by_class[src], total, out=np.zeros_like(by_class[src]),
                              where=total > 0)  # fmt: skip
    return classes, shares[inverse]


# -- the file ----------------------------------------------------------------------------------


def write_learned(path: Path, factors: Sequence[LearnedFactor], header: str) -> None:
    """Write ``learned_travel.toml`` (atomically); ``header`` says where the figures came from."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += ["# Written by `drt learn-travel`; read by the planner simulation", ""]
    for f in factors:
        lines += [
            "[[factor]]",
            f'highway = "{f.highway}"',
            f'band = "{f.band.name}"',
            f'start = "{_hhmm(f.band.start_s)}"',
            f'end = "{_hhmm(f.band.end_s) if f.band.end_s < 86400 else "24:00"}"',
            f"factor_pct = {f.factor_pct}",
            f"sigma = {f.sigma}",
            f"legs = {f.legs}",
            "",
        ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)


def _seconds(text: str, key: str) -> int:
    try:
        h, m = (int(x) for x in text.split(":"))
    except ValueError:
        h, m = -1, 0
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 3600 + m * 60 > 86400:
        raise ConfigError(f"学習した所要時間のファイル: {key} は HH:MM です",
                          f"Learned travel file: {key} must be HH:MM", key=key)  # fmt: skip
    return h * 3600 + m * 60


def read_learned(path: Path) -> list[LearnedFactor]:
    """The factors of a ``learned_travel.toml`` (an empty list if there is none)."""
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out = []
        for row in data.get("factor", []):
            band = Band(str(row["band"]), _seconds(str(row["start"]), "start"),
                        _seconds(str(row["end"]), "end"))  # fmt: skip
            pct, sigma = int(row["factor_pct"]), float(row["sigma"])
            if not 25 <= pct <= 400 or not 0.0 <= sigma <= 2.0 or not math.isfinite(sigma):
                raise ValueError(f"factor_pct {pct} or sigma {sigma} out of range")
            out.append(LearnedFactor(str(row["highway"]), band, pct, sigma, int(row["legs"])))
        return out
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"学習した所要時間のファイルが読めません: {path}: {exc}",
                          f"Cannot read the learned travel file {path}: {exc}") from None  # fmt: skip


__all__ = [
    "OFF_PEAK",
    "Band",
    "LearnedFactor",
    "Leg",
    "TrackPoint",
    "band_of",
    "bands_for",
    "class_shares",
    "fit",
    "free_seconds_by_class",
    "legs_from_track",
    "read_learned",
    "write_learned",
]
