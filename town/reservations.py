"""Reservations of the town's classes, help desk and counter appointments.

Staff (operators and admins) define an event: a スマホ教室 session (``class``), the digital
help desk (``desk``), or counter appointments (``counter``: a day's slots made at once, each
its own event of one place by default, sharing a ``series_id``). An event has ``capacity``
places and a waiting list of up to ``waitlist`` residents; residents cancel until
``cancel_before_s`` before the start (staff at any time); ``reminders`` say when LINE reminds
the booked residents (``[{"days_before": 1, "at": "17:00"}]``: the day before at 17:00).

A resident has one row per event. Reserving takes the event's row lock (``SELECT ... FOR
UPDATE``) and counts the places under it, so concurrent requests never book more than the
capacity (tested with 50 at once on PostgreSQL). A place given back goes to the first on the
waiting list (``queued_at`` order), whose status becomes ``booked`` (``booked_at``: when).
Reserving again what one already holds answers the same row: a retry books nothing twice.

Attendance (``attended`` or ``absent``) is recorded by staff from the start's day on. Every
staff action and every reservation is audited.

Functions flush and never commit; the request (or the LINE event) owns the transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import DrtError, Forbidden, InvalidInput, NotFound
from common.ids import new_id
from residents import models as rm
from residents import service as people
from town.models import TownEvent, TownReservation

Kind = Literal["class", "desk", "counter"]
KINDS_JA = {"class": "教室", "desk": "相談窓口", "counter": "窓口の予約"}
STATUS_JA = {"booked": "予約", "waiting": "キャンセル待ち", "cancelled": "取り消し",
             "attended": "出席", "absent": "欠席"}  # fmt: skip
HOLDING = ("booked", "waiting")  # a reservation that still holds (or waits for) a place
STAFF = ("operator", "admin")
MAX_LENGTH_S = 12 * 3600  # an event lasts at most 12 hours
MAX_REMINDERS = 3
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CHANNELS = ("line", "app", "phone", "console")


class EventFull(DrtError):
    code = "event_full"
    http_status = 409


class EventClosed(DrtError):
    code = "event_closed"
    http_status = 409


class CancellationClosed(DrtError):
    code = "cancellation_closed"
    http_status = 409


class AttendanceNotYet(DrtError):
    code = "attendance_not_yet"
    http_status = 409


class EventInvalid(InvalidInput):
    code = "event_invalid"


# -- input ---------------------------------------------------------------------------------


class ReminderIn(BaseModel):
    days_before: int = Field(ge=0, le=14, description="0: the day itself")
    at: str = Field(description="local time HH:MM")

    @field_validator("at")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError("HH:MM (00:00–23:59)")
        return v


DEFAULT_REMINDERS = [ReminderIn(days_before=1, at="17:00")]


class EventIn(BaseModel):
    """A class or the help desk's hours (one event)."""

    kind: Kind
    title: str = Field(min_length=1, max_length=80, description="スマホ教室(LINEの使い方)")
    place: str = Field(min_length=1, max_length=120, description="鞍手町役場 2階 会議室")
    stop_id: str | None = Field(None, max_length=16, description="the meeting point there")
    note: str = Field("", max_length=1000, description="what to bring, who it is for")
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=500)
    waitlist: int = Field(0, ge=0, le=500, description="how many may wait (0: no list)")
    cancel_before_minutes: int = Field(60, ge=0, le=14 * 24 * 60)
    reminders: list[ReminderIn] = Field(default_factory=lambda: list(DEFAULT_REMINDERS))


class SlotsIn(BaseModel):
    """A day of counter appointments: slots of ``minutes`` from ``first`` to ``last``."""

    title: str = Field(min_length=1, max_length=80, description="マイナンバーカードの窓口")
    place: str = Field(min_length=1, max_length=120)
    stop_id: str | None = Field(None, max_length=16)
    note: str = Field("", max_length=1000)
    day: date
    first: str = Field(description="the first slot's start, HH:MM")
    last: str = Field(description="the last slot's start, HH:MM")
    minutes: int = Field(30, ge=5, le=240)
    capacity: int = Field(1, ge=1, le=50, description="residents per slot")
    waitlist: int = Field(0, ge=0, le=50)
    cancel_before_minutes: int = Field(60, ge=0, le=14 * 24 * 60)
    reminders: list[ReminderIn] = Field(default_factory=lambda: list(DEFAULT_REMINDERS))

    @field_validator("first", "last")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError("HH:MM (00:00–23:59)")
        return v


# -- events --------------------------------------------------------------------------------


