"""Two API worker processes against the real PostgreSQL and Redis, with bursts and kills.

200 concurrent quote-and-confirm calls spread over two `uvicorn` processes must end with no
vehicle overbooked and every confirmed booking in exactly one plan; killing a worker (and
with it the dispatcher replica it holds) in the middle of a burst and starting it again
must lose no confirmed booking and leave no half-written one.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from core import models as m
from core.commands import decode
from core.world import World
from dispatch.kernels import OK
from dispatch.model import BookingStatus
from residents.service import create_staff
from server.migrate import upgrade
from tests.booking.conftest import ROOT, START
from tests.harness import Backends, IsolatedDatabase

pytestmark = pytest.mark.services
BURST = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Workers:
    env: dict[str, str]
    ports: list[int]
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, port: int) -> None:
        self.procs[port] = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "server.app:from_env", "--factory",
             "--port", str(port), "--log-level", "warning"],
            env=self.env, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"worker on port {port} did not start")

    def kill(self, port: int) -> None:
        proc = self.procs.pop(port)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for port in list(self.procs):
            self.procs[port].terminate()
            self.procs[port].wait(10)
            del self.procs[port]


@pytest.fixture
def workers(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, graph_dir: Path,
    world: World,
) -> Iterator[Workers]:  # fmt: skip
    if service_backends.embedded:
        pytest.skip("two processes need a real Redis and PostgreSQL (CI always has them)")
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as session:
        create_staff(session, "op", "op-pass", "operator")
        session.commit()
    sep = "&" if "?" in service_backends.database_url else "?"
    env = {
        **os.environ,
        "DRT_DATABASE_URL": f"{service_backends.database_url}{sep}options=-csearch_path%3D{db_schema.schema}",
        "DRT_REDIS_URL": service_backends.redis_url,
        "DRT_REDIS_PREFIX": redis_prefix,
        "DRT_CACHE_DIR": str(graph_dir),
        "DRT_EMBEDDED": "0",
        "DRT_CLOCK_OFFSET_S": str(int(START.timestamp() - time.time())),
    }
    w = Workers(env, [free_port(), free_port()])
    for port in w.ports:
        w.start(port)
    yield w
    w.stop_all()


def token(port: int) -> str:
    r = httpx.post(
        f"http://127.0.0.1:{port}/v1/auth/token", data={"username": "op", "password": "op-pass"}
    )
    return str(r.json()["access_token"])


def residents(port: int, tok: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = httpx.post(
            f"http://127.0.0.1:{port}/v1/operator/residents",
            json={"name": f"住民{i}", "kana": f"ジュウミン{i}", "phone": f"090{i:08d}",
                  "address": "鞍手町", "birth_year": 1950, "consent": True},
            headers={"Authorization": f"Bearer {tok}"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        ids.append(r.json()["resident"]["id"])
    return ids


def ride(ports: list[int], tok: str, resident: str, i: int, stops: list[str]) -> str | None:
    """One rider: quote, then confirm the offer (or the first alternative); retries like a
    real client, on the other worker, with the same Idempotency-Key."""
    rng = random.Random(i)
    a, b = rng.sample(stops, 2)
    when = START + timedelta(minutes=rng.randrange(30, 8 * 60))
    body = {"origin": a, "destination": b, "mode": "depart_at", "time": when.isoformat(),
            "passengers": {"adult": rng.choice([1, 1, 1, 2, 3])}, "resident_id": resident}  # fmt: skip
    headers = {"Authorization": f"Bearer {tok}"}
    for attempt in range(20):
        port = ports[(i + attempt) % len(ports)]
        try:
            q = httpx.post(
                f"http://127.0.0.1:{port}/v1/operator/quotes",
                json=body,
                headers=headers,
                timeout=60,
            )
            if q.status_code == 503:
                continue  # busy: ask again
            break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        raise AssertionError("no worker answered the quote")
    assert q.status_code == 200, q.text
    result = q.json()
    offer = result["offer"] or (result["alternatives"] or [None])[0]
    if offer is None:
        return None
    for attempt in range(20):
        port = ports[(i + attempt + 1) % len(ports)]
        try:
            r = httpx.post(
                f"http://127.0.0.1:{port}/v1/operator/bookings", json={"quote_id": offer["quote_id"]},
                headers={**headers, "Idempotency-Key": f"ride-{i}"}, timeout=60,
            )  # fmt: skip
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if r.status_code == 201:
            return str(r.json()["id"])
        assert r.status_code in (409, 503), r.text  # expired or taken meanwhile: no booking
        return None
    raise AssertionError("no worker answered the confirmation")


def burst(workers: Workers, on_progress: object = None) -> list[str]:
    tok = token(workers.ports[0])
    people = residents(workers.ports[0], tok, 20)
    stops = [f"KUR-{i:03d}" for i in range(1, 181)]
    with ThreadPoolExecutor(16) as pool:
        futures = [
            pool.submit(ride, workers.ports, tok, people[i % 20], i, stops) for i in range(BURST)
        ]
        if callable(on_progress):
            on_progress(futures)
        return [x for f in futures if (x := f.result()) is not None]


def check_durable_state(db: IsolatedDatabase, world: World, confirmed: list[str]) -> None:
    """Rebuild the dispatcher from the committed log; compare with the booking rows."""
    with db.sessionmaker()() as session:
        log = session.scalars(select(m.DispatchLogEntry).order_by(m.DispatchLogEntry.seq)).all()
        rows = {b.id: b for b in session.scalars(select(m.Booking)).all()}
    assert [e.seq for e in log] == list(range(1, len(log) + 1))  # no gap, no duplicate step
    d = world.new_dispatcher()
    for e in log:
        decode(e.op, e.payload).run(d, world, e.now_s)
    assert set(confirmed) <= set(rows)  # no confirmed booking lost
    live = {b.id for b in d.bookings.values() if b.status == BookingStatus.CONFIRMED}
    assert {r.dispatch_id for r in rows.values()} == live  # no half-written booking either way
    for vid, plan in d.plans.items():  # every vehicle's plan keeps every rule, seats included
        problem, stop_of, _ = d.build_problem([vid], None)
        assert problem.check(0, [stop_of[e] for e in plan]) == OK, vid
    for dispatch_id in live:
        holders = [vid for vid, plan in d.plans.items() if any(e[0] == dispatch_id for e in plan)]
        assert len(holders) == 1, dispatch_id
        assert sum(1 for vid in holders for e in d.plans[vid] if e[0] == dispatch_id) == 2


def test_two_workers_never_overbook(
    workers: Workers, db_schema: IsolatedDatabase, world: World
) -> None:
    confirmed = burst(workers)
    assert len(confirmed) > 10  # the van really was filled from both workers
    check_durable_state(db_schema, world, confirmed)


def test_killing_a_worker_mid_burst_loses_nothing(
    workers: Workers, db_schema: IsolatedDatabase, world: World
) -> None:
    victim = workers.ports[0]

    def kill_midway(futures: list) -> None:  # type: ignore[type-arg]
        while sum(f.done() for f in futures) < BURST // 4:
            time.sleep(0.01)
        workers.kill(victim)
        workers.start(victim)  # restarted: it rebuilds its replica from the database

    confirmed = burst(workers, kill_midway)
    check_durable_state(db_schema, world, confirmed)
    assert confirmed
    r = httpx.get(  # the restarted worker rebuilt its replica and knows the bookings
        f"http://127.0.0.1:{victim}/v1/bookings/{confirmed[0]}",
        headers={"Authorization": f"Bearer {token(victim)}"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "confirmed"
    assert r.json()["eta_pickup"] is not None
