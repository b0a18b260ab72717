"""Meeting points administered from the console: list, add, rename, set kana, close for a
time (road works) and open again. Every change is a dispatch log command
(``core.commands.MeetingPointAdd`` / ``Edit`` / ``Close``), so every process applies it at the
same point of its history, without a restart; the area's file stays as shipped. Admins
change them; operators see them. Audited."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common.clock import at
from common.errors import InvalidInput
from core import models as m
from core import schemas as s
from core.bookings import reservation_number
from core.commands import MeetingPointAdd, MeetingPointClose, MeetingPointEdit
from core.host import DispatchHost
from core.world import World
from residents import models as rm
from residents.schemas import normalize_kana
from residents.service import Actor, audit, require_staff
from routing.geo import haversine_m
from routing.names import short_name
from routing.stops import MeetingPoint

SAME_POINT_M = 5  # an add repeated (a retry) within this distance answers the point it added


def _view(world: World, p: MeetingPoint) -> s.MeetingPointAdmin:
    tz = world.config.calendar.time_zone
    closed = world.closures.get(p.id)
    return s.MeetingPointAdmin(
        id=p.id, name=p.name, short_name=p.label, lat=p.lat, lon=p.lon, kana=p.kana,
        kana_source=p.kana_source, kind=p.kind,
        closed_from=at(closed[0]).astimezone(tz) if closed else None,
        closed_to=at(closed[1]).astimezone(tz) if closed else None,
        closed_note=closed[2] if closed else "",
    )  # fmt: skip


def list_points(
    host: DispatchHost, actor: Actor, query: str | None = None
) -> list[s.MeetingPointAdmin]:
    """Every point; with ``query``, a number (KUR-012, 12) or the search LINE uses, best first."""
    require_staff(actor, "operator", "admin")
    with host.read():  # caught up with the log: changes made in another process included
        world = host.world
        if not query:
            return [_view(world, p) for p in world.stops.points]
        by_id = [p for p in world.stops.points if _is_number_of(query, p.id)]
        found = world.search_stops(query, limit=None)
        return [_view(world, p) for p in dict.fromkeys([*by_id, *found])]


def _is_number_of(query: str, stop_id: str) -> bool:
    """A bare number (12, １２) names KUR-012; the whole id is the search's own match."""
    q = unicodedata.normalize("NFKC", query).strip()
    return q.isdigit() and int(q) == int(stop_id.rsplit("-", 1)[-1])


def add_point(
    host: DispatchHost, actor: Actor, body: s.MeetingPointCreate
) -> tuple[bool, s.MeetingPointAdmin]:
    """A new meeting point at the road nearest the given point; ``(created, point)``. The
    same request again (same name, within a few metres) answers the point it added."""
    require_staff(actor, "admin")
    world = host.world
    node = world.router.snap(body.lat, body.lon).node  # outside the area / off the roads: 422
    name = body.name.strip()
    kana, kana_source = _reading(world, name, body.kana)
    short = body.short_name.strip() if body.short_name else short_name(name)
    with host.write() as step:
        for p in world.stops.points:
            if (
                p.name == body.name.strip()
                and haversine_m(p.lat, p.lon, body.lat, body.lon) < SAME_POINT_M
            ):
                return False, _view(world, p)
        point_id = world.stops.new_id()
        step.do(MeetingPointAdd(point_id, name, kana, body.lat, body.lon, node, short,
                                kana_source))  # fmt: skip
        audit(step.session, actor, "meeting_point.add", meeting_point=point_id, name=body.name,
              lat=body.lat, lon=body.lon)  # fmt: skip
        step.publish("meeting_points_changed", [])
        return True, _view(world, world.stops.get(point_id))


