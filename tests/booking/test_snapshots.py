"""Snapshots of the replica: the newest snapshot plus the rest of the log gives exactly the
dispatcher the whole log gives (fleet, bookings, plans, cached plan arrays, the vans' moving
places and their travel times), and a snapshot that cannot stand for the log is not used."""

from __future__ import annotations

import os
import pickle
import random
import threading
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from sqlalchemy import func, select, update

from core import host as host_module
from core import models as m
from core.bookings import trip_request
from core.commands import Cancel, Confirm, Expire, Quote, VehicleAt
from core.host import DispatchHost
from core.schemas import QuoteCreate
from core.snapshots import STATE, SnapshotMismatch, capture, restore
from core.world import World
from dispatch.engine import Dispatcher
from dispatch.model import Offer
from server.migrate import upgrade
from tests.booking.conftest import START, Clock
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services
EVERY = 40  # a snapshot every 40 entries, so a short log has several


def _fresh_world(world: World) -> World:
    """A world of its own (its own place matrix, no moving places yet): a new process."""
    return World.build(world.area, world.router)


def _host(world: World, db: IsolatedDatabase, client: redis.Redis, prefix: str,
          clock: Clock) -> DispatchHost:  # fmt: skip
    return DispatchHost(world, db.sessionmaker(), client, prefix, clock)


def _grow(host: DispatchHost, world: World, clock: Clock, turns: int, seed: int = 7) -> None:
    """Quotes (some confirmed, some left to expire, some cancelled), and vans reporting
    positions on roads between the meeting points, one writer turn at a time."""
    rng = random.Random(seed)
    stops = [p.id for p in world.stops.points]
    nodes = sorted(set(range(world.router.csr.shape[0])) - set(world.places.nodes))
    confirmed: list[str] = []
    for i in range(turns):
        clock.advance(rng.randint(5, 40))
        with host.write() as step:
            kind = rng.random()
            today = datetime.fromtimestamp(step.now_s, START.tzinfo).date().isoformat()
            vans = [v for v in step.view.vehicle_ids() if v.endswith(today)]  # on the road
            if kind < 0.15 and vans:
                step.do(VehicleAt(vans[i % len(vans)], rng.choice(nodes), clock.now_s, False))
            elif kind < 0.25 and confirmed:
                step.do(Cancel(confirmed.pop(rng.randrange(len(confirmed)))))
            else:
                o, d = rng.sample(stops, 2)
                when = datetime.fromtimestamp(clock.now_s, START.tzinfo) + timedelta(
                    minutes=rng.randint(30, 240)
                )
                body = QuoteCreate.model_validate({
                    "origin": o, "destination": d, "mode": "depart_at",
                    "passengers": {"adult": rng.randint(1, 2)}, "time": when.isoformat(),
                })  # fmt: skip
                offer = step.do(Quote(trip_request(world, body, "app", step.now_s)))
                if isinstance(offer, Offer) and rng.random() < 0.7:
                    confirmed.append(step.do(Confirm(offer.booking_id)).id)
        if i % 25 == 24:
            clock.advance(400)  # the unconfirmed holds run out
            with host.write() as step:
                step.do(Expire())


def _written(db: IsolatedDatabase, client: redis.Redis, prefix: str, world: World,
             turns: int) -> tuple[Clock, World, DispatchHost]:  # fmt: skip
    """A writer in a world of its own that has taken ``turns`` turns of :func:`_grow`."""
    clock = Clock(START)
    w0 = _fresh_world(world)
    writer = _host(w0, db, client, prefix, clock)
    _grow(writer, w0, clock, turns)
    return clock, w0, writer


def _same(a: Dispatcher, wa: World, b: Dispatcher, wb: World) -> None:
    for name in STATE:
        if name != "_blocks":
            assert getattr(a, name) == getattr(b, name), name
    for vid in a._blocks.keys() & b._blocks.keys():  # a cache: what both hold is the same
        block, other = a._blocks[vid], b._blocks[vid]
        assert block.entries == other.entries
        for arr in ("rows", "partner", "ride_from"):
            assert np.array_equal(getattr(block, arr), getattr(other, arr)), (vid, arr)
        assert (block.load0, block.load0_w) == (other.load0, other.load0_w)
    assert wa.places.nodes == wb.places.nodes
    assert wa.places.slots == wb.places.slots
    assert np.array_equal(wa.places.duration_s, wb.places.duration_s)
    assert np.array_equal(a.travel_s, b.travel_s)
    for vid in a.vehicles:
        assert a.plan(vid) == b.plan(vid), vid


@pytest.fixture
def log_db(db_schema: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch) -> IsolatedDatabase:
    upgrade(db_schema.engine)
    monkeypatch.setattr(host_module, "SNAPSHOT_EVERY", EVERY)
    monkeypatch.setattr(host_module, "SNAPSHOT_AFTER_S", 1e9)  # by entries only, unless set
    return db_schema


