"""Garbage-day reminders: which opted-in residents are due one now (pure: no I/O).

A resident who opted in (:class:`town.models.Subscription`, service ``garbage``) chose an
area of the calendar and a timing: ``evening`` (the evening before, from ``EVENING``) or
``morning`` (the morning of the day, from ``MORNING``). On a collection day of their area
one reminder is due, naming every category collected that day, from its moment until
``LAST_CALL`` on the collection morning (a service that was down at 19:00 still reminds at
21:00; after 8:00, when the garbage must be out, it no longer does). The caller claims each
reminder once by :attr:`Reminder.key`, so a day gets one push, however many ticks see it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from town.garbage import Calendar, GarbageAreaUnknown

EVENING = time(19, 0)
MORNING = time(6, 30)
LAST_CALL = time(8, 0)  # the calendar's 「朝8時までに出してください」


@dataclass(frozen=True, slots=True)
class Reminder:
    resident_id: str
    day: date
    area: str
    categories: tuple[str, ...]
    timing: str

    @property
    def key(self) -> str:
        return f"garbage:{self.resident_id}:{self.day.isoformat()}"


def moment(day: date, timing: str, tz: ZoneInfo) -> datetime:
    """When the reminder of a collection ``day`` goes out."""
    if timing == "evening":
        return datetime.combine(day - timedelta(days=1), EVENING, tz)
    return datetime.combine(day, MORNING, tz)


def due(
    cal: Calendar, subscriptions: Iterable[tuple[str, dict[str, str]]], now: datetime,
    tz: ZoneInfo,
) -> list[Reminder]:  # fmt: skip
    """The reminders due at ``now`` for ``(resident_id, options)`` opt-ins; an opt-in whose
    area the calendar in force no longer has is left out (staff imported a new one)."""
    local = now.astimezone(tz)
    today = local.date()
    out = []
    days_of: dict[str, dict[date, list[str]]] = {}
    for resident_id, options in subscriptions:
        area, timing = options.get("area", ""), options.get("timing", "evening")
        if area not in days_of:
            try:
                found = cal.days(area, today, today + timedelta(days=1))
            except GarbageAreaUnknown:
                found = []
            by_day: dict[date, list[str]] = {}
            for d, category in found:
                by_day.setdefault(d, []).append(category)
            days_of[area] = by_day
        for day, categories in sorted(days_of[area].items()):
            last = datetime.combine(day, LAST_CALL, tz)
            if moment(day, timing, tz) <= local < last:
                out.append(Reminder(resident_id, day, area, tuple(categories), timing))
    return out
