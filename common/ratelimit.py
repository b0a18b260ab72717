"""Counting wrong secrets: after a handful of wrong codes, passwords or PINs, wait.

One counter per (scope, subject) in Redis, for example ("resident_code", a phone number):
every failure counts, a success clears it, and once ``limit`` failures fall within
``window_s`` the next attempt is refused with 429 and ``retry_after_s`` until the window
ends, the right secret included (otherwise a guesser would learn when they hit it). While
Redis is down the counters cannot be read and sign-in is not blocked (logged); the secrets
themselves are still checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from common.errors import TooManyAttempts
from common.keys import RedisKeys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempts:
    client: redis.Redis
    keys: RedisKeys
    limit: int = 5
    window_s: int = 900

    def check(self, scope: str, subject: str) -> None:
        """Raise :class:`TooManyAttempts` while this subject is locked out."""
        key = self.keys.attempts(scope, subject)
        try:
            count = int(self.client.get(key) or 0)
            ttl = int(self.client.ttl(key)) if count >= self.limit else 0
        except redis.RedisError as exc:
            log.warning("sign-in attempt counters unavailable (%s); not limiting", exc)
            return
        if count >= self.limit:
            wait_s = max(ttl, 1)
            raise TooManyAttempts(
                f"間違いが続いたため、しばらく受け付けられません。{(wait_s + 59) // 60}分ほど待ってから"
                "もう一度お試しください。お急ぎの方は受付にお電話ください。",
                f"Too many wrong attempts. Try again in about {(wait_s + 59) // 60} minutes, "
                "or call the booking office.",
                retry_after_s=wait_s,
            )

    def failed(self, scope: str, subject: str) -> None:
        key = self.keys.attempts(scope, subject)
        try:
            with self.client.pipeline() as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window_s, nx=True)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("sign-in attempt not counted (%s)", exc)

    def succeeded(self, scope: str, subject: str) -> None:
        try:
            self.client.delete(self.keys.attempts(scope, subject))
        except redis.RedisError as exc:
            log.warning("sign-in attempt counter not cleared (%s)", exc)
