"""Trip use cases (quote, confirm, cancel, rider stops): one function each, effects in order.

Every channel (the app and operator API, LINE, the driver tablet, the demo fleet) books
through these functions. They take the session (or the dispatch host, which owns the
writer's session) and the acting user, and never commit themselves: the request dependency
or the writer turn does. Planned times and the vehicle come from the dispatcher's live plan
(a read-only view), never from a copy in SQL.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common import metrics
from common.clock import at, late_minutes, now_utc
from common.errors import DrtError, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from common.ids import body_hash, new_id
from core import models as m
from core import schemas as s
from core.commands import (
    AddBreak,
    Alight,
    Board,
    Cancel,
    Confirm,
    Move,
    NoShow,
    Protect,
    Quote,
    VehicleDay,
    Withdraw,
    request_payload,
)
from core.errors import (
    BookingNotChangeable,
    BookingSuspended,
    CancelTooLate,
    MeetingPointClosed,
    MoveNotPossible,
    NoMeetingPointNear,
    NoServiceThatDay,
    QuoteUsed,
    ResidentNotRegistered,
    TimeInPast,
    TooFarAhead,
    UnknownMeetingPoint,
)
from core.host import DispatchHost, Step
from core.world import World
from dispatch.model import (
    BookingStatus,
    Mode,
    Offer,
    OutsideServiceHours,
    Reason,
    StopKind,
    TripRequest,
)
from dispatch.view import DispatchView, LiveBooking, VehicleState
from residents import models as rm
from residents.service import Actor, audit, require_staff
from routing.stops import UnknownStop

LATLON = re.compile(r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$")
CODE_ALPHABET = "ACDEFHJKLMNPRTUVWXY3479"  # no 0/O, 1/I, 2/Z, 5/S, 6/G, 8/B: easy to say aloud

REASONS: dict[Reason, tuple[str, str]] = {
    Reason.NO_VEHICLE_IN_SERVICE: (
        "その時間に運行している車がありません。",
        "No vehicle runs at that time.",
    ),
    Reason.FULL: ("その時間は車が満席です。", "The vehicles are full at that time."),
    Reason.TIME_WINDOW: (
        "その時間にはお迎えに行けません。",
        "No vehicle can pick you up at that time.",
    ),
    Reason.RIDE_TIME: (
        "乗車時間が長くなりすぎるため、お受けできません。",
        "The ride would take too long.",
    ),
    Reason.SHIFT: ("運行時間外です。", "Outside the vehicles' hours."),
}


def no_shows(session: Session, world: World, resident_id: str) -> int:
    since = now_utc() - timedelta(days=world.config.policy.no_show_window_days)
    return session.scalar(
        select(func.count()).select_from(m.Booking).where(
            m.Booking.resident_id == resident_id, m.Booking.status == "no_show",
            m.Booking.pickup_from >= since,
        )
    ) or 0  # fmt: skip


# -- quotes ------------------------------------------------------------------------------


def _place(world: World, stop_id: str, field: str) -> int:
    """A meeting point id, or "lat,lon" for the meeting point nearest that point."""
    if LATLON.match(stop_id):
        lat, lon = (float(x) for x in stop_id.split(","))
        near = world.nearest_stops(lat, lon, 1)  # raises outside_service_area
        if not near:
            raise NoMeetingPointNear(
                "近くに乗降ポイントがありません。乗降ポイントを一覧から選んでください。",
                "No meeting point is near that location. Choose one from the list.",
                field=field,
            )
        return world.place_of(near[0][0].id)
    try:
        return world.place_of(stop_id)
    except UnknownStop:
        raise UnknownMeetingPoint(
            f"乗降ポイント「{stop_id}」は見つかりません。一覧から選んでください。",
            f"Unknown meeting point '{stop_id}'. Choose one from the list.",
            field=field,
        ) from None


def _refuse_closed(world: World, place: int, t_s: int, field: str) -> None:
    """A meeting point closed at that time (road works) is refused with open ones nearby."""
    point = world.stop_at(place)
    closed = world.closed_at(point.id, t_s)
    if closed is None:
        return
    tz = world.config.calendar.time_zone
    until = datetime.fromtimestamp(closed[1], tz)
    near = [world.stop_at(p) for p in world.nearby(place)
            if world.closed_at(world.stop_at(p).id, t_s) is None][:2]  # fmt: skip
    why = f"({closed[2]})" if closed[2] else ""
    instead_ja = "、".join(f"「{p.name}」" for p in near)
    raise MeetingPointClosed(
        f"「{point.name}」は{until:%m月%d日 %H:%M}まで使えません{why}。"
        + (f"近くの{instead_ja}をお使いください。" if near else "ほかの乗降ポイントを選んでください。"),
        f"{point.name} is closed until {until:%Y-%m-%d %H:%M}{' (' + closed[2] + ')' if closed[2] else ''}. "
        + (f"Nearby: {', '.join(p.id for p in near)}." if near else "Choose another meeting point."),
        field=field, meeting_point=point.id, until=until.isoformat(),
        nearby=[p.id for p in near],
    )  # fmt: skip


def place_view(world: World, place: int) -> s.Place:
    p = world.stop_at(place)
    return s.Place(id=p.id, name=p.name, short_name=p.label, lat=p.lat, lon=p.lon)


def trip_request(world: World, body: s.QuoteCreate, channel: str, now_s: int) -> TripRequest:
    """Check the wish against the calendar and rules; the dispatcher checks the rest."""
    origin = _place(world, body.origin, "origin")
    destination = _place(world, body.destination, "destination")
    total = body.passengers.total
    wheelchairs = body.wheelchairs or 0
    if total < 1:
        raise InvalidInput("乗る人数を1人以上にしてください。", "At least one passenger is needed.",
                           field="passengers")  # fmt: skip
    if wheelchairs > total:
        raise InvalidInput(
            "車いすの方の人数が、乗る人数より多くなっています。",
            "More wheelchair users than passengers.",
            field="wheelchairs",
        )
    cal = world.config.calendar
    if body.mode == "asap":
        if body.time is not None:
            raise InvalidInput("「今すぐ」の時は時刻を入れないでください。",
                               "Leave the time empty for 'as soon as possible'.", field="time")  # fmt: skip
        time_s = None
        wish_s = now_s
    else:
        if body.time is None or body.time.tzinfo is None:
            raise InvalidInput(
                "時刻を(タイムゾーン付きで)入れてください。",
                "Give the time, with a time zone (e.g. 2026-11-26T10:00:00+09:00).",
                field="time",
            )
        time_s = int(body.time.timestamp())
        wish_s = time_s
        if time_s < now_s + world.params.min_lead_s:
            raise TimeInPast(
                "その時刻はもう過ぎているか、近すぎます。「今すぐ」か、もっと後の時刻を選んでください。",
                "That time has passed or is too soon. Ask for 'as soon as possible' or a later time.",
            )
    day = cal.local_date(wish_s)
    last = cal.local_date(now_s) + timedelta(days=world.config.policy.book_ahead_days)
    if day > last:
        raise TooFarAhead(
            f"ご予約は{world.config.policy.book_ahead_days}日先({last:%m月%d日})までです。",
            f"Bookings open {world.config.policy.book_ahead_days} days ahead (until {last.isoformat()}).",
        )
    window = cal.window_s(day)
    if window is None:
        raise NoServiceThatDay(
            f"{day:%m月%d日}は運休日です。別の日を選んでください。",
            f"There is no service on {day.isoformat()}. Choose another day.",
            date=day.isoformat(),
        )
    if not window[0] <= wish_s <= window[1]:
        hours = cal.hours(day)
        assert hours is not None
        raise OutsideServiceHours(
            f"{day:%m月%d日}の運行時間は {hours.opens:%H:%M}〜{hours.closes:%H:%M} です。",
            f"Service on {day.isoformat()} runs {hours.opens:%H:%M} to {hours.closes:%H:%M}.",
        )
    for place, field in ((origin, "origin"), (destination, "destination")):
        _refuse_closed(world, place, wish_s, field)
    counts = body.passengers.counts()
    return TripRequest(
        id=new_id("r"), origin=origin, destination=destination, mode=Mode(body.mode),
        time_s=time_s, seats=total - wheelchairs, wheelchairs=wheelchairs,
        channel=channel, fare_counts=tuple(sorted(counts.items())),
    )  # fmt: skip


def _offer_row(world: World, o: Offer, resident_id: str, actor: Actor, channel: str) -> m.Quote:
    counts = dict(o.request.fare_counts)
    p = o.promise
    r = o.request
    direct = int(world.places.duration_s[r.origin, r.destination])
    shown = p.dropoff_estimate_s(world.params.direct_ride_s(direct, r.seats + r.wheelchairs))
    return m.Quote(
        id=new_id("Q"), dispatch_id=o.booking_id, request_id=o.request.id, resident_id=resident_id,
        staff_id=actor.id if actor.is_staff else None, channel=channel,
        origin=world.stop_at(o.request.origin).id, destination=world.stop_at(o.request.destination).id,
        passengers=counts, wheelchairs=o.request.wheelchairs, fare_yen=world.config.fare_yen(counts),
        vehicle_id=o.vehicle_id, pickup_from=at(p.pickup_from_s), pickup_to=at(p.pickup_to_s),
        pickup_planned=at(p.pickup_planned_s), dropoff_planned=at(shown),
        dropoff_by=at(p.dropoff_by_s), expires_at=at(o.expires_at_s), created_at=now_utc(),
    )  # fmt: skip


def offer_view(world: World, q: m.Quote) -> s.Offer:
    tz = world.config.calendar.time_zone
    return s.Offer(
        quote_id=q.id, origin=place_view(world, world.place_of(q.origin)),
        destination=place_view(world, world.place_of(q.destination)),
        pickup_from=q.pickup_from.astimezone(tz), pickup_to=q.pickup_to.astimezone(tz),
        pickup_estimate=q.pickup_planned.astimezone(tz),
        dropoff_estimate=q.dropoff_planned.astimezone(tz), dropoff_by=q.dropoff_by.astimezone(tz),
        fare_yen=q.fare_yen, passengers=dict(q.passengers), wheelchairs=q.wheelchairs,
        expires_at=q.expires_at.astimezone(tz),
    )  # fmt: skip


def resident_for(session: Session, actor: Actor, resident_id: str | None) -> rm.Resident:
    """The rider: the calling resident, or the one an operator books for."""
    if actor.is_staff:  # operators book for callers; a channel client acts with residents' tokens
        require_staff(actor, "operator", "admin")
        if resident_id is None:
            raise InvalidInput("どの利用者の予約か指定してください。", "Give the resident_id of the rider.",
                               field="resident_id")  # fmt: skip
        r = session.get(rm.Resident, resident_id)
        if r is None:
            raise ResidentNotRegistered(
                "その利用者は登録されていません。先に利用者登録をしてください。",
                "That resident is not registered. Register them first.",
            )
        return r
    if resident_id not in (None, actor.id):
        raise Forbidden("ほかの方の予約はできません。", "You cannot book for another resident.")
    r = session.get(rm.Resident, actor.id)
    if r is None:
        raise ResidentNotRegistered("利用者登録が見つかりません。", "Resident not registered.")
    return r


def quote(host: DispatchHost, actor: Actor, body: s.QuoteCreate, channel: str) -> s.QuoteResult:
    """An offer, or the reason there is none with alternatives; counted by outcome."""
    try:
        answer = _quote(host, actor, body, channel)
    except DrtError as exc:  # asked what the service cannot offer (out of hours, too far ahead)
        metrics.QUOTES.labels("refused", exc.code).inc()
        raise
    if answer.status == "offer":
        metrics.QUOTES.labels("offer", "").inc()
    else:
        outcome = "alternatives" if answer.alternatives else "refused"
        metrics.QUOTES.labels(outcome, answer.reason or "").inc()
    return answer


def _quote(host: DispatchHost, actor: Actor, body: s.QuoteCreate, channel: str) -> s.QuoteResult:
    world = host.world
    with host.reads() as session:  # checks that need not wait for (or lengthen) the turn
        rider = resident_for(session, actor, body.resident_id)
        if not actor.is_staff and (
            rider.suspended
            or no_shows(session, world, rider.id) >= world.config.policy.no_show_limit
        ):
            raise BookingSuspended(
                f"ご予約が一時止められています。お手数ですが電話({world.config.operator_phone})でご予約ください。",
                f"Self-service booking is suspended (no-shows). Please call {world.config.operator_phone}.",
            )
    if body.wheelchairs is None:  # the rider's record decides (a wheelchair user: one space)
        body = body.model_copy(update={"wheelchairs": 1 if rider.wheelchair else 0})
    with host.write() as step:
        request = trip_request(world, body, channel, step.now_s)
        _release_older_holds(step, rider.id, world.config.policy.max_held_requests - 1)
        result = step.do(Quote(request))
        offers = [result] if isinstance(result, Offer) else list(result.alternatives)
        rows = [_offer_row(world, o, rider.id, actor, channel) for o in offers]
        step.session.add_all(rows)
        audit(step.session, actor, "quote", resident_id=rider.id, offers=[r.id for r in rows],
              request=_audited_request(world, request),
              reason=None if isinstance(result, Offer) else str(result.reason))  # fmt: skip
    views = [offer_view(world, r) for r in rows]
    if isinstance(result, Offer):
        return s.QuoteResult(status="offer", offer=views[0])
    ja, en = REASONS[result.reason]
    return s.QuoteResult(status="rejected", reason=str(result.reason), reason_ja=ja, reason_en=en,
                         alternatives=views)  # fmt: skip


def _audited_request(world: World, request: TripRequest) -> dict[str, Any]:
    """The request as people read it: meeting-point ids, not the dispatcher's place numbers."""
    payload = request_payload(request)
    for key in ("origin", "destination"):
        payload[key] = world.stop_at(payload[key]).id
    return payload


