"""Push notifications at the right moments of a rider's day.

:meth:`Notifier.tick` looks at the bookings of LINE-linked residents (pickups from two hours
ago to the end of the booking horizon) and the dispatcher's live plan, at the time ``now_s``
of the service clock, and pushes what is due:

``confirmed``    a booking made by phone or app (LINE bookings were answered in the chat);
``reminder``     the day before, at ``line_reminder_at``;
``approaching``  the van's planned arrival is ``line_approaching_s`` away (about 5 minutes);
``delay``        the planned pickup is ``line_delay_notice_s`` later than the promised window;
``cancelled``    an operator cancelled the booking.

Each notification is claimed once in ``line_pushes`` (so several workers, or a tick run
twice, never send it twice) and sent with a retry key derived from its claim. Pushes cost
the town's message quota: ``line_push_kinds`` turns kinds off and ``line_push_daily_cap``
bounds a service day (the most urgent kinds go first; a capped push is not retried).
The town services' pushes (garbage reminders, notices, survey invitations:
:mod:`line_channel.town_push`, each sent only to residents who opted in) are claimed after
the rides' notifications, the same way and within the same cap (emergencies over it).
The app runs a tick every ``line_notifier_interval_s`` and as soon as the dispatcher
publishes a change; tests call :meth:`Notifier.tick` with a simulated clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import aiohttp
import anyio
from linebot.v3.messaging.exceptions import ApiException
from sqlalchemy.orm import Session, sessionmaker

from common import metrics
from common.clock import at
from common.logfmt import masked
from core import bookings
from core import models as bm
from core import schemas as s
from core.host import DispatchHost
from core.world import World
from dispatch.view import DispatchView
from line_channel import messages as msg
from line_channel import repository as repo
from line_channel import town_push
from line_channel.config import LineConfig
from line_channel.sender import LineApi
from line_channel.town_push import TownPush

log = logging.getLogger(__name__)
PRIORITY = ("stranded", "cancelled", "delay", "approaching", "confirmed", "reminder")
LOOK_BACK = timedelta(hours=2)
APPROACH_GRACE_S = 600  # an 「まもなく」 later than this after the planned arrival is pointless


def reminder_moment_s(world: World, config: LineConfig, pickup_from: datetime) -> int:
    """When the day-before reminder of a pickup goes out (local ``line_reminder_at``)."""
    tz = world.config.calendar.time_zone
    day = pickup_from.astimezone(tz).date() - timedelta(days=1)
    return int(datetime.combine(day, config.reminder_at, tz).timestamp())


def skip_reminder_if_late(
    session: Session, world: World, config: LineConfig, b: s.Booking, user_id: str, now_s: int
) -> None:
    """A rider who books after the reminder time has just read everything: no reminder."""
    if now_s >= reminder_moment_s(world, config, b.pickup_from):
        day = world.config.calendar.local_date(now_s)
        repo.skip_push(session, f"reminder:{b.id}:{user_id}", user_id, "reminder", b.id, day,
                       at(now_s))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    user_id: str
    booking_id: str
    messages: list[dict[str, Any]]
    reminder_s: int  # when this booking's reminder is due

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.booking_id}:{self.user_id}"

    @property
    def reminder_key(self) -> str:
        return f"reminder:{self.booking_id}:{self.user_id}"


def due_kinds(
    b: bm.Booking, eta_s: int | None, linked_at: datetime, world: World, config: LineConfig,
    now_s: int, stranded: bool = False,
) -> list[str]:  # fmt: skip
    """Which notifications this booking is due for now (before quota and before dedup).

    ``eta_s`` is the planned pickup on the live plan (None when not known or not today);
    ``stranded``: its vehicle was taken out of service and no other could take the ride.
    """
    pickup_from_s, pickup_to_s = int(b.pickup_from.timestamp()), int(b.pickup_to.timestamp())
    if b.status == "cancelled":
        by_staff = (b.cancelled_by or "").startswith("staff:")
        return ["cancelled"] if by_staff and pickup_to_s > now_s else []
    if b.status != "confirmed":
        return []
    if stranded:  # nothing else about a ride that no van will drive: only that, and a call
        return ["stranded"] if pickup_to_s > now_s else []
    kinds = []
    if b.channel != "line" and b.created_at >= linked_at and pickup_from_s > now_s:
        kinds.append("confirmed")
    cal = world.config.calendar
    tomorrow = cal.local_date(now_s) + timedelta(days=1)
    if cal.local_date(pickup_from_s) == tomorrow and now_s >= reminder_moment_s(
        world, config, b.pickup_from
    ):
        kinds.append("reminder")
    if eta_s is not None:
        if eta_s - config.approaching_s <= now_s <= eta_s + APPROACH_GRACE_S:
            kinds.append("approaching")
        if eta_s > pickup_to_s + config.delay_notice_s and now_s < eta_s:
            kinds.append("delay")
    return kinds


def notice_messages(kind: str, view: s.Booking, world: World, now_s: int) -> list[dict[str, Any]]:
    phone = world.config.operator_phone
    if kind == "confirmed":
        return msg.notice_confirmed(view)
    if kind == "reminder":
        return msg.notice_reminder(view)
    if kind == "approaching":
        assert view.eta_pickup is not None
        minutes = max(1, round((view.eta_pickup.timestamp() - now_s) / 60))
        return msg.notice_approaching(view, minutes)
    if kind == "delay":
        assert view.eta_pickup is not None
        return msg.notice_delay(view, view.eta_pickup, phone)
    if kind == "stranded":
        return msg.notice_stranded(view, phone)
    return msg.notice_cancelled(view, phone)


def due_notices(
    session: Session, d: DispatchView, world: World, config: LineConfig, now_s: int
) -> list[Notice]:
    """Every notification due at ``now_s``, most urgent first.

    The live plan is consulted only for today's rides (the van's approach and delays).
    """
    now = at(now_s)
    horizon = timedelta(days=world.config.policy.book_ahead_days + 2)
    rows = repo.bookings_around(session, now - LOOK_BACK, now + horizon)
    links = repo.links_of(session, {b.resident_id for b in rows})
    today = world.config.calendar.local_date(now_s)
    out = []
    for b in rows:
        today_ride = world.config.calendar.local_date(int(b.pickup_from.timestamp())) == today
        eta_s = d.eta(b.dispatch_id)[0] if today_ride else None
        live = d.booking(b.dispatch_id)
        van = d.vehicle(live.vehicle_id) if live is not None else None
        stranded = van is not None and not van.in_service
        view: s.Booking | None = None
        for link in links.get(b.resident_id, []):
            for kind in due_kinds(b, eta_s, link.linked_at, world, config, now_s, stranded):
                if kind not in config.push_kinds:
                    continue
                view = view or bookings.booking_view(session, world, b, d)
                out.append(Notice(kind, link.user_id, b.id, notice_messages(kind, view, world, now_s),
                                  reminder_moment_s(world, config, b.pickup_from)))  # fmt: skip
    out.sort(key=lambda n: PRIORITY.index(n.kind))
    return out


class Pusher:
    """Pushes claimed in ``line_pushes`` and sent once, with a stable retry key."""

    def __init__(
        self, api: LineApi, sessions: sessionmaker[Session], world: World, clock: Callable[[], int]
    ) -> None:
        self.api, self.sessions, self.world, self.clock = api, sessions, world, clock

    def day(self, now_s: int) -> date:
        return self.world.config.calendar.local_date(now_s)

    def claim(
        self, key: str, kind: str, user_id: str, booking_id: str | None, now_s: int,
        cap: int | None,
    ) -> str | None:  # fmt: skip
        """The retry key to push with, or None if it was sent (or capped) before."""
        with self.sessions() as session:
            row = repo.claim_push(session, key, user_id, kind, booking_id, self.day(now_s),
                                  at(now_s), cap)  # fmt: skip
            session.commit()
            return row.retry_key if row is not None else None

    def skip(self, key: str, kind: str, user_id: str, booking_id: str, now_s: int) -> None:
        with self.sessions() as session:
            repo.skip_push(session, key, user_id, kind, booking_id, self.day(now_s), at(now_s))
            session.commit()

    def record(self, results: list[tuple[str, str]], now_s: int) -> None:
        with self.sessions() as session:
            for key, status in results:
                repo.mark_push(session, key, status, at(now_s))
            session.commit()

    async def send(self, user_id: str, messages: list[dict[str, Any]], retry_key: str) -> str:
        """``sent``; ``pending`` when worth trying again later; ``failed`` when not (counted)."""
        status = await self._send(user_id, messages, retry_key)
        metrics.LINE_PUSHES.labels(status).inc()
        return status

    async def _send(self, user_id: str, messages: list[dict[str, Any]], retry_key: str) -> str:
        who = masked(user_id)  # a LINE user id is a person's: never whole in a log
        try:
            await self.api.push(user_id, messages, retry_key)
        except ApiException as e:
            if e.status == 429 or (e.status or 0) >= 500:
                log.warning("LINE push to %s deferred: %s", who, e.status)
                return "pending"
            log.error("LINE push to %s refused: %s", who, e.status)
            return "failed"
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("LINE push to %s deferred: %s", who, type(e).__name__)
            return "pending"
        return "sent"

    async def push_once(
        self, key: str, kind: str, user_id: str, messages: list[dict[str, Any]],
        booking_id: str | None = None, cap: int | None = None,
    ) -> str:  # fmt: skip
        now_s = self.clock()
        retry = await anyio.to_thread.run_sync(
            self.claim, key, kind, user_id, booking_id, now_s, cap
        )
        if retry is None:
            return "done_before"
        status = await self.send(user_id, messages, retry)
        await anyio.to_thread.run_sync(self.record, [(key, status)], now_s)
        return status


class Notifier:
    """Finds the notifications due and pushes them (see the module docstring)."""

    def __init__(
        self, config: LineConfig, host: DispatchHost, sessions: sessionmaker[Session],
        pusher: Pusher, clock: Callable[[], int],
        follow_up: Callable[[str], list[dict[str, Any]]] | None = None,
    ) -> None:  # fmt: skip
        self.config, self.host, self.sessions, self.pusher, self.clock = (
            config, host, sessions, pusher, clock,
        )  # fmt: skip
        #: the question a rider is in the middle of, pushed again after a notice (its
        #: buttons would be gone: LINE shows the quick replies of the last message only)
        self.follow_up = follow_up

    def _claim_due(self, now_s: int) -> list[tuple[Notice | TownPush, str]]:
        with self.host.read() as d, self.sessions() as session:
            notices = due_notices(session, d, self.host.world, self.config, now_s)
            town = town_push.due(session, self.host.world, now_s)
            repo.prune_events(session, at(now_s))
            session.commit()
        claimed: list[tuple[Notice | TownPush, str]] = []
        told = set()
        for n in notices:  # "confirmed" comes before "reminder"
            if n.key in told:
                continue
            retry = self.pusher.claim(n.key, n.kind, n.user_id, n.booking_id, now_s,
                                      self.config.push_daily_cap)  # fmt: skip
            if retry is None:
                continue
            claimed.append((n, retry))
            if n.kind == "confirmed" and now_s >= n.reminder_s:
                # told everything after the reminder time: the reminder would only repeat it
                self.pusher.skip(n.reminder_key, "reminder", n.user_id, n.booking_id, now_s)
                told.add(n.reminder_key)
        for p in town:  # after the rides' (an emergency goes over the cap)
            cap = None if p.uncapped else self.config.push_daily_cap
            retry = self.pusher.claim(p.key, p.kind, p.user_id, None, now_s, cap)
            if retry is not None:
                claimed.append((p, retry))
        return claimed

    async def tick(self, now_s: int | None = None) -> list[Notice | TownPush]:
        """Push what is due at ``now_s`` (default: the service clock); returns what was sent."""
        now = self.clock() if now_s is None else now_s
        claimed = await anyio.to_thread.run_sync(self._claim_due, now)
        results, sent = [], []
        for notice, retry in claimed:  # a ride's notification or a town push
            again = (
                await anyio.to_thread.run_sync(self.follow_up, notice.user_id)
                if self.follow_up
                else []
            )
            status = await self.pusher.send(notice.user_id, [*notice.messages, *again][:5], retry)
            results.append((notice.key, status))
            if status == "sent":
                sent.append(notice)
        if results:
            await anyio.to_thread.run_sync(self.pusher.record, results, now)
        town = [n for n in sent if isinstance(n, TownPush)]
        if town:
            await anyio.to_thread.run_sync(self._count_sent, town)
        return sent

    def _count_sent(self, sent: list[TownPush]) -> None:
        with self.sessions() as session:
            town_push.count_sent(session, sent)
            session.commit()