def _check_stop(stop_id: str | None, known_stops: Iterable[str]) -> str | None:
    if stop_id is None or not stop_id.strip():
        return None
    stop = stop_id.strip().upper()
    if stop not in set(known_stops):
        raise EventInvalid(
            f"乗降ポイント「{stop_id}」はありません。会場に近いポイントの番号(KUR-001など)を入れてください。",
            f"No meeting point {stop_id!r}: give the number of the one at the place (KUR-001).",
            field="stop_id",
        )
    return stop


def _check_times(starts: datetime, ends: datetime, now: datetime) -> None:
    if starts.tzinfo is None or ends.tzinfo is None:
        raise EventInvalid("日時にはタイムゾーン(+09:00)をつけてください。",
                           "Give times with their time zone (+09:00).", field="starts_at")  # fmt: skip
    if ends <= starts or (ends - starts).total_seconds() > MAX_LENGTH_S:
        raise EventInvalid("終わりの時刻は、はじまりより後で、12時間以内にしてください。",
                           "ends_at must be after starts_at, at most 12 hours later.",
                           field="ends_at")  # fmt: skip
    if starts <= now:
        raise EventInvalid("はじまりの時刻が過ぎています。これからの日時にしてください。",
                           "starts_at is in the past.", field="starts_at")  # fmt: skip


def _reminders(items: list[ReminderIn]) -> list[dict[str, Any]]:
    if len(items) > MAX_REMINDERS:
        raise EventInvalid(f"お知らせは{MAX_REMINDERS}回までです。",
                           f"At most {MAX_REMINDERS} reminders.", field="reminders")  # fmt: skip
    unique = {(r.days_before, r.at) for r in items}
    return [{"days_before": d, "at": a} for d, a in sorted(unique, key=lambda x: (-x[0], x[1]))]


def _event(
    actor: people.Actor, kind: str, title: str, place: str, stop: str | None, note: str,
    starts: datetime, ends: datetime, capacity: int, waitlist: int, cancel_min: int,
    reminders: list[dict[str, Any]], now: datetime, series: str | None = None,
) -> TownEvent:  # fmt: skip
    return TownEvent(id=new_id("E"), kind=kind, series_id=series, title=title.strip(),
                     place=place.strip(), stop_id=stop, note=note.strip(), starts_at=starts,
                     ends_at=ends, capacity=capacity, waitlist=waitlist,
                     cancel_before_s=cancel_min * 60, reminders=reminders, status="open",
                     created_by=actor.id, created_at=now)  # fmt: skip


def create_event(
    session: Session, actor: people.Actor, body: EventIn, now: datetime,
    known_stops: Iterable[str],
) -> TownEvent:  # fmt: skip
    """One event, checked whole (nothing stored when a field is wrong); audited."""
    people.require_staff(actor, *STAFF)
    stop = _check_stop(body.stop_id, known_stops)
    _check_times(body.starts_at, body.ends_at, now)
    row = _event(actor, body.kind, body.title, body.place, stop, body.note, body.starts_at,
                 body.ends_at, body.capacity, body.waitlist, body.cancel_before_minutes,
                 _reminders(body.reminders), now)  # fmt: skip
    session.add(row)
    people.audit(session, actor, "town.event.create", event_id=row.id, kind=row.kind,
                 capacity=row.capacity)  # fmt: skip
    session.flush()
    return row


def create_slots(
    session: Session, actor: people.Actor, body: SlotsIn, now: datetime,
    known_stops: Iterable[str], tz: tzinfo,
) -> list[TownEvent]:  # fmt: skip
    """A day of counter appointments (``counter`` events of one series); audited once."""
    people.require_staff(actor, *STAFF)
    stop = _check_stop(body.stop_id, known_stops)
    first = datetime.combine(body.day, time.fromisoformat(body.first), tz)
    last = datetime.combine(body.day, time.fromisoformat(body.last), tz)
    if last < first:
        raise EventInvalid("さいごの枠は、はじめの枠より後にしてください。",
                           "last must not be before first.", field="last")  # fmt: skip
    step = timedelta(minutes=body.minutes)
    starts = []
    at = first
    while at <= last:
        starts.append(at)
        at += step
    if len(starts) > 48:
        raise EventInvalid("一日の枠は48までです。間隔を長くしてください。",
                           "At most 48 slots a day: make them longer.", field="minutes")  # fmt: skip
    _check_times(starts[0], starts[0] + step, now)
    series = new_id("V")
    reminders = _reminders(body.reminders)
    rows = [_event(actor, "counter", body.title, body.place, stop, body.note, s, s + step,
                   body.capacity, body.waitlist, body.cancel_before_minutes, reminders, now,
                   series) for s in starts]  # fmt: skip
    session.add_all(rows)
    people.audit(session, actor, "town.event.slots", series_id=series, slots=len(rows))
    session.flush()
    return rows


