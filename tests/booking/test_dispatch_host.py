"""The single-writer protocol when a writer's lock expires while it is still working."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import select

from booking import models as m
from booking.dispatch_host import DispatchHost
from booking.errors import ServiceBusy
from booking.migrate import upgrade
from booking.world import World
from tests.booking.conftest import START, Clock
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def test_a_writer_that_lost_its_lock_answers_busy_and_commits_nothing(
    db_schema: IsolatedDatabase,
    redis_client: redis.Redis,
    redis_prefix: str,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upgrade(db_schema.engine)
    sessions = db_schema.sessionmaker()
    clock = Clock(START)
    # Two processes whose locks do not see each other: exactly what a stalled writer whose
    # lock expired looks like to the one that took the lock next.
    stalled = DispatchHost(world, sessions, redis_client, f"{redis_prefix}a:", clock)
    other = DispatchHost(world, sessions, redis_client, f"{redis_prefix}b:", clock)
    with pytest.raises(ServiceBusy) as caught:
        overlapping_turns(stalled, other)
    assert caught.value.details == {"reason": "writer_fenced"}
    assert "dispatch writer fenced" in caplog.text  # operations staff can see it happened
    with sessions() as session:
        seqs = session.scalars(select(m.DispatchLogEntry.seq).order_by(m.DispatchLogEntry.seq))
        assert list(seqs) == list(range(1, other.seq + 1))  # one copy of each step, no gap
    assert stalled.seq == other.seq  # the stalled replica was rebuilt from the committed log
    assert stalled.dispatcher.vehicles.keys() == other.dispatcher.vehicles.keys()
    with stalled.write() as step:  # and it writes normally again
        step.do("expire")
    assert stalled.seq == other.seq + 1


def overlapping_turns(stalled: DispatchHost, other: DispatchHost) -> None:
    with stalled.write() as step:
        assert step.seq > 0  # this turn logged the service days (not yet flushed)
        with other.write():
            pass  # the next writer takes the same steps and commits them first
