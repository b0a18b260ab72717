"""The town's reservations API (/v1/town/reservations): classes (スマホ教室), the digital help
desk and counter appointments (town/reservations.py).

Anyone may see the events and their free places (a town newsletter's information); a
resident reserves, cancels and lists their own; operators and admins define events and
counter slots, reserve and cancel for a resident who phones or comes in, see the roster,
record attendance and export it. With a reservation, the bus there and back is one request:
``rides/quote`` quotes both legs with the dispatcher (arriving before the start, leaving after
the end), ``rides`` confirms the offers chosen."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from booking.endpoints import ActorDep, channel_of, created_once, idempotency_key
from common.errors import DrtError, Forbidden, InvalidInput
from core import bookings as trips
from core import schemas as s
from core.host import DispatchHost
from core.web import HostDep, SessionDep
from residents import service as people
from residents.service import Actor
from town import reservations as rv
from town.models import TownEvent, TownReservation

reservations = APIRouter(prefix="/v1/town/reservations", tags=["town"])
EventId = Annotated[str, Path(min_length=1, max_length=24)]
ReservationId = Annotated[str, Path(min_length=1, max_length=24)]


class EventView(BaseModel):
    id: str
    kind: str
    kind_ja: str
    series_id: str | None
    title: str
    place: str
    stop_id: str | None = Field(description="the meeting point at the place (the bus goes there)")
    stop_name: str | None
    note: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    waitlist: int
    booked: int = Field(description="places taken (booked, or marked at the event)")
    waiting: int
    free: int
    cancel_until: datetime = Field(description="residents cancel themselves until then")
    reminders: list[dict[str, Any]]
    status: str = Field(description="open | cancelled")


class ReservationView(BaseModel):
    id: str
    event: EventView
    resident_id: str
    status: str = Field(description="booked | waiting | cancelled | attended | absent")
    status_ja: str
    waiting_position: int | None = Field(description="1: next to get a place")
    channel: str
    queued_at: datetime
    booked_at: datetime | None
    cancelled_at: datetime | None
    attendance_at: datetime | None
    rides: list[str] = Field(description="the bus bookings made with it")


class RosterEntry(ReservationView):
    name: str
    kana: str
    phone: str


class ReserveIn(BaseModel):
    resident_id: str | None = Field(None, max_length=24, description="staff: for whom (required)")


class CancelIn(BaseModel):
    rides: bool = Field(True, description="cancel the bus bookings made with it too")


class AttendanceIn(BaseModel):
    attended: bool


class RideQuoteIn(BaseModel):
    home: str | None = Field(None, max_length=60, description="where to ride from and back to: "
                             "a meeting point; left out: where the resident's rides usually start")  # fmt: skip
    adult: int = Field(1, ge=0, le=8)
    child: int = Field(0, ge=0, le=8)


class RideQuotes(BaseModel):
    home: str
    there: s.QuoteResult
    back: s.QuoteResult


class RidesIn(BaseModel):
    quote_ids: list[str] = Field(min_length=1, max_length=2)


# -- views ---------------------------------------------------------------------------------


def _event_views(session: Session, host: DispatchHost, rows: list[TownEvent]) -> list[EventView]:
    have = rv.counts(session, [e.id for e in rows])
    out = []
    for e in rows:
        c = have[e.id]
        stop_name = None
        if e.stop_id:
            try:
                stop_name = host.world.stops.get(e.stop_id).name
            except DrtError:  # a meeting point removed since
                stop_name = None
        out.append(EventView(
            id=e.id, kind=e.kind, kind_ja=rv.KINDS_JA[e.kind], series_id=e.series_id,
            title=e.title, place=e.place, stop_id=e.stop_id, stop_name=stop_name, note=e.note,
            starts_at=e.starts_at, ends_at=e.ends_at, capacity=e.capacity, waitlist=e.waitlist,
            booked=c.taken, waiting=c.waiting, free=max(0, e.capacity - c.taken),
            cancel_until=e.starts_at - timedelta(seconds=e.cancel_before_s),
            reminders=list(e.reminders or []), status=e.status,
        ))  # fmt: skip
    return out


def _fields(r: TownReservation, event: EventView, position: int | None) -> dict[str, Any]:
    return {"id": r.id, "event": event, "resident_id": r.resident_id, "status": r.status,
                "status_ja": rv.STATUS_JA[r.status], "waiting_position": position, "channel": r.channel,
                "queued_at": r.queued_at, "booked_at": r.booked_at, "cancelled_at": r.cancelled_at,
                "attendance_at": r.attendance_at, "rides": list(r.rides or [])}  # fmt: skip


def _position(session: Session, r: TownReservation) -> int | None:
    if r.status != "waiting":
        return None
    ahead = [w for w, _ in rv.waiting_order(session, r.event_id)]
    return ahead.index(r.id) + 1 if r.id in ahead else None


def _view(session: Session, host: DispatchHost, r: TownReservation) -> ReservationView:
    event = _event_views(session, host, [rv.get_event(session, r.event_id)])[0]
    return ReservationView(**_fields(r, event, _position(session, r)))


def _window(
    day_from: date | None, day_to: date | None, host: DispatchHost
) -> tuple[datetime, datetime]:
    tz = host.world.config.calendar.time_zone
    today = host.world.config.calendar.local_date(host.clock())
    first = day_from or today
    last = day_to or first + timedelta(days=60)
    if last < first:
        raise InvalidInput("おわりの日は、はじめの日より後にしてください。", "to is before from.",
                           field="to")  # fmt: skip
    return datetime.combine(first, time(), tz), datetime.combine(
        last + timedelta(days=1), time(), tz
    )


# -- events (anyone reads; staff define) ----------------------------------------------------


@reservations.get("/events", response_model=list[EventView])
def list_events(
    session: SessionDep, host: HostDep,
    day_from: Annotated[date | None, Query(alias="from")] = None,
    day_to: Annotated[date | None, Query(alias="to")] = None,
    kind: Annotated[Literal["class", "desk", "counter"] | None, Query()] = None,
) -> list[EventView]:  # fmt: skip
    """Events from ``from`` (today) to ``to`` (60 days on), soonest first, with free places
    (no login: the town's schedule is public)."""
    first, last = _window(day_from, day_to, host)
    return _event_views(session, host, rv.listing(session, first, last, kind))


@reservations.get("/events/{event_id}", response_model=EventView)
def read_event(session: SessionDep, host: HostDep, event_id: EventId) -> EventView:
    return _event_views(session, host, [rv.get_event(session, event_id)])[0]


@reservations.post("/events", response_model=EventView, status_code=201)
def create_event(
    session: SessionDep, host: HostDep, actor: ActorDep, body: rv.EventIn,
    key: Annotated[str, Depends(idempotency_key)],
) -> EventView:  # fmt: skip
    """A class or the help desk's hours (operators and admins); the same Idempotency-Key
    again answers the same event."""
    people.require_staff(actor, *rv.STAFF)
    stops = [p.id for p in host.world.stops.points]
    ids, _ = created_once(session, actor, "event", key, body,
                          lambda: [rv.create_event(session, actor, body, host.now(), stops).id])  # fmt: skip
    return _event_views(session, host, [rv.get_event(session, ids[0])])[0]


@reservations.post("/slots", response_model=list[EventView], status_code=201)
def create_slots(
    session: SessionDep, host: HostDep, actor: ActorDep, body: rv.SlotsIn,
    key: Annotated[str, Depends(idempotency_key)],
) -> list[EventView]:  # fmt: skip
    """A day of counter appointments, ``minutes`` apart from ``first`` to ``last``."""
    people.require_staff(actor, *rv.STAFF)
    stops = [p.id for p in host.world.stops.points]
    tz = host.world.config.calendar.time_zone
    ids, _ = created_once(session, actor, "slots", key, body, lambda: [
        e.id for e in rv.create_slots(session, actor, body, host.now(), stops, tz)])  # fmt: skip
    return _event_views(session, host, [rv.get_event(session, i) for i in ids])


@reservations.post("/events/{event_id}/cancel", response_model=EventView)
def cancel_event(
    session: SessionDep, host: HostDep, actor: ActorDep, event_id: EventId
) -> EventView:
    """Call an event off (staff): every reservation is cancelled and LINE tells the booked."""
    row = rv.cancel_event(session, actor, event_id, host.now())
    return _event_views(session, host, [row])[0]


@reservations.get("/events/{event_id}/roster", response_model=list[RosterEntry])
def event_roster(
    session: SessionDep, host: HostDep, actor: ActorDep, event_id: EventId
) -> list[RosterEntry]:
    """Who has a place, who waits (in order), who cancelled (staff)."""
    rows = rv.roster(session, actor, event_id)
    event = _event_views(session, host, [rv.get_event(session, event_id)])[0]
    waiting = [r.id for r, _ in rows if r.status == "waiting"]
    return [RosterEntry(**_fields(r, event, waiting.index(r.id) + 1 if r.id in waiting else None),
                        name=p.name, kana=p.kana, phone=p.phone) for r, p in rows]  # fmt: skip


@reservations.get("/events/{event_id}/roster.csv", response_class=Response)
def event_roster_csv(
    session: SessionDep, host: HostDep, actor: ActorDep, event_id: EventId
) -> Response:
    """The roster as CSV (UTF-8 with a BOM for Excel; audited as an export)."""
    name, text = rv.roster_csv(session, actor, event_id, host.world.config.calendar.time_zone)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# -- reservations ----------------------------------------------------------------------------


def _for_whom(actor: Actor, body: ReserveIn | None) -> str:
    rid = body.resident_id if body is not None else None
    if actor.is_staff:
        people.require_staff(actor, *rv.STAFF)
        if not rid:
            raise InvalidInput("どなたの予約か(resident_id)を指定してください。",
                               "Staff must name the resident (resident_id).", field="resident_id")  # fmt: skip
        return rid
    if actor.kind != "resident":
        raise Forbidden("住民の方のログインが必要です。", "This needs a resident's sign-in.")
    return rid or actor.id


@reservations.post("/events/{event_id}/reservations", response_model=ReservationView,
                   status_code=201, responses={200: {"model": ReservationView}})  # fmt: skip
def reserve(
    session: SessionDep, host: HostDep, actor: ActorDep, event_id: EventId,
    body: ReserveIn | None = None,
) -> Any:  # fmt: skip
    """A place (or on the waiting list when full): 201 made now, 200 already held (a retry
    reserves nothing twice); 409 ``event_full`` with ``next_events`` that have room."""
    rid = _for_whom(actor, body)
    row, made = rv.reserve(session, actor, event_id, rid, channel_of(actor), host.now())
    view = _view(session, host, row)
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if made else 200)


