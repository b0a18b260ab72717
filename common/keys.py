"""Every Redis key name of the platform, in one place.

All keys live under the deployment's prefix (``DRT_REDIS_PREFIX``, e.g. ``drt:``), so
several deployments or test runs can share one server; per-area keys carry the area's name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RedisKeys:
    prefix: str

    def changes(self, area: str) -> str:
        """Pub/sub channel: one JSON message per committed dispatcher change."""
        return f"{self.prefix}{area}:changes"

    def seq(self, area: str) -> str:
        """The latest committed dispatch log sequence (lets readers skip the database)."""
        return f"{self.prefix}{area}:seq"

    def writer(self, area: str) -> str:
        """The area's single-writer lock."""
        return f"{self.prefix}{area}:writer"

    def position(self, area: str, vehicle_id: str) -> str:
        """Hash: a vehicle's latest GPS point and tracking state."""
        return f"{self.prefix}{area}:pos:{vehicle_id}"

    def idempotency(self, actor: str, key: str) -> str:
        """A cached answer to a request with an Idempotency-Key (the key itself is hashed)."""
        return f"{self.prefix}idem:{actor}:{hashlib.sha256(key.encode()).hexdigest()}"

    def attempts(self, scope: str, subject: str) -> str:
        """Wrong secrets counted for one subject (a phone, a user name, a tablet); the subject
        is hashed so no phone number or name is stored in Redis."""
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"{self.prefix}attempts:{scope}:{digest}"

    def line(self, kind: str, user_id: str) -> str:
        """LINE conversation state and per-user locks."""
        return f"{self.prefix}line:{kind}:{user_id}"
