"""The town services' API (/v1/town/...): garbage days for anyone, without a login (the
calendar is public information, as on the town's paper calendar); which calendar is in force
for staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from booking.endpoints import ActorDep
from core.web import SessionDep
from residents import service as people
from town import calendars

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