@reservations.get("/mine", response_model=list[ReservationView])
def my_reservations(session: SessionDep, host: HostDep, actor: ActorDep) -> list[ReservationView]:
    """The resident's reservations of events not over yet, soonest first."""
    if actor.kind != "resident":
        raise Forbidden("住民の方のログインが必要です。", "This needs a resident's sign-in.")
    return [_view(session, host, r) for r, _ in rv.mine(session, actor.id, host.now())]


@reservations.get("/residents/{resident_id}", response_model=list[ReservationView])
def resident_reservations(
    session: SessionDep, host: HostDep, actor: ActorDep, resident_id: Annotated[str, Path(max_length=24)]
) -> list[ReservationView]:  # fmt: skip
    """A resident's reservations (operators and admins, for a resident who phones)."""
    people.require_staff(actor, *rv.STAFF)
    people.get_resident(session, actor, resident_id)
    return [_view(session, host, r) for r, _ in rv.mine(session, resident_id, host.now())]


@reservations.get("/{reservation_id}", response_model=ReservationView)
def read_reservation(
    session: SessionDep, host: HostDep, actor: ActorDep, reservation_id: ReservationId
) -> ReservationView:
    return _view(session, host, rv.get_reservation(session, actor, reservation_id))


@reservations.post("/{reservation_id}/cancel", response_model=ReservationView)
def cancel_reservation(
    session: SessionDep, host: HostDep, actor: ActorDep, reservation_id: ReservationId,
    body: CancelIn | None = None,
) -> ReservationView:  # fmt: skip
    """Give the place back (a resident until ``cancel_until``, staff at any time), and the
    bus bookings made with it unless ``rides`` is false; the first waiting gets the place."""
    row, _ = rv.cancel(session, actor, reservation_id, host.now())
    if body is None or body.rides:
        for booking_id in row.rides or []:
            try:
                trips.cancel(host, actor, booking_id)
            except DrtError:  # ridden, already cancelled, or past its own cut-off
                continue
    return _view(session, host, row)


