"""The town services' API (/v1/town/...): garbage days for anyone, without a login (the
calendar is public information, as on the town's paper calendar); which calendar is in force
for staff; residents' opt-ins (their own, or an operator's on their behalf); notices to a
segment (staff)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from booking.endpoints import ActorDep, created_once, idempotency_key
from common.errors import Forbidden
from core.web import HostDep, SessionDep
from residents import service as people
from residents.service import Actor
from town import calendars, notices, segments, subscriptions
from town.models import TownNotice
from town.notices import NoticeIn

town = APIRouter(prefix="/v1/town", tags=["town"])


class GarbageArea(BaseModel):
    name: str
    center: str


class GarbageDay(BaseModel):
    date: date
    category: str


class GarbageTarget(BaseModel):
    category: str
    name: str
    reading: str
    notice: str


class GarbageCalendarInfo(BaseModel):
    id: str
    label: str
    imported_at: datetime
    imported_by: str
    areas: int
    categories: list[str]


@town.get("/garbage/areas", response_model=list[GarbageArea])
def garbage_areas(session: SessionDep) -> list[GarbageArea]:
    """The areas of the garbage calendar in force (404 ``garbage_calendar_missing`` before an
    import)."""
    cal = calendars.current(session)
    return [GarbageArea(name=a.name, center=a.center) for a in cal.areas]


@town.get("/garbage/days", response_model=list[GarbageDay])
def garbage_days(
    session: SessionDep,
    area: Annotated[str, Query(min_length=1, max_length=40, description="地名")],
    start: Annotated[date, Query(alias="from", description="first day")],
    end: Annotated[date, Query(alias="to", description="last day (inclusive)")],
) -> list[GarbageDay]:
    """The collection days of an area from ``from`` to ``to`` (at most 400 days), the centre's
    closures applied: exactly what the 5374 data defines."""
    calendars.check_range(start, end)
    cal = calendars.current(session)
    return [GarbageDay(date=d, category=c) for d, c in cal.days(area, start, end)]


@town.get("/garbage/what", response_model=list[GarbageTarget])
def garbage_what(
    session: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=40, description="品目 (kanji or kana)")],
) -> list[GarbageTarget]:
    """What kind of garbage an item is (target.csv), best matches first: by name or reading,
    any width, hiragana or katakana, misspelt."""
    from town.garbage import find_targets

    return [GarbageTarget(category=t.category, name=t.name, reading=t.reading, notice=t.notice)
            for t in find_targets(calendars.current(session), q)]  # fmt: skip


@town.get("/garbage/calendar", response_model=GarbageCalendarInfo)
def garbage_calendar(session: SessionDep, actor: ActorDep) -> GarbageCalendarInfo:
    """Which calendar is in force: where it came from, when and by whom (staff)."""
    people.require_staff(actor, "operator", "admin")
    row = calendars.current_row(session)
    cal = calendars.current(session)
    return GarbageCalendarInfo(id=row.id, label=row.label, imported_at=row.imported_at,
                               imported_by=row.imported_by, areas=len(cal.areas),
                               categories=list(cal.categories))  # fmt: skip


# -- residents' opt-ins (town/subscriptions.py) -----------------------------------------------


class SubscriptionIn(BaseModel):
    area: str | None = Field(None, max_length=40, description="garbage: 地名 of the calendar")
    timing: str | None = Field(None, description="garbage: evening | morning")


class SubscriptionView(BaseModel):
    service: str
    name_ja: str
    on: bool
    options: dict[str, Any]
    since: datetime | None


def _subscriptions(session: Session, resident_id: str) -> list[SubscriptionView]:
    on = subscriptions.of(session, resident_id)
    return [SubscriptionView(service=k, name_ja=ja, on=k in on,
                             options=dict(on[k].options or {}) if k in on else {},
                             since=on[k].started_at if k in on else None)
            for k, (ja, _) in subscriptions.SERVICES.items()]  # fmt: skip


def _whose(session: Session, actor: Actor, resident_id: str | None) -> str:
    """The resident whose opt-ins these are: the caller, or one an operator helps."""
    if resident_id is None:
        if actor.kind != "resident":
            raise Forbidden("住民の方のログインが必要です。", "This needs a resident's sign-in.")
        return actor.id
    people.require_staff(actor, "operator", "admin")
    return people.get_resident(session, actor, resident_id).id


def _options(session: Session, service: str, body: SubscriptionIn) -> dict[str, Any]:
    subscriptions.check_service(service)
    if service != "garbage":
        return {}
    return subscriptions.garbage_options(
        calendars.current(session), body.area or "", body.timing or "evening"
    )


@town.get("/subscriptions/me", response_model=list[SubscriptionView])
def my_subscriptions(session: SessionDep, actor: ActorDep) -> list[SubscriptionView]:
    """Which town services the signed-in resident receives (each its own opt-in)."""
    return _subscriptions(session, _whose(session, actor, None))


@town.put("/subscriptions/me/{service}", response_model=list[SubscriptionView])
def subscribe_me(
    session: SessionDep, actor: ActorDep, service: str, body: SubscriptionIn
) -> list[SubscriptionView]:
    """Receive a service (garbage: with the area and timing); again: the options change."""
    rid = _whose(session, actor, None)
    subscriptions.subscribe(session, actor, rid, service, _options(session, service, body))
    return _subscriptions(session, rid)


@town.delete("/subscriptions/me/{service}", response_model=list[SubscriptionView])
def unsubscribe_me(session: SessionDep, actor: ActorDep, service: str) -> list[SubscriptionView]:
    """Stop a service (stopping one that is off changes nothing)."""
    rid = _whose(session, actor, None)
    subscriptions.unsubscribe(session, actor, rid, service)
    return _subscriptions(session, rid)


@town.get("/residents/{resident_id}/subscriptions", response_model=list[SubscriptionView])
def resident_subscriptions(
    session: SessionDep, actor: ActorDep, resident_id: str
) -> list[SubscriptionView]:
    """A resident's opt-ins (operators, for a resident who phones)."""
    return _subscriptions(session, _whose(session, actor, resident_id))


