"""After a load run, from the database: was anything overbooked or left half-written?

The dispatcher is rebuilt from ``dispatch_log`` (its durable state) and compared with the
booking rows; every vehicle's plan is walked stop by stop, counting seats and wheelchair
places against the vehicle's, and checked against every rule of the search problem.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.db import make_engine, make_sessionmaker
from core import models as m
from core.commands import decode
from core.world import World
from dispatch.kernels import OK
from dispatch.model import BookingStatus, StopKind


def durable_state(database_url: str, world: World) -> dict[str, Any]:
    """What the database says after a run (``ok`` is False if any check failed)."""
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            log = session.scalars(
                select(m.DispatchLogEntry).order_by(m.DispatchLogEntry.area, m.DispatchLogEntry.seq)
            ).all()
            rows = session.scalars(select(m.Booking)).all()
    finally:
        engine.dispose()
    areas = {e.area for e in log}
    gaps = [a for a in areas if [e.seq for e in log if e.area == a]
            != list(range(1, sum(1 for e in log if e.area == a) + 1))]  # fmt: skip
    d = world.new_dispatcher()
    for e in log:
        if e.area == world.key:
            decode(e.op, e.payload).run(d, world, e.now_s)
    live = {b.id for b in d.bookings.values() if b.status == BookingStatus.CONFIRMED}
    confirmed = {r.dispatch_id for r in rows if r.status == "confirmed"}
    overbooked, broken, max_load = [], [], 0
    for vid, plan in d.plans.items():
        spec = d.vehicles[vid].spec
        seats = chairs = 0
        for ident, kind in plan:
            b = d.bookings.get(ident)
            if b is None or kind == StopKind.BREAK:
                continue
            sign = 1 if kind == StopKind.PICKUP else -1
            seats += sign * b.request.seats
            chairs += sign * b.request.wheelchairs
            max_load = max(max_load, seats)
            if seats > spec.seats or chairs > spec.wheelchairs:
                overbooked.append(vid)
                break
        problem, stop_of, _ = d.build_problem([vid], None)
        if problem.check(0, [stop_of[e] for e in plan]) != OK:
            broken.append(vid)
    result = {
        "log_entries": len(log),
        "log_gaps": gaps,
        "bookings": len(rows),
        "bookings_confirmed": len(confirmed),
        "bookings_cancelled": sum(1 for r in rows if r.status == "cancelled"),
        "vehicles": len(d.plans),
        "max_seats_in_use": max_load,
        "overbooked_vehicles": sorted(set(overbooked)),
        "plans_breaking_rules": broken,
        "rows_not_in_dispatcher": sorted(confirmed - live),
        "dispatcher_not_in_rows": sorted(live - confirmed),
    }
    result["ok"] = not (gaps or overbooked or broken or confirmed - live or live - confirmed)
    return result