@reservations.post("/{reservation_id}/attendance", response_model=ReservationView)
def attendance(
    session: SessionDep, host: HostDep, actor: ActorDep, reservation_id: ReservationId,
    body: AttendanceIn,
) -> ReservationView:  # fmt: skip
    """出席 or 欠席 (staff), from the event's day on."""
    row = rv.record_attendance(session, actor, reservation_id, body.attended, host.now(),
                               host.world.config.calendar.time_zone)  # fmt: skip
    return _view(session, host, row)


# -- the bus there and back ------------------------------------------------------------------


def _bookable(
    session: Session, actor: Actor, reservation_id: str
) -> tuple[TownReservation, TownEvent]:
    row = rv.get_reservation(session, actor, reservation_id)
    event = rv.get_event(session, row.event_id)
    if row.status not in ("booked", "waiting") or event.status != "open":
        raise rv.EventClosed("この予約には、バスを取れません(取り消し済みなど)。",
                             "This reservation cannot take a ride (cancelled, or over).",
                             status=row.status)  # fmt: skip
    if not event.stop_id:
        raise InvalidInput("この会場には乗降ポイントが決まっていません。お電話でご相談ください。",
                           "The event's place has no meeting point.", event_id=event.id)  # fmt: skip
    return row, event


# These two hold no request session while the dispatcher quotes or confirms (a connection
# held while waiting for the writer's turn is how a pool runs dry): short sessions instead.


