"""Through the dispatch host: a van that fell behind is re-timed by the next turn, and
quoting goes on (it used to refuse every quote for the rest of the day)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from core import models as m
from core.bookings import trip_request
from core.commands import Confirm, Quote
from core.host import DispatchHost
from core.schemas import QuoteCreate
from core.world import World
from dispatch.model import Offer
from server.migrate import upgrade
from tests.booking.conftest import START, Clock
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def _quote(host: DispatchHost, world: World, o: str, d: str, minutes: int) -> object:
    body = QuoteCreate.model_validate({
        "origin": o, "destination": d, "mode": "depart_at", "passengers": {"adult": 1},
        "time": (START + timedelta(minutes=minutes)).isoformat(),
    })  # fmt: skip
    with host.write() as step:
        offer = step.do(Quote(trip_request(world, body, "app", step.now_s)))
        if isinstance(offer, Offer):
            step.do(Confirm(offer.booking_id))
        return offer


def test_a_van_that_fell_behind_is_re_timed_and_later_quotes_are_offered(
    db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str, world: World
) -> None:
    upgrade(db_schema.engine)
    clock = Clock(START)  # 10:00
    host = DispatchHost(world, db_schema.sessionmaker(), redis_client, redis_prefix, clock)
    pubsub = redis_client.pubsub()
    pubsub.subscribe(host.channel)
    early = _quote(host, world, "KUR-150", "KUR-020", 10)  # 10:10 across the town
    assert isinstance(early, Offer)
    clock.advance(45 * 60)  # 10:45: the van never reported picking the rider up
    later = _quote(host, world, "KUR-040", "KUR-041", 150)  # 12:30
    assert isinstance(later, Offer), later
    with db_schema.sessionmaker()() as session:
        ops = list(session.scalars(select(m.DispatchLogEntry.op).order_by(m.DispatchLogEntry.seq)))
    assert "retime" in ops
    events = []
    while (msg := pubsub.get_message(timeout=1.0)) is not None:
        if msg["type"] == "message":
            events.append(msg["data"])
    assert any("vehicles_behind" in e and early.booking_id in e for e in events), events
    with host.read() as view:
        rider = view.booking(early.booking_id)
        assert rider is not None
        assert rider.promise_broken  # and its window widened to what is now possible
        stops = view.plan(early.vehicle_id)
        # the tablet's manifest has a time for every stop again (it showed 予定 --:--)
        assert stops
        assert all(s.planned_s >= clock.now_s for s in stops)
    replica = DispatchHost(world, db_schema.sessionmaker(), redis_client, redis_prefix + "r:",
                           clock)  # fmt: skip
    with replica.read() as a, host.read() as b:  # the log replays to the same plans
        assert {v: a.plan(v) for v in a.vehicle_ids()} == {v: b.plan(v) for v in b.vehicle_ids()}
