"""Locust users for the booking service: residents, phone operators, LINE and van tablets.

Run by `drt bench load` (``drt/load_cli.py``), which starts the servers, makes the data
(``loadtests/data.py``) and names it in ``DRT_LOAD_DATA``; by hand::

    DRT_LOAD_DATA=load-data.json locust -f loadtests/locustfile.py --host http://127.0.0.1:8000

- :class:`ResidentUser`: quote a trip, confirm the offer (with an Idempotency-Key), read
  the booking, sometimes cancel it (``DRT_LOAD_CANCEL_SHARE``, default 0.2);
- :class:`OperatorUser`: find the caller by phone number, quote and book on their behalf
  (callers are other residents than the app users', five per operator, in turn: a rider
  holds at most two open quotes, so no person is booked for by two users at once);
- :class:`LineUser`: text messages to the LINE webhook, signed with the channel secret
  (base64 HMAC-SHA256 of the body, ``X-Line-Signature``); only when ``DRT_LOAD_LINE_SECRET``
  is set (the server must run with the same ``DRT_LINE_CHANNEL_SECRET``);
- :class:`TabletUser`: one per tablet in the data (``DRT_LOAD_TABLETS`` of them, a fixed
  count): one GPS point a second to ``/v1/driver/positions``.

Staff and tablets are signed in by the setup (the tokens are in the data file): a sign-in
is a deliberate scrypt hash, not part of the steady load measured here.

Think time between a user's tasks: ``DRT_LOAD_THINK_S`` (default 1 s, 0 for none). Only the
standard library and Locust are imported here (Locust runs on gevent).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import json
import math
import os
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant, constant_pacing, task

THINK_S = float(os.environ.get("DRT_LOAD_THINK_S", "1.0"))
CANCEL_SHARE = float(os.environ.get("DRT_LOAD_CANCEL_SHARE", "0.2"))
LINE_SECRET = os.environ.get("DRT_LOAD_LINE_SECRET", "")
TABLETS = int(os.environ.get("DRT_LOAD_TABLETS", "0"))
CENTRE = (33.7900, 130.6850)  # Kurate town hall, roughly
CALLERS = 5  # residents each operator takes calls from, in turn (no two operators share one)
LINE_TEXTS = ["こんにちは", "予約", "予約の確認", "キャンセル", "ヘルプ", "明日の10時に役場まで"]


def think() -> Callable[..., float]:
    return between(0.5 * THINK_S, 1.5 * THINK_S) if THINK_S > 0 else constant(0)


@functools.cache
def data() -> dict[str, Any]:
    path = os.environ.get("DRT_LOAD_DATA")
    if not path:
        raise RuntimeError("DRT_LOAD_DATA must name the load data file (drt bench load makes it)")
    loaded: dict[str, Any] = json.loads(Path(path).read_text())
    return loaded


_lock = threading.Lock()
_counters: dict[str, Iterator[int]] = {}


def next_index(kind: str) -> int:
    """Hand out residents and tablets in turn (each tablet to one user only)."""
    with _lock:
        return next(_counters.setdefault(kind, itertools.count()))


def quote_body(rng: random.Random, resident_id: str | None = None) -> dict[str, Any]:
    d = data()
    a, b = rng.sample(d["stops"], 2)
    start, end = rng.choice(d["windows"])
    when = datetime.fromtimestamp(rng.randrange(start, end), UTC)
    body: dict[str, Any] = {"origin": a, "destination": b, "mode": "depart_at",
                            "time": when.isoformat(),
                            "passengers": {"adult": rng.choice([1, 1, 1, 2])}}  # fmt: skip
    if resident_id is not None:
        body["resident_id"] = resident_id
    return body


def first_offer(result: dict[str, Any]) -> dict[str, Any] | None:
    offers = [o for o in [result.get("offer"), *result.get("alternatives", [])] if o]
    return offers[0] if offers else None


class Booker(FastHttpUser):
    """Quote, then confirm the offer (or its first alternative)."""

    abstract = True
    quote_path = "/v1/quotes"
    book_path = "/v1/bookings"

    def book(self, auth: dict[str, str], resident_id: str | None = None) -> dict[str, Any] | None:
        body = quote_body(random.Random(), resident_id)
        with self.client.post(self.quote_path, json=body, headers=auth, name=self.quote_path,
                              catch_response=True) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {(r.text or '')[:160]}")
                return None
            offer = first_offer(r.json())
        if offer is None:
            return None  # no seat at that time: the rider is told so (200), nothing to confirm
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(self.book_path, json={"quote_id": offer["quote_id"]},
                              headers=headers, name=self.book_path, catch_response=True) as r:  # fmt: skip
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {(r.text or '')[:160]}")
                return None
            booking: dict[str, Any] = r.json()
        return booking


class ResidentUser(Booker):
    """A resident booking in the app: quote, confirm, look, sometimes cancel."""

    weight = 6
    wait_time = think()

    def on_start(self) -> None:
        residents = data()["residents"]
        me = residents[next_index("resident") % len(residents)]
        self.auth = {"Authorization": f"Bearer {me['token']}"}

    @task
    def trip(self) -> None:
        booking = self.book(self.auth)
        if booking is None:
            return
        bid = booking["id"]
        self.client.get(f"/v1/bookings/{bid}", headers=self.auth, name="/v1/bookings/{id}")
        if random.random() < CANCEL_SHARE:
            self.client.post(f"/v1/bookings/{bid}/cancel", headers=self.auth,
                             name="/v1/bookings/{id}/cancel")  # fmt: skip


class OperatorUser(Booker):
    """A phone operator: find the caller by phone number, then book for them."""

    weight = 1
    wait_time = think()
    quote_path = "/v1/operator/quotes"
    book_path = "/v1/operator/bookings"

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {data()['operator_token']}"}
        callers = data()["callers"]
        self.callers = [callers[next_index("caller") % len(callers)] for _ in range(CALLERS)]

    @task
    def phone_call(self) -> None:
        caller = self.callers[next_index(f"call-{id(self)}") % len(self.callers)]
        digits = caller["phone"].replace("-", "")[-8:]
        with self.client.get(f"/v1/operator/residents?q={digits}", headers=self.auth,
                             name="/v1/operator/residents?q=", catch_response=True) as r:  # fmt: skip
            found = r.json().get("results", []) if r.status_code == 200 else []
            if r.status_code == 200 and not found:
                r.failure(f"no resident with phone {digits}")
        if found:
            self.book(self.auth, str(found[0]["id"]))


def line_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def line_event(user_id: str, text: str) -> dict[str, Any]:
    """A text message event as LINE sends it."""
    return {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False}, "replyToken": secrets.token_hex(16),
        "message": {"id": str(secrets.randbelow(10**17)), "type": "text", "text": text,
                    "quoteToken": secrets.token_hex(8)},
    }  # fmt: skip


class LineUser(FastHttpUser):
    """A LINE friend sending text messages (the webhook answers at once, handles after)."""

    abstract = not LINE_SECRET
    weight = 1
    wait_time = think()

    def on_start(self) -> None:
        self.user_id = "U" + secrets.token_hex(16)

    @task
    def message(self) -> None:
        payload = {"destination": "Uload", "events": [line_event(self.user_id,
                                                                 random.choice(LINE_TEXTS))]}  # fmt: skip
        body = json.dumps(payload)  # ASCII only: the bytes sent are exactly the bytes signed
        headers = {"Content-Type": "application/json",
                   "X-Line-Signature": line_signature(LINE_SECRET, body.encode())}  # fmt: skip
        self.client.post("/v1/line/webhook", data=body, headers=headers, name="/v1/line/webhook")


class TabletUser(FastHttpUser):
    """A van's tablet (signed in by the setup): its GPS position every second."""

    abstract = TABLETS == 0
    fixed_count = TABLETS
    wait_time = constant_pacing(1.0)

    def on_start(self) -> None:
        tablets = data()["tablets"]
        me = tablets[next_index("tablet") % len(tablets)]
        self.auth = {"Authorization": f"Bearer {me['access_token']}"}  # signed in by the setup
        rng = random.Random()
        self.lat = CENTRE[0] + rng.uniform(-0.02, 0.02)
        self.lon = CENTRE[1] + rng.uniform(-0.02, 0.02)
        self.heading = rng.uniform(0, 2 * math.pi)

    @task
    def position(self) -> None:
        self.heading += random.uniform(-0.3, 0.3)
        self.lat += 0.00007 * math.cos(self.heading)  # about 8 m/s
        self.lon += 0.00008 * math.sin(self.heading)
        point = {"t": time.time(), "lat": self.lat, "lon": self.lon, "speed_mps": 8.0,
                 "heading_deg": math.degrees(self.heading) % 360, "accuracy_m": 5.0}  # fmt: skip
        self.client.post("/v1/driver/positions", json={"points": [point]}, headers=self.auth,
                         name="/v1/driver/positions")  # fmt: skip
