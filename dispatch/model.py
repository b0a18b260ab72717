"""Data of the live dispatch core: requests, promises, offers, vehicles and planned stops.

Places are indices into the travel-time matrix the caller provides (meeting points, depots,
vehicle positions). All times are whole seconds on one clock chosen by the caller (the live
service uses seconds since the service day's midnight, local time).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from common.errors import DrtError


class Mode(enum.StrEnum):
    ASAP = "asap"
    DEPART_AT = "depart_at"
    ARRIVE_BY = "arrive_by"


class StopKind(enum.StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"
    BREAK = "break"


class BookingStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    ONBOARD = "onboard"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"


#: A refusal always says why (machine-readable), in order of how a rider can act on it.
class Reason(enum.StrEnum):
    NO_VEHICLE_IN_SERVICE = "no_vehicle_in_service"
    FULL = "vehicles_full"
    TIME_WINDOW = "no_time_available"
    RIDE_TIME = "ride_too_long"
    SHIFT = "outside_vehicle_hours"


class DispatchError(DrtError):
    code = "dispatch_error"
    http_status = 422


class InvalidRequest(DispatchError):
    code = "request_invalid"


class UnknownPlace(DispatchError):
    code = "unknown_meeting_point"


class OutsideServiceHours(DispatchError):
    code = "outside_service_hours"


class TooManyPassengers(DispatchError):
    code = "too_many_passengers"


class UnknownBooking(DispatchError):
    code = "booking_not_found"
    http_status = 404


class HoldExpired(DispatchError):
    code = "offer_expired"
    http_status = 409


class InvalidTransition(DispatchError):
    code = "invalid_state_change"
    http_status = 409


@dataclass(frozen=True, slots=True)
class TripRequest:
    """A rider's wish: from, to, when, how many."""

    id: str
    origin: int
    destination: int
    mode: Mode
    time_s: int | None
    seats: int
    wheelchairs: int = 0
    channel: str = "app"
    #: Riders by fare category, e.g. (("adult", 2), ("child", 1)); carried for the fare.
    fare_counts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Promise:
    """What the rider is told, and what every later plan must keep."""

    pickup_from_s: int
    pickup_to_s: int
    pickup_planned_s: int
    dropoff_planned_s: int
    dropoff_by_s: int
    max_ride_s: int

    def dropoff_estimate_s(self, direct_ride_s: int) -> int:
        """The drop-off time to tell the rider: never before the end of the pickup window
        plus the direct ride (a pickup at the end of the window is still on time), never
        after the promised latest drop-off. The plan's own time may be earlier."""
        return min(max(self.dropoff_planned_s, self.pickup_to_s + direct_ride_s), self.dropoff_by_s)


@dataclass(frozen=True, slots=True)
class Offer:
    booking_id: str
    request: TripRequest
    vehicle_id: str
    promise: Promise
    expires_at_s: int


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A promise a delay has made impossible to keep: who, which stop, how late (s)."""

    booking_id: str
    kind: StopKind
    late_by_s: int


@dataclass(frozen=True, slots=True)
class MoveCheck:
    """Whether a confirmed booking fits another vehicle within its planned windows, and when
    that vehicle would pick it up and drop it off (``reason`` says what it would break)."""

    booking_id: str
    vehicle_id: str
    fits: bool
    reason: Reason | None = None
    pickup_planned_s: int | None = None
    dropoff_planned_s: int | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A vehicle taken out of service: who moved to which vehicle, and who could not be
    re-planned (they stay booked on it, to be called by an operator)."""

    vehicle_id: str
    moved: tuple[tuple[str, str], ...]  # (booking, to vehicle)
    stranded: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    request: TripRequest
    reason: Reason
    alternatives: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class Break:
    """A driver's break: it starts within [earliest_s, latest_s] at ``place`` for duration_s."""

    earliest_s: int
    latest_s: int
    duration_s: int
    place: int


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    id: str
    seats: int
    wheelchairs: int
    depot: int
    shift_start_s: int
    shift_end_s: int
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """One stop of a vehicle's plan with its planned time and the window it must keep."""

    booking_id: str
    kind: StopKind
    place: int
    planned_s: int
    earliest_s: int
    latest_s: int
    seats: int
    wheelchairs: int
