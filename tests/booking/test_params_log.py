"""New service parameters do not rewrite history: the log says which parameters each
request was decided with (``set_params``), so a process started with a changed
``service.toml`` replays the old requests as they were decided and applies the new
parameters from its first turn on."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis
from sqlalchemy import select

from core import models as m
from core.host import DispatchHost
from core.world import World
from server.migrate import upgrade
from tests.booking.conftest import START, Clock
from tests.booking.test_snapshots import _fresh_world, _grow
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def _with(world: World, **params: int) -> World:
    """A new process whose ``service.toml`` says these parameters."""
    changed = replace(world.params, **params)
    return replace(_fresh_world(world), params=changed, file_params=changed)


def test_a_changed_service_file_does_not_change_what_was_decided(
    db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> None:
    upgrade(db_schema.engine)
    clock = Clock(START)
    sessions = db_schema.sessionmaker()
    before = _with(world, promise_slack_s=0)
    first = DispatchHost(before, sessions, redis_client, redis_prefix, clock)
    _grow(first, before, clock, turns=40)
    with sessions() as session:
        assert (
            session.scalars(select(m.DispatchLogEntry.op).where(m.DispatchLogEntry.seq == 1)).one()
            == "set_params"
        )  # a new log starts with the rules in force

    after = _with(world, promise_slack_s=240)  # the file changed, the service restarted
    restarted = DispatchHost(after, sessions, redis_client, redis_prefix + "b:", clock)
    with restarted.read() as view:
        assert view.params == before.params  # the log's rules, not the file's
    assert restarted._dispatcher.bookings == first._dispatcher.bookings  # decided as they were
    assert restarted._dispatcher.plans == first._dispatcher.plans

    with restarted.write():
        pass  # its first turn logs the new rules
    with restarted.read() as view:
        assert view.params == after.params
    with sessions() as session:
        last = session.scalars(
            select(m.DispatchLogEntry.op).order_by(m.DispatchLogEntry.seq.desc()).limit(1)
        ).one()
    assert last == "set_params"
    replayed = DispatchHost(_with(world, promise_slack_s=240), sessions, redis_client,
                            redis_prefix + "c:", clock)  # fmt: skip
    with replayed.read() as view:
        assert view.params == after.params
    assert replayed._dispatcher.bookings == restarted._dispatcher.bookings
