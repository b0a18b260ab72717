"""Use cases of the driver side: sign-in, shifts, GPS, the manifest and stop events.

What happens on the road goes to the same dispatcher, through the same single-writer turns
as bookings (:mod:`core.host`), so a boarding, a delay or the end of a shift is
durable, ordered with every booking, and seen by every API worker.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import dummy_hash, hash_password, hash_token, new_token, verify_password
from common.clock import at, late_minutes, now_utc
from common.errors import DrtError, NotAuthenticated, NotFound
from common.ids import body_hash, new_id
from common.ratelimit import Attempts
from core import models as cm
from core.bookings import reservation_number, rider_stop
from core.commands import EndShift, StartShift, TakeBreak, VehicleAt
from core.fleet import live_position, road_node
from core.host import DispatchHost, Step
from dispatch.model import StopKind
from driver_app_api import models as dm
from driver_app_api import schemas as s
from residents import models as rm
from routing.geo import haversine_m

SESSION_TTL = timedelta(hours=14)
TRACK_EVERY_S = 15  # keep one GPS point in the database per this many seconds ...
TRACK_EVERY_M = 50  # ... or per this many metres moved
DISPATCH_EVERY_S = 15  # tell the dispatcher where the vehicle is at most this often


class EventRefused(DrtError):
    code = "event_refused"
    http_status = 409


class NotArrived(DrtError):
    code = "not_arrived"
    http_status = 409


class NoShowTooEarly(DrtError):
    code = "no_show_too_early"
    http_status = 409


class OtherVehicle(DrtError):
    code = "other_vehicle"
    http_status = 403


class EventIdReused(DrtError):
    code = "event_id_reused"
    http_status = 422


class NoShiftToday(DrtError):
    code = "no_service_today"
    http_status = 409


@dataclass(frozen=True, slots=True)
class DriverActor:
    session_id: str
    driver_id: str
    vehicle_id: str
    service_vehicle_id: str | None


# -- accounts ------------------------------------------------------------------------------


def create_device(session: Session, vehicle_id: str, token: str | None = None) -> str:
    """A tablet for a vehicle; returns its device token (shown once)."""
    token = token or new_token()
    session.add(dm.Device(id=new_id("D"), vehicle_id=vehicle_id, token_hash=hash_token(token),
                          active=True, created_at=now_utc()))  # fmt: skip
    session.flush()
    return token


def check_pin(pin: str) -> None:
    """A driver's PIN: 4 to 8 digits, not one digit repeated nor a run like 1234 or 9876."""
    digits = unicodedata.normalize("NFKC", pin)
    run = "01234567890"
    weak = len(set(digits)) == 1 or digits in run or digits in run[::-1]
    if not (digits.isascii() and digits.isdigit() and 4 <= len(digits) <= 8) or weak:
        raise WeakPin(
            "暗証番号は4〜8桁の数字で、同じ数字の繰り返しや 1234 のような並びは使えません。",
            "The PIN needs 4 to 8 digits, not one digit repeated nor a run like 1234.",
        )


class WeakPin(DrtError):
    code = "weak_secret"
    http_status = 422


def create_driver(session: Session, login: str, name: str, pin: str) -> dm.Driver:
    existing = session.scalar(select(dm.Driver).where(dm.Driver.login == login))
    if existing is not None:
        return existing
    d = dm.Driver(id=new_id("V"), name=name, login=login, pin_hash=hash_password(pin), active=True)
    session.add(d)
    session.flush()
    return d


def sign_in(session: Session, attempts: Attempts, body: s.SignIn) -> s.SessionToken:
    """A driver's session on a registered tablet. A handful of wrong PINs for a driver
    number locks that number out for a while (on every tablet: a 4-digit PIN must not be
    guessable by trying them all); an unknown number costs the same PIN check."""
    wrong = NotAuthenticated(
        "乗務員番号か暗証番号が違います。もう一度入れてください。",
        "Wrong driver number or PIN. Please try again.",
    )
    device = session.scalar(
        select(dm.Device).where(dm.Device.token_hash == hash_token(body.device_token))
    )
    if device is None or not device.active:
        raise NotAuthenticated(
            "このタブレットは登録されていません。管理者に連絡してください。",
            "This tablet is not registered. Contact the administrator.",
        )
    login = unicodedata.normalize("NFKC", body.login).strip()
    attempts.check("driver_pin", login)
    driver = session.scalar(select(dm.Driver).where(dm.Driver.login == login))
    right = verify_password(body.pin, driver.pin_hash if driver is not None else dummy_hash())
    if driver is None or not driver.active or not right:
        attempts.failed("driver_pin", login)
        raise wrong
    attempts.succeeded("driver_pin", login)
    now = now_utc()
    ds = dm.DriverSession(id=new_id("T"), device_id=device.id, driver_id=driver.id,
                          vehicle_id=device.vehicle_id, started_at=now)  # fmt: skip
    session.add(ds)
    token = new_token()
    session.add(rm.Token(token_hash=hash_token(token), kind="driver", subject_id=ds.id,
                         created_at=now, expires_at=now + SESSION_TTL))  # fmt: skip
    return s.SessionToken(access_token=token, vehicle_id=device.vehicle_id, driver_name=driver.name,
                          expires_at=now + SESSION_TTL)  # fmt: skip


