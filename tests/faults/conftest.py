"""`drt serve --workers 2` on a Redis and a PostgreSQL cluster of the test run's own.

The fault tests kill workers, the whole server, Redis and PostgreSQL, so they never use the
machine's shared servers: ``fault_backends`` (session) starts a private ``redis-server`` and
a private PostgreSQL cluster (``initdb`` + ``pg_ctl``, as an unprivileged user when the run
is root) on free ports of 127.0.0.1; ``stack`` (per test) creates a fresh database, migrates
it, creates the staff accounts, starts the server on the run's graph cache and tears
everything down again, whatever the test did to it. The process management lives in
``loadtests/services.py``, shared with ``drt bench load``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.world import World
from loadtests.services import (
    Backends,
    DrtServer,
    missing_binaries,
    prepare_database,
    private_backends,
    running_server,
    service_env,
)
from tests import logscan
from tests.booking.conftest import graph_dir, world  # noqa: F401

STAFF = [("op", "op-pass", "operator"), ("app", "app-pass", "channel")]


@dataclass
class Stack:
    backends: Backends
    server: DrtServer
    database_url: str
    channel_token: str

    @property
    def base(self) -> str:
        return self.server.base

    def register(self, n: int) -> list[str]:
        """``n`` residents registered through the channel account; their bearer tokens."""
        tokens = []
        for i in range(n):
            body = {"name": f"鞍手 {i}", "kana": f"クラテ {i}", "phone": f"080-7000-{i:04d}",
                    "address": "鞍手町大字中山 1", "birth_year": 1950, "consent": True}  # fmt: skip
            r = httpx.post(f"{self.base}/v1/residents", json=body, timeout=30,
                           headers={"Authorization": f"Bearer {self.channel_token}"})  # fmt: skip
            assert r.status_code == 201, r.text
            tokens.append(str(r.json()["token"]))
        return tokens


@pytest.fixture(scope="session")
def fault_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    missing = missing_binaries()
    if missing:
        message = f"the fault tests need their own servers; missing: {', '.join(missing)}"
        if os.environ.get("CI", "").strip():
            pytest.fail(message)
        pytest.skip(message)
    with private_backends(tmp_path_factory.mktemp("faults")) as backends:
        yield backends


@pytest.fixture
def stack(
    fault_backends: Backends, graph_dir: Path, world: World, tmp_path: Path,  # noqa: F811
) -> Iterator[Stack]:  # fmt: skip
    fault_backends.ensure_running()  # an earlier test may have left one stopped
    fault_backends.redis.flush()
    url = fault_backends.postgres.create_database(f"faults_{uuid.uuid4().hex[:12]}")
    prepare_database(url, STAFF)
    env = service_env(url, fault_backends.redis.url, graph_dir)
    server = DrtServer(env, tmp_path / "serve.log", workers=2)
    try:
        with running_server(server):
            r = httpx.post(f"{server.base}/v1/auth/token", timeout=30,
                           data={"username": "app", "password": "app-pass"})  # fmt: skip
            assert r.status_code == 200, r.text
            yield Stack(fault_backends, server, url, str(r.json()["access_token"]))
    finally:
        logscan.keep_file(tmp_path / "serve.log")  # the server's JSON lines join the scan
        fault_backends.ensure_running()