def _release_older_holds(step: Step, resident_id: str, keep: int) -> None:
    """Release the rider's held offers beyond the newest ``keep`` requests.

    One rider cannot hold a day of the van with offers they never confirm (26 quotes in 2 s
    did): the offers of older requests go back before the new quote is searched."""
    rows = step.session.execute(
        select(m.Quote.request_id, m.Quote.dispatch_id)
        .outerjoin(m.Booking, m.Booking.quote_id == m.Quote.id)
        .where(m.Quote.resident_id == resident_id, m.Quote.expires_at > at(step.now_s),
               m.Booking.id.is_(None))
        .order_by(m.Quote.created_at.desc(), m.Quote.id)
    ).all()  # fmt: skip
    newest: list[str] = []
    for request_id, dispatch_id in rows:
        asked = request_id.partition("~")[0]  # alternatives are "<request>~t0", "<request>~o1"
        if asked not in newest:
            newest.append(asked)
        if newest.index(asked) < keep:
            continue
        live = step.view.booking(dispatch_id)
        if live is not None and live.status == BookingStatus.HELD:
            step.do(Cancel(dispatch_id))


# -- bookings ----------------------------------------------------------------------------


def reservation_number(
    session: Session, b: m.Booking, riders: dict[str, rm.Resident] | None = None
) -> str:
    r = riders.get(b.resident_id) if riders else None
    r = r or session.get(rm.Resident, b.resident_id)
    return f"{b.code}-{r.phone[-4:] if r else '0000'}"