def authenticate(session: Session, token: str | None) -> DriverActor:
    stale = NotAuthenticated(
        "ログインの期限が切れました。もう一度ログインしてください。",
        "The session has ended or expired. Please sign in again.",
    )
    if not token:
        raise NotAuthenticated("ログインしてください。", "Sign in first (bearer token).")
    row = session.get(rm.Token, hash_token(token))
    if row is None or row.kind != "driver" or row.expires_at <= now_utc():
        raise stale
    ds = session.get(dm.DriverSession, row.subject_id)
    if ds is None or ds.ended_at is not None:
        raise stale
    return DriverActor(ds.id, ds.driver_id, ds.vehicle_id, ds.shift_vehicle_id)


# -- shifts --------------------------------------------------------------------------------


def today_vehicle(host: DispatchHost, vehicle_id: str, now_s: int) -> str:
    day = host.world.config.calendar.local_date(now_s)
    return f"{vehicle_id}@{day.isoformat()}"


def node_near(host: DispatchHost, lat: float, lon: float) -> int:
    return host.world.router.snap(lat, lon).node


def start_shift(host: DispatchHost, actor: DriverActor, body: s.ShiftStart) -> s.Shift:
    with host.write() as step:
        vid = today_vehicle(host, actor.vehicle_id, step.now_s)
        v = step.view.vehicle(vid)
        if v is None:
            raise NoShiftToday(
                "今日は運行日ではありません。", "There is no service today.", vehicle=vid
            )
        if body.lat is not None and body.lon is not None:
            node = node_near(host, body.lat, body.lon)
        else:
            node = host.world.places.nodes[v.spec.depot]
        if v.in_service:
            step.do(VehicleAt(vid, node, step.now_s, locked=False))
        else:
            step.do(StartShift(vid, node))
        ds = step.session.get(dm.DriverSession, actor.session_id)
        assert ds is not None
        ds.shift_vehicle_id = vid
        step.publish("shift_started", [vid])
    return s.Shift(vehicle_id=actor.vehicle_id, service_vehicle_id=vid, in_service=True)


def end_shift(host: DispatchHost, actor: DriverActor) -> s.Shift:
    vid = require_shift(actor)
    with host.write() as step:
        step.do(EndShift(vid))  # refused while riders are still planned
        ds = step.session.get(dm.DriverSession, actor.session_id)
        assert ds is not None
        ds.ended_at = now_utc()
        step.publish("shift_ended", [vid])
    return s.Shift(vehicle_id=actor.vehicle_id, service_vehicle_id=vid, in_service=False)


PLANNED_BREAK_EARLY_S = 900  # the driver may start a planned break this much before its window


def take_break(host: DispatchHost, actor: DriverActor, minutes: int) -> None:
    """The break button: the planned break (an operator's) when it is the next stop and its
    window is near, for its planned length; otherwise an unplanned break of ``minutes``: the
    vehicle stays where it is and is free again after it."""
    vid = require_shift(actor)
    with host.write() as step:
        state = step.view.vehicle(vid)
        if state is None:
            raise NoShiftToday(
                "今日は運行日ではありません。", "There is no service today.", vehicle=vid
            )
        plan = step.view.plan(vid)
        if (
            plan
            and plan[0].kind == StopKind.BREAK
            and step.now_s >= plan[0].earliest_s - PLANNED_BREAK_EARLY_S
        ):
            brk = step.do(TakeBreak(vid, plan[0].booking_id))
            step.publish("break", [vid], minutes=brk.duration_s // 60, at_risk=[])
            return
        node = host.world.places.nodes[state.place]
        risk = step.do(VehicleAt(vid, node, step.now_s + 60 * minutes, locked=False))
        step.publish("break", [vid], minutes=minutes, at_risk=[r.booking_id for r in risk])


def require_shift(actor: DriverActor) -> str:
    if actor.service_vehicle_id is None:
        raise EventRefused("先に「運行開始」を押してください。", "Start the shift first.")
    return actor.service_vehicle_id


# -- GPS -----------------------------------------------------------------------------------


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(a[0], a[1], b[0], b[1]))


