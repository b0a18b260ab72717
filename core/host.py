"""The dispatcher behind the API: one writer per area, state durable as a log in the database.

Every API process keeps a replica of the pure :class:`dispatch.engine.Dispatcher`. The
dispatcher is deterministic, so its state is fully described by the calls made to it; each
call is written to ``dispatch_log`` with a sequence number, and a replica catches up by
replaying the entries it has not seen (at start-up: those after the newest snapshot,
:mod:`core.snapshots`, which a turn writes once ``SNAPSHOT_EVERY`` entries or
``SNAPSHOT_AFTER_S`` seconds of turns have passed since the last one).

A change is made by one writer at a time per area, in turns:

1. take the area's Redis lock (``SET NX PX``, renewed while the turn runs, released only by
   its holder; a dead holder's lock is gone within ``KEPT_TTL_MS``);
2. replay the log entries other processes wrote since this replica last looked;
3. run the use cases waiting in this process (group commit, up to ``MAX_BATCH``), one after
   the other, each in a SAVEPOINT: dispatcher commands (:mod:`core.commands`, each logged)
   and the domain rows they imply;
4. commit the log entries and the rows in one transaction, release the lock, and only then
   answer each use case's request.

Readers get a read-only :class:`dispatch.view.DispatchView` of the replica; only a writer's
:meth:`Step.do` changes it.

A writer that dies mid-way commits nothing: its lock expires and the next writer starts from
the committed log. The primary key (area, seq) fences a writer whose lock expired while it
was stalled: it cannot commit a step another writer has already taken; it rolls back,
rebuilds its replica from the log and answers ``service_busy`` (503), which clients retry
(confirmations with the same ``Idempotency-Key``). Changes are then published on Redis for
the driver and operator screens: each message names the vehicles whose plans it touched, so
a tablet listens only to its own van; a rider moved to another van is published as
``booking_moved`` with both vehicles.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from common import metrics
from common.clock import at, now_utc
from common.errors import DrtError, ServiceBusy, ServiceUnavailable
from common.keys import RedisKeys
from common.redis import KEPT_TTL_MS, LOCK_WAIT_S, RedisLock
from core.commands import (
    Command,
    EndShift,
    Expire,
    Move,
    Retime,
    SetParams,
    VehicleAt,
    VehicleDay,
    Withdraw,
    decode,
    encode,
)
from core.models import DispatchLogEntry, DispatchSnapshot
from core.snapshots import capture, fingerprint, restore
from core.world import World
from dispatch.engine import Dispatcher
from dispatch.view import DispatchView, PlanSignature

R = TypeVar("R")
log = logging.getLogger(__name__)
MOVING = (VehicleAt, Retime, Move, Withdraw)  # commands that can move riders elsewhere
RECHECK_S = 5.0  # a reader asks the database at least this often, whatever Redis says
MAX_BATCH = 32  # use cases of one process sharing a writer turn, at most
READER_GRACE_S = 0.5  # a turn waits at most this long for the reads that waited for the last
SNAPSHOT_EVERY = 500  # log entries between two snapshots of the replica, at most ...
SNAPSHOT_AFTER_S = 1.0  # ... and seconds of turns (entries cost more as the plans fill up)


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "ただいま予約を受け付けられません。少し待ってからもう一度お試しください。",
        "Bookings are unavailable for a moment (the coordination service is down). "
        "Please try again shortly.",
        reason="redis_unavailable",
    )


def _busy(**details: Any) -> ServiceBusy:
    return ServiceBusy(
        "ただいま混み合っています。少し待ってからもう一度お試しください。",
        "The service is busy. Please try again in a moment.",
        **details,
    )


@dataclass
class Step:
    """One writer turn: dispatcher commands, each logged, and the rows written with them."""

    session: Session
    now_s: int
    world: World
    area: str
    seq: int
    _dispatcher: Dispatcher
    events: list[dict[str, Any]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # vehicles whose plans this turn changed
    body_ops: int = 0
    in_body: bool = False

    @property
    def view(self) -> DispatchView:
        """The replica as it is now in this turn, read-only."""
        return DispatchView(self._dispatcher)

    def do(self, cmd: Command[R]) -> R:
        """Run one command on the dispatcher; log it only if it succeeded."""
        view = self.view
        before = {vid: view.signature(vid) for vid in view.vehicle_ids()}
        moving = isinstance(cmd, MOVING)
        assigned = view.assignments() if moving else {}
        result = cmd.run(self._dispatcher, self.world, self.now_s)
        self.seq += 1
        op, payload = encode(cmd)
        self.session.add(DispatchLogEntry(area=self.area, seq=self.seq, op=op, payload=payload,
                                          now_s=self.now_s, at=now_utc()))  # fmt: skip
        if self.in_body:
            self.body_ops += 1
        after: dict[str, PlanSignature | None] = {
            vid: view.signature(vid) for vid in view.vehicle_ids()
        }
        self.touched.update(vid for vid, sig in after.items() if before.get(vid) != sig)
        if moving:
            now_assigned = view.assignments()
            for booking, old in sorted(assigned.items()):
                new = now_assigned.get(booking)
                if new is not None and new != old:
                    self.publish("booking_moved", [old, new], dispatch_id=booking,
                                 from_vehicle=old, to_vehicle=new)  # fmt: skip
        return result

    def publish(self, kind: str, vehicles: list[str], **data: Any) -> None:
        """An event for the screens once the turn commits; ``vehicles`` it concerns."""
        self.events.append({"type": kind, "vehicles": sorted(set(vehicles)), **data})


@dataclass(eq=False)
class _Ticket:
    """A request for a place in a writer turn: given the turn with an open batch, or
    (``batch`` None) the lead of a new one."""

    ready: threading.Event = field(default_factory=threading.Event)
    batch: _Batch | None = None


@dataclass(eq=False)
class _Batch:
    """One writer turn shared by several requests of this process (group commit)."""

    session: Session
    now_s: int
    start: int  # the committed sequence the turn started from
    seq: int  # the sequence after the last use case kept so far
    opened: float  # time.monotonic() when the lock was taken
    lock: RedisLock
    stop_keeping: Callable[[], None]  # stops renewing the lock
    members: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    broken: BaseException | None = None  # the turn cannot commit
    error: BaseException | None = None  # what the commit answered, if it failed
    done: threading.Event = field(default_factory=threading.Event)


class DispatchHost:
    """A process's replica of the area's dispatcher and the single-writer protocol around it.

    Group commit: requests of one process that want to write while a turn is running wait
    for it and then share the next turn (up to ``max_batch`` of them, in arrival order).
    Each runs its use case in its own thread, one after the other, inside a SAVEPOINT of the
    turn's transaction; one that fails is undone alone (its rows by the savepoint, the
    replica by replaying the log inside the transaction). The turn takes the Redis lock,
    catches up and commits once for all of them, and only then does any of them answer."""

    def __init__(
        self,
        world: World,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        prefix: str,
        clock: Callable[[], int],
        max_batch: int = MAX_BATCH,
        reads: sessionmaker[Session] | None = None,
    ) -> None:
        self.world = world
        self.sessions = sessions  # the writer's and the replica's (a small pool of their own)
        self.reads = reads or sessions  # for use cases' checks before their turn
        self.redis = client
        self.prefix = prefix
        self.keys = RedisKeys(prefix)
        self.clock = clock
        self.area = world.key
        self.max_batch = max_batch
        self._local = threading.RLock()  # guards the replica
        self._cv = threading.Condition()  # guards the queue and ``_writing``
        self._queue: deque[_Ticket] = deque()
        self._active = False  # a turn is open (or being opened or committed)
        self._writing = False  # the replica holds a turn's uncommitted changes
        self._owner: int | None = None  # the thread running a use case of the open turn
        self._readers_waiting = 0  # reads waiting for the open turn to commit
        self._dispatcher = world.new_dispatcher()
        self.seq = 0  # the last committed log entry the replica has applied
        self.turns = 0  # turns this process committed
        self.use_cases = 0  # use cases in those turns
        self.turn_s = 0.0  # time those turns held the area's lock, in all
        self.lock_wait_s = 0.0  # time spent waiting for the area's lock, in all
        self._checked = float("-inf")  # when the replica last asked the database
        self._fingerprint: str | None = None
        self._base: tuple[int, bytes] | None = None  # the newest snapshot (seq, blob) here
        self._since_base_s = 0.0  # seconds of turns (or replay) since that snapshot

    @property
    def channel(self) -> str:
        return self.keys.changes(self.area)

    def stats(self) -> dict[str, float]:
        """This process's writer so far: committed turns, use cases in them, seconds the
        turns held the area's lock and seconds spent waiting for it."""
        return {"turns": self.turns, "use_cases": self.use_cases,
                "turn_s": round(self.turn_s, 3), "lock_wait_s": round(self.lock_wait_s, 3)}  # fmt: skip

    @property
    def readers_waiting(self) -> int:
        """Reads of this process waiting for the open turn to commit."""
        with self._cv:
            return self._readers_waiting

    @property
    def waiting(self) -> int:
        """Use cases of this process waiting for a place in a turn."""
        with self._cv:
            return len(self._queue)

    def _replay(self, session: Session, after: int) -> int:
        """Apply the log entries after ``after`` that ``session`` sees; the last one's seq."""
        rows = session.scalars(
            select(DispatchLogEntry)
            .where(DispatchLogEntry.area == self.area, DispatchLogEntry.seq > after)
            .order_by(DispatchLogEntry.seq)
        ).all()
        for row in rows:
            if row.seq != after + 1:
                raise RuntimeError(f"dispatch log gap: {after} then {row.seq}")
            decode(row.op, row.payload).run(self._dispatcher, self.world, row.now_s)
            after = row.seq
        return after

    def _catch_up(self, session: Session) -> None:
        """Apply what was committed since; an empty replica starts from the newest snapshot.
        A long replay (a start-up) leaves a snapshot behind for the next one."""
        if self.seq == 0:
            self._dispatcher, self.seq = self._from_snapshot(session)
        started = time.monotonic()
        self.seq = self._replay(session, self.seq)
        metrics.REPLICA_SEQ.set(self.seq)
        if self.seq != self.snapshot_seq and self._snapshot_due(time.monotonic() - started):
            self._store(self._snapshot())

    def _snapshot_due(self, spent_s: float) -> bool:
        """Count ``spent_s`` more seconds of applying entries; whether a snapshot is due."""
        self._since_base_s += spent_s
        return (self.seq - self.snapshot_seq >= SNAPSHOT_EVERY
                or self._since_base_s >= SNAPSHOT_AFTER_S)  # fmt: skip

    @property
    def snapshot_seq(self) -> int:
        """The log entry of this process's newest snapshot (0: none yet)."""
        return self._base[0] if self._base else 0

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.world)
        return self._fingerprint

    def _from_snapshot(self, session: Session) -> tuple[Dispatcher, int]:
        """The newest usable snapshot of this area (one whose log entry is there), else an
        empty dispatcher at 0. A snapshot that does not restore here is skipped, logged."""
        row = session.execute(
            select(DispatchSnapshot.seq, DispatchSnapshot.payload)
            .join(DispatchLogEntry, (DispatchLogEntry.area == DispatchSnapshot.area)
                  & (DispatchLogEntry.seq == DispatchSnapshot.seq))
            .where(DispatchSnapshot.area == self.area,
                   DispatchSnapshot.fingerprint == self.fingerprint)
            .order_by(DispatchSnapshot.seq.desc())
            .limit(1)
        ).first()  # fmt: skip
        if row is not None:
            self._base = (row.seq, row.payload)
        return self._fresh()

    def _fresh(self) -> tuple[Dispatcher, int]:
        """The replica as of this process's newest snapshot (or empty at 0, logged, when
        there is none or it does not restore here), for a replay of the rest."""
        if self._base is not None:
            seq, blob = self._base
            try:
                return restore(self.world, blob), seq
            except Exception as exc:  # a cache: whatever went wrong, the log is the truth
                log.warning("snapshot %d of %s not used (%s): replaying the whole log",
                            seq, self.area, exc)  # fmt: skip
                self._base = None
        return self.world.new_dispatcher(), 0

    def _snapshot(self) -> tuple[int, bytes]:
        """A snapshot of the replica now (committed state only), kept as this process's base."""
        self._base = (self.seq, capture(self._dispatcher, self.world))
        self._since_base_s = 0.0
        return self._base

    def _store(self, snapshot: tuple[int, bytes]) -> None:
        """Write a snapshot (and drop the area's older ones); a failure only costs replay time."""
        seq, blob = snapshot
        try:
            with self.sessions() as session:
                session.add(DispatchSnapshot(area=self.area, seq=seq, fingerprint=self.fingerprint,
                                             payload=blob, at=now_utc()))  # fmt: skip
                session.flush()
                session.execute(delete(DispatchSnapshot).where(
                    DispatchSnapshot.area == self.area,
                    DispatchSnapshot.seq < seq - SNAPSHOT_EVERY))  # fmt: skip
                session.commit()
        except Exception as exc:  # another process wrote the same one, or the database is down
            log.info("snapshot %d of %s not stored: %s", seq, self.area, exc)

    def _rebuild(self) -> None:
        self._dispatcher = self.world.new_dispatcher()
        self.seq = 0
        with self.sessions() as session:
            self._catch_up(session)

    def _reset(self) -> None:
        """Rebuild the replica from the committed log; if the database cannot be read now,
        leave it empty at sequence 0 (consistent: the next reader or turn catches up)."""
        try:
            self._rebuild()
        except Exception as exc:
            log.warning("dispatch replica of %s not rebuilt yet: %s", self.area, exc)

    @contextmanager
    def _replica(self) -> Iterator[bool]:
        """The replica to this thread alone; True when it is this thread's own open turn.

        A read that had to wait for a turn goes before the next turn: that turn's lead waits
        for the reads that were waiting (up to ``READER_GRACE_S``), so a stream of writes
        cannot keep reads (and the pooled connections their requests hold) waiting."""
        me = threading.get_ident()
        waiting = False
        try:
            while True:
                with self._cv:
                    while self._writing and self._owner != me:
                        if not waiting:
                            waiting = True
                            self._readers_waiting += 1
                        self._cv.wait()
                with self._local:
                    if self._writing and self._owner != me:
                        continue  # a turn opened in between: wait for its commit
                    if waiting:
                        waiting = False
                        self._reader_in()
                    yield self._writing
                    return
        finally:
            if waiting:
                self._reader_in()

    def _reader_in(self) -> None:
        with self._cv:
            self._readers_waiting -= 1
            self._cv.notify_all()

    def retime_if_behind(self) -> None:
        """Re-time now any vehicle whose plan time has overtaken (a writer turn does it first
        thing), so that what is read next tells the truth about lateness even when nothing
        else has been written since: a van with its tablet off sends no GPS that would."""
        with self.read() as d:
            behind = d.behind(self.clock())
        if behind:
            with self.write():
                pass  # the turn's housekeeping re-times them

    def now(self) -> datetime:
        """The service clock's time (simulated in tests and demos), as an aware datetime."""
        return at(self.clock())

    @contextmanager
    def read(self) -> Iterator[DispatchView]:
        """The replica, caught up with everything committed so far, read-only.

        Redis's latest sequence lets a current replica skip the database; without Redis (or
        once ``RECHECK_S`` have passed, in case a writer could not update that key) the
        replica asks the database. Copy what you need and leave: the replica is locked while
        the block runs. Reads wait while a turn has uncommitted changes (inside a use case,
        a read sees the turn's own state)."""
        with self._replica() as own_turn:
            if not own_turn:
                try:
                    latest = self.redis.get(self.keys.seq(self.area))
                except redis.RedisError:
                    latest = None  # reads go on without Redis
                stale = time.monotonic() - self._checked > RECHECK_S
                if latest is None or int(latest) != self.seq or stale:
                    with self.sessions() as session:
                        self._catch_up(session)
                    self._checked = time.monotonic()
            yield DispatchView(self._dispatcher)

    @contextmanager
    def write(self) -> Iterator[Step]:
        """A use case's place in a writer turn; it answers only once the turn committed.

        On failure nothing of it is left behind: a :class:`DrtError` after commands, or any
        other exception, undoes this use case alone; a failed commit fails every use case of
        the turn (503 when another writer fenced it). The turn's lead is passed on whatever
        happens, Redis failures included: a Redis restart costs the turns that ran into it
        a 503, and the next turn proceeds."""
        started = time.monotonic()
        ticket = self._enter(started)
        batch = ticket.batch
        if batch is None:
            try:
                batch = self._open(started)
            except BaseException:
                self._pass_lead()
                raise
        failure: BaseException | None = None
        try:
            with self._member(batch) as step:
                yield step
        except BaseException as exc:
            failure = exc
        self._next(batch)
        batch.done.wait()
        if failure is not None and (batch.error is None or isinstance(failure, DrtError)):
            raise failure  # its own answer (a refusal stands whatever became of the turn)
        if isinstance(batch.error, DrtError):
            raise copy.copy(batch.error) from failure  # one instance per answering thread
        if batch.error is not None:
            raise batch.error from failure

    def _enter(self, started: float) -> _Ticket:
        ticket = _Ticket()
        with self._cv:
            if not self._active:
                self._active = True
                return ticket  # no turn running: lead a new one
            self._queue.append(ticket)
        if not ticket.ready.wait(LOCK_WAIT_S - (time.monotonic() - started)):
            with self._cv:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    raise _busy()
            ticket.ready.wait()  # given the turn just as the wait ran out
        return ticket

    def _pass_lead(self) -> None:
        """The next waiting request leads a new turn; none waiting: no turn is active."""
        with self._cv:
            if self._queue:
                self._queue.popleft().ready.set()  # batch None: it opens the next turn
            else:
                self._active = False

    def _next(self, batch: _Batch) -> None:
        """After a use case: the next waiting request joins this turn, or the turn commits."""
        with self._cv:
            if self._queue and batch.broken is None and batch.members < self.max_batch:
                ticket = self._queue.popleft()
                ticket.batch = batch
                ticket.ready.set()
                return
        try:
            self._close(batch)
        finally:
            self._pass_lead()

    def _open(self, started: float) -> _Batch:
        """Take the area's lock (kept alive while the turn runs) and begin the turn; the
        whole wait, in the queue and for the lock, is at most ``LOCK_WAIT_S``."""
        lock = RedisLock(self.redis, self.keys.writer(self.area), KEPT_TTL_MS)
        asked = time.monotonic()
        try:
            acquired = lock.acquire(LOCK_WAIT_S - (asked - started))
        except redis.RedisError as exc:
            raise _unavailable() from exc
        finally:
            waited = time.monotonic() - asked
            self.lock_wait_s += waited
            metrics.LOCK_WAIT_SECONDS.observe(waited)
        if not acquired:
            raise _busy()
        stop = lock.keep_alive()
        try:
            return self._begin(lock, stop)
        except BaseException:
            self._unlock(lock, stop)
            raise

    def _begin(self, lock: RedisLock, stop: Callable[[], None]) -> _Batch:
        """Catch up with the committed log, then the housekeeping every turn starts with."""
        with self._cv:  # the reads that waited for the last turn go first
            deadline = time.monotonic() + READER_GRACE_S
            while self._readers_waiting and (left := deadline - time.monotonic()) > 0:
                self._cv.wait(left)
        with self._local:
            session = self.sessions()
            step: Step | None = None
            try:
                session.connection()  # before reads wait for this turn: never wait for one
                with self._cv:
                    self._writing, self._owner = True, threading.get_ident()
                self._catch_up(session)
                batch = _Batch(
                    session, self.clock(), self.seq, self.seq, time.monotonic(), lock, stop
                )
                step = self._step(batch)
                self._housekeeping(step)
                self._keep(batch, step)
                return batch
            except BaseException:
                with contextlib.suppress(Exception):
                    session.rollback()
                session.close()
                if step is not None and step.seq != self.seq:  # housekeeping changed it
                    self._reset()
                self._done_writing()
                raise

    def _step(self, batch: _Batch) -> Step:
        return Step(batch.session, batch.now_s, self.world, self.area, batch.seq, self._dispatcher)

    def _keep(self, batch: _Batch, step: Step) -> None:
        batch.seq = step.seq
        batch.events.extend(step.events)
        batch.touched.update(step.touched)

    @contextmanager
    def _member(self, batch: _Batch) -> Iterator[Step]:
        """One use case of the turn, in a SAVEPOINT; undone alone if it fails."""
        with self._local:
            with self._cv:
                self._owner = threading.get_ident()
            batch.members += 1
            try:
                savepoint = batch.session.begin_nested()  # flushes the turn's earlier rows
            except BaseException as exc:
                batch.broken = exc
                raise
            step = self._step(batch)
            step.in_body = True
            try:
                yield step
                savepoint.commit()
            except DrtError as exc:
                if step.body_ops or not self._release(savepoint):
                    self._undo(batch, savepoint, exc)
                    raise
                self._keep(batch, step)  # refused before changing anything: keep the rest
                raise
            except IntegrityError as exc:  # another writer took these steps (fenced), or a bug
                batch.broken = exc
                raise
            except BaseException as exc:
                self._undo(batch, savepoint, exc)
                raise
            self._keep(batch, step)

    @staticmethod
    def _release(savepoint: SessionTransaction) -> bool:
        """RELEASE the savepoint (flushing its rows); False if that failed."""
        try:
            savepoint.commit()
        except Exception:
            return False
        return True

    def _undo(self, batch: _Batch, savepoint: SessionTransaction, cause: BaseException) -> None:
        """Back to the turn before this use case: rows by the savepoint, the replica by
        replaying the log as the turn's transaction sees it (committed + kept entries). If
        that fails (the connection is gone), the turn is broken by ``cause``."""
        try:
            if savepoint.is_active:
                savepoint.rollback()
            self._dispatcher, base = self._fresh()
            replayed = self._replay(batch.session, base)
            if replayed != batch.seq:
                raise RuntimeError(f"undo replayed to {replayed}, the turn is at {batch.seq}")
        except Exception as exc:
            log.warning(
                "use case of a %s turn not undone alone (%s): the turn fails", self.area, exc
            )
            batch.broken = cause

    def _close(self, batch: _Batch) -> None:
        """Commit the turn (or roll it back), release the lock, wake every use case."""
        session = batch.session
        snapshot: tuple[int, bytes] | None = None
        with self._local:
            error = batch.broken
            if error is None:
                try:
                    session.commit()
                except BaseException as exc:
                    error = exc
            try:
                if error is not None:
                    with contextlib.suppress(Exception):
                        session.rollback()
                    self._reset()
                    batch.error = self._fenced(error, batch.start) or error
                else:
                    self.seq = batch.seq
                    self.turns += 1
                    self.use_cases += batch.members
                    spent = time.monotonic() - batch.opened
                    self.turn_s += spent
                    metrics.TURN_SECONDS.observe(spent)
                    metrics.REPLICA_SEQ.set(self.seq)
                    if self._snapshot_due(spent):
                        snapshot = self._snapshot()
            finally:
                session.close()
                self._done_writing()
                self._unlock(batch.lock, batch.stop_keeping)
                try:
                    if error is None:  # before anyone answers: the others must see it
                        self._publish(batch)
                finally:
                    batch.done.set()
        if snapshot is not None:  # after the answers: only the next start-up waits for it
            self._store(snapshot)

    def _done_writing(self) -> None:
        with self._cv:
            self._writing, self._owner = False, None
            self._cv.notify_all()

    def _unlock(self, lock: RedisLock, stop_keeping: Callable[[], None]) -> None:
        stop_keeping()
        try:
            lock.release()
        except redis.RedisError:
            log.warning("dispatch writer lock of %s not released (Redis error); it "
                        "expires by itself", self.area)  # fmt: skip

    def _publish(self, batch: _Batch) -> None:
        if batch.touched:
            batch.events.append({"type": "plan_changed", "vehicles": sorted(batch.touched)})
        try:  # committed: Redis only tells the others sooner (readers recheck the database)
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self.keys.seq(self.area), batch.seq)
                for event in batch.events:
                    pipe.publish(self.channel, json.dumps({**event, "seq": batch.seq}))
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("dispatch change %d of %s committed but not published: %s",
                        batch.seq, self.area, exc)  # fmt: skip

    def _fenced(self, exc: BaseException, start: int) -> ServiceBusy | None:
        """Busy, not broken, when another writer committed during this turn (lock expired)."""
        if isinstance(exc, IntegrityError) and self.seq > start:
            log.warning(
                "dispatch writer fenced: %s took steps after %d while this turn ran (lock "
                "expired mid-turn); rolled back, the client is told to retry",
                self.area, start,
            )  # fmt: skip
            return _busy(reason="writer_fenced")
        return None

    def _housekeeping(self, step: Step) -> None:
        """The service file's parameters logged if the log has not recorded this file yet (an
        admin's later change stays in force until the file itself changes); vehicles for
        every service day ahead; expired holds released; vehicles that fell behind their
        plans re-timed (their riders told); past days ended."""
        file = self.world.file_params or self.world.params
        if step.seq == 0 or self.world.logged_file_params != file.to_json():  # new log, new file
            step.do(SetParams(file.to_json()))
        cal = self.world.config.calendar
        today = cal.local_date(step.now_s)
        view = step.view
        known = set(view.vehicle_ids())
        for day in cal.days(today, self.world.config.policy.book_ahead_days + 1):
            window = cal.window_s(day)
            if window is None:
                continue
            for v in self.world.config.vehicles:
                vid = f"{v.id}@{day.isoformat()}"
                if vid not in known:
                    step.do(VehicleDay(vid, v.seats, v.wheelchairs, self.world.place_of(v.depot),
                                       window[0], window[1]))  # fmt: skip
        if view.has_expired_holds(step.now_s):
            step.do(Expire())
        late = view.behind(step.now_s)
        at_risk: list[str] = []
        if late:
            risk = step.do(Retime())
            at_risk = sorted({r.booking_id for r in risk})
            step.publish("vehicles_behind", late, at_risk=at_risk)
        metrics.VEHICLES_BEHIND.set(len(late))
        metrics.RIDERS_AT_RISK.set(len(at_risk))
        for vid in view.vehicle_ids():  # past days leave
            state = view.vehicle(vid)
            past = vid.rpartition("@")[2] < today.isoformat()
            if state is not None and state.in_service and past and state.planned_stops == 0:
                step.do(EndShift(vid))
