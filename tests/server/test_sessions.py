"""A request's session commits before its answer is sent: a client's next request (the
console signing in, then loading the meeting points at once) must find what the first one
wrote. With FastAPI's default dependency scope the commit ran after sending, and the
console's login failed now and then with "ログインの有効期限が切れたか…"."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.world import World
from residents import models as rm
from tests.booking.conftest import START, Clock, service_app
from tests.harness import Backends, IsolatedDatabase

pytestmark = pytest.mark.services


def test_a_login_s_token_is_committed_before_the_answer_goes_out(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> None:
    app = service_app(db_schema, redis_prefix, service_backends, world, Clock(START))
    tokens_when_answered: list[int] = []

    def tokens() -> int:
        with db_schema.sessionmaker()() as s:
            return int(s.scalar(select(func.count()).select_from(rm.Token)) or 0)

    async def spying(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def spy(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope.get("path") == "/v1/auth/token":
                tokens_when_answered.append(tokens())  # what a next request would find now
            await send(message)

        await app(scope, receive, spy)

    with TestClient(spying) as client:
        before = tokens()
        r = client.post("/v1/auth/token", data={"username": "op", "password": "op-pass"})
        assert r.status_code == 200, r.text
    assert tokens_when_answered == [before + 1]