def ingest_positions(
    host: DispatchHost, session: Session, actor: DriverActor, batch: s.PositionBatch
) -> s.PositionResult:
    """Keep the latest point live in Redis, a thinned track in the database, and tell the
    dispatcher where the vehicle is (at most every DISPATCH_EVERY_S, not while at a stop)."""
    r: redis.Redis = host.redis
    key = host.keys.position(host.area, actor.vehicle_id)
    live: dict[str, str] = r.hgetall(key)  # type: ignore[assignment]  # redis-py types it Awaitable | dict; sync client, decode_responses=True
    last_t = float(live.get("t", "-inf"))
    track_t = float(live.get("track_t", "-inf"))
    track_at = (float(live.get("track_lat", 0.0)), float(live.get("track_lon", 0.0)))
    seen: set[float] = set()
    fresh, dup, stale = [], 0, 0
    for p in sorted(batch.points, key=lambda p: p.t):
        if p.t in seen or p.t == last_t:
            dup += 1
        elif p.t < last_t:
            stale += 1
        else:
            fresh.append(p)
        seen.add(p.t)
    stored = 0
    for p in fresh:
        if p.t - track_t >= TRACK_EVERY_S or _metres(track_at, (p.lat, p.lon)) >= TRACK_EVERY_M:
            session.add(dm.Position(vehicle_id=actor.vehicle_id, at=at(p.t),
                                    lat=p.lat, lon=p.lon, speed_mps=p.speed_mps,
                                    heading_deg=p.heading_deg, accuracy_m=p.accuracy_m))  # fmt: skip
            track_t, track_at = p.t, (p.lat, p.lon)
            stored += 1
    updated = False
    if fresh:
        latest = fresh[-1]
        mapping: dict[bytes | bytearray | memoryview[int] | str | int | float, float] = {"t": latest.t, "lat": latest.lat, "lon": latest.lon,
                                   "track_t": track_t, "track_lat": track_at[0], "track_lon": track_at[1]}  # fmt: skip
        r.hset(key, mapping=mapping)
        session.flush()
        updated = _feed_dispatcher(host, session, actor, latest, live)
    return s.PositionResult(accepted=len(fresh), duplicates=dup, stale=stale, stored=stored,
                            dispatcher_updated=updated)  # fmt: skip


def _feed_dispatcher(
    host: DispatchHost, session: Session, actor: DriverActor, p: s.GpsPoint, live: dict[str, str]
) -> bool:
    if actor.service_vehicle_id is None or arrived_stop(session, actor.vehicle_id) is not None:
        return False
    if p.t - float(live.get("dispatch_t", "-inf")) < DISPATCH_EVERY_S:
        return False
    try:
        node = node_near(host, p.lat, p.lon)
    except DrtError:
        return False  # off the road network (a car park, a bad fix): keep the last position
    vid = actor.service_vehicle_id
    with host.write() as step:
        v = step.view.vehicle(vid)
        if v is None or not v.in_service:
            return False
        risk = step.do(VehicleAt(vid, node, step.now_s, locked=v.planned_stops > 0))
        step.publish("vehicle_moved", [vid], at_risk=[x.booking_id for x in risk])
    host.redis.hset(host.keys.position(host.area, actor.vehicle_id), "dispatch_t", p.t)
    return True


# -- the manifest --------------------------------------------------------------------------


def arrived_stop(session: Session, vehicle_id: str) -> dm.StopEvent | None:
    """The last arrival, if the vehicle has not departed since (durable: from the events)."""
    last = session.scalar(
        select(dm.StopEvent)
        .where(
            dm.StopEvent.vehicle_id == vehicle_id, dm.StopEvent.kind.in_(("arrived", "departed"))
        )
        .order_by(dm.StopEvent.id.desc())
        .limit(1)
    )
    return last if last is not None and last.kind == "arrived" else None