def booking_view(
    session: Session,
    world: World,
    b: m.Booking,
    d: DispatchView,
    riders: dict[str, rm.Resident] | None = None,
) -> s.Booking:
    """The booking as a rider sees it: the promise from SQL, the live ETA from the plan
    (``riders``: residents already loaded, so no SQL runs while the replica is locked)."""
    tz = world.config.calendar.time_zone
    pick, drop = d.eta(b.dispatch_id)
    return s.Booking(
        id=b.id, reservation_number=reservation_number(session, b, riders), status=b.status,
        resident_id=b.resident_id, origin=place_view(world, world.place_of(b.origin)),
        destination=place_view(world, world.place_of(b.destination)),
        pickup_from=b.pickup_from.astimezone(tz), pickup_to=b.pickup_to.astimezone(tz),
        dropoff_by=b.dropoff_by.astimezone(tz),
        eta_pickup=at(pick).astimezone(tz) if pick is not None else None,
        eta_dropoff=at(drop).astimezone(tz) if drop is not None else None,
        fare_yen=b.fare_yen, passengers=dict(b.passengers), wheelchairs=b.wheelchairs,
        channel=b.channel, created_at=b.created_at.astimezone(tz),
    )  # fmt: skip


def _stored_answer(
    session: Session, actor: Actor, key: str, digest: str
) -> m.IdempotencyKey | None:
    row = session.get(m.IdempotencyKey, (actor.key, key))
    if row is not None and row.request_hash != digest:
        raise _key_reused()
    return row


