"""The one clock helper: wall time in whole seconds, and conversions to aware UTC datetimes.

The cores never read the wall clock; services take a :data:`Clock` (injected in tests, the
demo and the simulator) and turn its integer seconds into datetimes only at the edges.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

Clock = Callable[[], int]


@dataclass(frozen=True)
class ShiftedClock:
    """Wall time in whole seconds, shifted by ``offset_s`` (0 in production)."""

    offset_s: int = 0

    def __call__(self) -> int:
        return int(time.time()) + self.offset_s


def now_utc() -> datetime:
    """The wall time now, timezone-aware UTC (for rows' created/updated stamps)."""
    return datetime.now(UTC)


def at(unix_s: float) -> datetime:
    """A Unix time in seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(unix_s, UTC)


def utc_offset_s(zone: tzinfo) -> int:
    """A time zone's offset from UTC in seconds, for zones without daylight saving time
    (Japan's): read at one fixed instant, so it never depends on today's date."""
    offset = datetime(2026, 1, 1, tzinfo=UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def late_minutes(over_s: int) -> int:
    """A delay in whole minutes, rounded up (61 s late: 2 minutes); 0 when not late."""
    return -(-over_s // 60) if over_s > 0 else 0
