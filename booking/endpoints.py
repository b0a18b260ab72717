"""The app and operator REST API under /v1: authenticate, validate, call the use case, return."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, StrictFloat, StrictInt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.clock import now_utc
from common.errors import IdempotencyKeyRequired, IdempotencyKeyReused, InvalidInput
from common.ratelimit import Attempts
from core import accounts, fleet, guide, reports
from core import bookings as trips
from core import meeting_points as points
from core import schemas as s
from core import service_rules as rules
from core.host import DispatchHost
from core.models import IdempotencyKey
from core.web import HostDep, SessionDep, page_file
from residents import models as rm
from residents import schemas as rs
from residents import service as people
from residents.service import Actor

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def actor_dep(request: Request, token: Annotated[str | None, Depends(oauth2)]) -> Actor:
    """Who is asking, from a short session of its own: a request waiting for the dispatch
    writer then holds no pooled connection (20 concurrent quotes exhausted the pool)."""
    with request.app.state.sessions() as session:
        return people.authenticate(session, token)


ActorDep = Annotated[Actor, Depends(actor_dep)]


def attempts_of(host: DispatchHost) -> Attempts:
    return Attempts(host.redis, host.keys)


def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> str:
    if not key or not key.strip():
        raise IdempotencyKeyRequired(
            "Idempotency-Key ヘッダーが必要です(送り直しても二重予約にならないための番号)。",
            "The Idempotency-Key header is required (it makes retries safe).",
        )
    return key.strip()


def stored_key(scope: str, key: str) -> str:
    """The key as stored (the column holds 128 characters: a longer one by its hash)."""
    full = f"{scope}:{key}"
    return full if len(full) <= 128 else f"{scope}:#" + hashlib.sha256(key.encode()).hexdigest()


def created_once(
    session: Session, actor: Actor, scope: str, key: str, body: BaseModel,
    create: Callable[[], list[str]],
) -> tuple[list[str], bool]:  # fmt: skip
    """The ids a creation made: made now by ``create``, or, when the same key came before
    with the same body, the ids made then (``False``: nothing new). The key is claimed
    first (its row inserted in a savepoint), so a retry arriving while the first request
    still runs waits on that row and then reads its answer: never two creations, never a
    500. The same key with another body: 422 ``idempotency_key_reused``."""
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    name = stored_key(scope, key)
    stored = session.get(IdempotencyKey, (actor.key, name))
    if stored is None:
        try:
            with session.begin_nested():
                session.add(IdempotencyKey(actor=actor.key, key=name, request_hash=digest,
                                           status_code=201, body={}, created_at=now_utc()))  # fmt: skip
        except IntegrityError:  # the first request committed its claim meanwhile
            stored = session.get(IdempotencyKey, (actor.key, name))
    if stored is not None:
        if stored.request_hash != digest:
            raise IdempotencyKeyReused(
                "同じ受付番号(Idempotency-Key)で、違う内容が送られました。新しい番号で送ってください。",
                "This Idempotency-Key was used with a different request. Use a new key.",
            )
        return [str(i) for i in stored.body.get("ids", [])], False
    ids = create()
    claim = session.get(IdempotencyKey, (actor.key, name))
    assert claim is not None
    claim.body = {"ids": ids}
    session.flush()
    return ids, True


def channel_of(actor: Actor) -> str:
    return "phone" if actor.role in ("operator", "admin") else "app"


# -- auth ----------------------------------------------------------------------------------

auth = APIRouter(prefix="/v1/auth", tags=["auth"])


@auth.post("/token", response_model=rs.Token)
def staff_token(
    session: SessionDep, host: HostDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> rs.Token:
    """Operators and admins log in (OAuth2 password flow)."""
    return people.staff_login(session, attempts_of(host), form.username, form.password)


@auth.post("/resident", response_model=rs.Token)
def resident_token(session: SessionDep, host: HostDep, body: rs.ResidentLogin) -> rs.Token:
    """A resident's token from the phone number and a one-time code issued by an operator."""
    return people.resident_login(
        session, attempts_of(host), body.phone, body.code, ("app", body.phone)
    )


