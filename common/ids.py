"""Identifiers and request digests shared by every domain."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any


def new_id(prefix: str) -> str:
    """A random id with a readable prefix (``R`` residents, ``B`` bookings, ...)."""
    return prefix + secrets.token_hex(8)


def body_hash(body: dict[str, Any]) -> str:
    """A stable digest of a request body (idempotency: same key, same body)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