def manifest(host: DispatchHost, session: Session, actor: DriverActor) -> s.Manifest:
    """The vehicle's next stops from the live plan, riders from SQL, the route to the next.

    The plan is copied out of the replica first; SQL and routing run after the replica's
    lock is released, and the vehicle's position is snapped once."""
    world = host.world
    tz = world.config.calendar.time_zone
    vid = actor.service_vehicle_id
    with host.read() as d:
        version = host.seq
        plan = d.plan(vid) if vid is not None else []
        state = d.vehicle(vid) if vid is not None else None
    arrived = arrived_stop(session, actor.vehicle_id)
    position = live_position(host, actor.vehicle_id)
    rows = {
        b.dispatch_id: b
        for b in session.scalars(
            select(cm.Booking).where(cm.Booking.dispatch_id.in_([ps.booking_id for ps in plan]))
        )
    }
    people = {
        r.id: r
        for r in session.scalars(
            select(rm.Resident).where(rm.Resident.id.in_({b.resident_id for b in rows.values()}))
        )
    }
    stops: list[s.ManifestStop] = []
    nodes: list[int] = []  # the road node of each stop, for the route to the first
    for ps in plan:
        when = at(ps.planned_s).astimezone(tz) if ps.planned_s >= 0 else None
        node = world.places.nodes[ps.place]
        if ps.kind == StopKind.BREAK:
            lat = float(world.router.graph.node_lat[node])
            lon = float(world.router.graph.node_lon[node])
            stops.append(s.ManifestStop(stop_id=None, name="休憩", lat=lat, lon=lon, kind="break",
                                        planned=when, window_from=None, window_to=None, riders=[]))  # fmt: skip
            nodes.append(node)
            continue
        point = world.stop_at(ps.place)
        if not stops or stops[-1].stop_id != point.id:
            stops.append(s.ManifestStop(stop_id=point.id, name=point.name, lat=point.lat,
                                        lon=point.lon, kind="stop", planned=when,
                                        window_from=None, window_to=None, riders=[]))  # fmt: skip
            nodes.append(node)
        row = rows.get(ps.booking_id)
        if row is None:
            continue  # a held offer, not yet confirmed: nobody to meet
        stop = stops[-1]
        if ps.kind == StopKind.PICKUP:
            stop.window_from = row.pickup_from.astimezone(tz)
            stop.window_to = row.pickup_to.astimezone(tz)
        resident = people.get(row.resident_id)
        promised = row.pickup_to if ps.kind == StopKind.PICKUP else row.dropoff_by
        over_s = ps.planned_s - int(promised.timestamp()) if ps.planned_s >= 0 else 0
        stop.riders.append(s.Rider(
            booking_id=row.id, action="board" if ps.kind == StopKind.PICKUP else "alight",
            name=resident.name if resident else "", reservation_number=reservation_number(session, row),
            passengers=dict(row.passengers), wheelchairs=row.wheelchairs,
            needs_help=bool(resident and resident.needs_help),
            fare_yen=row.fare_yen if ps.kind == StopKind.PICKUP else 0, status=row.status,
            late_by_min=late_minutes(over_s),
        ))  # fmt: skip
    kept = [(x, n) for x, n in zip(stops, nodes, strict=True) if x.riders or x.kind == "break"]
    polyline, duration = None, None
    if kept and state is not None:
        start = road_node(host, position) if position else None
        if start is None:
            start = world.places.nodes[state.place]
        route = world.router.route(start, kept[0][1])
        polyline, duration = route.encoded_polyline(), route.duration_s
    return s.Manifest(
        vehicle_id=actor.vehicle_id, service_vehicle_id=vid, version=version,
        at_stop=arrived.stop_id if arrived else None,
        at_stop_name=world.stops.get(arrived.stop_id).name if arrived and arrived.stop_id else None,
        arrived_at=arrived.at.astimezone(tz) if arrived else None, stops=[x for x, _ in kept],
        polyline=polyline, route_duration_s=duration, position=position,
        late_riders=len({r.booking_id for x, _ in kept for r in x.riders if r.late_by_min}),
    )  # fmt: skip


# -- stop events ---------------------------------------------------------------------------


