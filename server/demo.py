"""`drt demo`: the whole service on the embedded default, with simulated riders and vans.

A background thread plays the road: when a van's next stop is due on the dispatcher's plan,
the rider boards or alights (through the same rider-stop use case the driver tablets call). Another
plays residents who book now and then, so an operator opening the console sees a live day.
Outside the real service hours the demo clock starts at the next opening time, so the demo
works at any hour; it says so when it starts.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from common.clock import ShiftedClock
from common.errors import DrtError
from core import bookings
from core import schemas as s
from core.host import DispatchHost
from core.rules import ServiceCalendar
from dispatch.model import StopKind
from driver_app_api.models import DriverSession
from residents import models as rm
from residents.service import Actor

log = logging.getLogger(__name__)
RIDER_EVERY_S = 90  # demo residents ask for a ride about this often (demo-clock seconds)


def demo_clock(calendar: ServiceCalendar, now_s: int | None = None) -> ShiftedClock:
    """Real time if the service is open for at least another hour, else the next opening + 30 min."""
    now = int(time.time()) if now_s is None else now_s
    day = calendar.local_date(now)
    for i in range(14):
        window = calendar.window_s(day + timedelta(days=i))
        if window is None:
            continue
        if window[0] <= now < window[1] - 3600:
            return ShiftedClock(0)
        if now < window[0]:
            return ShiftedClock(window[0] + 1800 - now)
    return ShiftedClock(0)


@dataclass
class DemoFleet:
    host: DispatchHost
    step_s: float = 2.0
    error_backoff_s: float = 5.0
    stop: threading.Event = field(default_factory=threading.Event)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    _next_rider_s: int = 0

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name="demo-fleet", daemon=True)
        t.start()
        return t

    def run(self) -> None:
        """Tick until stopped. Nothing else ends the loop: an error (SQLite busy, Redis, a
        bug) is logged, and the next tick comes after a pause."""
        pause = self.step_s
        while not self.stop.wait(pause):
            pause = self.step_s
            try:
                self.tick()
            except DrtError:
                continue  # a demo rider's wish could not be met; the next tick tries again
            except Exception:
                log.exception("demo fleet: a tick failed; going on in %.0f s", self.error_backoff_s)
                pause = self.error_backoff_s

    def tick(self) -> None:
        now = self.host.clock()
        due: list[tuple[str, StopKind]] = []
        with self.host.sessions() as session:  # a van a person drives from the tablet is theirs
            driven = set(session.scalars(
                select(DriverSession.shift_vehicle_id).where(DriverSession.ended_at.is_(None))
            ))  # fmt: skip
        with self.host.read() as d:
            for vid in sorted(set(d.vehicle_ids()) - driven):
                for ps in d.plan(vid)[:1]:
                    if ps.kind in (StopKind.PICKUP, StopKind.DROPOFF) and 0 <= ps.planned_s <= now:
                        due.append((ps.booking_id, ps.kind))
        for booking_id, kind in due:
            bookings.record_stop(
                self.host, booking_id, "board" if kind == StopKind.PICKUP else "alight"
            )
        if now >= self._next_rider_s:
            self._next_rider_s = now + RIDER_EVERY_S
            self.book_someone()

    def book_someone(self) -> None:
        with self.host.sessions() as session:
            residents = session.scalars(select(rm.Resident).order_by(rm.Resident.id)).all()
            admin = session.scalar(select(rm.Staff).where(rm.Staff.role == "admin"))
        if not residents or admin is None:
            return
        rider = self.rng.choice(residents)
        stops = self.host.world.stops.points
        a, b = self.rng.sample(range(len(stops)), 2)
        actor = Actor("staff", admin.id, "admin")
        body = s.QuoteCreate(
            origin=stops[a].id, destination=stops[b].id, passengers=s.Passengers(adult=1),
            resident_id=rider.id,
        )  # fmt: skip
        result = bookings.quote(self.host, actor, body, "app")
        if result.offer is not None:
            key = f"demo-{result.offer.quote_id}"
            bookings.confirm(
                self.host, actor, s.BookingCreate(quote_id=result.offer.quote_id), key, "app"
            )


def describe_clock(clock: ShiftedClock, tz: ZoneInfo) -> str:
    now = datetime.fromtimestamp(clock(), tz)
    if clock.offset_s == 0:
        return f"デモの時計 / demo clock: {now:%Y-%m-%d %H:%M} (実時間 / real time)"
    return (
        f"デモの時計 / demo clock: {now:%Y-%m-%d %H:%M} "
        "(運行時間外のため次の運行日に進めています / moved to the next service hours)"
    )
