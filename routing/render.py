"""A PNG map of the service area: roads, the town boundary, meeting points and uncovered roads.

Drawn from our own road data with matplotlib (no tile server); Japanese labels use the
IPAexGothic font shipped by matplotlib-fontja.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from routing.coverage import distance_to_nearest, road_set, uncovered_spans, walking_graph
from routing.router import Router
from routing.stops import KINDS, MeetingPoint

_ROAD_STYLE = {  # class -> (line width, grey level)
    "trunk": (1.6, "0.35"),
    "primary": (1.4, "0.40"),
    "secondary": (1.2, "0.45"),
    "tertiary": (1.0, "0.50"),
}
_KIND_COLOUR = {
    "town_hall": "#d62728",
    "public": "#9467bd",
    "hospital": "#e377c2",
    "school": "#ff7f0e",
    "kindergarten": "#bcbd22",
    "post_office": "#8c564b",
    "shop": "#17becf",
    "station": "#2ca02c",
    "coverage": "#1f77b4",
    "manual": "#7f7f7f",
}


def render_map(
    router: Router,
    points: Sequence[MeetingPoint],
    stop_nodes: Sequence[int],
    out: Path,
    *,
    title: str,
    radius_m: float,
    coverage_highways: Sequence[str],
) -> Path:
    """Write the map to ``out`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (sets the Japanese font)
    from matplotlib.collections import LineCollection

    g = router.graph
    fig, ax = plt.subplots(figsize=(11, 12), dpi=110)
    classes = g.highway_names[g.edge_highway]
    for cls in [None, *_ROAD_STYLE]:
        mask = ~np.isin(classes, list(_ROAD_STYLE)) if cls is None else classes == cls
        width, colour = _ROAD_STYLE.get(cls or "", (0.5, "0.72"))
        lines = [
            np.column_stack(tuple(reversed(g.edge_geometry(int(e))))) for e in np.flatnonzero(mask)
        ]
        ax.add_collection(LineCollection(lines, linewidths=width, colors=colour, zorder=1))

    roads = road_set(g, router.area, coverage_highways)
    dist = distance_to_nearest(walking_graph(g), stop_nodes, radius_m)
    gaps = []
    for edge, start, end in uncovered_spans(roads, dist, radius_m):
        lat, lon = g.edge_geometry(edge)
        x, y = g.projection.to_xy(lat, lon)
        along = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
        scale = float(g.edge_length_dm[edge]) / 10.0 / max(float(along[-1]), 1e-9)
        keep = np.linspace(start, end, 12) / scale
        gaps.append(np.column_stack((np.interp(keep, along, lon), np.interp(keep, along, lat))))
    ax.add_collection(
        LineCollection(gaps, linewidths=2.2, colors="#e41a1c", zorder=3, label="未カバーの生活道路")
    )

    boundary = router.area.boundary
    for poly in getattr(boundary, "geoms", [boundary]):
        bx, by = poly.exterior.xy
        ax.plot(bx, by, color="black", linewidth=1.8, zorder=2)

    for kind, label in KINDS.items():
        mine = [p for p in points if p.kind == kind]
        if mine:
            ax.scatter(
                [p.lon for p in mine],
                [p.lat for p in mine],
                s=26 if kind == "coverage" else 46,
                c=_KIND_COLOUR[kind],
                edgecolors="white",
                linewidths=0.6,
                zorder=4,
                label=f"{label} ({len(mine)})",
            )
    for p in points:
        if p.kind == "town_hall":
            ax.annotate(
                p.name, (p.lon, p.lat), xytext=(6, 6), textcoords="offset points", fontsize=10
            )

    minx, miny, maxx, maxy = boundary.bounds
    pad = 0.01
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))
    ax.set_title(title, fontsize=14)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False)
    ax.text(
        0.99,
        0.005,
        "© OpenStreetMap contributors (ODbL)",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out
