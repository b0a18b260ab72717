"""A burst of concurrent riders (quote, then confirm) against a running `drt serve`, with one
fault injected part-way, and a record of everything the clients saw.

Riders retry like a real client: a quote again on 503 or a connection error, a confirmation
again *with the same Idempotency-Key*, a bounded number of times. Every answer (status,
body, ``Retry-After``) and every connection error is recorded with its time, so a test can
say what clients saw during the fault and check the database against what they were told.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

THREADS = 16
RIDES = 160
FAULT_AFTER = RIDES // 4  # the fault starts once this many riders are done ...
FAULT_AT_LATEST_S = 30.0  # ... or this long after the burst began (a slow machine: mid-burst)
REQUEST_TIMEOUT_S = 35.0  # longer than the writer's lock wait (30 s): clients see the answer
ATTEMPTS = 120  # per request, at most
AFTER_FAULT_S = 15.0  # riders stop retrying this long after the fault ended ...
HARD_STOP_S = 150.0  # ... and in any case this long after the burst started
RECOVERY_POLL_S = 60.0  # the probe asks this long for a normal answer after the fault's end
INJECT_BOUND_S = 240.0  # longer than any fault's own timeouts (a replacement worker: 180 s)
STOPS = [f"KUR-{i:03d}" for i in range(1, 181)]


@dataclass(frozen=True)
class Seen:
    """One answer (or connection error) a client saw."""

    at: float  # time.monotonic() when it arrived
    what: str  # quote | confirm | probe
    status: int | None  # None: no HTTP answer
    error: str | None = None  # connection error or timeout (exception class)
    body: Any = None
    retry_after: str | None = None
    content_type: str = ""


@dataclass
class Ride:
    index: int
    quote_ids: list[str] = field(default_factory=list)
    key: str | None = None
    booking_id: str | None = None
    outcome: str = ""  # booked | no_offer | gave_up_quote | gave_up_confirm | cut_off | …


@dataclass
class Fault:
    """When the fault ran and whether an API process was down meanwhile."""

    name: str
    started: float = 0.0
    ended: float = 0.0
    process_down: bool = False
    recovery_s: float | None = None  # first 200 to a quote after ``ended``
    recovery_from_start_s: float | None = None
    error: BaseException | None = None


class Clients:
    """HTTP calls that record what they saw (a fresh connection per call, like separate
    phones: no pooled connection outlives a killed server)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    def post(
        self, what: str, path: str, body: dict[str, Any], headers: dict[str, str],
        timeout_s: float = REQUEST_TIMEOUT_S,
    ) -> httpx.Response | None:  # fmt: skip
        try:
            r = httpx.post(self.base + path, json=body, headers=headers, timeout=timeout_s)
        except httpx.TimeoutException as exc:
            self._record(Seen(time.monotonic(), what, None, f"timeout:{type(exc).__name__}"))
            return None
        except httpx.TransportError as exc:
            self._record(Seen(time.monotonic(), what, None, type(exc).__name__))
            return None
        try:
            parsed: Any = r.json()
        except ValueError:
            parsed = r.text[:300]
        self._record(Seen(time.monotonic(), what, r.status_code, body=parsed,
                          retry_after=r.headers.get("retry-after"),
                          content_type=r.headers.get("content-type", "")))  # fmt: skip
        return r

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


def _pause(r: httpx.Response | None, rng: random.Random) -> None:
    """What a polite client waits before a retry (Retry-After, capped at 2 s)."""
    wait = 0.3
    if r is not None:
        with contextlib.suppress(ValueError):
            wait = float(r.headers.get("retry-after", wait))
    time.sleep(min(wait, 2.0) * rng.uniform(0.8, 1.2))


