"""Use cases of the booking service: one function per use case, effects in reading order.

Functions take the session (or the dispatch host, which owns the writer's session) and the
acting user, and never commit themselves: the request dependency or the writer turn does.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from booking import models as m
from booking import schemas as s
from booking.dispatch_host import DispatchHost, Step, request_payload
from booking.errors import (
    BookingSuspended,
    CancelTooLate,
    Forbidden,
    IdempotencyKeyReused,
    InvalidInput,
    NoMeetingPointNear,
    NoServiceThatDay,
    NotAuthenticated,
    NotFound,
    QuoteUsed,
    ResidentNotRegistered,
    TimeInPast,
    TooFarAhead,
    UnknownMeetingPoint,
)
from booking.world import World
from common.auth import hash_token, new_token, verify_password
from dispatch.engine import Booking as LiveBooking
from dispatch.engine import Dispatcher
from dispatch.model import (
    BookingStatus,
    HoldExpired,
    Mode,
    Offer,
    OutsideServiceHours,
    Reason,
    Rejection,
    StopKind,
    TripRequest,
)
from routing.stops import UnknownStop

LATLON = re.compile(r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$")
STAFF_TOKEN_TTL = timedelta(hours=12)
RESIDENT_TOKEN_TTL = timedelta(days=180)
LINK_CODE_TTL = timedelta(hours=24)
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


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a resident, or staff with a role (operator, admin, channel)."""

    kind: Literal["staff", "resident"]
    id: str
    role: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def now_utc() -> datetime:
    return datetime.now(UTC)


def at(unix_s: int) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(8)


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# -- authentication ----------------------------------------------------------------------


def issue_token(session: Session, kind: str, subject_id: str, ttl: timedelta) -> s.Token:
    token = new_token()
    now = now_utc()
    session.add(m.Token(token_hash=hash_token(token), kind=kind, subject_id=subject_id,
                        created_at=now, expires_at=now + ttl))  # fmt: skip
    return s.Token(access_token=token, expires_at=now + ttl)


def staff_login(session: Session, username: str, password: str) -> s.Token:
    staff = session.scalar(select(m.Staff).where(m.Staff.username == username))
    if staff is None or not staff.active or not verify_password(password, staff.password_hash):
        raise NotAuthenticated(
            "ユーザー名またはパスワードが違います。",
            "Wrong user name or password.",
        )
    return issue_token(session, "staff", staff.id, STAFF_TOKEN_TTL)


def authenticate(session: Session, token: str | None) -> Actor:
    if not token:
        raise NotAuthenticated(
            "ログインが必要です(トークンがありません)。",
            "Authentication required: send a bearer token.",
        )
    row = session.get(m.Token, hash_token(token))
    if row is None or row.expires_at <= now_utc():
        raise NotAuthenticated(
            "ログインの有効期限が切れたか、正しくありません。もう一度ログインしてください。",
            "The token is invalid or has expired. Please log in again.",
        )
    if row.kind == "staff":
        staff = session.get(m.Staff, row.subject_id)
        if staff is None or not staff.active:
            raise NotAuthenticated("このアカウントは使えません。", "This account is disabled.")
        return Actor("staff", staff.id, staff.role)
    return Actor("resident", row.subject_id, "resident")


def require_staff(actor: Actor, *roles: str) -> None:
    allowed = roles or ("operator", "admin")
    if not actor.is_staff or actor.role not in allowed:
        raise Forbidden(
            "この操作をする権限がありません。",
            f"Not allowed: this needs the role {' or '.join(allowed)}.",
        )


def audit(
    session: Session,
    actor: Actor,
    action: str,
    resident_id: str | None = None,
    booking_id: str | None = None,
    **details: Any,
) -> None:
    if actor.is_staff:
        session.add(m.AuditEntry(at=now_utc(), staff_id=actor.id, action=action,
                                 resident_id=resident_id, booking_id=booking_id, details=details))  # fmt: skip


# -- residents ---------------------------------------------------------------------------


