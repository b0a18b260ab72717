"""The town services' pushes (garbage reminders, notices, survey invitations), found due by
the LINE notifier's tick beside the rides' notifications and sent the same way: each claimed
once in ``line_pushes`` by its key, within the daily cap unless it is an emergency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import at
from core.world import World
from line_channel import repository as repo
from line_channel import town_messages as tm
from residents import models as rm
from town import calendars, notices, reminders
from town.models import Subscription, TownNotice


@dataclass(frozen=True, slots=True)
class TownPush:
    """One push due now: ``key`` names it for good (``garbage:<resident>:<day>:<user>``,
    ``notice:<id>:<user>``, ``survey:<id>:<user>``, ``reminder:<reservation>:…:<user>``,
    ``slip:<id>:<days>:<user>`` …), so it is sent at most once."""

    key: str
    kind: str  # garbage | notice | emergency | survey | reservation | slip
    user_id: str
    messages: list[dict[str, Any]]
    uncapped: bool = False  # an emergency notice: sent even over the daily cap


def due(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Every town push due at ``now_s``, in the order the daily cap spends what is left after
    the rides': emergencies (over the cap), then what the resident asked for themselves (the
    reminders of their classes and appointments, their payment slips, their garbage days),
    then what the town sends to many (notices, survey invitations)."""
    from line_channel import reservation_chat, slip_push, survey_chat

    pushes = [
        *reservation_chat.due_reminders(session, world, now_s),
        *slip_push.due_reminders(session, world, now_s),
        *garbage_pushes(session, world, now_s),
        *notice_pushes(session, world, now_s),
        *survey_chat.due_invitations(session, world, now_s),
    ]
    pushes.sort(key=lambda p: not p.uncapped)
    return pushes


def notice_pushes(session: Session, world: World, now_s: int) -> list[TownPush]:
    now = at(now_s)
    today = world.config.calendar.local_date(now_s)
    out = []
    for n in notices.delivering(session, now):
        message = tm.notice(n.title, n.body, n.emergency)
        kind = "emergency" if n.emergency else "notice"
        for member in notices.recipients(session, n, today, world.stops.districts()):
            out += [TownPush(f"notice:{n.id}:{uid}", kind, uid, [message], n.emergency)
                    for uid in member.line_user_ids]  # fmt: skip
    return out


def garbage_pushes(session: Session, world: World, now_s: int) -> list[TownPush]:
    subs = session.execute(
        select(Subscription.resident_id, Subscription.options)
        .join(rm.Resident, rm.Resident.id == Subscription.resident_id)
        .where(Subscription.service == "garbage", rm.Resident.closed_at.is_(None))
    ).all()
    if not subs:
        return []
    try:
        cal = calendars.current(session)
    except calendars.NoGarbageCalendar:
        return []
    tz = world.config.calendar.time_zone
    due = reminders.due(cal, [(r, dict(o)) for r, o in subs], at(now_s), tz)
    links = repo.links_of(session, {r.resident_id for r in due})
    today = world.config.calendar.local_date(now_s)
    return [
        TownPush(f"{r.key}:{link.user_id}", "garbage", link.user_id,
                 [tm.garbage_reminder(r.area, r.day, r.categories, today)])
        for r in due
        for link in links.get(r.resident_id, [])
    ]  # fmt: skip


def count_sent(session: Session, sent: list[TownPush]) -> None:
    """Add the pushes that reached a user to their notices' counts (staff see them)."""
    by_notice: dict[str, int] = {}
    for p in sent:
        if p.kind in ("notice", "emergency"):
            notice_id = p.key.split(":")[1]
            by_notice[notice_id] = by_notice.get(notice_id, 0) + 1
    for notice_id, n in by_notice.items():
        row = session.get(TownNotice, notice_id)
        if row is not None:
            row.recipients = (row.recipients or 0) + n
