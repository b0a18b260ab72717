"""The tablet's stream with a ``Last-Event-ID`` that is not a plain number.

A header is latin-1 on the wire, and ``"²".isdigit()`` is true but ``int("²")`` fails: the
stream must start over (send the current manifest), not fail. The TestClient re-encodes
header values, so the request goes to the app as raw ASGI, with the bytes a client sends.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.booking.conftest import Svc

pytestmark = pytest.mark.services


def raw_get(
    svc: Svc, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """GET through the app's ASGI interface, on the running app's event loop."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    received = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client listens until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    async def call() -> None:
        try:
            await svc.client.app(scope, receive, send)  # type: ignore[arg-type]
        except Exception:
            if not sent:
                sent.append({"type": "http.response.start", "status": 500})

    portal = svc.client.portal
    assert portal is not None
    portal.call(call)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("last_event_id", [b"\xb2", b"\xb31", b"12\xb9", b"abc", b""])
def test_a_last_event_id_that_is_not_a_number(svc: Svc, driver: str, last_event_id: bytes) -> None:
    headers = [(b"authorization", f"Bearer {driver}".encode()), (b"last-event-id", last_event_id)]
    status, body = raw_get(svc, "/v1/driver/stream", b"limit=1", headers)
    assert status == 200, body
    assert b"event: manifest" in body