def _key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "同じ受付番号(Idempotency-Key)で、違う内容が送られました。新しい番号で送り直してください。",
        "This Idempotency-Key was used with a different request. Use a new key.",
    )


def confirm(
    host: DispatchHost, actor: Actor, body: s.BookingCreate, key: str, channel: str
) -> tuple[int, dict[str, Any]]:
    """Confirm a quote; the same key and body always give the same answer (status, body).

    The answer is stored with the booking in one transaction (the durable record, checked
    inside the writer turn) and cached in Redis for a day, so a retry is answered at once
    without waiting for the writer lock."""
    world = host.world
    digest = body_hash(body.model_dump())
    cache_key = host.keys.idempotency(actor.key, key)
    cached = host.redis.get(cache_key)
    if cached is not None:
        hit = json.loads(str(cached))
        if hit["hash"] != digest:
            raise _key_reused()
        return int(hit["status"]), dict(hit["body"])
    with host.write() as step:
        stored = _stored_answer(step.session, actor, key, digest)
        if stored is not None:
            return stored.status_code, stored.body
        q = step.session.get(m.Quote, body.quote_id)
        if q is None or (not actor.is_staff and q.resident_id != actor.id):
            raise NotFound("その提案は見つかりません。", "No such quote.", quote_id=body.quote_id)
        if actor.is_staff:
            require_staff(actor, "operator", "admin")
        used = step.session.scalar(select(m.Booking).where(m.Booking.quote_id == q.id))
        if used is not None:
            raise QuoteUsed(
                "この提案はもう予約済みです。", "This quote is already booked.", booking_id=used.id
            )
        live = step.do(Confirm(q.dispatch_id))  # the engine refuses an expired hold
        b = _booking_row(step, q, channel, actor)
        view = booking_view(step.session, world, b, step.view)
        answer = view.model_dump(mode="json")
        step.session.add(m.IdempotencyKey(actor=actor.key, key=key, request_hash=digest,
                                          status_code=201, body=answer, created_at=now_utc()))  # fmt: skip
        audit(step.session, actor, "booking.confirm", resident_id=b.resident_id, booking_id=b.id)
        step.publish("booking_confirmed", [live.vehicle_id], booking_id=b.id)
    host.redis.set(
        cache_key, json.dumps({"hash": digest, "status": 201, "body": answer}), ex=86_400
    )
    return 201, answer


def _booking_row(step: Step, q: m.Quote, channel: str, actor: Actor) -> m.Booking:
    """The durable booking: the request and the promise as offered (the quote's)."""
    now = now_utc()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
    b = m.Booking(
        id=new_id("B"), quote_id=q.id, dispatch_id=q.dispatch_id, resident_id=q.resident_id,
        code=code, status="confirmed", channel=channel, staff_id=actor.id if actor.is_staff else None,
        origin=q.origin, destination=q.destination, passengers=q.passengers,
        wheelchairs=q.wheelchairs, fare_yen=q.fare_yen, pickup_from=q.pickup_from,
        pickup_to=q.pickup_to, dropoff_by=q.dropoff_by, created_at=now, updated_at=now,
    )  # fmt: skip
    step.session.add(b)
    step.session.flush()
    return b


def _own_booking(session: Session, actor: Actor, booking_id: str) -> m.Booking:
    b = session.get(m.Booking, booking_id)
    if b is None or (not actor.is_staff and b.resident_id != actor.id):
        raise NotFound("その予約は見つかりません。", "No such booking.", booking_id=booking_id)
    if actor.is_staff:
        require_staff(actor, "operator", "admin")
    return b


def cancel(host: DispatchHost, actor: Actor, booking_id: str) -> s.Booking:
    world = host.world
    with host.write() as step:
        b = _own_booking(step.session, actor, booking_id)
        if b.status == "confirmed":
            cutoff = b.pickup_from - timedelta(seconds=world.config.policy.cancel_cutoff_s)
            if not actor.is_staff and at(step.now_s) > cutoff:
                raise CancelTooLate(
                    f"お迎えの{world.config.policy.cancel_cutoff_s // 60}分前を過ぎたため、ここでは取り消せません。"
                    f"電話({world.config.operator_phone})でご連絡ください。",
                    f"Too close to the pickup to cancel here. Please call {world.config.operator_phone}.",
                )
            live = step.view.booking(b.dispatch_id)
            step.do(Cancel(b.dispatch_id))
            b.status, b.updated_at = "cancelled", now_utc()
            b.cancelled_by = actor.key
            audit(step.session, actor, "booking.cancel", resident_id=b.resident_id, booking_id=b.id)
            step.publish("booking_cancelled", [live.vehicle_id] if live else [], booking_id=b.id)
        elif b.status != "cancelled":
            raise CancelTooLate(
                "乗車中または終わった予約は取り消せません。",
                f"A booking that is {b.status} cannot be cancelled.",
                status=b.status,
            )
        return booking_view(step.session, world, b, step.view)