def test_snapshot_and_the_rest_of_the_log_give_the_whole_log_s_dispatcher(
    log_db: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> None:
    clock, w0, writer = _written(log_db, redis_client, redis_prefix, world, 150)
    with log_db.sessionmaker()() as session:
        snaps = list(
            session.scalars(select(m.DispatchSnapshot.seq).order_by(m.DispatchSnapshot.seq))
        )
        ops = set(session.scalars(select(m.DispatchLogEntry.op)))
    assert {"quote", "confirm", "cancel", "vehicle_at", "expire"} <= ops
    assert snaps  # written as the log grew ...
    assert len(snaps) <= 3  # ... the older ones dropped
    assert 0 < writer.seq - snaps[-1] < EVERY + 40

    w1 = _fresh_world(world)
    started = _host(w1, log_db, redis_client, redis_prefix, clock)
    with started.read():
        pass
    assert started._base is not None
    assert started._base[0] == snaps[-1]  # it started from the newest snapshot

    w2 = _fresh_world(world)
    replayed = _host(w2, log_db, redis_client, redis_prefix, clock)
    replayed._fingerprint = "another release"  # reads no snapshot: the whole log
    with replayed.read():
        pass
    assert replayed.seq == started.seq == writer.seq
    assert w2.places.slots  # the van reported from roads between the meeting points
    _same(replayed._dispatcher, w2, started._dispatcher, w1)
    _same(replayed._dispatcher, w2, writer._dispatcher, w0)

    # and both go on the same way: the same requests get the same answers
    stops = world.stops.points
    now = datetime.fromtimestamp(clock.now_s, START.tzinfo)
    answers: list[list[Any]] = [[], []]
    for k in range(8):
        body = QuoteCreate.model_validate({
            "origin": stops[3 + k].id, "destination": stops[120 - k].id, "mode": "depart_at",
            "passengers": {"adult": 1}, "time": (now + timedelta(days=1, minutes=35 * k)).isoformat(),
        })  # fmt: skip
        request = trip_request(w1, body, "app", clock.now_s)
        for i, (w, h) in enumerate(((w1, started), (w2, replayed))):
            answers[i].append(Quote(request).run(h._dispatcher, w, clock.now_s))
    assert answers[0] == answers[1]
    assert any(isinstance(a, Offer) for a in answers[0]), answers[0][:2]


def test_a_use_case_undone_from_the_snapshot_leaves_the_replica_as_the_log_has_it(
    log_db: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> None:
    clock, w0, writer = _written(log_db, redis_client, redis_prefix, world, 60)
    assert writer._base is not None  # the undo starts from it
    stops = world.stops.points
    body = QuoteCreate.model_validate({
        "origin": stops[10].id, "destination": stops[50].id, "mode": "depart_at",
        "passengers": {"adult": 1}, "time": (datetime.fromtimestamp(clock.now_s, START.tzinfo) + timedelta(hours=2)).isoformat(),
    })  # fmt: skip

    def failing() -> None:
        with writer.write() as step:
            step.do(Quote(trip_request(w0, body, "app", step.now_s)))
            raise RuntimeError("the use case fails after its command")

    with pytest.raises(RuntimeError, match="fails after its command"):
        failing()
    w1 = _fresh_world(world)
    replayed = _host(w1, log_db, redis_client, redis_prefix, clock)
    replayed._fingerprint = "no snapshots"
    with replayed.read():
        pass
    assert replayed.seq == writer.seq
    _same(replayed._dispatcher, w1, writer._dispatcher, w0)


def test_a_snapshot_that_does_not_restore_is_skipped_and_the_whole_log_replayed(
    log_db: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    clock, w0, writer = _written(log_db, redis_client, redis_prefix, world, 60)
    with log_db.sessionmaker()() as session:
        session.execute(update(m.DispatchSnapshot).values(payload=b"not a snapshot"))
        session.commit()
    w1 = _fresh_world(world)
    started = _host(w1, log_db, redis_client, redis_prefix, clock)
    with started.read():
        pass
    assert "not used" in caplog.text
    assert started.seq == writer.seq
    _same(writer._dispatcher, w0, started._dispatcher, w1)
    with log_db.sessionmaker()() as session:  # the long replay left a good one behind
        assert session.scalar(select(func.max(m.DispatchSnapshot.seq))) == writer.seq


def test_a_snapshot_refuses_a_dispatcher_with_state_it_does_not_carry(world: World) -> None:
    d = world.new_dispatcher()
    capture(d, world)  # today's fields are all known
    d.cache_of_something: Any = {}  # type: ignore[attr-defined]  # a field added later
    with pytest.raises(SnapshotMismatch, match="cache_of_something"):
        capture(d, world)


def test_two_writers_storing_the_same_snapshot_keep_one(
    log_db: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> None:
    *_, writer = _written(log_db, redis_client, redis_prefix, world, 20)
    snapshot = writer._snapshot()
    threads = [threading.Thread(target=writer._store, args=(snapshot,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with log_db.sessionmaker()() as session:
        rows = session.scalar(
            select(func.count())
            .select_from(m.DispatchSnapshot)
            .where(m.DispatchSnapshot.seq == snapshot[0])
        )
    assert rows == 1


def test_a_snapshot_naming_anything_but_dispatcher_data_is_refused_not_run(
    world: World, tmp_path: Path
) -> None:
    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    blob = zlib.compress(pickle.dumps({"format": 1, "state": {}, "slots": [], "x": Payload()}))
    with pytest.raises(SnapshotMismatch, match="may not name"):
        restore(_fresh_world(world), blob)
    assert not (tmp_path / "ran").exists()


def test_a_snapshot_is_also_due_after_enough_seconds_of_turns(
    log_db: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Entries cost more as the plans fill up (a quote on a full fleet searches longer), so a
    snapshot is due after ``SNAPSHOT_AFTER_S`` of turns even before ``SNAPSHOT_EVERY``."""
    clock, w0, writer = _written(log_db, redis_client, redis_prefix, world, 5)
    assert writer.snapshot_seq == 0  # 5 turns: fewer entries than EVERY
    monkeypatch.setattr(host_module, "SNAPSHOT_AFTER_S", 0.0)  # any turn is long enough
    _grow(writer, w0, clock, 1, seed=3)
    assert writer.snapshot_seq == writer.seq
    with log_db.sessionmaker()() as session:
        assert session.scalar(select(func.max(m.DispatchSnapshot.seq))) == writer.seq