@town.put("/residents/{resident_id}/subscriptions/{service}",
          response_model=list[SubscriptionView])  # fmt: skip
def subscribe_resident(
    session: SessionDep, actor: ActorDep, resident_id: str, service: str, body: SubscriptionIn
) -> list[SubscriptionView]:
    """Opt a resident in at their request (operators; audited as the operator's action)."""
    rid = _whose(session, actor, resident_id)
    subscriptions.subscribe(session, actor, rid, service, _options(session, service, body))
    return _subscriptions(session, rid)


@town.delete("/residents/{resident_id}/subscriptions/{service}",
             response_model=list[SubscriptionView])  # fmt: skip
def unsubscribe_resident(
    session: SessionDep, actor: ActorDep, resident_id: str, service: str
) -> list[SubscriptionView]:
    rid = _whose(session, actor, resident_id)
    subscriptions.unsubscribe(session, actor, rid, service)
    return _subscriptions(session, rid)


# -- notices (town/notices.py) ----------------------------------------------------------------


class NoticeView(BaseModel):
    id: str
    title: str
    body: str
    segment: dict[str, Any]
    emergency: bool
    status: str
    send_at: datetime | None
    sent_at: datetime | None
    created_by: str
    created_by_name: str = Field(description="the staff account's display name")
    created_at: datetime
    pushes_sent: int = Field(description="LINE pushes that reached a user so far")


class SegmentPreview(BaseModel):
    residents: int = Field(description="residents in the segment who opted in")
    line_users: int = Field(description="LINE users a push goes to")
    by_district: dict[str, int]
    by_age_band: dict[str, int]


class SegmentOptions(BaseModel):
    districts: list[str] = Field(description="大字 the meeting points name (中山 …)")
    age_bands: list[str]
    eligibility: list[str]
    channels: list[str]


class PreviewIn(BaseModel):
    segment: segments.SegmentIn = Field(default_factory=segments.SegmentIn)
    emergency: bool = False


def _notice_views(session: Session, rows: list[TownNotice]) -> list[NoticeView]:
    names = people.staff_names(session, {r.created_by for r in rows})
    return [NoticeView(id=row.id, title=row.title, body=row.body, segment=row.segment,
                       emergency=row.emergency, status=row.status, send_at=row.send_at,
                       sent_at=row.sent_at, created_by=row.created_by,
                       created_by_name=names.get(row.created_by, row.created_by),
                       created_at=row.created_at, pushes_sent=row.recipients or 0)
            for row in rows]  # fmt: skip


def _notice_view(session: Session, row: TownNotice) -> NoticeView:
    return _notice_views(session, [row])[0]


@town.get("/segments/options", response_model=SegmentOptions)
def segment_options(actor: ActorDep, host: HostDep) -> SegmentOptions:
    """What a segment of a notice or survey can be filtered by (staff): the console's choices."""
    people.require_staff(actor, "operator", "admin")
    return SegmentOptions(districts=sorted(host.world.stops.districts()),
                          age_bands=list(segments.BANDS), eligibility=list(segments.ELIGIBILITY),
                          channels=list(segments.CHANNELS))  # fmt: skip


@town.post("/notices/preview", response_model=SegmentPreview)
def preview_notice(
    session: SessionDep, actor: ActorDep, host: HostDep, body: PreviewIn
) -> SegmentPreview:
    """How many residents a notice to this segment reaches (the count sending uses)."""
    people.require_staff(actor, "operator", "admin")
    today = host.world.config.calendar.local_date(host.clock())
    service = "disaster" if body.emergency else "notices"
    found = segments.members(session, body.segment, service, today, host.world.stops.districts())
    return SegmentPreview(
        residents=len(found),
        line_users=sum(len(m.line_user_ids) for m in found),
        by_district=dict(Counter(m.district for m in found)),
        by_age_band=dict(Counter(m.age_band for m in found)),
    )


@town.post("/notices", response_model=NoticeView, status_code=201)
def create_notice(
    session: SessionDep, actor: ActorDep, host: HostDep, body: NoticeIn,
    key: Annotated[str, Depends(idempotency_key)],
) -> NoticeView:  # fmt: skip
    """Send a notice now or at ``send_at`` (staff). Retrying with the same Idempotency-Key
    answers the same notice: it is never sent twice."""
    people.require_staff(actor, "operator", "admin")
    ids, _ = created_once(session, actor, "notice", key, body,
                          lambda: [notices.create(session, actor, body, host.now()).id])  # fmt: skip
    return _notice_view(session, notices.get(session, ids[0]))


@town.get("/notices", response_model=list[NoticeView])
def list_notices(session: SessionDep, actor: ActorDep) -> list[NoticeView]:
    """The newest notices first (staff)."""
    return _notice_views(session, list(notices.listing(session, actor)))


@town.get("/notices/{notice_id}", response_model=NoticeView)
def get_notice(session: SessionDep, actor: ActorDep, notice_id: str) -> NoticeView:
    people.require_staff(actor, "operator", "admin")
    return _notice_view(session, notices.get(session, notice_id))


@town.post("/notices/{notice_id}/cancel", response_model=NoticeView)
def cancel_notice(
    session: SessionDep, actor: ActorDep, host: HostDep, notice_id: str
) -> NoticeView:
    """Cancel a scheduled notice before its time (again: the same answer)."""
    return _notice_view(session, notices.cancel(session, actor, notice_id, host.now()))