@dataclass
class Burst:
    base: str
    tokens: list[str]  # residents' bearer tokens, one per thread
    window: tuple[int, int]
    clients: Clients = field(init=False)
    started: float = 0.0
    fault: Fault | None = None
    finished: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.clients = Clients(self.base)

    def quote_body(self, rng: random.Random) -> dict[str, Any]:
        a, b = rng.sample(STOPS, 2)
        when = datetime.fromtimestamp(rng.randrange(*self.window), UTC)
        return {"origin": a, "destination": b, "mode": "depart_at", "time": when.isoformat(),
                "passengers": {"adult": rng.choice([1, 1, 1, 2, 3])}}  # fmt: skip

    def keep_trying(self) -> bool:
        now = time.monotonic()
        if now - self.started > HARD_STOP_S:
            return False
        f = self.fault
        if f is None or f.ended == 0.0:
            return True  # before or during the fault
        return now - f.ended < AFTER_FAULT_S

    def ride(self, i: int) -> Ride:
        rng = random.Random(i)
        ride = Ride(i)
        if not self.keep_trying():
            ride.outcome = "cut_off"  # the burst's time was up before this rider started
            return ride
        auth = {"Authorization": f"Bearer {self.tokens[i % THREADS]}"}
        body = self.quote_body(rng)
        q: httpx.Response | None = None
        for _ in range(ATTEMPTS):
            if not self.keep_trying():
                break
            q = self.clients.post("quote", "/v1/quotes", body, auth)
            if q is not None and q.status_code != 503:
                break
            _pause(q, rng)
        if q is None or q.status_code == 503:
            ride.outcome = "gave_up_quote"
            return ride
        if q.status_code != 200:
            ride.outcome = f"quote {q.status_code}"
            return ride
        result = q.json()
        offers = [o for o in [result.get("offer"), *result.get("alternatives", [])] if o]
        ride.quote_ids = [str(o["quote_id"]) for o in offers]
        if not offers:
            ride.outcome = "no_offer"
            return ride
        ride.key = f"ride-{i}-{uuid.uuid4().hex[:8]}"
        confirm = {"quote_id": offers[0]["quote_id"]}
        headers = {**auth, "Idempotency-Key": ride.key}
        r: httpx.Response | None = None
        for _ in range(ATTEMPTS):
            if not self.keep_trying():
                break
            r = self.clients.post("confirm", "/v1/bookings", confirm, headers)
            if r is not None and r.status_code != 503:
                break
            _pause(r, rng)
        if r is None or r.status_code == 503:
            ride.outcome = "gave_up_confirm"
        elif r.status_code == 201:
            ride.booking_id, ride.outcome = str(r.json()["id"]), "booked"
        else:
            ride.outcome = f"confirm {r.status_code}"
        return ride

    def probe(self, token: str, since: float, seconds: float = RECOVERY_POLL_S) -> float | None:
        """Quote until one answers 200: seconds from ``since`` to that answer, or None."""
        rng = random.Random(-1)
        auth = {"Authorization": f"Bearer {token}"}
        while time.monotonic() - since < seconds:
            left = max(0.5, seconds - (time.monotonic() - since))
            r = self.clients.post("probe", "/v1/quotes", self.quote_body(rng), auth, left)
            if r is not None and r.status_code == 200:
                return time.monotonic() - since
            time.sleep(0.1)
        return None

    def rider(self, r: int) -> list[Ride]:
        """One resident's rides, one after the other (a person books one trip at a time;
        a rider's third open quote would release their oldest hold by design)."""
        done = []
        for i in range(r, RIDES, THREADS):
            done.append(self.ride(i))
            with self._lock:
                self.finished += 1
        return done

    def run(self, inject: Callable[[Fault], None], fault: Fault, probe_token: str) -> list[Ride]:
        """The burst; ``inject`` runs the fault (setting ``started``/``ended``) once
        FAULT_AFTER rides are done (at the latest FAULT_AT_LATEST_S into the burst), then the
        probe measures the recovery."""
        self.started = time.monotonic()
        self.fault = fault

        def faulty() -> None:
            while self.finished < FAULT_AFTER:
                if time.monotonic() - self.started > FAULT_AT_LATEST_S:
                    break  # riders are still under way: the fault still lands mid-burst
                time.sleep(0.01)
            try:
                inject(fault)
            except BaseException as exc:  # reported by the test, after the burst
                fault.error = exc
                fault.ended = fault.ended or time.monotonic()
                return
            fault.recovery_s = self.probe(probe_token, fault.ended)
            if fault.recovery_s is not None:
                fault.recovery_from_start_s = fault.recovery_s + fault.ended - fault.started

        injector = threading.Thread(target=faulty, daemon=True)
        injector.start()
        with ThreadPoolExecutor(THREADS) as pool:
            rides = [ride for done in pool.map(self.rider, range(THREADS)) for ride in done]
        # The fault and the probe have bounds of their own; waiting for them here means a
        # fault that never ended is reported with its own error (and the server's log).
        injector.join(HARD_STOP_S + INJECT_BOUND_S + RECOVERY_POLL_S)
        if injector.is_alive() and fault.error is None:
            fault.error = TimeoutError(f"the fault {fault.name!r} did not end within "
                                       f"{INJECT_BOUND_S + RECOVERY_POLL_S:g} s")  # fmt: skip
        return sorted(rides, key=lambda ride: ride.index)
