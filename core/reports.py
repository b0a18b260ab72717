"""Reports for the town (evidence-based policy making): ridership by day or month, with who
rode by 大字 (district, from the resident's address) and age band, refusals by reason, waits
and on-time share. Figures come from the bookings as stored (status, passengers, fares paid
and the promise), the audit log's quote entries (what was refused, and why) and the
dispatcher's own log (``dispatch_log``, on the service clock): when each request was made and
when each rider boarded and got off (the tablet's and the demo vans' board/alight calls)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from core import models as m
from core import schemas as s
from core.world import World
from dispatch.model import Reason
from residents import models as rm
from residents.profile import AGE_BANDS, age_band, district
from residents.service import Actor, audit, require_staff

MAX_DAYS = 400
#: Why quotes were refused: the dispatcher's codes, then entries from before reasons were kept.
REFUSAL_REASONS = (*(str(r) for r in Reason), "unknown")
DAY_S = 86_400


@dataclass
class _Tally:
    """One row's figures as they are gathered (all times in whole seconds)."""

    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    waits: list[int] = field(default_factory=list)  # window start → boarding
    asap_waits: list[int] = field(default_factory=list)  # request → boarding
    pickups_on_time: int = 0
    dropoffs: int = 0
    dropoffs_on_time: int = 0

    def add(self, other: _Tally) -> None:
        self.counts.update(other.counts)
        self.reasons.update(other.reasons)
        self.waits += other.waits
        self.asap_waits += other.asap_waits
        self.pickups_on_time += other.pickups_on_time
        self.dropoffs += other.dropoffs
        self.dropoffs_on_time += other.dropoffs_on_time

    def row(self, period: str) -> s.RidershipRow:
        return s.RidershipRow(
            period=period, **{k: self.counts.get(k, 0) for k in s.RIDERSHIP_FIELDS},
            refused_by_reason={r: self.reasons[r] for r in REFUSAL_REASONS if self.reasons[r]},
            timed_rides=len(self.waits), wait_mean_s=mean_s(self.waits), wait_p90_s=p90_s(self.waits),
            asap_rides=len(self.asap_waits), asap_wait_mean_s=mean_s(self.asap_waits),
            asap_wait_p90_s=p90_s(self.asap_waits), pickups_on_time=self.pickups_on_time,
            pickup_on_time_share=share(self.pickups_on_time, len(self.waits)),
            timed_dropoffs=self.dropoffs, dropoffs_on_time=self.dropoffs_on_time,
            dropoff_on_time_share=share(self.dropoffs_on_time, self.dropoffs),
        )  # fmt: skip


