"""The dispatcher behind the API: one writer per area, state durable as a log in the database.

Every API process keeps a replica of the pure :class:`dispatch.engine.Dispatcher`. The
dispatcher is deterministic, so its state is fully described by the calls made to it; each
call is written to ``dispatch_log`` with a sequence number, and a replica catches up by
replaying the entries it has not seen (at start-up: all of them).

A change is made by one writer at a time per area:

1. take the area's Redis lock (``SET NX PX``, released only by its holder);
2. replay the log entries other processes wrote since this replica last looked;
3. run the use case: dispatcher calls (each logged) and the domain rows they imply;
4. commit the log entries and the rows in one transaction, then release the lock.

A writer that dies mid-way commits nothing: its lock expires and the next writer starts from
the committed log. The primary key (area, seq) fences a writer whose lock expired while it
was stalled: it cannot commit a step another writer has already taken; it rolls back,
rebuilds its replica from the log and answers ``service_busy`` (503), which clients retry
(confirmations with the same ``Idempotency-Key``). Changes are then published on Redis for
the driver and operator screens.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from booking.errors import ServiceBusy
from booking.models import DispatchLogEntry
from booking.world import World
from common.errors import DrtError
from dispatch.engine import Dispatcher
from dispatch.model import BookingStatus, Mode, TripRequest, VehicleSpec

LOCK_TTL_MS = 15_000
LOCK_WAIT_S = 30.0

log = logging.getLogger(__name__)


class RedisLock:
    """A lock held by one client at a time; expires if its holder dies."""

    def __init__(self, client: redis.Redis, key: str, ttl_ms: int = LOCK_TTL_MS) -> None:
        self.client, self.key, self.ttl_ms = client, key, ttl_ms
        self.token = uuid.uuid4().hex

    def acquire(self, wait_s: float = LOCK_WAIT_S) -> bool:
        deadline = time.monotonic() + wait_s
        pause = 0.001
        while not self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        return True

    def release(self) -> None:
        """Delete the key only if this lock still holds it (WATCH/MULTI, no Lua needed)."""
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(self.key)  # type: ignore[no-untyped-call]
                if pipe.get(self.key) == self.token:
                    pipe.multi()
                    pipe.delete(self.key)
                    pipe.execute()
            except redis.WatchError:
                pass  # the key changed hands after our lock expired: nothing of ours to delete


def request_payload(r: TripRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "origin": r.origin,
        "destination": r.destination,
        "mode": str(r.mode),
        "time_s": r.time_s,
        "seats": r.seats,
        "wheelchairs": r.wheelchairs,
        "channel": r.channel,
        "fare_counts": [list(x) for x in r.fare_counts],
    }


def request_from(p: dict[str, Any]) -> TripRequest:
    return TripRequest(
        id=p["id"],
        origin=p["origin"],
        destination=p["destination"],
        mode=Mode(p["mode"]),
        time_s=p["time_s"],
        seats=p["seats"],
        wheelchairs=p["wheelchairs"],
        channel=p["channel"],
        fare_counts=tuple((str(c), int(n)) for c, n in p["fare_counts"]),
    )


def place_at(d: Dispatcher, world: World, node: int) -> int:
    """The dispatcher place of a road node (a GPS position), growing the matrix if it is new."""
    place = world.places.index(node)
    if d.n_places != world.places.duration_s.shape[0]:
        d.set_travel(world.places.duration_s)
    return place


def apply(d: Dispatcher, world: World, op: str, p: dict[str, Any], now_s: int) -> Any:
    """Make one logged call on a dispatcher; the single place that maps log entries to calls.

    Vehicle positions are logged as road nodes, not place numbers: each process numbers the
    places it adds itself, and the travel times between nodes are the same everywhere.
    """
    if op == "vehicle_at":
        place = place_at(d, world, p["node"])
        return d.update_vehicle(p["vehicle"], place, p["available_s"], now_s, locked=p["locked"])
    if op == "start_shift":
        return d.start_shift(p["vehicle"], place_at(d, world, p["node"]), now_s)
    if op == "vehicle_day":
        spec = VehicleSpec(p["id"], p["seats"], p["wheelchairs"], p["depot"], p["start"], p["end"])
        d.add_vehicle(spec)
        d.start_shift(spec.id, spec.depot, spec.shift_start_s)
        return None
    if op == "expire":
        return d.expire(now_s)
    if op == "quote":
        return d.quote(request_from(p), now_s)
    if op == "confirm":
        return d.confirm(p["booking"], now_s)
    if op == "cancel":
        return d.cancel(p["booking"], now_s)
    if op == "board":
        return d.board(p["booking"], now_s)
    if op == "alight":
        return d.alight(p["booking"], now_s)
    if op == "no_show":
        return d.no_show(p["booking"], now_s)
    if op == "update_vehicle":
        return d.update_vehicle(
            p["vehicle"], p["place"], p["available_s"], now_s, locked=p["locked"]
        )
    if op == "end_shift":
        return d.end_shift(p["vehicle"])
    raise ValueError(f"unknown dispatch log op {op!r}")


def _busy(**details: Any) -> ServiceBusy:
    return ServiceBusy(
        "ただいま混み合っています。少し待ってからもう一度お試しください。",
        "The service is busy. Please try again in a moment.",
        **details,
    )


@dataclass
class Step:
    """One writer turn: dispatcher calls, each logged, and the rows written with them."""

    session: Session
    now_s: int
    dispatcher: Dispatcher
    world: World
    area: str
    seq: int
    events: list[dict[str, Any]] = field(default_factory=list)
    body_ops: int = 0
    in_body: bool = False

    def do(self, op: str, **payload: Any) -> Any:
        """Call the dispatcher; log the call only if it succeeded."""
        result = apply(self.dispatcher, self.world, op, payload, self.now_s)
        self.seq += 1
        self.session.add(
            DispatchLogEntry(
                area=self.area, seq=self.seq, op=op, payload=payload, now_s=self.now_s,
                at=datetime.now(UTC),
            )
        )  # fmt: skip
        if self.in_body:
            self.body_ops += 1
        return result

    def publish(self, kind: str, **data: Any) -> None:
        self.events.append({"type": kind, **data})


class DispatchHost:
    """A process's replica of the area's dispatcher and the single-writer protocol around it."""

    def __init__(
        self,
        world: World,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        prefix: str,
        clock: Callable[[], int],
    ) -> None:
        self.world = world
        self.sessions = sessions
        self.redis = client
        self.prefix = prefix
        self.clock = clock
        self.area = world.key
        self._local = threading.RLock()  # guards the replica
        self._gate = threading.Lock()  # one thread per process competes for the area's lock
        self.dispatcher = world.new_dispatcher()
        self.seq = 0

    @property
    def channel(self) -> str:
        return f"{self.prefix}{self.area}:changes"

    def _catch_up(self, session: Session) -> None:
        rows = session.scalars(
            select(DispatchLogEntry)
            .where(DispatchLogEntry.area == self.area, DispatchLogEntry.seq > self.seq)
            .order_by(DispatchLogEntry.seq)
        ).all()
        for row in rows:
            if row.seq != self.seq + 1:
                raise RuntimeError(f"dispatch log gap: {self.seq} then {row.seq}")
            apply(self.dispatcher, self.world, row.op, row.payload, row.now_s)  # they succeeded
            self.seq = row.seq

    def _rebuild(self) -> None:
        self.dispatcher = self.world.new_dispatcher()
        self.seq = 0
        with self.sessions() as session:
            self._catch_up(session)

    @contextmanager
    def read(self) -> Iterator[Dispatcher]:
        """The replica, caught up with everything committed so far."""
        with self._local:
            latest = self.redis.get(f"{self.prefix}{self.area}:seq")
            if latest is None or int(latest) != self.seq:
                with self.sessions() as session:
                    self._catch_up(session)
            yield self.dispatcher

    @contextmanager
    def write(self) -> Iterator[Step]:
        """One writer turn; commits on success, leaves nothing behind on failure."""
        started = time.monotonic()
        if not self._gate.acquire(timeout=LOCK_WAIT_S):
            raise _busy()
        lock = RedisLock(self.redis, f"{self.prefix}{self.area}:writer")
        if not lock.acquire(LOCK_WAIT_S - (time.monotonic() - started)):
            self._gate.release()
            raise _busy()
        try:
            with self._local, self.sessions() as session:
                self._catch_up(session)
                start = self.seq
                step = Step(session, self.clock(), self.dispatcher, self.world, self.area, start)
                self._housekeeping(step)
                step.in_body = True
                try:
                    yield step
                except DrtError:
                    if step.body_ops:  # the use case changed state, then failed: undo all
                        session.rollback()
                        self._rebuild()
                        raise
                    self._commit(session, step, start)
                    raise
                except BaseException as exc:
                    session.rollback()
                    self._rebuild()
                    self._raise_if_fenced(exc, start)
                    raise
                self._commit(session, step, start)
        finally:
            lock.release()
            self._gate.release()

    def _commit(self, session: Session, step: Step, start: int) -> None:
        try:
            session.commit()
        except BaseException as exc:
            session.rollback()
            self._rebuild()
            self._raise_if_fenced(exc, start)
            raise
        self.seq = step.seq
        self.redis.set(f"{self.prefix}{self.area}:seq", self.seq)
        for event in step.events:
            self.redis.publish(self.channel, json.dumps({**event, "seq": self.seq}))

    def _raise_if_fenced(self, exc: BaseException, start: int) -> None:
        """Busy, not broken, when another writer committed during this turn (lock expired)."""
        if isinstance(exc, IntegrityError) and self.seq > start:
            log.warning(
                "dispatch writer fenced: %s took steps after %d while this turn ran (lock "
                "expired mid-turn); rolled back, the client is told to retry",
                self.area, start,
            )  # fmt: skip
            raise _busy(reason="writer_fenced") from exc

    def _housekeeping(self, step: Step) -> None:
        """Vehicles for every service day ahead; expired holds released; past days ended."""
        cal = self.world.config.calendar
        today = cal.local_date(step.now_s)
        for day in cal.days(today, self.world.config.policy.book_ahead_days + 1):
            window = cal.window_s(day)
            if window is None:
                continue
            for v in self.world.config.vehicles:
                vid = f"{v.id}@{day.isoformat()}"
                if vid not in step.dispatcher.vehicles:
                    step.do(
                        "vehicle_day", id=vid, seats=v.seats, wheelchairs=v.wheelchairs,
                        depot=self.world.place_of(v.depot), start=window[0], end=window[1],
                    )  # fmt: skip
        if any(
            b.status == BookingStatus.HELD
            and b.expires_at_s is not None
            and b.expires_at_s <= step.now_s
            for b in step.dispatcher.bookings.values()
        ):
            step.do("expire")
        for vid, vehicle in sorted(step.dispatcher.vehicles.items()):  # past days leave
            past = vid.rpartition("@")[2] < today.isoformat()
            if vehicle.in_service and past and not step.dispatcher.plans[vid]:
                step.do("end_shift", vehicle=vid)
