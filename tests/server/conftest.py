"""The composition root's own behaviour (middlewares, error handlers, logging, engines).

It runs the booking service's app: reuse its fixtures, and the LINE channel's.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.booking.conftest import Svc, graph_dir, svc, world  # noqa: F401
from tests.driver_app_api.test_driver import driver  # noqa: F401  (a signed-in tablet)
from tests.line_channel.conftest import line, make_line, standin  # noqa: F401


@pytest.fixture
def raw(svc: Svc) -> TestClient:  # noqa: F811
    """The running app of ``svc`` answering a server error as a 500, not raising it (on the
    same event loop as ``svc.client``, whose lifespan opened the asyncio Redis client)."""
    client = TestClient(svc.client.app, raise_server_exceptions=False)
    client.portal = svc.client.portal
    return client