def get_booking(host: DispatchHost, session: Session, actor: Actor, booking_id: str) -> s.Booking:
    b = _own_booking(session, actor, booking_id)
    riders = _let_go(session, [b])
    with host.read() as d:
        return booking_view(session, host.world, b, d, riders)


def _let_go(session: Session, rows: Sequence[m.Booking]) -> dict[str, rm.Resident]:
    """Load what the views need (the riders), then hand the connection back to the pool
    before waiting for the replica, so that no SQL runs while the replica is locked: with
    100 users on one worker, a read that queried the database inside the replica's lock
    waited for a pooled connection there, and every other read waited behind it (503s after
    30 s, and the request threads all taken)."""
    riders = {rid: session.get(rm.Resident, rid) for rid in {b.resident_id for b in rows}}
    session.commit()
    return {rid: r for rid, r in riders.items() if r is not None}


def list_bookings(
    host: DispatchHost, session: Session, resident_id: str, upcoming_only: bool
) -> list[s.Booking]:
    q = select(m.Booking).where(m.Booking.resident_id == resident_id)
    if upcoming_only:
        q = q.where(m.Booking.status.in_(("confirmed", "onboard")))
    rows = session.scalars(q.order_by(m.Booking.pickup_from.desc()).limit(100)).all()
    riders = _let_go(session, rows)
    with host.read() as d:
        return [booking_view(session, host.world, b, d, riders) for b in rows]


STATUSES = ("held", "confirmed", "onboard", "completed", "cancelled", "no_show", "expired")


def day_bookings(
    host: DispatchHost, session: Session, actor: Actor, day: date,
    vehicle: str | None = None, statuses: Sequence[str] = (),
) -> s.DayBookings:  # fmt: skip
    """A service day's bookings for the operators' board: promise and rider from SQL, vehicle
    and planned times from the live plan (one plan per vehicle), filtered by vehicle and
    status; ``counts`` are before the filters."""
    require_staff(actor, "operator", "admin")
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise InvalidInput(f"予約の状態「{unknown[0]}」はありません。", f"No booking status {unknown[0]!r}.",
                           field="status", allowed=list(STATUSES))  # fmt: skip
    audit(session, actor, "booking.day_list", day=day.isoformat(), vehicle=vehicle,
          status=list(statuses))  # fmt: skip
    return _board(host, session, day, vehicle, statuses)


def _board(
    host: DispatchHost, session: Session, day: date, vehicle: str | None, statuses: Sequence[str]
) -> s.DayBookings:
    world = host.world
    tz = world.config.calendar.time_zone
    start = datetime.combine(day, time(0), tz)
    rows = session.scalars(
        select(m.Booking)
        .where(m.Booking.pickup_from >= start, m.Booking.pickup_from < start + timedelta(days=1))
        .order_by(m.Booking.pickup_from, m.Booking.id)
    ).all()
    riders = _let_go(session, rows)
    host.retime_if_behind()
    with host.read() as d:
        live = d.live_times()
        kept = {b.dispatch_id for b in rows if (x := d.booking(b.dispatch_id)) and x.protected}
        views = [(b, booking_view(session, world, b, d, riders)) for b in rows]
        today = [v for v in d.vehicle_ids() if v.partition("@")[2] in ("", day.isoformat())]
        running = sorted({v.partition("@")[0] for v in today})
        out_of_service = {v for v in today if not (st := d.vehicle(v)) or not st.in_service}
        breaks = [
            s.BoardBreak(break_id=p.booking_id, vehicle_id=v.partition("@")[0],
                         planned=at(p.planned_s).astimezone(tz) if p.planned_s >= 0 else None,
                         minutes=d.break_minutes(p.booking_id), place=place_view(world, p.place))
            for v in sorted(today) for p in d.plan(v) if p.kind == StopKind.BREAK
        ]  # fmt: skip
    counts = dict(Counter(b.status for b in rows))
    out = []
    for b, v in views:
        vid, pick, drop = live.get(b.dispatch_id, (None, None, None))
        base = vid.partition("@")[0] if vid else None
        if (statuses and b.status not in statuses) or (vehicle and base != vehicle):
            continue
        late = max(0, 0 if pick is None else pick - int(b.pickup_to.timestamp()),
                   0 if drop is None else drop - int(b.dropoff_by.timestamp()))  # fmt: skip
        r = riders.get(b.resident_id)
        out.append(s.DayBooking(**v.model_dump(), vehicle_id=base, rider_name=r.name if r else "",
                                rider_phone=r.phone if r else "", late_by_min=late_minutes(late),
                                vehicle_in_service=vid not in out_of_service,
                                protected=b.dispatch_id in kept))  # fmt: skip
    return s.DayBookings(date=day, bookings=out, counts=counts, vehicles=running, breaks=breaks)


def _confirmed(
    step: Step, actor: Actor, booking_id: str, refusal: type[DrtError], ja: str, en: str
) -> tuple[m.Booking, LiveBooking]:
    """The booking row and its live state, if it is confirmed (not yet on board); else the
    refusal (``ja``, ``en`` and the booking's status)."""
    b = _own_booking(step.session, actor, booking_id)
    live = step.view.booking(b.dispatch_id)
    if b.status != "confirmed" or live is None:
        raise refusal(ja, f"{en} (this one is {b.status}).", status=b.status)
    return b, live


