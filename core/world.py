"""What the service knows of its area, loaded once per process: places, travel times, rules.

The dispatcher works on place numbers (rows of one travel-time matrix); the API speaks
meeting point ids (``KUR-001``). :class:`World` translates between the two and creates
dispatchers that are identical in every process, which the single-writer log relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from common.clock import utc_offset_s
from common.japanese import fold, words
from core.rules import BookingConfig, load_booking_config
from dispatch.engine import Dispatcher
from dispatch.params import ServiceParams, load_params
from routing import load_router
from routing.config import AreaConfig
from routing.geo import haversine_m
from routing.places import PlaceMatrix
from routing.readings import Reader
from routing.router import Router
from routing.stops import MeetingPoint, MeetingPointSet, UnknownStop, load_stops, stop_nodes

NEARBY_WALK_M = 600  # alternatives may suggest a meeting point this far (by road) away
NEAREST_MAX_M = 800  # a rider's location is served by meeting points this close (straight line)
FUZZY_MIN = 75  # a name this close in spelling (rapidfuzz partial ratio, 0-100) is offered
SHORTENED = 95  # the score of a name that has every typed character in order (鞍手病院)


_KANJI = re.compile(r"[\u3400-\u9fff々]")


def _in_order(typed: str, name: str) -> bool:
    """Every character typed appears in the name, in order (a name shortened as people do)."""
    rest = iter(name)
    return all(ch in rest for ch in typed)


@dataclass
class World:
    area: AreaConfig
    key: str  # the area's name in the dispatch log and Redis keys
    config: BookingConfig
    params: ServiceParams
    stops: MeetingPointSet
    places: PlaceMatrix
    router: Router
    stop_places: list[int]  # the place of every meeting point, in file order
    #: Meeting points closed for a time (road works): id -> (from, to, note), Unix seconds.
    closures: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    base_places: int = 0  # the places it starts with (the file's meeting points): 0 … n-1
    #: The service parameters of the area's ``service.toml`` as this process read them;
    #: ``params`` are the ones in force (the log's latest: the file's, or an admin's change).
    file_params: ServiceParams | None = None
    #: The file parameters the log last recorded (JSON), to know when a new file must be logged.
    logged_file_params: dict[str, Any] | None = None
    _road_lines: dict[str, Any] | None = field(default=None, repr=False)
    _reader: Reader | None = field(default=None, repr=False)

    @classmethod
    def load(cls, area: AreaConfig, cache_dir: Path) -> World:
        router, _ = load_router(area, cache_dir)
        return cls.build(area, router)

    @classmethod
    def build(cls, area: AreaConfig, router: Router) -> World:
        stops = load_stops(area.meeting_points)
        base = area.source.parent
        config = load_booking_config(base / "booking.toml")
        params = load_params(base / "service.toml").with_peak_bands(
            tuple((p.start_s, p.end_s, p.factor_pct) for p in area.routing.peak),
            utc_offset_s(config.calendar.time_zone),
        )
        nodes = stop_nodes(router, stops)
        places = PlaceMatrix(router, nodes)
        stop_places = [places.index(n) for n in nodes]
        world = cls(area, area.name_en.lower(), config, params, stops, places, router, stop_places,
                    base_places=len(places.nodes), file_params=params)  # fmt: skip
        for v in config.vehicles:
            world.place_of(v.depot)  # a depot that is not a meeting point fails at start-up
        return world

    def fork(self) -> World:
        """A world whose meeting points and places change (through the dispatch log) without
        touching this one: one per app, as each process has its own. The road graph, the
        rules and the matrices so far are shared."""
        return replace(self, places=self.places.copy(), stop_places=list(self.stop_places),
                       closures=dict(self.closures))  # fmt: skip

    def place_of(self, stop_id: str) -> int:
        point = self.stops.get(stop_id)  # raises UnknownStop
        return self.stop_places[self.stops.points.index(point)]

    def stop_at(self, place: int) -> MeetingPoint:
        """The (first) meeting point at a place."""
        for i, p in enumerate(self.stop_places):
            if p == place:
                return self.stops.points[i]
        raise UnknownStop(
            f"場所 {place} は乗降ポイントではありません",
            f"Place {place} is not a meeting point",
            place=place,
        )

    def search_stops(self, query: str, limit: int | None = 8) -> list[MeetingPoint]:
        """Meeting points for what a rider or an operator typed, best first: its number
        (KUR-001, any width); else every word in the name, reading or 大字 (folded: any width,
        hiragana or katakana), or what is typed read aloud in the reading (にのぶ郵便局); else, only when nothing has every word, a shortened name
        (鞍手病院: the name's characters in order) or one close in spelling (``rapidfuzz``).
        Facilities before areas."""
        wanted = words(query)
        if not wanted:
            return []
        whole = "".join(wanted)
        # にのぶ郵便局 → にのぶゆうびんきょく; kana alone is its own reading (no library call)
        spoken = fold(self.reader.hiragana(whole)) if _KANJI.search(whole) else whole
        exact: list[tuple[float, MeetingPoint]] = []
        close: list[tuple[float, MeetingPoint]] = []
        for p in self.stops.points:
            name = fold(p.name)
            if whole == fold(p.id):
                exact.append((300.0, p))
            elif all(
                w in fold(f"{p.name}{p.label}{p.kana or ''}{p.district or ''}") for w in wanted
            ) or (len(spoken) >= 3 and spoken in fold(p.kana or "")):
                exact.append((200.0 + (50 if name.startswith(wanted[0]) else 0), p))
            elif len(whole) >= 2:
                score = max(fuzz.partial_ratio(whole, name), fuzz.partial_ratio(whole, fold(p.kana or "")),
                            SHORTENED if len(whole) >= 3 and _in_order(whole, name) else 0)  # fmt: skip
                if score >= FUZZY_MIN:
                    close.append((score, p))
        scored = exact or close
        scored.sort(key=lambda sp: (-sp[0], sp[1].source != "poi", len(sp[1].name), sp[1].id))
        return [p for _, p in scored[:limit]]

    def nearby(self, place: int) -> list[int]:
        """Other meeting points within a short walk (by road), nearest first."""
        cand = np.array(sorted(set(self.stop_places) - {place}), dtype=np.int64)
        dist = self.places.distance_m[place, cand]
        order = np.argsort(dist, kind="stable")
        return [int(cand[i]) for i in order if dist[i] <= NEARBY_WALK_M]

    def nearest_stops(self, lat: float, lon: float, k: int = 3) -> list[tuple[MeetingPoint, int]]:
        """Meeting points nearest a point in the area, with straight-line metres, nearest first.

        Raises the router's OutsideServiceArea / TooFarFromRoad for a point the service
        cannot reach; returns only points within ``NEAREST_MAX_M``.
        """
        self.router.snap(lat, lon)
        pts = self.stops.points
        dist_m = haversine_m(
            lat, lon, np.array([p.lat for p in pts]), np.array([p.lon for p in pts])
        )
        order = np.argsort(dist_m, kind="stable")[:k]
        return [(pts[i], int(dist_m[i])) for i in order if dist_m[i] <= NEAREST_MAX_M]

    def road_lines(self) -> dict[str, Any]:
        """Every road once (both directions as one) as [lat, lon, lat, lon, ...] lists, for
        drawing maps from our own data; ODbL attribution included. Cached."""
        if self._road_lines is None:
            g = self.router.graph
            seen: set[tuple[int, int]] = set()
            lines = []
            for e in range(g.n_edges):
                u, v = int(g.edge_u[e]), int(g.edge_v[e])
                if (v, u) in seen:
                    continue
                seen.add((u, v))
                lo, hi = int(g.geom_ptr[e]), int(g.geom_ptr[e + 1])
                coords = np.column_stack((g.geom_lat[lo:hi], g.geom_lon[lo:hi])).round(5)
                lines.append(coords.ravel().tolist())
            south, west, north, east = (float(x) for x in g.bbox())
            self._road_lines = {
                "bbox": [south, west, north, east],
                "lines": lines,
                "attribution": "© OpenStreetMap contributors (ODbL)",
            }
        return self._road_lines

    def vehicle_place(self, d: Dispatcher, vehicle: str, node: int) -> int:
        """The dispatcher place of a vehicle at a road node (a GPS position): the van's own
        moving place (:meth:`routing.places.PlaceMatrix.slot`), or the meeting point or depot
        at that node; ``d`` gets the travel times that go with it."""
        place = self.places.slot(vehicle.partition("@")[0], node)
        if d.travel_s is not self.places.duration_s:
            d.set_travel(self.places.duration_s)
        return place

    # -- meeting points changed through the dispatch log (every replica, at the same point) --

    def add_meeting_point(self, d: Dispatcher, point: MeetingPoint, node: int) -> int:
        """A new meeting point at a road node (its place added to the matrix, ``d`` given the
        travel times that go with it); nothing changes if it is here already (another host
        of this process replayed it). Its place number is the same in every replica because
        the log adds it at the same point of the history."""
        if any(p.id == point.id for p in self.stops.points):
            place = self.place_of(point.id)
        else:
            place = self.places.index(node)
            self.stops = self.stops.with_added(point)
            self.stop_places = [*self.stop_places, place]
        if d.travel_s is not self.places.duration_s:
            d.set_travel(self.places.duration_s)
        return place

    def use_params(self, params: ServiceParams, data: dict[str, Any], source: str) -> None:
        """The parameters in force from this point of the log (``source``: file or admin)."""
        self.params = params
        if source == "file":
            self.logged_file_params = data

    def edit_meeting_point(
        self,
        stop_id: str,
        name: str,
        kana: str | None,
        short: str | None = None,
        kana_source: str | None = None,
    ) -> None:
        self.stops = self.stops.with_renamed(stop_id, name, kana, short, kana_source)

    @property
    def reader(self) -> Reader:
        """Reads a name by machine (the area's own words first: routing/readings.py)."""
        if self._reader is None:
            self._reader = Reader(self.area.stops.readings)
        return self._reader

    def close_meeting_point(self, stop_id: str, closed: tuple[int, int, str] | None) -> None:
        """Closed from ``closed[0]`` to ``closed[1]`` (a note for riders), or open (None)."""
        self.stops.get(stop_id)  # raises UnknownStop
        if closed is None:
            self.closures.pop(stop_id, None)
        else:
            self.closures[stop_id] = closed

    def closed_at(self, stop_id: str, t_s: int) -> tuple[int, int, str] | None:
        """The closure of a meeting point in force at ``t_s``, if any."""
        c = self.closures.get(stop_id)
        return c if c is not None and c[0] <= t_s < c[1] else None

    def new_dispatcher(self) -> Dispatcher:
        return Dispatcher(self.params, self.places.duration_s, self.nearby)
