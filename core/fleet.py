"""The fleet as operators see it: where each vehicle is, how late it runs against its riders'
promises, its next stops and the road to the next one (from the live plan and the tablets'
latest GPS point in Redis)."""

from __future__ import annotations

from datetime import date

from common.clock import at, late_minutes
from common.errors import DrtError
from core import schemas as s
from core.host import DispatchHost
from dispatch.model import StopKind

NO_GPS_AFTER_S = 120  # no point for longer than this while in service: "no GPS"
LATE_S = 120  # 2-10 minutes past a promise: late; more: very late
VERY_LATE_S = 600


def live_position(host: DispatchHost, vehicle: str) -> dict[str, float] | None:
    """The latest GPS point a vehicle's tablet sent (``vehicle``: van-1), if any."""
    live = host.redis.hgetall(host.keys.position(host.area, vehicle))
    if not live:
        return None
    return {"lat": float(live["lat"]), "lon": float(live["lon"]), "t": float(live["t"])}


def road_node(host: DispatchHost, position: dict[str, float]) -> int | None:
    """The road node of a GPS position, or None off the network (one snap)."""
    try:
        return host.world.router.snap(position["lat"], position["lon"]).node
    except DrtError:
        return None


def fleet(host: DispatchHost, day: date, now_s: int) -> s.Fleet:
    """Every vehicle of that service day with its state (see ``s.FleetVehicle``)."""
    world = host.world
    tz = world.config.calendar.time_zone
    host.retime_if_behind()
    with host.read() as d:  # copy out of the replica; Redis and routing after
        rows = []
        for vid in d.vehicle_ids():
            base, _, suffix = vid.partition("@")
            if suffix not in ("", day.isoformat()):
                continue
            v = d.vehicle(vid)
            assert v is not None
            stops = [ps for ps in d.plan(vid) if ps.kind != StopKind.BREAK]
            late = 0
            for ps in stops:
                b = d.booking(ps.booking_id)
                if b is None or ps.planned_s < 0:
                    continue
                promised = (
                    b.promise.pickup_to_s if ps.kind == StopKind.PICKUP else b.promise.dropoff_by_s
                )
                late = max(late, ps.planned_s - promised)
            rows.append((base, v.in_service, v.place, late, stops[:3]))
    out = []
    for base, in_service, place, late, nxt in rows:
        pos = live_position(host, base)
        age = None if pos is None else max(0, int(now_s - pos["t"]))
        if not in_service:
            state = "out_of_service"
        elif not nxt:
            state = "idle"
        elif age is None or age > NO_GPS_AFTER_S:
            state = "no_gps"
        else:
            state = "very_late" if late > VERY_LATE_S else "late" if late > LATE_S else "on_time"
        route: list[list[float]] = []
        if in_service and nxt:
            start = road_node(host, pos) if pos is not None else None
            if start is None:
                start = world.places.nodes[place]
            path = world.router.route(start, world.places.nodes[nxt[0].place])
            route = [[round(a, 5), round(b, 5)] for a, b in path.polyline]
        shown: list[s.FleetStop] = []
        for ps in nxt:
            point = world.stop_at(ps.place)
            shown.append(s.FleetStop(name=point.name, lat=point.lat, lon=point.lon,
                                     kind=str(ps.kind), planned=at(ps.planned_s).astimezone(tz)
                                     if ps.planned_s >= 0 else None))  # fmt: skip
        out.append(s.FleetVehicle(
            vehicle_id=base, state=state, late_by_min=late_minutes(late),
            position=None if pos is None else {"lat": pos["lat"], "lon": pos["lon"]},
            gps_age_s=age, next_stops=shown, route=route,
        ))  # fmt: skip
    seen = {v.vehicle_id for v in out}
    for vc in world.config.vehicles:  # not on the day's plan yet (before its first turn)
        if vc.id not in seen:
            out.append(s.FleetVehicle(vehicle_id=vc.id, state="out_of_service", late_by_min=0,
                                      position=None, gps_age_s=None, next_stops=[], route=[]))  # fmt: skip
    return s.Fleet(date=day, vehicles=sorted(out, key=lambda v: v.vehicle_id))