# -- residents -----------------------------------------------------------------------------

residents = APIRouter(prefix="/v1/residents", tags=["residents"])


@residents.post("", response_model=rs.ResidentRegistered, status_code=201)
def register(
    session: SessionDep, actor: ActorDep, body: rs.ResidentCreate
) -> rs.ResidentRegistered:
    """Register a resident (operators during a call, or a channel client such as the app)."""
    return people.register_resident(session, actor, body)


@residents.get("/me", response_model=rs.Resident)
def me(session: SessionDep, actor: ActorDep) -> rs.Resident:
    return people.resident_view(session, people.get_resident(session, actor, actor.id))


@residents.get("/me/bookings", response_model=list[s.Booking])
def my_bookings(
    session: SessionDep, host: HostDep, actor: ActorDep, upcoming: bool = False
) -> list[s.Booking]:
    people.get_resident(session, actor, actor.id)
    return trips.list_bookings(host, session, actor.id, upcoming)


# -- quotes and bookings ---------------------------------------------------------------------

bookings = APIRouter(prefix="/v1", tags=["bookings"])


@bookings.post("/quotes", response_model=s.QuoteResult)
def create_quote(host: HostDep, actor: ActorDep, body: s.QuoteCreate) -> s.QuoteResult:
    """An offer (pickup window, drop-off estimate, fare) held for a short time, or why not and
    up to three alternatives."""
    return trips.quote(host, actor, body, channel_of(actor))


@bookings.post("/bookings", status_code=201, response_model=s.Booking)
def create_booking(
    host: HostDep,
    actor: ActorDep,
    body: s.BookingCreate,
    key: Annotated[str, Depends(idempotency_key)],
) -> Any:
    """Confirm a quote. Retrying with the same Idempotency-Key returns the same booking."""
    status, answer = trips.confirm(host, actor, body, key, channel_of(actor))
    return JSONResponse(answer, status_code=status)


@bookings.get("/bookings/{booking_id}", response_model=s.Booking)
def read_booking(session: SessionDep, host: HostDep, actor: ActorDep, booking_id: str) -> s.Booking:
    """Status and live ETA."""
    return trips.get_booking(host, session, actor, booking_id)


@bookings.post("/bookings/{booking_id}/cancel", response_model=s.Booking)
def cancel_booking(host: HostDep, actor: ActorDep, booking_id: str) -> s.Booking:
    """Cancel (idempotent: cancelling twice answers the same)."""
    return trips.cancel(host, actor, booking_id)


@bookings.get("/meeting-points", response_model=list[s.Place])
def meeting_points(
    host: HostDep,
    actor: ActorDep,
    q: Annotated[
        str | None,
        Query(max_length=40, description="name, reading or 大字, any width; misspelt is fine"),
    ] = None,
) -> list[s.Place]:
    """The meeting points; with ``q``, the best matches first (the search LINE uses)."""
    with host.read():  # as the log left them
        points = host.world.search_stops(q) if q else host.world.stops.points
        return [
            s.Place(id=p.id, name=p.name, short_name=p.label, lat=p.lat, lon=p.lon) for p in points
        ]


# -- operators -----------------------------------------------------------------------------

operator = APIRouter(prefix="/v1/operator", tags=["operator"])


@operator.get("/residents", response_model=rs.ResidentSearch)
def search(
    session: SessionDep, actor: ActorDep, q: str = Query(min_length=1, max_length=80)
) -> rs.ResidentSearch:
    """Find a resident by phone number (any part), name or kana."""
    return rs.ResidentSearch(results=people.search_residents(session, actor, q))


@operator.post("/residents", response_model=rs.ResidentRegistered, status_code=201)
def operator_register(
    session: SessionDep, actor: ActorDep, body: rs.ResidentCreate
) -> rs.ResidentRegistered:
    """Register a new resident during a call."""
    people.require_staff(actor)
    return people.register_resident(session, actor, body)


