"""The single-writer protocol when a writer's lock expires while it is still working."""

from __future__ import annotations

import threading

import pytest
import redis
from sqlalchemy import select

from common.errors import ServiceBusy, ServiceUnavailable
from common.redis import RedisLock
from core import models as m
from core.commands import Expire
from core.host import DispatchHost, Step
from core.world import World
from server.migrate import upgrade
from tests.booking.conftest import START, Clock
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def test_a_writer_that_lost_its_lock_answers_busy_and_commits_nothing(
    db_schema: IsolatedDatabase,
    redis_client: redis.Redis,
    redis_prefix: str,
    world: World,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upgrade(db_schema.engine)
    sessions = db_schema.sessionmaker()
    clock = Clock(START)
    # Two processes whose locks do not see each other: exactly what a stalled writer whose
    # lock expired looks like to the one that took the lock next.
    stalled = DispatchHost(world, sessions, redis_client, f"{redis_prefix}a:", clock)
    other = DispatchHost(world, sessions, redis_client, f"{redis_prefix}b:", clock)
    caught_up = threading.Event()
    real = other._housekeeping

    def housekeeping(step: Step) -> None:
        caught_up.set()  # it has read the committed log: the two turns overlap
        real(step)

    monkeypatch.setattr(other, "_housekeeping", housekeeping)
    answers: list[BaseException | None] = []

    def late() -> None:
        try:
            with other.write():
                pass  # the same steps: the service days
            answers.append(None)
        except BaseException as exc:
            answers.append(exc)

    thread = threading.Thread(target=late)
    with stalled.write() as step:
        assert step.seq > 0  # this turn logged the service days (flushed, not committed)
        thread.start()
        assert caught_up.wait(30)
    thread.join(60)
    [answer] = answers  # the second to reach the log lost: it answers busy, commits nothing
    assert isinstance(answer, ServiceBusy), answer
    assert answer.details == {"reason": "writer_fenced"}
    assert "dispatch writer fenced" in caplog.text  # operations staff can see it happened
    with sessions() as session:
        seqs = session.scalars(select(m.DispatchLogEntry.seq).order_by(m.DispatchLogEntry.seq))
        assert list(seqs) == list(range(1, stalled.seq + 1))  # one copy of each step, no gap
    assert other.seq == stalled.seq  # the fenced replica was rebuilt from the committed log
    with stalled.read() as a, other.read() as b:
        assert a.vehicle_ids() == b.vehicle_ids()
    with other.write() as step:  # and it writes normally again
        step.do(Expire())
    assert other.seq == stalled.seq + 1


@pytest.mark.parametrize("failing", ["acquire", "release"])
def test_a_redis_error_in_the_writer_lock_does_not_keep_the_process_gate(
    db_schema: IsolatedDatabase,
    redis_client: redis.Redis,
    redis_prefix: str,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    """Redis restarting under a turn: that turn may fail (503), the next one must not wait."""
    upgrade(db_schema.engine)
    host = DispatchHost(world, db_schema.sessionmaker(), redis_client, redis_prefix, Clock(START))
    real = getattr(RedisLock, failing)
    calls = []

    def flaky(self: RedisLock, *args: object) -> object:
        calls.append(failing)
        if len(calls) == 1:
            raise redis.ConnectionError("Connection refused (Redis restarting)")
        return real(self, *args)

    monkeypatch.setattr(RedisLock, failing, flaky)
    monkeypatch.setattr("core.host.LOCK_WAIT_S", 1.0)  # a stuck gate shows as busy at once
    if failing == "acquire":
        with pytest.raises(ServiceUnavailable) as caught, host.write():
            pass
        assert caught.value.http_status == 503
    else:
        with host.write() as step:  # committed; the lock's key just expires by itself
            step.do(Expire())
        redis_client.delete(host.keys.writer(host.area))  # the restarted Redis lost it
    before = host.seq
    with host.write() as step:
        step.do(Expire())
    assert host.seq > before  # the next turn ran and committed at once


def test_reads_go_on_while_redis_is_down(
    db_schema: IsolatedDatabase,
    redis_client: redis.Redis,
    redis_prefix: str,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upgrade(db_schema.engine)
    sessions = db_schema.sessionmaker()
    writer = DispatchHost(world, sessions, redis_client, redis_prefix, Clock(START))
    reader = DispatchHost(world, sessions, redis_client, redis_prefix, Clock(START))
    with writer.write() as step:
        step.do(Expire())

    def down(*_: object, **__: object) -> None:
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(redis_client, "get", down)
    with reader.read() as d:  # from the database instead
        assert d.vehicle_ids()
    assert reader.seq == writer.seq