def move_booking(
    host: DispatchHost, actor: Actor, booking_id: str, body: s.MoveRequest
) -> s.MoveResult:
    """An operator moves a confirmed booking to another vehicle of its day, if it fits there
    within its promise; ``dry_run`` says whether and when, changing nothing."""
    require_staff(actor, "operator", "admin")
    world = host.world
    tz = world.config.calendar.time_zone
    with host.write() as step:
        b, live = _confirmed(step, actor, booking_id, MoveNotPossible,
                             "乗車中・終わった・取り消した予約は別の車に移せません。",
                             "Only a confirmed booking can move to another vehicle")  # fmt: skip
        _, at_sign, day_part = live.vehicle_id.partition("@")
        target = f"{body.vehicle_id}{at_sign}{day_part}"  # the same service day's vehicle
        if step.view.vehicle(target) is None:
            raise MoveNotPossible(f"その日の車両「{body.vehicle_id}」はありません。",
                                  f"No vehicle {body.vehicle_id!r} runs that day.",
                                  vehicle=body.vehicle_id)  # fmt: skip
        check = step.view.move_check(b.dispatch_id, target, step.now_s)
        if check.fits and not body.dry_run:
            step.do(Move(b.dispatch_id, target))
            audit(step.session, actor, "booking.move", resident_id=b.resident_id,
                  booking_id=b.id, from_vehicle=live.vehicle_id.partition("@")[0],
                  to_vehicle=body.vehicle_id)  # fmt: skip
        elif not check.fits and not body.dry_run:
            ja, en = REASONS[check.reason or Reason.TIME_WINDOW]
            raise MoveNotPossible(f"{body.vehicle_id} には移せません: {ja}",
                                  f"Cannot move it to {body.vehicle_id}: {en}",
                                  reason=str(check.reason))  # fmt: skip
    reason = REASONS[check.reason] if check.reason else None
    return s.MoveResult(
        booking_id=b.id, vehicle_id=body.vehicle_id, fits=check.fits,
        moved=check.fits and not body.dry_run,
        reason=str(check.reason) if check.reason else None,
        reason_ja=reason[0] if reason else None, reason_en=reason[1] if reason else None,
        pickup_estimate=at(check.pickup_planned_s).astimezone(tz) if check.pickup_planned_s else None,
        dropoff_estimate=at(check.dropoff_planned_s).astimezone(tz) if check.dropoff_planned_s else None,
    )  # fmt: skip


def protect_booking(
    host: DispatchHost, session: Session, actor: Actor, booking_id: str, body: s.ProtectRequest
) -> s.DayBooking:
    """An operator keeps a confirmed booking on its vehicle, or lets the engine move it
    again (idempotent: asking for the state it is in changes nothing and logs nothing)."""
    require_staff(actor, "operator", "admin")
    with host.write() as step:
        b, live = _confirmed(step, actor, booking_id, BookingNotChangeable,
                             "乗車前の確定した予約だけ、車を固定できます。",
                             "Only a confirmed booking not yet on board can be kept on its vehicle")  # fmt: skip
        if live.protected != body.protected:
            step.do(Protect(b.dispatch_id, body.protected))
            audit(step.session, actor, "booking.protect", resident_id=b.resident_id,
                  booking_id=b.id, protected=body.protected,
                  vehicle=live.vehicle_id.partition("@")[0])  # fmt: skip
        day = b.pickup_from.astimezone(host.world.config.calendar.time_zone).date()
    return next(x for x in _board(host, session, day, None, ()).bookings if x.id == b.id)


def operator_no_show(host: DispatchHost, actor: Actor, booking_id: str) -> s.Booking:
    """An operator records that the rider did not come, for a driver who phoned it in (the
    tablet not in use); from the start of the promised pickup window. Idempotent."""
    require_staff(actor, "operator", "admin")
    with host.write() as step:
        b = _own_booking(step.session, actor, booking_id)
        if b.status != "no_show":
            if b.status != "confirmed":
                raise BookingNotChangeable(
                    f"この予約は「来られなかった」にできません(今の状態: {b.status})。",
                    f"Only a confirmed booking can be recorded as a no-show (this one is {b.status}).",
                    status=b.status,
                )  # fmt: skip
            opens = b.pickup_from.astimezone(host.world.config.calendar.time_zone)
            if at(step.now_s) < b.pickup_from:
                raise BookingNotChangeable(
                    f"お迎えの時間帯({opens:%H:%M}〜)になるまでは「来られなかった」にできません。",
                    f"A no-show can be recorded from the start of the pickup window ({opens:%H:%M}).",
                    pickup_from=b.pickup_from.isoformat(),
                )  # fmt: skip
            rider_stop(step, b, "no_show", reported=True)
            audit(step.session, actor, "booking.no_show", resident_id=b.resident_id,
                  booking_id=b.id)  # fmt: skip
        return booking_view(step.session, host.world, b, step.view)


