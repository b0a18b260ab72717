"""The booking app with the LINE channel on, and the LINE stand-in served over real HTTP.

``line`` is the app (FastAPI TestClient, the test's own schema and Redis prefix, the clock
of ``tests/booking/conftest.py`` starting Wednesday 2 December 2026, 10:00 in Kurate) whose
line-bot-sdk clients talk to a :class:`~line_channel.standin.Standin` served by uvicorn on a
free local port. Webhook bodies are built and signed the way LINE does it (``line.send``).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from common.settings import Settings, load_settings
from core.world import World
from line_channel.conversation import inbound_data
from line_channel.standin import Standin, create_standin_app, sign
from line_channel.webhook import LineChannel
from residents.service import create_staff
from server.app import create_app
from server.migrate import upgrade
from tests.booking.conftest import START, Clock, graph_dir, world  # noqa: F401
from tests.harness import Backends, IsolatedDatabase

SECRET = "test-channel-secret"
TOKEN = "test-access-token"
PHONE = "090-1234-5678"


class ServedApp:
    """An ASGI app served by uvicorn on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        if port is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
        self.port = port
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def standin() -> Iterator[tuple[Standin, str]]:
    """The stand-in LINE platform and its base URL."""
    st = Standin(SECRET, TOKEN)
    with ServedApp(create_standin_app(st)) as served:
        yield st, served.base


def line_settings(backends: Backends, prefix: str, base: str, **over: Any) -> Settings:
    values = {
        "redis_url": backends.redis_url, "embedded": backends.embedded, "redis_prefix": prefix,
        "line_channel_secret": SECRET, "line_channel_access_token": TOKEN, "line_api_base": base,
        "line_api_data_base": base, "line_notifier_interval_s": 0,
    }  # fmt: skip
    return load_settings(**{**values, **over})


@dataclass
class Line:
    client: TestClient
    clock: Clock
    db: IsolatedDatabase
    world: World
    st: Standin
    base: str
    operator_token: str

    @property
    def channel(self) -> LineChannel:
        channel: LineChannel = self.client.app.state.line  # type: ignore[attr-defined]
        return channel

    def post(self, *events: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        """POST a webhook body with these events, signed with ``secret``."""
        body, signature = self.st.webhook_body(*events)
        if secret != SECRET:
            signature = sign(secret, body)
        return self.client.post(
            "/v1/line/webhook",
            content=body,
            headers={"content-type": "application/json", "x-line-signature": signature},
        )

    def send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver one event; the bot's messages sent in answer (reply or push)."""
        seq = self.st.last_seq
        r = self.post(event)
        assert r.status_code == 200, r.text
        self.drain()
        return self.st.bot_messages(event["source"]["userId"], since=seq)

    def say(self, user: str, text: str) -> list[dict[str, Any]]:
        return self.send(self.st.text(user, text))

    def tap(self, user: str, data: str, **params: str) -> list[dict[str, Any]]:
        return self.send(self.st.postback(user, data, params or None))

    def operator(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.operator_token}", **kw.pop("headers", {})}
        r = getattr(self.client, method)(path, headers=headers, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def register(self, phone: str = PHONE, **fields: Any) -> str:
        body = {
            "name": "鞍手 太郎", "kana": "クラテ タロウ", "phone": phone, "address": "鞍手町大字中山 1",
            "birth_year": 1946, "consent": True, **fields,
        }  # fmt: skip
        return str(self.operator("post", "/v1/operator/residents", json=body)["resident"]["id"])

    def link(self, user: str, phone: str = PHONE, **fields: Any) -> str:
        """Register a resident and link ``user`` to them through the LINE conversation."""
        rid = self.register(phone, **fields)
        code = self.operator("post", f"/v1/operator/residents/{rid}/link-code")["code"]
        self.send(self.st.follow(user))
        self.say(user, phone)
        answer = self.say(user, code)
        assert "つながりました" in answer[0]["text"], answer
        return rid

    def count(self, model: type) -> int:
        with self.db.sessionmaker()() as s:
            return s.scalar(select(func.count()).select_from(model)) or 0

    def drain(self) -> None:
        """Wait until the app has handled every webhook event it accepted."""
        portal = self.client.portal
        assert portal is not None
        portal.call(self.channel.drain)

    def tick(self, now_s: int | None = None) -> list[Any]:
        """One notifier tick at the test clock's time (in the app's event loop)."""
        portal = self.client.portal
        assert portal is not None
        return list(portal.call(self.channel.notifier.tick, now_s or self.clock.now_s))


def start_line(
    db: IsolatedDatabase, prefix: str, backends: Backends, area: World, st: Standin, base: str,
    **over: Any,
) -> Iterator[Line]:  # fmt: skip
    upgrade(db.engine)
    with db.sessionmaker()() as session:
        create_staff(session, "op", "op-pass", "operator")
        session.commit()
    clock = Clock(START)
    app = create_app(line_settings(backends, prefix, base, **over), world=area, clock=clock,
                     engine=db.engine)  # fmt: skip
    with TestClient(app) as client:
        r = client.post("/v1/auth/token", data={"username": "op", "password": "op-pass"})
        assert r.status_code == 200, r.text
        line = Line(client, clock, db, area, st, base, r.json()["access_token"])
        portal = client.portal
        assert portal is not None
        ready = line.channel.rich_menu_ready
        portal.call(_wait_for, ready)
        yield line


async def _wait_for(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), timeout=30)


@pytest.fixture
def make_line(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends,
    world: World,  # noqa: F811
    standin: tuple[Standin, str],
) -> Iterator[Callable[..., Line]]:  # fmt: skip
    """``make_line(**settings)``: the app with these LINE settings (``line_push_daily_cap=1``)."""
    st, base = standin
    with ExitStack() as stack:

        def make(**over: Any) -> Line:
            running = contextmanager(start_line)(
                db_schema, redis_prefix, service_backends, world, st, base, **over
            )
            return stack.enter_context(running)

        yield make


@pytest.fixture
def line(make_line: Callable[..., Line]) -> Line:
    return make_line()


def data_of(action: dict[str, Any]) -> dict[str, str]:
    return inbound_data(action["data"])


def quick_replies(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def buttons(node: Any) -> list[dict[str, Any]]:
    """Every action of a Flex message's buttons, in order."""
    if isinstance(node, dict):
        found = [node["action"]] if node.get("type") == "button" else []
        return found + [a for k, v in node.items() if k != "action" for a in buttons(v)]
    if isinstance(node, list):
        return [a for v in node for a in buttons(v)]
    return []


def texts(messages: list[dict[str, Any]]) -> str:
    """All the words of these messages (texts, alt texts and Flex texts)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "altText", "label"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for v in node.values():
                if isinstance(v, dict | list):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(messages)
    return "\n".join(out)
