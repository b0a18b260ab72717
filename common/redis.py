"""Redis client helpers: a real client, or an in-process stand-in in embedded mode.

Services never hard-code key names at the top level of the keyspace: they take a key
prefix (e.g. ``drt:``), so several deployments or test runs can share one server.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import fakeredis
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.settings import redact_url

log = logging.getLogger(__name__)


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


def make_async_redis(url: str, embedded: bool = False, **kwargs: Any) -> redis.asyncio.Redis:
    """The asyncio client for ``url`` (for event loops: pub/sub streams); see :func:`make_redis`.

    Embedded, it shares the in-memory data of :func:`make_redis`'s clients for the same URL."""
    kwargs.setdefault("decode_responses", True)
    if embedded:
        return fakeredis.FakeAsyncRedis.from_url(url, **kwargs)
    kwargs.setdefault("socket_connect_timeout", 5.0)
    kwargs.setdefault("health_check_interval", 30)
    return redis.asyncio.Redis.from_url(url, **kwargs)


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


LOCK_TTL_MS = 15_000
LOCK_WAIT_S = 30.0
KEPT_TTL_MS = 3_000
"""A lock kept by :meth:`RedisLock.keep_alive` lives this long past its holder's last renewal."""


class RedisLock:
    """A lock held by one client at a time; expires if its holder dies."""

    max_pause_s = 0.002  # between tries while another holds it (one waiter per process)

    def __init__(self, client: redis.Redis, key: str, ttl_ms: int = LOCK_TTL_MS) -> None:
        self.client, self.key, self.ttl_ms = client, key, ttl_ms
        self.token = uuid.uuid4().hex

    def acquire(self, wait_s: float = LOCK_WAIT_S) -> bool:
        deadline = time.monotonic() + wait_s
        pause = 0.001
        while not self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, self.max_pause_s)
        return True

    def _if_mine(self, command: Callable[[redis.client.Pipeline], object]) -> bool:
        """Run ``command`` on the key only while this lock holds it (WATCH/MULTI, no Lua)."""
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(self.key)  # type: ignore[no-untyped-call]  # redis-py leaves Pipeline.watch unannotated
                if pipe.get(self.key) != self.token:
                    return False
                pipe.multi()
                command(pipe)
                pipe.execute()
            except redis.WatchError:
                return False  # the key changed hands after our lock expired
        return True

    def release(self) -> None:
        """Delete the key only if this lock still holds it."""
        self._if_mine(lambda pipe: pipe.delete(self.key))

    def extend(self) -> bool:
        """Give the lock ``ttl_ms`` more from now; False if it is no longer ours."""
        return self._if_mine(lambda pipe: pipe.pexpire(self.key, self.ttl_ms))

    def keep_alive(self) -> Callable[[], None]:
        """Keep the (acquired) lock alive until the returned function is called: a
        background thread renews it every third of its time to live, so its holder's death
        frees it within ``ttl_ms`` however long the work takes. Redis errors during renewal
        are logged; what the lock guards must survive losing it (the dispatch log's keys
        fence a writer that lost it)."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.ttl_ms / 3000):
                try:
                    if not self.extend():
                        log.warning("lock %s was lost while held (expired or taken)", self.key)
                        return
                except redis.RedisError as exc:
                    log.warning("lock %s not renewed: %s", self.key, exc)

        threading.Thread(target=renew, name=f"keep {self.key}", daemon=True).start()
        return stop.set  # the thread is not joined: a renewal in flight finds the key changed
