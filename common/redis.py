"""Redis client helpers: a real client, or an in-process stand-in in embedded mode.

Services never hard-code key names at the top level of the keyspace: they take a key
prefix (e.g. ``drt:``), so several deployments or test runs can share one server.
"""

from __future__ import annotations

from typing import Any

import fakeredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.settings import redact_url


def make_redis(url: str, embedded: bool = False, **kwargs: Any) -> redis.Redis:
    """A Redis client for ``url`` that returns ``str`` values (``decode_responses=True``).

    With ``embedded=True`` the client is a ``fakeredis.FakeRedis``: clients created for the
    same URL in one process share the same in-memory data, like clients of one server.
    Extra keyword arguments go to the client constructor.
    """
    kwargs.setdefault("decode_responses", True)
    if embedded:
        return fakeredis.FakeRedis.from_url(url, **kwargs)
    kwargs.setdefault("socket_connect_timeout", 5.0)
    kwargs.setdefault("health_check_interval", 30)
    return redis.Redis.from_url(url, **kwargs)


def check_redis(url: str, timeout_s: float = 3.0) -> str | None:
    """``None`` if the Redis server at ``url`` answers PING, otherwise why not. Never raises."""
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
    except Exception as exc:
        return f"invalid Redis URL {redact_url(url)!r}: {type(exc).__name__}: {exc}"
    try:
        client.ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None