@reservations.post("/{reservation_id}/rides/quote", response_model=RideQuotes)
def quote_rides(
    host: HostDep, actor: ActorDep, reservation_id: ReservationId, body: RideQuoteIn
) -> RideQuotes:
    """The bus there (arriving before the start) and back (after the end), quoted by the
    dispatcher: each an offer, or alternatives; held like any quote."""
    with host.reads() as session:
        row, event = _bookable(session, actor, reservation_id)
        assert event.stop_id is not None
        home = body.home or trips.usual_origin(session, row.resident_id, not_at=event.stop_id)
        rid, place, starts, ends = row.resident_id, event.stop_id, event.starts_at, event.ends_at
    if not home:
        raise InvalidInput("どこから乗るか(home: 乗降ポイントの番号)を指定してください。",
                           "Say where to ride from (home: a meeting point).", field="home")  # fmt: skip
    there, back = trips.round_trip(host, actor, rid, home, place, starts, ends,
                                   s.Passengers(adult=body.adult, child=body.child),
                                   channel_of(actor))  # fmt: skip
    return RideQuotes(home=home, there=there, back=back)


@reservations.post("/{reservation_id}/rides", response_model=list[s.Booking], status_code=201)
def book_rides(
    request: Request, host: HostDep, actor: ActorDep, reservation_id: ReservationId,
    body: RidesIn,
) -> list[s.Booking]:  # fmt: skip
    """Confirm the legs chosen (one request for both); again: the same bookings."""
    with host.reads() as session:
        row, _ = _bookable(session, actor, reservation_id)
        rid = row.resident_id
    booked = []
    for qid in body.quote_ids:
        _, answer = trips.confirm(host, actor, s.BookingCreate(quote_id=qid),
                                  f"reservation:{reservation_id}:{qid}", channel_of(actor))  # fmt: skip
        booked.append(s.Booking.model_validate(answer))
    with request.app.state.sessions() as session:
        row = rv.get_reservation(session, actor, reservation_id)
        rv.set_rides(session, row, [b.id for b in booked])
        people.audit(session, actor, "town.reservation.rides", resident_id=rid,
                     reservation_id=reservation_id, bookings=[b.id for b in booked])  # fmt: skip
        session.commit()
    return booked
