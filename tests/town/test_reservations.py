"""Reservations (town/reservations.py) against the database: events and counter slots checked
whole, places and the waiting list, a retry that books nothing twice, a place given back going
to the first in line, the cancellation cut-off, attendance from the day on, reminders due once
per reminder, the roster CSV; and 50 residents reserving a 10-place class at the same moment
on PostgreSQL: exactly 10 places and the waiting list's 5, the other 35 told it is full."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import DrtError, Forbidden
from residents import models as rm
from residents.service import Actor
from server.migrate import upgrade
from tests.harness import IsolatedDatabase
from town import reservations as rv
from town.models import TownEvent, TownReservation

pytestmark = pytest.mark.services
JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 10:00 on Wednesday 2 December in Kurate
OP = Actor("staff", "S-op", "operator")
STOPS = ["KUR-001", "KUR-010"]
CLASS: dict[str, Any] = {
    "kind": "class", "title": "スマホ教室(LINEの使い方)", "place": "鞍手町役場 2階 会議室",
    "stop_id": "KUR-001", "starts_at": "2026-12-09T10:00:00+09:00",
    "ends_at": "2026-12-09T12:00:00+09:00", "capacity": 2, "waitlist": 1,
    "cancel_before_minutes": 24 * 60, "reminders": [{"days_before": 1, "at": "17:00"},
                                                    {"days_before": 0, "at": "08:00"}],
}  # fmt: skip


def me(rid: str) -> Actor:
    return Actor("resident", rid, "resident")


def residents(session: Session, n: int) -> list[str]:
    ids = [f"R{i:03d}" for i in range(n)]
    for rid in ids:
        session.add(rm.Resident(id=rid, name=f"住民{rid}", kana="ジュウミン", phone=f"090{int(rid[1:]):08d}",
                                address="鞍手町大字中山 1", birth_year=1950, eligibility="resident",
                                consent_at=NOW, created_at=NOW))  # fmt: skip
    session.commit()
    return ids


@pytest.fixture
def db(db_schema: IsolatedDatabase) -> IsolatedDatabase:
    upgrade(db_schema.engine)
    return db_schema


@pytest.fixture
def session(db: IsolatedDatabase) -> Iterator[Session]:
    with db.sessionmaker()() as s:
        residents(s, 6)
        yield s


def event(session: Session, **over: Any) -> TownEvent:
    row = rv.create_event(session, OP, rv.EventIn.model_validate({**CLASS, **over}), NOW, STOPS)
    session.commit()
    return row


def statuses(session: Session, event_id: str) -> dict[str, str]:
    rows = session.scalars(select(TownReservation).where(TownReservation.event_id == event_id))
    return {r.resident_id: r.status for r in rows}


def test_places_then_the_waiting_list_then_full(session: Session) -> None:
    e = event(session)
    a, made = rv.reserve(session, me("R000"), e.id, "R000", "app", NOW)
    assert (a.status, made) == ("booked", True)
    again, made = rv.reserve(session, me("R000"), e.id, "R000", "app", NOW)  # a retry
    assert (again.id, made) == (a.id, False)
    rv.reserve(session, OP, e.id, "R001", "phone", NOW)
    w, _ = rv.reserve(session, me("R002"), e.id, "R002", "line", NOW + timedelta(minutes=1))
    assert w.status == "waiting"
    with pytest.raises(rv.EventFull) as full:
        rv.reserve(session, me("R003"), e.id, "R003", "app", NOW)
    assert full.value.details["next_events"] == []
    later = event(
        session, starts_at="2026-12-16T10:00:00+09:00", ends_at="2026-12-16T12:00:00+09:00"
    )
    with pytest.raises(rv.EventFull) as full:
        rv.reserve(session, me("R003"), e.id, "R003", "app", NOW)
    assert full.value.details["next_events"] == [later.id]  # offered instead
    assert statuses(session, e.id) == {"R000": "booked", "R001": "booked", "R002": "waiting"}
    assert rv.counts(session, [e.id])[e.id] == rv.Counts(booked=2, waiting=1, attended=0, absent=0)


def test_a_resident_reserves_for_themselves_only(session: Session) -> None:
    e = event(session)
    with pytest.raises(Forbidden):
        rv.reserve(session, me("R000"), e.id, "R001", "app", NOW)
    with pytest.raises(DrtError) as gone:
        rv.reserve(session, OP, e.id, "nobody", "phone", NOW)
    assert gone.value.code == "not_found"


def test_a_place_given_back_goes_to_the_first_waiting(session: Session) -> None:
    e = event(session, waitlist=3)
    for i, rid in enumerate(("R000", "R001", "R002", "R003")):
        rv.reserve(session, me(rid), e.id, rid, "app", NOW + timedelta(minutes=i))
    first = rv.get_reservation(session, me("R000"), next(
        r.id for r in session.scalars(select(TownReservation).where(TownReservation.resident_id == "R000"))))  # fmt: skip
    cancelled, promoted = rv.cancel(session, me("R000"), first.id, NOW + timedelta(hours=1))
    assert cancelled.status == "cancelled"
    assert promoted is not None
    assert promoted.resident_id == "R002"
    assert statuses(session, e.id) == {"R000": "cancelled", "R001": "booked", "R002": "booked",
                                       "R003": "waiting"}  # fmt: skip
    assert rv.cancel(session, me("R000"), first.id, NOW)[1] is None  # again: nothing more
    # cancelled, then reserving again: at the back of the line
    back, _ = rv.reserve(session, me("R000"), e.id, "R000", "app", NOW + timedelta(hours=2))
    assert back.id == first.id
    assert back.status == "waiting"
    assert [rid for rid, _ in rv.waiting_order(session, e.id)] == [
        r.id for r in sorted(session.scalars(select(TownReservation).where(
            TownReservation.status == "waiting")), key=lambda r: r.queued_at)]  # fmt: skip


def test_the_cancellation_cut_off_binds_residents_not_staff(session: Session) -> None:
    e = event(session)  # cut-off: 24 h before 12-09 10:00
    r, _ = rv.reserve(session, me("R000"), e.id, "R000", "app", NOW)
    late = datetime(2026, 12, 8, 10, 0, tzinfo=JST)
    with pytest.raises(rv.CancellationClosed):
        rv.cancel(session, me("R000"), r.id, late)
    assert rv.cancel(session, OP, r.id, late)[0].status == "cancelled"  # the resident phoned


def test_attendance_from_the_events_day_on(session: Session) -> None:
    e = event(session)
    r, _ = rv.reserve(session, me("R000"), e.id, "R000", "app", NOW)
    with pytest.raises(rv.AttendanceNotYet):
        rv.record_attendance(session, OP, r.id, True, NOW, JST)
    that_day = datetime(2026, 12, 9, 9, 0, tzinfo=JST)
    assert rv.record_attendance(session, OP, r.id, False, that_day, JST).status == "absent"
    assert rv.record_attendance(session, OP, r.id, True, that_day, JST).status == "attended"
    with pytest.raises(Forbidden):
        rv.record_attendance(session, me("R000"), r.id, True, that_day, JST)
    # the one marked still holds its place: a second reservation waits
    rv.reserve(session, me("R001"), e.id, "R001", "app", NOW)
    assert rv.reserve(session, me("R002"), e.id, "R002", "app", NOW)[0].status == "waiting"


@pytest.mark.parametrize(
    ("over", "field"),
    [({"ends_at": "2026-12-09T09:00:00+09:00"}, "ends_at"),
     ({"starts_at": "2026-12-01T10:00:00+09:00", "ends_at": "2026-12-01T11:00:00+09:00"}, "starts_at"),
     ({"stop_id": "KUR-999"}, "stop_id"),
     ({"reminders": [{"days_before": d, "at": "09:00"} for d in range(4)]}, "reminders")],
)  # fmt: skip
def test_a_wrong_event_is_refused_whole(session: Session, over: dict[str, Any], field: str) -> None:
    with pytest.raises(rv.EventInvalid) as bad:
        event(session, **over)
    assert bad.value.details["field"] == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(TownEvent)) == 0


def test_a_day_of_counter_slots(session: Session) -> None:
    body = rv.SlotsIn(title="マイナンバーカードの窓口", place="鞍手町役場 1階 住民係", stop_id="KUR-001",
                      day=date(2026, 12, 10), first="09:00", last="11:30", minutes=30)  # fmt: skip
    rows = rv.create_slots(session, OP, body, NOW, STOPS, JST)
    assert [r.starts_at.astimezone(JST).strftime("%H:%M") for r in rows] == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]  # fmt: skip
    assert {r.series_id for r in rows} == {rows[0].series_id}
    assert {(r.kind, r.capacity) for r in rows} == {("counter", 1)}
    rv.reserve(session, me("R000"), rows[0].id, "R000", "app", NOW)
    with pytest.raises(rv.EventFull) as full:  # one resident a slot: the next slots offered
        rv.reserve(session, me("R001"), rows[0].id, "R001", "app", NOW)
    assert full.value.details["next_events"] == [r.id for r in rows[1:4]]


def test_reminders_fall_due_once_each_and_not_after_the_start(session: Session) -> None:
    e = event(session)
    rv.reserve(session, me("R000"), e.id, "R000", "app", NOW)
    w, _ = rv.reserve(session, me("R001"), e.id, "R001", "app", NOW)
    rv.reserve(session, me("R002"), e.id, "R002", "app", NOW)  # waiting: not reminded

    def keys(at: datetime) -> list[str]:
        return [d.key for d in rv.due_reminders(session, at, JST)]

    assert keys(datetime(2026, 12, 8, 16, 59, tzinfo=JST)) == []
    eve = keys(datetime(2026, 12, 8, 17, 0, tzinfo=JST))
    assert sorted(eve) == sorted(f"reminder:{r.id}:1:17:00" for r in session.scalars(
        select(TownReservation).where(TownReservation.status == "booked")))  # fmt: skip
    morning = keys(datetime(2026, 12, 9, 8, 0, tzinfo=JST))
    assert all(k.endswith(":0:08:00") for k in morning)
    assert len(morning) == 2
    assert keys(datetime(2026, 12, 9, 10, 0, tzinfo=JST)) == []  # started
    rv.cancel(session, OP, w.id, NOW)  # R001 gives the place back: R002 is reminded instead
    again = rv.due_reminders(session, datetime(2026, 12, 9, 8, 0, tzinfo=JST), JST)
    assert sorted(d.reservation.resident_id for d in again) == ["R000", "R002"]


def test_the_roster_and_its_csv(session: Session) -> None:
    e = event(session)
    for i, rid in enumerate(("R000", "R001", "R002")):
        rv.reserve(session, me(rid), e.id, rid, "app", NOW + timedelta(minutes=i))
    assert [(r.status, p.id) for r, p in rv.roster(session, OP, e.id)] == [
        ("booked", "R000"), ("booked", "R001"), ("waiting", "R002")]  # fmt: skip
    name, text = rv.roster_csv(session, OP, e.id, JST)
    assert name == f"reservations-20261209-{e.id}.csv"
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("reservation_id,status,状態,name,kana,phone")
    assert [line.split(",")[2] for line in lines[1:]] == ["予約", "予約", "キャンセル待ち"]
    with pytest.raises(Forbidden):
        rv.roster(session, me("R000"), e.id)


def test_fifty_at_once_never_overbook_a_ten_place_class(db: IsolatedDatabase) -> None:
    """50 threads, each its own connection and transaction, released together: the row lock
    lets 10 book and 5 wait; 35 are told it is full; the table agrees."""
    make = db.sessionmaker()
    with make() as s:
        ids = residents(s, 50)
        e = event(s, capacity=10, waitlist=5)
        event_id = e.id
    start = threading.Barrier(50)
    outcome: dict[str, str] = {}

    def one(rid: str) -> None:
        with make() as s:
            start.wait()
            try:
                row, _ = rv.reserve(s, me(rid), event_id, rid, "app", NOW)
                s.commit()
                outcome[rid] = row.status
            except rv.EventFull:
                s.rollback()
                outcome[rid] = "full"

    threads = [threading.Thread(target=one, args=(rid,)) for rid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Counter(outcome.values()) == {"booked": 10, "waiting": 5, "full": 35}
    with make() as s:
        stored = Counter(r.status for r in s.scalars(select(TownReservation)))
    assert stored == {"booked": 10, "waiting": 5}
