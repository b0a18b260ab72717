"""Group commit: use cases of one process that arrive while a turn runs join it.

The first use case is held inside its turn until the others have queued behind it, so the
turns are known exactly; nothing here depends on timing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import redis
from sqlalchemy import func, select

from common.errors import InvalidInput
from core import models as m
from core.commands import Expire
from core.host import DispatchHost, Step, _Batch
from core.world import World
from server.migrate import upgrade
from tests.booking.conftest import START, Clock
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services
Body = Callable[[Step], None]


def logged(db: IsolatedDatabase) -> int:
    with db.sessionmaker()() as session:
        return int(session.scalar(select(func.count()).select_from(m.DispatchLogEntry)) or 0)


def run_queued(host: DispatchHost, bodies: list[Body]) -> list[BaseException | None]:
    """Hold a first use case inside its turn until every body has queued behind it, then
    let all run; what each answered (the first one's last)."""
    hold, inside = threading.Event(), threading.Event()
    outcomes: list[BaseException | None] = [None] * (len(bodies) + 1)

    def first() -> None:
        try:
            with host.write() as step:
                inside.set()
                assert hold.wait(30)
                step.do(Expire())
        except BaseException as exc:
            outcomes[-1] = exc

    def member(i: int) -> None:
        try:
            with host.write() as step:
                bodies[i](step)
        except BaseException as exc:
            outcomes[i] = exc

    lead = threading.Thread(target=first)
    lead.start()
    assert inside.wait(30)
    threads = []
    for i in range(len(bodies)):  # queued in this order
        t = threading.Thread(target=member, args=(i,))
        t.start()
        threads.append(t)
        while host.waiting < i + 1:
            t.join(0.001)
    hold.set()
    for t in [lead, *threads]:
        t.join(60)
    return outcomes


@pytest.fixture
def host(
    db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> DispatchHost:
    upgrade(db_schema.engine)
    h = DispatchHost(world, db_schema.sessionmaker(), redis_client, redis_prefix, Clock(START))
    with h.write() as step:  # the service days, so later turns have no housekeeping
        step.do(Expire())
    return h


def test_waiting_use_cases_share_one_turn_and_one_commit(
    host: DispatchHost, db_schema: IsolatedDatabase
) -> None:
    before_turns, before_log = host.turns, logged(db_schema)
    outcomes = run_queued(host, [lambda step: step.do(Expire())] * 5)
    assert outcomes == [None] * 6
    assert host.turns == before_turns + 1  # the five joined the held one's turn
    assert logged(db_schema) == before_log + 6 == host.seq


def test_a_use_case_that_fails_is_undone_alone(
    host: DispatchHost,
    db_schema: IsolatedDatabase,
    redis_client: redis.Redis,
    redis_prefix: str,
    world: World,
) -> None:
    def refused_after_a_command(step: Step) -> None:
        step.do(Expire())
        raise InvalidInput("だめです。", "Refused after changing the plan.")

    def broken(step: Step) -> None:
        step.do(Expire())
        step.do(Expire())
        raise RuntimeError("a bug in a use case")

    def fine(step: Step) -> None:
        step.do(Expire())

    before = logged(db_schema)
    outcomes = run_queued(host, [fine, refused_after_a_command, fine, broken, fine])
    assert [outcomes[i] for i in (0, 2, 4, 5)] == [None, None, None, None]
    assert isinstance(outcomes[1], InvalidInput)
    assert isinstance(outcomes[3], RuntimeError)
    # the lead's command and the three that succeeded; nothing of the two that failed
    assert logged(db_schema) == before + 4 == host.seq
    fresh = DispatchHost(world, db_schema.sessionmaker(), redis_client, redis_prefix, Clock(START))
    with fresh.read() as a, host.read() as b:  # the replica is exactly the committed log
        assert fresh.seq == host.seq
        assert {v: a.signature(v) for v in a.vehicle_ids()} == {
            v: b.signature(v) for v in b.vehicle_ids()
        }


def test_a_failed_commit_fails_every_use_case_of_the_turn(
    host: DispatchHost, db_schema: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, seq = logged(db_schema), host.seq
    real_close = DispatchHost._close

    def close_failing(self: DispatchHost, batch: _Batch) -> None:
        batch.broken = RuntimeError("commit refused (the database went away)")
        real_close(self, batch)

    monkeypatch.setattr(DispatchHost, "_close", close_failing)
    outcomes = run_queued(host, [lambda step: step.do(Expire())] * 3)
    assert all(isinstance(o, RuntimeError) for o in outcomes), outcomes
    assert logged(db_schema) == before  # nothing of the turn
    assert host.seq == seq
    monkeypatch.undo()
    with host.write() as step:  # and the next turn works
        step.do(Expire())
    assert host.seq == seq + 1


def test_a_read_waits_for_the_open_turn_and_a_use_case_reads_its_own(
    host: DispatchHost,
) -> None:
    seen: list[int] = []
    inside, hold = threading.Event(), threading.Event()

    def writer() -> None:
        with host.write() as step:
            step.do(Expire())
            with host.read() as d:  # inside the turn: its own state, no deadlock
                seen.append(len(d.vehicle_ids()))
            inside.set()
            assert hold.wait(30)

    def reader() -> None:
        with host.read():
            seen.append(host.seq)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(30)
    start = host.seq
    r = threading.Thread(target=reader)
    r.start()
    r.join(0.5)
    assert r.is_alive()  # blocked: the turn has uncommitted changes
    hold.set()
    t.join(30)
    r.join(30)
    assert seen[1] == start + 1  # the reader saw the committed turn, not the open one


def test_no_use_case_answers_before_the_turn_is_published(
    host: DispatchHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The latest sequence goes to Redis before anyone answers: a rider who is told "booked"
    and asks the other worker at once must not be served from its older replica."""
    answered_first: list[bool] = []
    real = DispatchHost._publish

    def publish(self: DispatchHost, batch: _Batch) -> None:
        answered_first.append(batch.done.is_set())
        real(self, batch)

    monkeypatch.setattr(DispatchHost, "_publish", publish)
    outcomes = run_queued(host, [lambda step: step.do(Expire())] * 3)
    assert outcomes == [None] * 4
    assert answered_first == [False]