@operator.get("/residents/{resident_id}", response_model=rs.Resident)
def operator_resident(session: SessionDep, actor: ActorDep, resident_id: str) -> rs.Resident:
    people.require_staff(actor)
    r = people.get_resident(session, actor, resident_id)
    people.audit(session, actor, "resident.view", resident_id=r.id)
    return people.resident_view(session, r)


@operator.get("/residents/{resident_id}/bookings", response_model=list[s.Booking])
def operator_resident_bookings(
    session: SessionDep, host: HostDep, actor: ActorDep, resident_id: str, upcoming: bool = False
) -> list[s.Booking]:
    people.require_staff(actor)
    people.get_resident(session, actor, resident_id)
    people.audit(session, actor, "booking.list", resident_id=resident_id)
    return trips.list_bookings(host, session, resident_id, upcoming)


@operator.post("/residents/{resident_id}/close", response_model=rs.Resident)
def close_resident(session: SessionDep, actor: ActorDep, resident_id: str) -> rs.Resident:
    """Close the account at the resident's request (operators and admins): no sign-in and no
    booking from now on, the phone and LINE free to register again; anonymised by
    ``drt db purge`` after the town's period. 409 ``resident_has_open_bookings`` while a ride
    is still to take. Closing twice answers the same."""
    return accounts.close_account(session, actor, resident_id)


@operator.post("/residents/{resident_id}/link-code", response_model=rs.LinkCode, status_code=201)
def link_code(session: SessionDep, actor: ActorDep, resident_id: str) -> rs.LinkCode:
    """A one-time code (24 h) the resident uses to link the app or LINE."""
    return people.issue_link_code(session, actor, resident_id)


@operator.post("/quotes", response_model=s.QuoteResult)
def operator_quote(host: HostDep, actor: ActorDep, body: s.QuoteCreate) -> s.QuoteResult:
    """Quote on a resident's behalf (``resident_id`` in the body)."""
    people.require_staff(actor)
    if body.resident_id is None:
        raise InvalidInput(
            "resident_id を指定してください。", "Give the resident_id.", field="resident_id"
        )
    return trips.quote(host, actor, body, "phone")


@operator.get("/bookings", response_model=s.DayBookings)
def operator_day(
    session: SessionDep,
    host: HostDep,
    actor: ActorDep,
    day: Annotated[
        date | None,
        Query(alias="date", description="the service day (local), YYYY-MM-DD; left out: today's"),
    ] = None,
    vehicle: Annotated[
        str | None, Query(max_length=24, description="only this vehicle (van-1)")
    ] = None,
    status: Annotated[
        list[str] | None, Query(max_length=7, description="only these statuses")
    ] = None,
) -> s.DayBookings:
    """A day's bookings with their riders, vehicles and planned times from the live plan."""
    when = day or trips.service_day(host.world, host.clock())
    return trips.day_bookings(host, session, actor, when, vehicle, status or ())


@operator.post("/bookings", status_code=201, response_model=s.Booking)
def operator_book(
    host: HostDep,
    actor: ActorDep,
    body: s.BookingCreate,
    key: Annotated[str, Depends(idempotency_key)],
) -> Any:
    people.require_staff(actor)
    status, answer = trips.confirm(host, actor, body, key, "phone")
    return JSONResponse(answer, status_code=status)


@operator.post("/bookings/{booking_id}/move", response_model=s.MoveResult)
def operator_move(
    host: HostDep, actor: ActorDep, booking_id: str, body: s.MoveRequest
) -> s.MoveResult:
    """Move a confirmed booking to another vehicle of its day if its promise holds there
    (``dry_run``: only whether it fits and when). 409 ``move_not_possible`` says why not."""
    return trips.move_booking(host, actor, booking_id, body)


@operator.post("/bookings/{booking_id}/protect", response_model=s.DayBooking)
def operator_protect(
    session: SessionDep, host: HostDep, actor: ActorDep, booking_id: str, body: s.ProtectRequest
) -> s.DayBooking:
    """Keep a confirmed booking on its vehicle (``protected: true``: no delay repair or
    re-optimisation moves it elsewhere; an operator's move or taking the vehicle out of
    service still does), or let the engine move it again. Idempotent; answers the board row."""
    return trips.protect_booking(host, session, actor, booking_id, body)