def add_vehicle_day(
    host: DispatchHost, actor: Actor, body: s.VehicleDayCreate
) -> tuple[bool, s.VehicleDay]:
    """An operator adds a vehicle for one service day, within its hours: it takes riders
    from ``start`` at its depot (a replacement after a breakdown, a second van for a busy
    day). ``(created, the vehicle day)``; the same request again changes nothing."""
    require_staff(actor, "operator", "admin")
    world = host.world
    cal, tz = world.config.calendar, world.config.calendar.time_zone
    known = {v.id: v for v in world.config.vehicles}.get(body.vehicle_id)
    seats = body.seats if body.seats is not None else (known.seats if known else None)
    wheelchairs = (
        body.wheelchairs if body.wheelchairs is not None else (known.wheelchairs if known else 0)
    )
    if seats is None:
        raise InvalidInput("この車の座席数を入れてください。", "Give the vehicle's number of seats.",
                           field="seats")  # fmt: skip
    depot_id = body.depot or (known.depot if known else world.config.vehicles[0].depot)
    depot = _place(world, depot_id, "depot")
    window = cal.window_s(body.date)
    start = int(datetime.combine(body.date, body.start, tz).timestamp())
    end = int(datetime.combine(body.date, body.end, tz).timestamp())
    with host.write() as step:
        today = cal.local_date(step.now_s)
        if window is None or not today <= body.date <= today + timedelta(
            days=world.config.policy.book_ahead_days
        ):
            raise NoServiceThatDay(
                f"{body.date:%m月%d日}は運行日ではないか、{world.config.policy.book_ahead_days}日より先です。",
                f"{body.date.isoformat()} is not a service day within the next "
                f"{world.config.policy.book_ahead_days} days.", field="date",
            )  # fmt: skip
        if not window[0] <= start < end <= window[1] or end <= step.now_s:
            hours = f"{at(window[0]).astimezone(tz):%H:%M}〜{at(window[1]).astimezone(tz):%H:%M}"
            raise InvalidInput(
                f"時間は運行時間({hours})の中で、終わりを今より後にしてください。",
                f"Give hours within the service hours ({hours}), ending later than now.",
                field="end",
            )  # fmt: skip
        vid = f"{body.vehicle_id}@{body.date.isoformat()}"
        spec = (seats, wheelchairs, depot, start, end)
        state = step.view.vehicle(vid)
        if state is not None:
            have = (state.spec.seats, state.spec.wheelchairs, state.spec.depot,
                    state.spec.shift_start_s, state.spec.shift_end_s)  # fmt: skip
            if have != spec:
                raise BookingNotChangeable(
                    f"{body.date:%m月%d日}の「{body.vehicle_id}」は、もう運行表にあります。",
                    f"{body.vehicle_id} already runs on {body.date.isoformat()}.",
                    vehicle=body.vehicle_id,
                )  # fmt: skip
            created = False
        else:
            step.do(VehicleDay(vid, seats, wheelchairs, depot, start, end))
            audit(step.session, actor, "vehicle.add", vehicle=body.vehicle_id, day=body.date.isoformat(),
                  start=f"{body.start:%H:%M}", end=f"{body.end:%H:%M}", seats=seats,
                  wheelchairs=wheelchairs, depot=depot_id)  # fmt: skip
            step.publish("vehicle_added", [vid])
            created = True
    return created, s.VehicleDay(
        vehicle_id=body.vehicle_id, date=body.date, start=at(start).astimezone(tz),
        end=at(end).astimezone(tz), seats=seats, wheelchairs=wheelchairs,
        depot=place_view(world, depot),
    )  # fmt: skip


def add_break(
    host: DispatchHost, actor: Actor, vehicle: str, body: s.BreakCreate
) -> s.BreakPlanned:
    """An operator plans a driver's break on a vehicle's day: where it costs least between
    rides, every promise kept (409 when it fits nowhere in that window)."""
    require_staff(actor, "operator", "admin")
    world = host.world
    tz = world.config.calendar.time_zone
    vid = f"{vehicle}@{body.date.isoformat()}"
    earliest = int(datetime.combine(body.date, body.earliest, tz).timestamp())
    latest = int(datetime.combine(body.date, body.latest, tz).timestamp())
    with host.write() as step:
        state = _in_service(step, vehicle, body.date)
        if (
            not state.spec.shift_start_s <= earliest <= latest < state.spec.shift_end_s
            or latest < step.now_s
        ):
            raise InvalidInput(
                "休憩の時間帯は、その車の運行時間の中で、今より後にしてください(早いほうから遅いほうへ)。",
                "Give a break window within the vehicle's hours, from earliest to latest, not past.",
                field="latest",
            )  # fmt: skip
        place = _place(world, body.place, "place") if body.place else state.spec.depot
        bid = step.do(AddBreak(vid, earliest, latest, 60 * body.minutes, place))
        planned = next(p.planned_s for p in step.view.plan(vid) if p.booking_id == bid)
        audit(step.session, actor, "vehicle.break", vehicle=vehicle, day=body.date.isoformat(),
              earliest=f"{body.earliest:%H:%M}", latest=f"{body.latest:%H:%M}",
              minutes=body.minutes, place=world.stop_at(place).id)  # fmt: skip
        step.publish("break_planned", [vid])
    return s.BreakPlanned(break_id=bid, vehicle_id=vehicle, planned=at(planned).astimezone(tz),
                          minutes=body.minutes, place=place_view(world, place))  # fmt: skip


def _in_service(step: Step, vehicle: str, day: date) -> VehicleState:
    """That day's vehicle (``van-1`` on 2026-12-04), if it is in service; 409 otherwise."""
    state = step.view.vehicle(f"{vehicle}@{day.isoformat()}")
    if state is None or not state.in_service:
        raise MoveNotPossible(f"{day:%m月%d日}に運行中の車両「{vehicle}」はありません。",
                              f"No vehicle {vehicle!r} in service on {day.isoformat()}.",
                              vehicle=vehicle)  # fmt: skip
    return state


