"""What a simulated day leaves behind: one record per rider, per drive, per vehicle state."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any

from dispatch.model import Promise, VehicleSpec


class Outcome(enum.StrEnum):
    PENDING = "pending"  # asked, no answer yet
    CONFIRMED = "confirmed"  # booked, not yet travelled (at the end of a day: never served)
    SERVED = "served"
    REJECTED = "rejected"  # refused (or no alternative taken) and gave up
    CANCELLED = "cancelled"  # the rider cancelled a confirmed booking
    NO_SHOW = "no_show"


class State(enum.StrEnum):
    """What a vehicle in service is doing (for utilisation)."""

    IDLE = "idle"  # nothing to do yet, or waiting to leave for its next stop
    WAIT = "wait"  # at a stop, waiting for a pickup window or a rider who does not come
    SERVE = "serve"  # riders boarding or alighting
    DRIVE_LOADED = "drive_loaded"
    DRIVE_EMPTY = "drive_empty"
    BREAK = "break"


@dataclass(slots=True)
class TripRecord:
    """One rider's request and what became of it. Times: seconds since midnight."""

    rider: str
    request_s: int
    desired_s: int
    mode: str
    origin: int
    destination: int
    seats: int
    wheelchairs: int
    purpose: str
    direct_s: int
    direct_m: int
    outcome: Outcome = Outcome.PENDING
    reason: str = ""
    alternative: bool = False
    booking_id: str = ""
    vehicle: str = ""
    promise: Promise | None = None
    board_s: int | None = None
    alight_s: int | None = None
    ride_s: int | None = None
    at_risk_reports: int = 0
    late_by_s: int = 0

    @property
    def persons(self) -> int:
        return self.seats + self.wheelchairs

    def row(self) -> dict[str, Any]:
        """A flat row for trips.csv (promise fields spelled out)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "promise"}
        out["outcome"] = str(self.outcome)
        p = self.promise
        out["pickup_from_s"] = p.pickup_from_s if p else None
        out["pickup_to_s"] = p.pickup_to_s if p else None
        out["pickup_planned_s"] = p.pickup_planned_s if p else None
        out["dropoff_planned_s"] = p.dropoff_planned_s if p else None
        out["dropoff_by_s"] = p.dropoff_by_s if p else None
        out["max_ride_s"] = p.max_ride_s if p else None
        return out


@dataclass(frozen=True, slots=True)
class Leg:
    """One drive between places; ``persons`` on board throughout."""

    vehicle: str
    origin: int
    destination: int
    depart_s: int
    arrive_s: int
    planned_s: int
    distance_m: int
    persons: int


@dataclass(frozen=True, slots=True)
class Interval:
    vehicle: str
    state: State
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Shift:
    """A vehicle's time in service (from its shift start to end_shift) and its breaks."""

    vehicle: str
    start_s: int
    end_s: int
    break_s: int
    breaks_skipped: int = 0


@dataclass(frozen=True, slots=True)
class RiskReport:
    """An ``AtRisk`` the dispatcher returned: the rider would be told."""

    at_s: int
    booking_id: str
    kind: str
    late_by_s: int


@dataclass(slots=True)
class DayResult:
    """Everything a simulated day produced, for KPIs, files and the report."""

    scenario: str
    seed: int
    vehicles: int
    service_start_s: int
    service_end_s: int
    fleet: list[VehicleSpec] = field(default_factory=list)
    trips: list[TripRecord] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)
    shifts: list[Shift] = field(default_factory=list)
    risks: list[RiskReport] = field(default_factory=list)
    events: int = 0
    wall_s: float = 0.0