@operator.post("/bookings/{booking_id}/no-show", response_model=s.Booking)
def operator_no_show(host: HostDep, actor: ActorDep, booking_id: str) -> s.Booking:
    """Record that the rider did not come, for a driver who phoned it in (the tablet not in
    use); from the start of the promised pickup window. Idempotent. 409
    ``booking_not_changeable`` says why not (too early, not a confirmed booking)."""
    return trips.operator_no_show(host, actor, booking_id)


@operator.get("/fleet", response_model=s.Fleet)
def operator_fleet(
    host: HostDep,
    actor: ActorDep,
    day: Annotated[date | None, Query(alias="date", description="the service day; today's")] = None,
) -> s.Fleet:
    """The live fleet: each vehicle's state, position, next stops and road to the next."""
    people.require_staff(actor, "operator", "admin")
    now_s = host.clock()
    return fleet.fleet(host, day or trips.service_day(host.world, now_s), now_s)


@operator.get("/map")
def operator_map(host: HostDep, actor: ActorDep) -> dict[str, Any]:
    """The town's roads as line arrays for the fleet map (our own OpenStreetMap data)."""
    people.require_staff(actor, "operator", "admin")
    return host.world.road_lines()


@operator.post("/vehicles", status_code=201, response_model=s.VehicleDay)
def operator_add_vehicle(host: HostDep, actor: ActorDep, body: s.VehicleDayCreate) -> Any:
    """Add a vehicle for one service day within its hours (a spare van after a breakdown, a
    second van on a busy day); quotes plan on it at once, and riders can be moved onto it.
    201 created; the same request again answers 200 and changes nothing; 409
    ``booking_not_changeable`` when that vehicle already runs that day otherwise."""
    created, day = trips.add_vehicle_day(host, actor, body)
    return JSONResponse(day.model_dump(mode="json"), status_code=201 if created else 200)


@operator.post("/vehicles/{vehicle_id}/breaks", status_code=201, response_model=s.BreakPlanned)
def operator_add_break(
    host: HostDep, actor: ActorDep, vehicle_id: Annotated[str, Path(max_length=24)],
    body: s.BreakCreate,
) -> s.BreakPlanned:  # fmt: skip
    """Plan a driver's break on a vehicle's day: the engine puts it where it costs least
    between rides, every promise kept; 409 ``invalid_state_change`` when it fits nowhere in
    that window. The tablet shows it as 休憩 and its break button starts it."""
    return trips.add_break(host, actor, vehicle_id, body)


@operator.post("/vehicles/{vehicle_id}/withdraw", response_model=s.Withdrawn)
def operator_withdraw(
    session: SessionDep,
    host: HostDep,
    actor: ActorDep,
    vehicle_id: Annotated[str, Path(max_length=24)],
    day: Annotated[date | None, Query(alias="date", description="the service day; today's")] = None,
) -> s.Withdrawn:
    """Take a vehicle out of service (a breakdown, a driver off sick): its riders move to
    other vehicles where their promise holds; the others are listed, to be called."""
    when = day or trips.service_day(host.world, host.clock())
    return trips.withdraw_vehicle(host, session, actor, vehicle_id, when)


@operator.post("/bookings/{booking_id}/cancel", response_model=s.Booking)
def operator_cancel(host: HostDep, actor: ActorDep, booking_id: str) -> s.Booking:
    people.require_staff(actor)
    return trips.cancel(host, actor, booking_id)