def resident_view(session: Session, r: m.Resident) -> s.Resident:
    kinds = session.scalars(
        select(m.ResidentChannel.kind).where(m.ResidentChannel.resident_id == r.id)
    ).all()
    return s.Resident(
        id=r.id, name=r.name, kana=r.kana, phone=r.phone, address=r.address,
        birth_year=r.birth_year, eligibility=r.eligibility, wheelchair=r.wheelchair,
        needs_help=r.needs_help, suspended=r.suspended, channels=sorted(set(kinds)),
    )  # fmt: skip


def register_resident(
    session: Session, actor: Actor, body: s.ResidentCreate
) -> s.ResidentRegistered:
    require_staff(actor, "operator", "admin", "channel")
    if not body.consent:
        raise InvalidInput(
            "個人情報の利用への同意が必要です。",
            "Consent to the use of personal data is required.",
            field="consent",
        )
    if body.line_user_id and session.scalar(
        select(m.ResidentChannel).where(
            m.ResidentChannel.kind == "line", m.ResidentChannel.external_id == body.line_user_id
        )
    ):
        raise InvalidInput(
            "この LINE アカウントは、すでに別の方に登録されています。",
            "This LINE account is already linked to a resident.",
            field="line_user_id",
        )
    now = now_utc()
    r = m.Resident(
        id=new_id("R"), name=body.name.strip(), kana=body.kana.strip(), phone=body.phone,
        address=body.address.strip(), birth_year=body.birth_year, eligibility=body.eligibility,
        wheelchair=body.wheelchair, needs_help=body.needs_help, consent_at=now,
        suspended=False, created_at=now,
    )  # fmt: skip
    session.add(r)
    session.flush()
    session.add(
        m.ResidentChannel(resident_id=r.id, kind="phone", external_id=body.phone, linked_at=now)
    )
    if body.line_user_id:
        session.add(m.ResidentChannel(resident_id=r.id, kind="line",
                                      external_id=body.line_user_id, linked_at=now))  # fmt: skip
    session.flush()
    audit(session, actor, "resident.register", resident_id=r.id)
    token = None
    if actor.role == "channel":
        token = issue_token(session, "resident", r.id, RESIDENT_TOKEN_TTL).access_token
    return s.ResidentRegistered(resident=resident_view(session, r), token=token)


def get_resident(session: Session, actor: Actor, resident_id: str) -> m.Resident:
    if not actor.is_staff and actor.id != resident_id:
        raise NotFound("その利用者は見つかりません。", "No such resident.", id=resident_id)
    if actor.is_staff:
        require_staff(actor)
    r = session.get(m.Resident, resident_id)
    if r is None:
        raise NotFound("その利用者は見つかりません。", "No such resident.", id=resident_id)
    return r


def search_residents(session: Session, actor: Actor, q: str) -> list[s.Resident]:
    require_staff(actor)
    q = q.strip()
    if not q:
        raise InvalidInput("検索する言葉を入れてください。", "Enter something to search for.")
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and len(digits) >= 3 and len(digits) >= len(q.replace("-", "")) - 1:
        cond = m.Resident.phone.contains(digits)
    else:
        cond = or_(m.Resident.name.contains(q), m.Resident.kana.contains(q))
    rows = session.scalars(select(m.Resident).where(cond).order_by(m.Resident.kana).limit(20)).all()
    audit(session, actor, "resident.search", q=q, found=len(rows))
    return [resident_view(session, r) for r in rows]


def issue_link_code(session: Session, actor: Actor, resident_id: str) -> s.LinkCode:
    require_staff(actor)
    get_resident(session, actor, resident_id)
    code = f"{secrets.randbelow(10**6):06d}"
    expires = now_utc() + LINK_CODE_TTL
    session.add(m.LinkCode(code_hash=hash_token(f"{resident_id}:{code}"), resident_id=resident_id,
                           expires_at=expires))  # fmt: skip
    audit(session, actor, "resident.link_code", resident_id=resident_id)
    return s.LinkCode(code=code, expires_at=expires)