def get_event(session: Session, event_id: str, lock: bool = False) -> TownEvent:
    q = select(TownEvent).where(TownEvent.id == event_id)
    row = session.scalar(q.with_for_update() if lock else q)
    if row is None:
        raise NotFound("その教室・窓口の予定はありません。", f"No event {event_id}.",
                       event_id=event_id)  # fmt: skip
    return row


def cancel_event(session: Session, actor: people.Actor, event_id: str, now: datetime) -> TownEvent:
    """Call an event off: every reservation is cancelled (LINE tells the booked residents);
    again: the same answer."""
    people.require_staff(actor, *STAFF)
    row = get_event(session, event_id, lock=True)
    if row.status == "cancelled":
        return row
    row.status, row.cancelled_at = "cancelled", now
    for r in session.scalars(select(TownReservation).where(
            TownReservation.event_id == row.id, TownReservation.status.in_(HOLDING))):  # fmt: skip
        r.status, r.cancelled_at = "cancelled", now
    people.audit(session, actor, "town.event.cancel", event_id=row.id)
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Counts:
    booked: int
    waiting: int
    attended: int
    absent: int

    @property
    def taken(self) -> int:
        """Places held: booked, and those already marked at the event."""
        return self.booked + self.attended + self.absent


def counts(session: Session, event_ids: Iterable[str]) -> dict[str, Counts]:
    ids = list(event_ids)
    out = {i: Counts(0, 0, 0, 0) for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(TownReservation.event_id, TownReservation.status, func.count())
        .where(TownReservation.event_id.in_(ids))
        .group_by(TownReservation.event_id, TownReservation.status)
    ).all()
    tally: dict[str, dict[str, int]] = {i: {} for i in ids}
    for eid, status, n in rows:
        tally[eid][status] = n
    for eid, t in tally.items():
        out[eid] = Counts(t.get("booked", 0), t.get("waiting", 0), t.get("attended", 0),
                          t.get("absent", 0))  # fmt: skip
    return out


def listing(
    session: Session, first: datetime | None = None, last: datetime | None = None,
    kind: str | None = None, open_only: bool = False,
) -> list[TownEvent]:  # fmt: skip
    """Events by start time (from ``first``, before ``last``)."""
    q = select(TownEvent).order_by(TownEvent.starts_at, TownEvent.id)
    if first is not None:
        q = q.where(TownEvent.starts_at >= first)
    if last is not None:
        q = q.where(TownEvent.starts_at < last)
    if kind:
        q = q.where(TownEvent.kind == kind)
    if open_only:
        q = q.where(TownEvent.status == "open")
    return list(session.scalars(q.limit(500)))


# -- reservations --------------------------------------------------------------------------


def _whose(actor: people.Actor, resident_id: str) -> None:
    """A resident for themselves; operators and admins for anyone."""
    if actor.is_staff:
        people.require_staff(actor, *STAFF)
    elif actor.kind != "resident" or actor.id != resident_id:
        raise Forbidden("ほかの方の予約はできません。",
                               "A resident reserves for themselves only.")  # fmt: skip


def reserve(
    session: Session, actor: people.Actor, event_id: str, resident_id: str, channel: str,
    now: datetime,
) -> tuple[TownReservation, bool]:  # fmt: skip
    """A place (or a place on the waiting list) for the resident: (the row, whether it was
    made now). Under the event's row lock, so the places are never overbooked. 409
    ``event_full`` (with ``next_events`` that have room), ``event_closed``."""
    _whose(actor, resident_id)
    resident = session.get(rm.Resident, resident_id)
    if resident is None or resident.closed_at is not None:
        raise NotFound("そのご利用者は見つかりません。", f"No resident {resident_id}.",
                       resident_id=resident_id)  # fmt: skip
    event = get_event(session, event_id, lock=True)
    if event.status != "open" or event.starts_at <= now:
        raise EventClosed(
            "この予定は、受付を終わりました(取りやめ、または始まっています)。",
            "This event takes no reservations (cancelled or started).",
            event_id=event.id, status=event.status,
        )  # fmt: skip
    row = session.scalar(select(TownReservation).where(
        TownReservation.event_id == event.id, TownReservation.resident_id == resident_id))  # fmt: skip
    if row is not None and row.status in HOLDING:
        return row, False
    c = counts(session, [event.id])[event.id]
    if c.taken < event.capacity:
        status = "booked"
    elif c.waiting < event.waitlist:
        status = "waiting"
    else:
        raise EventFull(
            "満席です。キャンセル待ちもいっぱいです。ほかの日をお選びください。",
            "The event is full, and so is its waiting list.",
            event_id=event.id,
            next_events=[e.id for e in next_with_room(session, event, now)],
        )
    if row is None:
        row = TownReservation(id=new_id("T"), event_id=event.id, resident_id=resident_id)
        session.add(row)
    row.status, row.channel, row.made_by, row.queued_at = status, channel, actor.id, now
    row.booked_at = now if status == "booked" else None
    row.promoted_at = row.cancelled_at = row.attendance_at = None
    row.rides = []
    people.audit(session, actor, "town.reservation.make", resident_id=resident_id,
                 event_id=event.id, reservation_id=row.id, status=status, channel=channel)  # fmt: skip
    session.flush()
    return row, True