def csv_file(filename: str, header: list[str], rows: list[list[Any]]) -> Response:
    """A CSV download for Excel: UTF-8 with a BOM."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip


@operator.get("/reports/ridership", response_model=s.Ridership)
def ridership_report(
    session: SessionDep,
    host: HostDep,
    actor: ActorDep,
    first: Annotated[
        date | None, Query(alias="from", description="the first day (local); the 1st of to's month")
    ] = None,
    last: Annotated[
        date | None, Query(alias="to", description="the last day (local); the service's today")
    ] = None,
    by: Literal["day", "month"] = "day",
    fmt: Literal["json", "csv"] = Query("json", alias="format"),
) -> Any:
    """Ridership for the town: per day or month and for the whole period, bookings, rides,
    passengers, no-shows, cancellations, fares, refusals by reason, waits and on-time share;
    riders by 大字 and rides by age band. Waits are in seconds (integers)."""
    last = last or trips.service_day(host.world, host.clock())
    report = reports.ridership(session, host.world, actor, first or last.replace(day=1), last, by)
    if fmt == "json":
        return report
    return csv_file("ridership.csv", *reports.ridership_csv(report))


@operator.get("/audit", response_model=list[rs.AuditEntry])
def audit_log(
    session: SessionDep,
    host: HostDep,
    actor: ActorDep,
    resident_id: str | None = Query(None, max_length=24),
    action: str | None = Query(None, max_length=40, description="only this action (booking.move)"),
    limit: int = Query(100, ge=1, le=1000),
    fmt: Literal["json", "csv"] = Query(
        "json", alias="format", description="csv: a file for Excel"
    ),
) -> Any:
    """The audit log, newest first: admins see all of it; operators see one resident's
    entries (the caller they are helping). ``format=csv`` gives the same rows as a file
    (UTF-8 with a BOM, local times); the export is itself recorded."""
    people.require_staff(actor)
    if resident_id is None:
        people.require_staff(actor, "admin")
    q = select(rm.AuditEntry)
    if resident_id:
        q = q.where(rm.AuditEntry.resident_id == resident_id)
    if action:
        q = q.where(rm.AuditEntry.action == action)
    rows = session.scalars(q.order_by(rm.AuditEntry.id.desc()).limit(limit)).all()
    names = people.actor_names(session, [(r.actor_kind, r.actor_id) for r in rows])
    entries = [
        rs.AuditEntry(id=r.id, at=r.at, actor_kind=r.actor_kind, actor_id=r.actor_id,
                     actor_name=names.get((r.actor_kind, r.actor_id), ""), action=r.action,
                     resident_id=r.resident_id, booking_id=r.booking_id, details=r.details)
        for r in rows
    ]  # fmt: skip
    if fmt == "json":
        return entries
    people.audit(session, actor, "audit.export", resident_id=resident_id, rows=len(entries))
    tz = host.world.config.calendar.time_zone
    header = ["id", "at", "actor_kind", "actor_name", "actor_id", "action", "resident_id",
              "booking_id", "details"]  # fmt: skip
    return csv_file("audit.csv", header, [
        [e.id, e.at.astimezone(tz).isoformat(), e.actor_kind, e.actor_name, e.actor_id, e.action,
         e.resident_id or "", e.booking_id or "", json.dumps(e.details, ensure_ascii=False)]
        for e in entries
    ])  # fmt: skip


# -- the operators' console page (served by the app: no internet needed) ------------------

CONSOLE = FilePath(__file__).parent / "console"
console = APIRouter(include_in_schema=False)


@operator.get("/meeting-points", response_model=list[s.MeetingPointAdmin])
def admin_meeting_points(
    host: HostDep,
    actor: ActorDep,
    q: Annotated[
        str | None,
        Query(max_length=40, description="name, reading, 大字 or number; misspelt is fine"),
    ] = None,
) -> list[s.MeetingPointAdmin]:
    """Every meeting point with its kana and any closure (operators and admins); with ``q``,
    the matches, best first (the same search as LINE's and the riders' API)."""
    return points.list_points(host, actor, q)


@operator.post("/meeting-points", status_code=201, response_model=s.MeetingPointAdmin)
def admin_add_meeting_point(host: HostDep, actor: ActorDep, body: s.MeetingPointCreate) -> Any:
    """Add a meeting point at the road nearest a point (admins); in use at once in every
    worker. The same request again answers 200 with the point it added."""
    created, point = points.add_point(host, actor, body)
    return JSONResponse(point.model_dump(mode="json"), status_code=201 if created else 200)


@operator.patch("/meeting-points/{stop_id}", response_model=s.MeetingPointChanged)
def admin_change_meeting_point(
    session: SessionDep, host: HostDep, actor: ActorDep,
    stop_id: Annotated[str, Path(max_length=16)], body: s.MeetingPointChange,
) -> s.MeetingPointChanged:  # fmt: skip
    """Rename a meeting point, set its kana, close it for a time (road works: quotes from or
    to it are refused then, with open points nearby) or open it again (admins). Closing
    answers the confirmed rides it affects, to be called."""
    return points.change_point(host, session, actor, stop_id, body)


@operator.get("/service-rules", response_model=s.ServiceRules)
def service_rules(host: HostDep, actor: ActorDep) -> s.ServiceRules:
    """The service's rules in force (the pickup window, the slack, holds, ride limits…) and
    what the area's file says (operators and admins)."""
    return rules.get_rules(host, actor)