def record_event(host: DispatchHost, actor: DriverActor, body: s.StopEventIn) -> dict[str, Any]:
    """One stop event, exactly once per client event id (the same answer on every retry)."""
    digest = body_hash(body.model_dump())
    vid = require_shift(actor)
    with host.write() as step:
        done = step.session.scalar(
            select(dm.StopEvent).where(
                dm.StopEvent.vehicle_id == actor.vehicle_id,
                dm.StopEvent.client_event_id == body.client_event_id,
            )
        )
        if done is not None:
            if done.request_hash != digest:
                raise EventIdReused(
                    "同じ操作番号で違う内容が送られました。",
                    "This client_event_id was already used for a different event.",
                )
            return dict(done.response)
        handler = {"arrived": _arrived, "departed": _departed}.get(body.kind, _rider_event)
        row = handler(host, step, actor, vid, body)
        tz = host.world.config.calendar.time_zone
        away = _metres_from_stop(host, actor, body.stop_id) if body.kind == "arrived" else None
        result = s.StopEventResult(
            client_event_id=body.client_event_id, kind=body.kind, booking_id=body.booking_id,
            booking_status=row.status if row else None, fare_paid_yen=row.fare_paid_yen if row else None,
            at=at(step.now_s).astimezone(tz), distance_m=away,
            far_from_stop=away is not None and away > host.world.config.policy.arrival_warn_m,
        ).model_dump(mode="json")  # fmt: skip
        step.session.add(dm.StopEvent(
            vehicle_id=actor.vehicle_id, client_event_id=body.client_event_id, request_hash=digest,
            kind=body.kind, booking_id=body.booking_id, stop_id=body.stop_id or (row.origin if row else None),
            driver_id=actor.driver_id, at=at(step.now_s), payment_method=body.payment_method,
            fare_paid_yen=row.fare_paid_yen if row else None, distance_m=away, response=result,
        ))  # fmt: skip
        step.publish(f"stop_{body.kind}", [vid], booking_id=body.booking_id)
    return result


def _metres_from_stop(host: DispatchHost, actor: DriverActor, stop_id: str | None) -> int | None:
    """Metres from the tablet's latest GPS point to the stop (None: no point, or no stop)."""
    position = live_position(host, actor.vehicle_id)
    if position is None or stop_id is None:
        return None
    stop = host.world.stops.get(stop_id)
    return round(_metres((position["lat"], position["lon"]), (stop.lat, stop.lon)))


def _arrived(
    host: DispatchHost, step: Step, actor: DriverActor, vid: str, body: s.StopEventIn
) -> None:
    place = step.view.next_stop_place(vid)
    expected = host.world.stop_at(place).id if place is not None else None
    if body.stop_id is None or body.stop_id != expected:
        raise EventRefused(
            f"次の停車地は {expected or 'ありません'} です。停車地を確認してください。",
            f"The next stop is {expected or 'none'}; this arrival is for another stop.",
            expected=expected,
        )
    node = host.world.places.nodes[host.world.place_of(body.stop_id)]
    step.do(VehicleAt(vid, node, step.now_s, locked=False))


def _departed(
    host: DispatchHost, step: Step, actor: DriverActor, vid: str, body: s.StopEventIn
) -> None:
    if arrived_stop(step.session, actor.vehicle_id) is None:
        raise NotArrived("まだ停車地に着いていません。", "The vehicle has not arrived at a stop.")


def _rider_event(
    host: DispatchHost, step: Step, actor: DriverActor, vid: str, body: s.StopEventIn
) -> cm.Booking:
    if body.booking_id is None:
        raise EventRefused("どの予約か指定してください。", "booking_id is required for this event.")
    row = step.session.get(cm.Booking, body.booking_id)
    live = step.view.booking(row.dispatch_id) if row is not None else None
    if row is None or live is None:
        raise NotFound("この車の予約に見つかりません。", "No such booking on this vehicle.",
                       booking_id=body.booking_id)  # fmt: skip
    if live.vehicle_id != vid:
        raise OtherVehicle(
            "この予約は別の車の担当です。",
            "This booking is served by another vehicle.",
            booking_id=body.booking_id,
        )
    arrived = arrived_stop(step.session, actor.vehicle_id)
    here = row.destination if body.kind == "alighted" else row.origin
    if arrived is None or arrived.stop_id != here:
        raise NotArrived(
            "この予約の停車地に着いてから操作してください(先に「到着」を押します)。",
            "Record the arrival at this booking's stop first.",
            stop_id=here,
        )
    if body.kind == "boarded":
        if body.payment_method is None:
            raise EventRefused("支払い方法を選んでください。", "Choose the payment method.")
        rider_stop(step, row, "board", body.payment_method)
    elif body.kind == "no_show":
        wait = host.world.config.policy.no_show_wait_s
        waited = step.now_s - int(arrived.at.timestamp())
        if waited < wait:
            raise NoShowTooEarly(
                f"到着から{wait // 60}分待ってから「来なかった」を押してください(あと{(wait - waited + 59) // 60}分)。",
                f"Wait {wait // 60} minutes after arriving before recording a no-show.",
                waited_s=waited,
            )
        rider_stop(step, row, "no_show")
    else:
        rider_stop(step, row, "alight")
    return row


def change_stream_state(host: DispatchHost) -> int:
    value = host.redis.get(host.keys.seq(host.area))
    return int(value) if value is not None else 0


def manifest_json(m: s.Manifest) -> str:
    return json.dumps(m.model_dump(mode="json"), ensure_ascii=False)
