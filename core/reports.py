"""Reports for the town (evidence-based policy making): ridership by day or month, with who
rode by 大字 (district, from the resident's address) and age band. Figures come from the
bookings as stored (status, passengers, fares paid) and, for quotes refused without any
alternative taken, from the audit log's quote entries."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from core import models as m
from core import schemas as s
from core.world import World
from residents import models as rm
from residents.service import Actor, audit, require_staff

DISTRICT = re.compile(r"大字\s*([^\s\d０-９-]+)")
AGE_BANDS = ((0, "64歳以下"), (65, "65〜74歳"), (75, "75〜84歳"), (85, "85歳以上"))
MAX_DAYS = 400


def district(address: str) -> str:
    """大字 of an address (鞍手町大字中山 1 → 中山), or その他."""
    found = DISTRICT.search(address)
    return found.group(1) if found else "その他"


def age_band(birth_year: int, year: int) -> str:
    age = year - birth_year
    return next(label for lo, label in reversed(AGE_BANDS) if age >= lo)


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
    rows = session.execute(
        select(m.Booking, rm.Resident.address, rm.Resident.birth_year)
        .join(rm.Resident, rm.Resident.id == m.Booking.resident_id)
        .where(m.Booking.pickup_from >= start, m.Booking.pickup_from < end)
    ).all()
    quotes = session.scalars(select(rm.AuditEntry).where(
        rm.AuditEntry.action == "quote", rm.AuditEntry.at >= start, rm.AuditEntry.at < end))  # fmt: skip
    refused = [e.at for e in quotes if not e.details.get("offers")]  # no offer, no alternative

    def period(t: datetime) -> str:
        local = t.astimezone(tz)
        return f"{local:%Y-%m}" if by == "month" else f"{local:%Y-%m-%d}"

    totals: dict[str, Counter[str]] = defaultdict(Counter)
    districts: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    for b, address, birth in rows:
        c = totals[period(b.pickup_from)]
        c["bookings"] += 1
        c[b.status] += 1
        if b.status == "completed":
            people = sum(dict(b.passengers).values())
            c["passengers"] += people
            c["fares_yen"] += b.fare_paid_yen or 0
            districts[district(address)] += people
            ages[age_band(birth, b.pickup_from.astimezone(tz).year)] += 1
    for t in refused:
        totals[period(t)]["refused"] += 1
    audit(session, actor, "report.ridership", first=first.isoformat(), last=last.isoformat(), by=by)
    return s.Ridership(
        first=first, last=last, by=by,
        periods=[s.RidershipRow(period=p, **{k: c.get(k, 0) for k in s.RIDERSHIP_FIELDS})
                 for p, c in sorted(totals.items())],
        riders_by_district=dict(districts.most_common()),
        rides_by_age_band={label: ages.get(label, 0) for _, label in AGE_BANDS},
    )  # fmt: skip