def change_point(
    host: DispatchHost, session: Session, actor: Actor, stop_id: str, body: s.MeetingPointChange
) -> s.MeetingPointChanged:
    """Rename, set kana, close for a time or open again. Closing answers the confirmed rides
    from or to the point in that time, for the operators to call."""
    require_staff(actor, "admin")
    world = host.world
    if body.reopen and (body.closed_from or body.closed_to):
        raise InvalidInput("「使えるように戻す」と期間は一緒に指定できません。",
                           "Give either a closure or reopen, not both.", field="reopen")  # fmt: skip
    if (body.closed_from is None) != (body.closed_to is None):
        raise InvalidInput("閉じる期間は、始まりと終わりの両方を入れてください。",
                           "Give both ends of the closure.", field="closed_to")  # fmt: skip
    for t in (body.closed_from, body.closed_to):
        if t is not None and t.tzinfo is None:
            raise InvalidInput("時刻はタイムゾーン付きで入れてください。",
                               "Give times with a time zone.", field="closed_from")  # fmt: skip
    with host.write() as step:
        point = world.stops.get(stop_id)  # 404 meeting_point_not_found
        details: dict[str, Any] = {}
        if body.name is not None or body.kana is not None or body.short_name is not None:
            name = body.name.strip() if body.name is not None else point.name
            renamed = name != point.name
            kana: str | None
            source: str | None
            if body.kana is not None or renamed:  # a new name is read again, unless staff read it
                kana, source = _reading(world, name, body.kana)
            else:
                kana, source = point.kana, point.kana_source
            short = (body.short_name.strip() if body.short_name is not None
                     else short_name(name) if renamed else point.label)  # fmt: skip
            if (name, kana, source, short) != (point.name, point.kana, point.kana_source,
                                               point.label):  # fmt: skip
                # a name taken: 422, nothing logged
                step.do(MeetingPointEdit(stop_id, name, kana, short, source))
                details.update(name=name, short_name=short, kana=kana, kana_source=source,
                               was=point.name)  # fmt: skip
        window: tuple[datetime, datetime] | None = None
        if body.closed_from is not None and body.closed_to is not None:
            since, until = int(body.closed_from.timestamp()), int(body.closed_to.timestamp())
            if until <= since or until <= step.now_s:
                raise InvalidInput("閉じる期間は、始まりより後で、今より後に終わるようにしてください。",
                                   "The closure must end after it starts, and after now.",
                                   field="closed_to")  # fmt: skip
            step.do(MeetingPointClose(stop_id, since, until, body.closed_note))
            details.update(closed_from=body.closed_from.isoformat(),
                           closed_to=body.closed_to.isoformat(), note=body.closed_note)  # fmt: skip
            window = (body.closed_from, body.closed_to)
        elif body.reopen and stop_id in world.closures:
            step.do(MeetingPointClose(stop_id, 0, 0, ""))
            details.update(reopened=True)
        if details:
            audit(step.session, actor, "meeting_point.change", meeting_point=stop_id, **details)
            step.publish("meeting_points_changed", [])
        view = _view(world, world.stops.get(stop_id))
    return s.MeetingPointChanged(point=view, affected=_affected(session, stop_id, window))


def _reading(world: World, name: str, given: str | None) -> tuple[str, str]:
    """(kana, who read it): staff's, or the machine's (until staff confirm it)."""
    if given:
        return normalize_kana(given), "staff"
    return world.reader.kana(name), "machine"


def _affected(
    session: Session, stop_id: str, window: tuple[datetime, datetime] | None
) -> list[s.AffectedRide]:
    if window is None:
        return []
    rows = session.execute(
        select(m.Booking, rm.Resident.name, rm.Resident.phone)
        .join(rm.Resident, rm.Resident.id == m.Booking.resident_id)
        .where(m.Booking.status == "confirmed", or_(m.Booking.origin == stop_id, m.Booking.destination == stop_id),
               m.Booking.pickup_to >= window[0], m.Booking.pickup_from < window[1])
        .order_by(m.Booking.pickup_from)
    ).all()  # fmt: skip
    return [s.AffectedRide(booking_id=b.id, reservation_number=reservation_number(session, b),
                           pickup_from=b.pickup_from, rider_name=name, rider_phone=phone)
            for b, name, phone in rows]  # fmt: skip