def next_with_room(
    session: Session, event: TownEvent, now: datetime, n: int = 3
) -> list[TownEvent]:
    """Later open events of the same title with a free place (what to offer instead)."""
    later = list(session.scalars(
        select(TownEvent).where(TownEvent.title == event.title, TownEvent.status == "open",
                                TownEvent.starts_at > max(now, event.starts_at),
                                TownEvent.id != event.id)
        .order_by(TownEvent.starts_at).limit(20)))  # fmt: skip
    have = counts(session, [e.id for e in later])
    return [e for e in later if have[e.id].taken < e.capacity][:n]


def waiting_order(session: Session, event_id: str) -> list[tuple[str, datetime]]:
    """The waiting list of an event, first in line first: (reservation id, queued at)."""
    return [(i, q) for i, q in session.execute(
        select(TownReservation.id, TownReservation.queued_at)
        .where(TownReservation.event_id == event_id, TownReservation.status == "waiting")
        .order_by(TownReservation.queued_at, TownReservation.id))]  # fmt: skip


def get_reservation(session: Session, actor: people.Actor, reservation_id: str) -> TownReservation:
    row = session.get(TownReservation, reservation_id)
    if row is None or not (
        actor.is_staff or (actor.kind == "resident" and row.resident_id == actor.id)
    ):
        raise NotFound("その予約はありません。", f"No reservation {reservation_id}.",
                       reservation_id=reservation_id)  # fmt: skip
    if actor.is_staff:
        people.require_staff(actor, *STAFF)
    return row


def cancel(
    session: Session, actor: people.Actor, reservation_id: str, now: datetime
) -> tuple[TownReservation, TownReservation | None]:
    """Give the place back: (the row, the waiting resident who got it, if any). A resident
    until the cut-off (409 ``cancellation_closed``: phone the town), staff at any time;
    again: the same answer."""
    row = get_reservation(session, actor, reservation_id)
    event = get_event(session, row.event_id, lock=True)
    session.refresh(row)
    if row.status not in HOLDING:
        return row, None
    if not actor.is_staff and now >= event.starts_at - timedelta(seconds=event.cancel_before_s):
        raise CancellationClosed(
            "取り消しの受付は終わりました。お休みするときは、お電話でお知らせください。",
            "Too late to cancel here: phone the town.",
            reservation_id=row.id, until=(event.starts_at - timedelta(seconds=event.cancel_before_s)).isoformat(),
        )  # fmt: skip
    was = row.status
    row.status, row.cancelled_at = "cancelled", now
    people.audit(session, actor, "town.reservation.cancel", resident_id=row.resident_id,
                 event_id=event.id, reservation_id=row.id)  # fmt: skip
    promoted = None
    if was == "booked" and event.status == "open" and event.starts_at > now:
        order = waiting_order(session, event.id)
        promoted = session.get(TownReservation, order[0][0]) if order else None
        if promoted is not None:
            promoted.status, promoted.booked_at, promoted.promoted_at = "booked", now, now
            people.audit(session, actor, "town.reservation.promote",
                         resident_id=promoted.resident_id, event_id=event.id,
                         reservation_id=promoted.id)  # fmt: skip
    session.flush()
    return row, promoted


def record_attendance(
    session: Session, actor: people.Actor, reservation_id: str, attended: bool, now: datetime,
    tz: tzinfo,
) -> TownReservation:  # fmt: skip
    """出席 or 欠席 (staff), from the event's day on; may be corrected."""
    people.require_staff(actor, *STAFF)
    row = get_reservation(session, actor, reservation_id)
    event = get_event(session, row.event_id)
    if now.astimezone(tz).date() < event.starts_at.astimezone(tz).date():
        raise AttendanceNotYet("出欠は、その日になってから記録してください。",
                               "Attendance is recorded from the event's day on.",
                               event_id=event.id)  # fmt: skip
    if row.status not in ("booked", "attended", "absent"):
        raise InvalidInput("予約している方の出欠だけ記録できます。",
                           "Only a booked place has attendance.", status=row.status)  # fmt: skip
    row.status, row.attendance_at = ("attended" if attended else "absent"), now
    people.audit(session, actor, "town.reservation.attendance", resident_id=row.resident_id,
                 event_id=event.id, reservation_id=row.id, attended=attended)  # fmt: skip
    session.flush()
    return row


