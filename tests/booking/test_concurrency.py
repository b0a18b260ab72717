"""Many requests at once in one worker: waiting for the dispatch writer must not hold a
pooled database connection (20 simultaneous quotes on one worker once answered 1 × 200,
13 × 503 and 6 × 500 after 30 s, with 15 connections idle in transaction)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.host import DispatchHost
from tests.booking.conftest import Svc
from tests.booking.test_api import TRIP, at_time, book, quote

pytestmark = pytest.mark.services


def test_twenty_simultaneous_quotes_in_one_worker_all_get_an_answer(svc: Svc) -> None:
    riders = [svc.register(f"090-8000-{i:04d}")[1] for i in range(20)]
    pool = svc.db.engine.pool
    assert pool.size() + pool._max_overflow < 20  # type: ignore[attr-defined]  # fewer connections than requests

    def ask(i: int) -> int:
        body = {**TRIP, "mode": "depart_at", "time": at_time(1 + i / 4)}
        return svc.client.post("/v1/quotes", json=body, headers=svc.auth(riders[i])).status_code

    with ThreadPoolExecutor(20) as ex:
        statuses = list(ex.map(ask, range(20)))
    assert statuses == [200] * 20


def test_a_read_waiting_for_a_writer_turn_holds_no_pooled_connection(svc: Svc) -> None:
    """With 100 users on one worker, reads waiting for a turn held the pool's connections
    while the threads that would have returned others waited for one: 503 after 30 s."""
    _, token = svc.register("090-8100-0001")
    offer = quote(svc, token, mode="depart_at", time=at_time(2))["offer"]
    booking = book(svc, token, offer["quote_id"])
    host: DispatchHost = svc.client.app.state.host  # type: ignore[attr-defined]
    pool = svc.db.engine.pool
    inside, hold = threading.Event(), threading.Event()

    def writer() -> None:
        with host.write():
            inside.set()
            assert hold.wait(30)

    answers: list[int] = []

    def reader() -> None:
        r = svc.client.get(f"/v1/bookings/{booking['id']}", headers=svc.auth(token))
        answers.append(r.status_code)

    w = threading.Thread(target=writer)
    w.start()
    assert inside.wait(30)
    r = threading.Thread(target=reader)
    r.start()
    while host.readers_waiting < 1:
        r.join(0.01)
    try:
        assert pool.checkedout() == 1  # the turn's own; the waiting read holds none
    finally:
        hold.set()
        w.join(30)
        r.join(30)
    assert answers == [200]