def mean_s(values: list[int]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def p90_s(values: list[int]) -> int | None:
    """The 90th percentile by nearest rank: the smallest value at least 90% are not above."""
    return sorted(values)[math.ceil(0.9 * len(values)) - 1] if values else None


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class _Log:
    """What the dispatcher's log says of the period: requests, boardings, alightings."""

    asked: dict[str, tuple[int, str, datetime]]  # request id → (service time, mode, wall time)
    boarded: dict[str, int]  # dispatch booking id → service time of the first boarding
    alighted: dict[str, int]


def _dispatch_log(session: Session, start_s: int, end_s: int) -> _Log:
    """The log's quote, board and alight calls around the period (a day either side: an
    as-soon-as-possible request made just before, a ride that ends just after)."""
    log = _Log({}, {}, {})
    rows = session.execute(
        select(m.DispatchLogEntry.op, m.DispatchLogEntry.now_s, m.DispatchLogEntry.at,
               m.DispatchLogEntry.payload)
        .where(m.DispatchLogEntry.op.in_(("quote", "board", "alight")),
               m.DispatchLogEntry.now_s >= start_s - DAY_S, m.DispatchLogEntry.now_s < end_s + DAY_S)
    )  # fmt: skip
    for op, now_s, wall, payload in rows:
        if op == "quote":
            log.asked[str(payload.get("id"))] = (now_s, str(payload.get("mode")), wall)
        elif op == "board":  # the first boarding, the last alighting
            key = str(payload.get("booking"))
            log.boarded[key] = min(log.boarded.get(key, now_s), now_s)
        else:
            key = str(payload.get("booking"))
            log.alighted[key] = max(log.alighted.get(key, now_s), now_s)
    return log


def _refusals(session: Session, log: _Log, start_s: int, end_s: int) -> list[tuple[int, str]]:
    """(service time, reason) of each quote of the period answered with no offer at all. The
    audit log says what was offered; the dispatcher's log (same transaction) says when on the
    service clock, so the demo's shifted clock and the tests' clock count the right day."""
    asked = {rid: (t, wall) for rid, (t, _, wall) in log.asked.items() if start_s <= t < end_s}
    if not asked:
        return []
    walls = [wall for _, wall in asked.values()]
    entries = session.scalars(select(rm.AuditEntry).where(
        rm.AuditEntry.action == "quote", rm.AuditEntry.at >= min(walls) - timedelta(minutes=1),
        rm.AuditEntry.at <= max(walls) + timedelta(minutes=1)))  # fmt: skip
    out = []
    for e in entries:
        request = e.details.get("request") or {}
        when = asked.get(str(request.get("id")))
        if when is None or e.details.get("offers"):  # not of this period, or something offered
            continue
        reason = e.details.get("reason")
        out.append((when[0], reason if reason in REFUSAL_REASONS else "unknown"))
    return out


def ridership(
    session: Session, world: World, actor: Actor, first: date, last: date, by: str
) -> s.Ridership:
    require_staff(actor, "operator", "admin")
    if last < first or (last - first).days > MAX_DAYS:
        raise InvalidInput(f"期間は開始日から終了日まで、{MAX_DAYS}日以内で指定してください。",
                           f"Give a period from a first to a last day, at most {MAX_DAYS} days.",
                           field="to")  # fmt: skip
    tz = world.config.calendar.time_zone
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    start_s, end_s = int(start.timestamp()), int(end.timestamp())
    rows = session.execute(
        select(m.Booking, rm.Resident.address, rm.Resident.birth_year, m.Quote.request_id)
        .join(rm.Resident, rm.Resident.id == m.Booking.resident_id)
        .join(m.Quote, m.Quote.id == m.Booking.quote_id)
        .where(m.Booking.pickup_from >= start, m.Booking.pickup_from < end)
    ).all()
    log = _dispatch_log(session, start_s, end_s)

    def period(t: datetime) -> str:
        local = t.astimezone(tz)
        return f"{local:%Y-%m}" if by == "month" else f"{local:%Y-%m-%d}"

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    districts: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    for b, address, birth, request_id in rows:
        tally = tallies[period(b.pickup_from)]
        c = tally.counts
        c["bookings"] += 1
        c[b.status] += 1
        if b.status != "completed":
            continue
        people = sum(dict(b.passengers).values())
        c["passengers"] += people
        c["fares_yen"] += b.fare_paid_yen or 0
        districts[district(address)] += people
        ages[age_band(birth, b.pickup_from.astimezone(tz).year)] += 1
        boarded = log.boarded.get(b.dispatch_id)
        if boarded is not None:
            tally.waits.append(max(0, boarded - int(b.pickup_from.timestamp())))
            tally.pickups_on_time += boarded <= int(b.pickup_to.timestamp())
            asked = log.asked.get(request_id.partition("~")[0])  # alternatives: "<request>~t0"
            if asked is not None and asked[1] == "asap":
                tally.asap_waits.append(max(0, boarded - asked[0]))
        alighted = log.alighted.get(b.dispatch_id)
        if alighted is not None:
            tally.dropoffs += 1
            tally.dropoffs_on_time += alighted <= int(b.dropoff_by.timestamp())
    for t, reason in _refusals(session, log, start_s, end_s):
        tally = tallies[period(datetime.fromtimestamp(t, tz))]
        tally.counts["refused"] += 1
        tally.reasons[reason] += 1
    total = _Tally()
    for tally in tallies.values():
        total.add(tally)
    audit(session, actor, "report.ridership", first=first.isoformat(), last=last.isoformat(), by=by)
    return s.Ridership(
        first=first, last=last, by=by,
        periods=[tallies[p].row(p) for p in sorted(tallies)], totals=total.row("total"),
        riders_by_district=dict(districts.most_common()),
        rides_by_age_band={label: ages.get(label, 0) for _, label in AGE_BANDS},
    )  # fmt: skip


def ridership_csv(report: s.Ridership) -> tuple[list[str], list[list[Any]]]:
    """The report's rows for a spreadsheet: each period, then the whole period (total)."""
    header = ["period", *s.RIDERSHIP_FIELDS, *(f"refused_{r}" for r in REFUSAL_REASONS),
              *s.RIDERSHIP_TIMES]  # fmt: skip
    rows = [[r.period, *(getattr(r, k) for k in s.RIDERSHIP_FIELDS),
             *(r.refused_by_reason.get(x, 0) for x in REFUSAL_REASONS),
             *("" if getattr(r, k) is None else getattr(r, k) for k in s.RIDERSHIP_TIMES)]
            for r in [*report.periods, report.totals]]  # fmt: skip
    return header, rows