def set_rides(session: Session, row: TownReservation, booking_ids: list[str]) -> None:
    row.rides = list(dict.fromkeys([*row.rides, *booking_ids]))
    session.flush()


def roster(
    session: Session, actor: people.Actor, event_id: str
) -> list[tuple[TownReservation, rm.Resident]]:
    """Who holds or waits for a place (staff): booked and marked first, then the waiting list
    in order, then the cancelled."""
    people.require_staff(actor, *STAFF)
    get_event(session, event_id)
    rows = session.execute(
        select(TownReservation, rm.Resident).join(rm.Resident, rm.Resident.id == TownReservation.resident_id)
        .where(TownReservation.event_id == event_id)).all()  # fmt: skip
    order = {"booked": 0, "attended": 0, "absent": 0, "waiting": 1, "cancelled": 2}
    return sorted(
        ((r, p) for r, p in rows), key=lambda rp: (order[rp[0].status], rp[0].queued_at, rp[0].id)
    )


def mine(
    session: Session, resident_id: str, now: datetime
) -> list[tuple[TownReservation, TownEvent]]:
    """A resident's reservations of events not over yet, soonest first."""
    rows = session.execute(
        select(TownReservation, TownEvent).join(TownEvent, TownEvent.id == TownReservation.event_id)
        .where(TownReservation.resident_id == resident_id, TownReservation.status.in_(HOLDING),
               TownEvent.ends_at > now)
        .order_by(TownEvent.starts_at)).all()  # fmt: skip
    return [(r, e) for r, e in rows]


def roster_csv(session: Session, actor: people.Actor, event_id: str, tz: tzinfo) -> tuple[str, str]:
    """(file name, CSV text): a row per reservation (UTF-8 with a BOM for Excel); audited as
    an export."""
    event = get_event(session, event_id)
    rows = roster(session, actor, event_id)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["reservation_id", "status", "状態", "name", "kana", "phone", "channel", "queued_at",
                "attendance_at"])  # fmt: skip
    for r, p in rows:
        w.writerow([r.id, r.status, STATUS_JA[r.status], p.name, p.kana, p.phone, r.channel,
                    r.queued_at.astimezone(tz).isoformat(timespec="minutes"),
                    r.attendance_at.astimezone(tz).isoformat(timespec="minutes") if r.attendance_at else ""])  # fmt: skip
    people.audit(session, actor, "town.event.export", event_id=event.id, rows=len(rows))
    day = event.starts_at.astimezone(tz).strftime("%Y%m%d")
    return f"reservations-{day}-{event.id}.csv", "\ufeff" + out.getvalue()


# -- reminders (sent by LINE; line_channel/reservation_chat.py) ----------------------------


@dataclass(frozen=True, slots=True)
class DueReminder:
    key: str  # reminder:<reservation>:<days_before>:<HH:MM>
    reservation: TownReservation
    event: TownEvent


def due_reminders(session: Session, now: datetime, tz: tzinfo) -> list[DueReminder]:
    """Reminders whose time has come and whose event has not started, for booked residents.
    A reminder is due from its time until the event starts (a notifier that was down sends
    it late rather than never); its key makes it once."""
    events = session.scalars(
        select(TownEvent).where(TownEvent.status == "open", TownEvent.starts_at > now,
                                TownEvent.starts_at <= now + timedelta(days=15)))  # fmt: skip
    out = []
    for e in events:
        start_day = e.starts_at.astimezone(tz).date()
        due_keys = []
        for r in e.reminders or []:
            when = datetime.combine(start_day - timedelta(days=int(r["days_before"])),
                                    time.fromisoformat(str(r["at"])), tz)  # fmt: skip
            if when <= now:
                due_keys.append(f"{r['days_before']}:{r['at']}")
        if not due_keys:
            continue
        for res in session.scalars(select(TownReservation).where(
                TownReservation.event_id == e.id, TownReservation.status == "booked")):  # fmt: skip
            # only the latest due reminder: one booked late is not reminded twice at once
            out.append(DueReminder(f"reminder:{res.id}:{due_keys[-1]}", res, e))
    return out