def withdraw_vehicle(
    host: DispatchHost, session: Session, actor: Actor, vehicle: str, day: date
) -> s.Withdrawn:
    """Take a vehicle out of service for the rest of a day: its riders move where their
    promise holds; those who cannot are returned from the day's board, to be called."""
    require_staff(actor, "operator", "admin")
    target = f"{vehicle}@{day.isoformat()}"
    with host.write() as step:
        _in_service(step, vehicle, day)
        result = step.do(Withdraw(target))
        audit(step.session, actor, "vehicle.withdraw", vehicle=vehicle, day=day.isoformat(),
              moved=len(result.moved), stranded=len(result.stranded))  # fmt: skip
        step.publish("vehicle_withdrawn", [target], stranded=list(result.stranded))
    board = {b.id: b for b in _board(host, session, day, None, ()).bookings}
    rows = {b.dispatch_id: b.id for b in session.scalars(
        select(m.Booking).where(m.Booking.dispatch_id.in_([*result.stranded, *(i for i, _ in result.moved)]))
    )}  # fmt: skip
    return s.Withdrawn(
        vehicle_id=vehicle,
        moved=[{"booking_id": rows[i], "to_vehicle": v.partition("@")[0]}
               for i, v in result.moved if i in rows],
        stranded=[board[rows[i]] for i in result.stranded if i in rows and rows[i] in board],
    )  # fmt: skip


# -- what happens on the road (driver tablets and the demo's simulated vans) --------------

RiderEvent = Literal["board", "alight", "no_show"]
STATUS_AFTER: dict[RiderEvent, str] = {"board": "onboard", "alight": "completed",
                                       "no_show": "no_show"}  # fmt: skip


def rider_stop(
    step: Step, b: m.Booking, event: RiderEvent, payment_method: str | None = None,
    *, reported: bool = False,
) -> None:  # fmt: skip
    """A rider boarded, alighted or did not come: the dispatcher, the row and the screens.

    The one use case behind the tablet's buttons and the demo's simulated vans; the caller
    checks what only it knows (the tablet: that the van has arrived at this stop)."""
    live = step.view.booking(b.dispatch_id)
    if event == "board":
        step.do(Board(b.dispatch_id))
    elif event == "alight":
        step.do(Alight(b.dispatch_id))
    else:
        step.do(NoShow(b.dispatch_id, reported=reported))
    status = STATUS_AFTER[event]
    b.status, b.updated_at = status, now_utc()
    if event == "board" and payment_method is not None:
        b.payment_method = payment_method
        b.fare_paid_yen = 0 if payment_method == "free" else b.fare_yen
    step.publish(f"booking_{status}", [live.vehicle_id] if live else [], booking_id=b.id)


def record_stop(host: DispatchHost, dispatch_id: str, event: RiderEvent) -> None:
    """:func:`rider_stop` in a writer turn of its own, by dispatch id (the demo's vans)."""
    with host.write() as step:
        b = step.session.scalar(select(m.Booking).where(m.Booking.dispatch_id == dispatch_id))
        if b is None:
            raise NotFound("その予約は見つかりません。", "No such booking.", booking_id=dispatch_id)
        rider_stop(step, b, event)


def service_day(world: World, now_s: int) -> date:
    return world.config.calendar.local_date(now_s)


# -- a round trip to a place at a time (the town's classes and appointments) ---------------

ARRIVE_EARLY_S = 600  # at the place 10 minutes before it starts
LEAVE_AFTER_S = 300  # picked up 5 minutes after it ends


def usual_origin(session: Session, resident_id: str, not_at: str | None = None) -> str | None:
    """Where the resident's rides most often start (the newest first on a tie), other than
    ``not_at``: their home stop as the bus knows it; None before their first ride."""
    rows = session.execute(
        select(m.Booking.origin, func.count(), func.max(m.Booking.created_at))
        .where(m.Booking.resident_id == resident_id)
        .group_by(m.Booking.origin)
    ).all()
    ranked = sorted((r for r in rows if r[0] != not_at), key=lambda r: (-r[1], -r[2].timestamp()))
    return str(ranked[0][0]) if ranked else None


def round_trip(
    host: DispatchHost, actor: Actor, resident_id: str, home: str, place: str,
    starts_at: datetime, ends_at: datetime, passengers: s.Passengers, channel: str,
) -> tuple[s.QuoteResult, s.QuoteResult]:  # fmt: skip
    """Quotes there (arriving ``ARRIVE_EARLY_S`` before the start) and back (from
    ``LEAVE_AFTER_S`` after the end), each an offer or alternatives, held like any quote."""
    rider = resident_id if actor.is_staff else None
    there = quote(host, actor, s.QuoteCreate(
        origin=home, destination=place, mode="arrive_by",
        time=starts_at - timedelta(seconds=ARRIVE_EARLY_S), passengers=passengers,
        resident_id=rider), channel)  # fmt: skip
    back = quote(host, actor, s.QuoteCreate(
        origin=place, destination=home, mode="depart_at",
        time=ends_at + timedelta(seconds=LEAVE_AFTER_S), passengers=passengers,
        resident_id=rider), channel)  # fmt: skip
    return there, back