def resident_login(
    session: Session, phone: str, code: str, channel: tuple[str, str] | None = None
) -> s.Token:
    """A resident's token for a phone number and a one-time code; optionally link a channel."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    wrong = NotAuthenticated(
        "電話番号か確認コードが違うか、コードの期限が切れています。",
        "Wrong phone number or code, or the code has expired.",
    )
    residents = session.scalars(select(m.Resident).where(m.Resident.phone == digits)).all()
    for r in residents:
        lc = session.get(m.LinkCode, hash_token(f"{r.id}:{code.strip()}"))
        if lc is None or lc.used_at is not None or lc.expires_at <= now_utc():
            continue
        lc.used_at = now_utc()
        if channel is not None:
            link_channel(session, r.id, *channel)
        return issue_token(session, "resident", r.id, RESIDENT_TOKEN_TTL)
    raise wrong


def link_channel(session: Session, resident_id: str, kind: str, external_id: str) -> None:
    existing = session.scalar(
        select(m.ResidentChannel).where(
            m.ResidentChannel.kind == kind, m.ResidentChannel.external_id == external_id
        )
    )
    if existing is None:
        session.add(m.ResidentChannel(resident_id=resident_id, kind=kind,
                                      external_id=external_id, linked_at=now_utc()))  # fmt: skip
    elif existing.resident_id != resident_id:
        existing.resident_id, existing.linked_at = resident_id, now_utc()


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


def place_view(world: World, place: int) -> s.Place:
    p = world.stop_at(place)
    return s.Place(id=p.id, name=p.name, lat=p.lat, lon=p.lon)


def trip_request(world: World, body: s.QuoteCreate, channel: str, now_s: int) -> TripRequest:
    """Check the wish against the calendar and rules; the dispatcher checks the rest."""
    origin = _place(world, body.origin, "origin")
    destination = _place(world, body.destination, "destination")
    total = body.passengers.total
    if total < 1:
        raise InvalidInput("乗る人数を1人以上にしてください。", "At least one passenger is needed.",
                           field="passengers")  # fmt: skip
    if body.wheelchairs > total:
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
    counts = body.passengers.counts()
    return TripRequest(
        id=new_id("r"), origin=origin, destination=destination, mode=Mode(body.mode),
        time_s=time_s, seats=total - body.wheelchairs, wheelchairs=body.wheelchairs,
        channel=channel, fare_counts=tuple(sorted(counts.items())),
    )  # fmt: skip


def _offer_row(world: World, o: Offer, resident_id: str, actor: Actor, channel: str) -> m.Quote:
    counts = dict(o.request.fare_counts)
    p = o.promise
    return m.Quote(
        id=new_id("Q"), dispatch_id=o.booking_id, request_id=o.request.id, resident_id=resident_id,
        staff_id=actor.id if actor.is_staff else None, channel=channel,
        origin=world.stop_at(o.request.origin).id, destination=world.stop_at(o.request.destination).id,
        passengers=counts, wheelchairs=o.request.wheelchairs, fare_yen=world.config.fare_yen(counts),
        vehicle_id=o.vehicle_id, pickup_from=at(p.pickup_from_s), pickup_to=at(p.pickup_to_s),
        pickup_planned=at(p.pickup_planned_s), dropoff_planned=at(p.dropoff_planned_s),
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


def resident_for(session: Session, actor: Actor, resident_id: str | None) -> m.Resident:
    """The rider: the calling resident, or the one an operator books for."""
    if actor.is_staff:
        require_staff(actor, "operator", "admin", "channel")
        if resident_id is None:
            raise InvalidInput("どの利用者の予約か指定してください。", "Give the resident_id of the rider.",
                               field="resident_id")  # fmt: skip
        r = session.get(m.Resident, resident_id)
        if r is None:
            raise ResidentNotRegistered(
                "その利用者は登録されていません。先に利用者登録をしてください。",
                "That resident is not registered. Register them first.",
            )
        return r
    if resident_id not in (None, actor.id):
        raise Forbidden("ほかの方の予約はできません。", "You cannot book for another resident.")
    r = session.get(m.Resident, actor.id)
    if r is None:
        raise ResidentNotRegistered("利用者登録が見つかりません。", "Resident not registered.")
    return r


def quote(host: DispatchHost, actor: Actor, body: s.QuoteCreate, channel: str) -> s.QuoteResult:
    world = host.world
    with host.write() as step:
        rider = resident_for(step.session, actor, body.resident_id)
        if not actor.is_staff and (
            rider.suspended
            or no_shows(step.session, world, rider.id) >= world.config.policy.no_show_limit
        ):
            raise BookingSuspended(
                f"ご予約が一時止められています。お手数ですが電話({world.config.operator_phone})でご予約ください。",
                f"Self-service booking is suspended (no-shows). Please call {world.config.operator_phone}.",
            )
        request = trip_request(world, body, channel, step.now_s)
        result: Offer | Rejection = step.do("quote", **request_payload(request))
        offers = [result] if isinstance(result, Offer) else list(result.alternatives)
        rows = [_offer_row(world, o, rider.id, actor, channel) for o in offers]
        step.session.add_all(rows)
        audit(step.session, actor, "quote", resident_id=rider.id,
              offers=[r.id for r in rows], request=request_payload(request))  # fmt: skip
    views = [offer_view(world, r) for r in rows]
    if isinstance(result, Offer):
        return s.QuoteResult(status="offer", offer=views[0])
    ja, en = REASONS[result.reason]
    return s.QuoteResult(status="rejected", reason=str(result.reason), reason_ja=ja, reason_en=en,
                         alternatives=views)  # fmt: skip


# -- bookings ----------------------------------------------------------------------------


def reservation_number(session: Session, b: m.Booking) -> str:
    r = session.get(m.Resident, b.resident_id)
    return f"{b.code}-{r.phone[-4:] if r else '0000'}"


def eta(d: Dispatcher, dispatch_id: str) -> tuple[int | None, int | None]:
    live = d.bookings.get(dispatch_id)
    if live is None or live.status not in (BookingStatus.CONFIRMED, BookingStatus.ONBOARD):
        return None, None
    times = {(ps.booking_id, ps.kind): ps.planned_s for ps in d.plan(live.vehicle_id)}
    pick = times.get((dispatch_id, StopKind.PICKUP))
    drop = times.get((dispatch_id, StopKind.DROPOFF))
    return (pick if pick is not None and pick >= 0 else None), (
        drop if drop is not None and drop >= 0 else None
    )


def booking_view(session: Session, world: World, b: m.Booking, d: Dispatcher) -> s.Booking:
    tz = world.config.calendar.time_zone
    pick, drop = eta(d, b.dispatch_id)
    return s.Booking(
        id=b.id, reservation_number=reservation_number(session, b), status=b.status,
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
    cache_key = f"{host.prefix}idem:{actor.key}:{hashlib.sha256(key.encode()).hexdigest()}"
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
            require_staff(actor, "operator", "admin", "channel")
        used = step.session.scalar(select(m.Booking).where(m.Booking.quote_id == q.id))
        if used is not None:
            raise QuoteUsed(
                "この提案はもう予約済みです。", "This quote is already booked.", booking_id=used.id
            )
        if q.expires_at <= at(step.now_s):
            raise HoldExpired(
                "この提案の有効期限が切れました。もう一度お申し込みください。",
                "This offer has expired. Please ask again.",
            )
        live: LiveBooking = step.do("confirm", booking=q.dispatch_id)
        b = _booking_row(step, world, q, live, channel, actor)
        view = booking_view(step.session, world, b, step.dispatcher)
        answer = view.model_dump(mode="json")
        step.session.add(m.IdempotencyKey(actor=actor.key, key=key, request_hash=digest,
                                          status_code=201, body=answer, created_at=now_utc()))  # fmt: skip
        audit(step.session, actor, "booking.confirm", resident_id=b.resident_id, booking_id=b.id)
        step.publish("booking_confirmed", booking_id=b.id, vehicle_id=b.vehicle_id)
    host.redis.set(
        cache_key, json.dumps({"hash": digest, "status": 201, "body": answer}), ex=86_400
    )
    return 201, answer


def _booking_row(
    step: Step, world: World, q: m.Quote, live: LiveBooking, channel: str, actor: Actor
) -> m.Booking:
    p = live.promise
    now = now_utc()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
    b = m.Booking(
        id=new_id("B"), quote_id=q.id, dispatch_id=q.dispatch_id, resident_id=q.resident_id,
        code=code, status="confirmed", channel=channel, staff_id=actor.id if actor.is_staff else None,
        origin=q.origin, destination=q.destination, passengers=q.passengers,
        wheelchairs=q.wheelchairs, fare_yen=q.fare_yen, vehicle_id=live.vehicle_id,
        pickup_from=at(p.pickup_from_s), pickup_to=at(p.pickup_to_s),
        pickup_planned=at(p.pickup_planned_s), dropoff_planned=at(p.dropoff_planned_s),
        dropoff_by=at(p.dropoff_by_s), created_at=now, updated_at=now,
    )  # fmt: skip
    step.session.add(b)
    step.session.flush()
    return b


def _own_booking(session: Session, actor: Actor, booking_id: str) -> m.Booking:
    b = session.get(m.Booking, booking_id)
    if b is None or (not actor.is_staff and b.resident_id != actor.id):
        raise NotFound("その予約は見つかりません。", "No such booking.", booking_id=booking_id)
    if actor.is_staff:
        require_staff(actor, "operator", "admin", "channel")
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
            step.do("cancel", booking=b.dispatch_id)
            b.status, b.updated_at = "cancelled", now_utc()
            b.cancelled_by = actor.key
            audit(step.session, actor, "booking.cancel", resident_id=b.resident_id, booking_id=b.id)
            step.publish("booking_cancelled", booking_id=b.id, vehicle_id=b.vehicle_id)
        elif b.status != "cancelled":
            raise CancelTooLate(
                "乗車中または終わった予約は取り消せません。",
                f"A booking that is {b.status} cannot be cancelled.",
                status=b.status,
            )
        return booking_view(step.session, world, b, step.dispatcher)


def get_booking(host: DispatchHost, session: Session, actor: Actor, booking_id: str) -> s.Booking:
    b = _own_booking(session, actor, booking_id)
    with host.read() as d:
        return booking_view(session, host.world, b, d)


def list_bookings(
    host: DispatchHost, session: Session, resident_id: str, upcoming_only: bool
) -> list[s.Booking]:
    q = select(m.Booking).where(m.Booking.resident_id == resident_id)
    if upcoming_only:
        q = q.where(m.Booking.status.in_(("confirmed", "onboard")))
    rows = session.scalars(q.order_by(m.Booking.pickup_from.desc()).limit(100)).all()
    with host.read() as d:
        return [booking_view(session, host.world, b, d) for b in rows]


# -- what happens on the road (simulated vehicles now, driver tablets later) ----------------


def record_stop(
    host: DispatchHost, dispatch_id: str, event: Literal["board", "alight", "no_show"]
) -> None:
    status = {"board": "onboard", "alight": "completed", "no_show": "no_show"}[event]
    with host.write() as step:
        b = step.session.scalar(select(m.Booking).where(m.Booking.dispatch_id == dispatch_id))
        if b is None:
            raise NotFound("その予約は見つかりません。", "No such booking.", booking_id=dispatch_id)
        step.do(event, booking=dispatch_id)
        b.status, b.updated_at = status, now_utc()
        step.publish(f"booking_{status}", booking_id=b.id, vehicle_id=b.vehicle_id)


def service_day(world: World, now_s: int) -> date:
    return world.config.calendar.local_date(now_s)
