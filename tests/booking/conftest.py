"""The booking service on the real Kurate data, against the run's PostgreSQL and Redis.

``svc`` is a running app (FastAPI TestClient) in the test's own schema and Redis prefix,
with a clock the test moves: it starts on Wednesday 2 December 2026, 10:00 in Kurate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.settings import load_settings
from core.world import World
from residents.service import create_staff
from routing import load_router
from routing.config import load_area
from server.app import create_app
from server.migrate import upgrade
from tests.harness import Backends, IsolatedDatabase

ROOT = Path(__file__).resolve().parents[2]
JST = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 12, 2, 10, 0, tzinfo=JST)  # a Wednesday, not a holiday


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now_s = int(start.timestamp())

    def __call__(self) -> int:
        return self.now_s

    def advance(self, seconds: int) -> None:
        self.now_s += seconds


@pytest.fixture(scope="session")
def graph_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The road graph cache of this run (built once; worker processes load it)."""
    return tmp_path_factory.mktemp("graph")


@pytest.fixture(scope="session")
def world(graph_dir: Path) -> World:
    area = load_area(ROOT / "areas" / "kurate" / "area.toml")
    router, _ = load_router(area, graph_dir)
    return World.build(area, router)


@dataclass
class Svc:
    client: TestClient
    clock: Clock
    db: IsolatedDatabase
    world: World
    operator_token: str = ""
    channel_token: str = ""

    def auth(self, token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    def register(self, phone: str = "090-1234-5678", **fields: Any) -> tuple[str, str]:
        """A resident registered through the channel client: (resident id, resident token)."""
        body = {
            "name": "鞍手 太郎", "kana": "クラテ タロウ", "phone": phone, "address": "鞍手町大字中山 1",
            "birth_year": 1950, "consent": True, **fields,
        }  # fmt: skip
        r = self.client.post("/v1/residents", json=body, headers=self.auth(self.channel_token))
        assert r.status_code == 201, r.text
        data = r.json()
        return data["resident"]["id"], data["token"]


def make_settings(backends: Backends, prefix: str) -> Any:
    return load_settings(
        redis_url=backends.redis_url, embedded=backends.embedded, redis_prefix=prefix
    )


def service_app(
    db: IsolatedDatabase, prefix: str, backends: Backends, world: World, clock: Clock
) -> FastAPI:
    """The app on a migrated test database with staff `op` (operator) and `app` (channel)."""
    upgrade(db.engine)
    with db.sessionmaker()() as session:
        create_staff(session, "op", "op-pass", "operator")
        create_staff(session, "app", "app-pass", "channel")
        session.commit()
    return create_app(make_settings(backends, prefix), world=world, clock=clock, engine=db.engine)


def signed_in(client: TestClient, clock: Clock, db: IsolatedDatabase, world: World) -> Svc:
    """The running app with the tokens of staff `op` and `app`."""
    s = Svc(client, clock, db, world)
    for name, attr in (("op", "operator_token"), ("app", "channel_token")):
        r = client.post("/v1/auth/token", data={"username": name, "password": f"{name}-pass"})
        assert r.status_code == 200, r.text
        setattr(s, attr, r.json()["access_token"])
    return s


@pytest.fixture
def svc(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[Svc]:
    clock = Clock(START)
    app = service_app(db_schema, redis_prefix, service_backends, world, clock)
    with TestClient(app) as client:
        yield signed_in(client, clock, db_schema, world)


def with_second_van(world: World) -> World:
    """The same world with a second van (van-2, same depot and size) beside van-1."""
    first = world.config.vehicles[0]
    config = replace(world.config, vehicles=(first, replace(first, id="van-2", name="2号")))
    return replace(world, config=config)