@operator.patch("/service-rules", response_model=s.ServiceRules)
def change_service_rules(
    host: HostDep, actor: ActorDep, body: Annotated[dict[str, StrictInt | StrictFloat], Body()]
) -> s.ServiceRules:
    """Change rules (admins): ``{"pickup_window_s": 900, …}``; validated together, applied
    in every worker at once through the dispatch log; bookings made keep their promises."""
    return rules.change_rules(host, actor, body)


@operator.get("/staff", response_model=list[rs.StaffAccount])
def staff_accounts(session: SessionDep, actor: ActorDep) -> list[rs.StaffAccount]:
    """Staff accounts (admins only): operators, admins and channel accounts."""
    return people.list_staff(session, actor)


@operator.post("/staff", status_code=201, response_model=rs.StaffAccount)
def staff_add(session: SessionDep, actor: ActorDep, body: rs.StaffCreate) -> rs.StaffAccount:
    """Open a staff account (admins only); 409 ``staff_exists`` when the user name is taken."""
    return people.add_staff(session, actor, body)


@operator.patch("/staff/{staff_id}", response_model=rs.StaffAccount)
def staff_update(
    session: SessionDep, actor: ActorDep, staff_id: Annotated[str, Path(max_length=24)],
    body: rs.StaffUpdate,
) -> rs.StaffAccount:  # fmt: skip
    """Rename an account, change its role, set a new password or turn it off (admins only;
    its sessions end at once). 409 ``own_account`` for one's own role or account."""
    return people.update_staff(session, actor, staff_id, body)


@console.get("/console/")
def console_page() -> FileResponse:
    return page_file(CONSOLE)


@console.get("/console/{name}")
def console_asset(name: str) -> FileResponse:
    return page_file(CONSOLE, name)


# -- the residents' guide: no login ------------------------------------------------------

GUIDE = FilePath(__file__).parent / "guide"
public = APIRouter(prefix="/v1/guide", tags=["guide"])


@public.get("", response_model=s.Guide)
def resident_guide(host: HostDep) -> s.Guide:
    """For anyone, without a login: hours, fares, how to book and every meeting point by 大字
    (the public `/guide/` page and the printed guide read this)."""
    with host.read():  # meeting points as the log left them
        return guide.guide(host.world)


@public.get("/meeting-points", response_model=list[str])
def guide_search(
    host: HostDep,
    q: Annotated[str, Query(min_length=1, max_length=40, description="name, reading or 大字")],
) -> list[str]:
    """The ids of the meeting points matching ``q``, best first (the same search as LINE's):
    the guide page shows these of the points it has."""
    with host.read():
        return [p.id for p in host.world.search_stops(q, limit=None)]


@public.get("/roads")
def guide_roads(host: HostDep) -> dict[str, Any]:
    """The town's roads as line arrays for the guide's map (our own OpenStreetMap data)."""
    return host.world.road_lines()


@console.get("/guide/")
def guide_page() -> FileResponse:
    return page_file(GUIDE)


@console.get("/guide/{name}")
def guide_asset(name: str) -> FileResponse:
    return page_file(GUIDE, name)


ROUTERS = (auth, residents, bookings, operator, public, console)
