"""Where the vehicles drove, as lines to draw on a map of the world.

For Kurate the drives are routed on our own road graph (the fastest path, as the travel
times assume) and counted per road segment, separately with and without riders on board.
For a synthetic grid world they are drawn as street-grid (L-shaped) lines between places.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.records import DayResult
from sim.world import Floats, World

if TYPE_CHECKING:
    from routing.router import Router

#: Roads drawn in the background, by OSM class (others are thinner).
MAJOR_ROADS = ("trunk", "primary", "secondary", "tertiary")


@dataclass(frozen=True, slots=True)
class MapLayer:
    """Polylines as (k, 2) arrays of x, y (longitude, latitude when geographic)."""

    background: list[Floats]
    major: list[Floats]
    loaded: list[tuple[Floats, int]]  # a piece of path and how often it was driven with riders
    empty: list[tuple[Floats, int]]
    boundary: list[Floats]
    geographic: bool


def road_layer(router: Router, world: World, day: DayResult) -> MapLayer:
    """The road network, and every drive of the day routed on it and counted per segment."""
    g = router.graph
    loaded: Counter[int] = Counter()
    empty: Counter[int] = Counter()
    routes: dict[tuple[int, int], tuple[int, ...]] = {}
    for leg in day.legs:
        key = (leg.origin, leg.destination)
        if key not in routes:
            route = router.route(world.nodes[leg.origin], world.nodes[leg.destination])
            routes[key] = route.edges
        (loaded if leg.persons > 0 else empty).update(routes[key])
    classes = g.highway_names[g.edge_highway]
    major_mask = np.isin(classes, list(MAJOR_ROADS))

    def line(edge: int) -> Floats:
        lat, lon = g.edge_geometry(edge)
        return np.column_stack((lon, lat))

    boundary = router.area.boundary
    rings = [np.column_stack(poly.exterior.xy) for poly in getattr(boundary, "geoms", [boundary])]
    return MapLayer(
        background=[line(int(e)) for e in np.flatnonzero(~major_mask)],
        major=[line(int(e)) for e in np.flatnonzero(major_mask)],
        loaded=[(line(e), n) for e, n in sorted(loaded.items())],
        empty=[(line(e), n) for e, n in sorted(empty.items())],
        boundary=rings,
        geographic=True,
    )


def grid_layer(world: World, day: DayResult) -> MapLayer:
    """Street-grid lines between the places of a synthetic world, counted per drive."""
    loaded: Counter[tuple[int, int]] = Counter()
    empty: Counter[tuple[int, int]] = Counter()
    for leg in day.legs:
        (loaded if leg.persons > 0 else empty)[(leg.origin, leg.destination)] += 1

    def path(a: int, b: int) -> Floats:
        x, y = world.x, world.y
        return np.array([(x[a], y[a]), (x[b], y[a]), (x[b], y[b])])

    return MapLayer(
        background=[],
        major=[],
        loaded=[(path(a, b), n) for (a, b), n in sorted(loaded.items())],
        empty=[(path(a, b), n) for (a, b), n in sorted(empty.items())],
        boundary=[],
        geographic=False,
    )
