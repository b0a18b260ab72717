"""The simulation's injected clock: a queue of timed events in a fixed, reproducible order."""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass


class Kind(enum.IntEnum):
    """What happens; at equal times, lower values go first (vehicles finish before riders ask)."""

    ARRIVE = 0
    DONE = 1
    NO_SHOW = 2
    SERVE = 3
    DEPART = 4
    HOME = 5
    SHIFT_START = 6
    DECIDE = 7
    CANCEL = 8
    REQUEST = 9


@dataclass(frozen=True, slots=True)
class Event:
    """``subject`` is a vehicle id or a rider index; ``token`` a vehicle's plan version."""

    kind: Kind
    subject: str
    token: int = 0
    ref: str = ""


class EventQueue:
    """Events by (time, kind, insertion order): the same inputs always give the same order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, Event]] = []
        self._seq = 0

    def push(self, at_s: int, event: Event) -> None:
        heapq.heappush(self._heap, (int(at_s), int(event.kind), self._seq, event))
        self._seq += 1

    def pop(self) -> tuple[int, Event]:
        at_s, _, _, event = heapq.heappop(self._heap)
        return at_s, event

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def pushed(self) -> int:
        return self._seq
