"""A read-only view of a dispatcher: what screens and notices may know, nothing they can change.

Services read the live plan through :class:`DispatchView`; every answer is a frozen value
(or a fresh list of them), so a reader cannot change the dispatcher by accident. Only the
writer's logged commands change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.engine import LIVE, Dispatcher
from dispatch.model import (
    BookingStatus,
    MoveCheck,
    PlannedStop,
    Promise,
    StopKind,
    TripRequest,
    VehicleSpec,
)
from dispatch.params import ServiceParams


@dataclass(frozen=True, slots=True)
class LiveBooking:
    """A booking as the dispatcher holds it now: its vehicle, status and promise."""

    id: str
    request: TripRequest
    vehicle_id: str
    status: BookingStatus
    promise: Promise
    expires_at_s: int | None
    promise_broken: bool
    protected: bool = False  # an operator keeps it on its vehicle


@dataclass(frozen=True, slots=True)
class VehicleState:
    """A vehicle now: where it will be free and when, and whether it is on the road."""

    id: str
    spec: VehicleSpec
    place: int
    available_s: int
    in_service: bool
    locked: bool
    planned_stops: int  # entries of its plan (rider stops and breaks)


@dataclass(frozen=True, slots=True)
class PlanSignature:
    """What a vehicle's screen depends on; two equal signatures mean nothing changed for it."""

    entries: tuple[tuple[str, str, str], ...]  # (id, kind, booking status)
    place: int
    available_s: int
    in_service: bool
    locked: bool


class DispatchView:
    """Read-only access to a dispatcher (the live service's replica, or the simulator's)."""

    __slots__ = ("_d",)

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._d = dispatcher

    @property
    def params(self) -> ServiceParams:
        """The service parameters the dispatcher works with now."""
        return self._d.params

    def vehicle_ids(self) -> list[str]:
        """Every vehicle (one per van and service day in the live service), sorted."""
        return sorted(self._d.vehicles)

    def vehicle(self, vehicle_id: str) -> VehicleState | None:
        v = self._d.vehicles.get(vehicle_id)
        if v is None:
            return None
        n = len(self._d.plans.get(vehicle_id, []))
        return VehicleState(vehicle_id, v.spec, v.place, v.available_s, v.in_service, v.locked, n)

    def booking(self, booking_id: str) -> LiveBooking | None:
        b = self._d.bookings.get(booking_id)
        if b is None:
            return None
        return LiveBooking(
            b.id,
            b.request,
            b.vehicle_id,
            b.status,
            b.promise,
            b.expires_at_s,
            b.promise_broken,
            b.protected,
        )

    def break_minutes(self, break_id: str) -> int:
        """How long a planned break lasts (minutes; 0 for an unknown one)."""
        found = self._d.breaks.get(break_id)
        return found[1].duration_s // 60 if found else 0

    def plan(self, vehicle_id: str) -> list[PlannedStop]:
        """The vehicle's stops in order with planned times ([] for an unknown vehicle)."""
        if vehicle_id not in self._d.vehicles:
            return []
        return self._d.plan(vehicle_id)

    def next_stop_place(self, vehicle_id: str) -> int | None:
        """The place of the vehicle's next rider stop (breaks skipped), if any."""
        for ident, kind in self._d.plans.get(vehicle_id, []):
            if kind == StopKind.BREAK:
                continue
            r = self._d.bookings[ident].request
            return r.origin if kind == StopKind.PICKUP else r.destination
        return None

    def eta(self, booking_id: str) -> tuple[int | None, int | None]:
        """Planned pickup and drop-off times (s) of a confirmed or on-board booking."""
        b = self._d.bookings.get(booking_id)
        if b is None or b.status not in (BookingStatus.CONFIRMED, BookingStatus.ONBOARD):
            return None, None
        times = {(ps.booking_id, ps.kind): ps.planned_s for ps in self._d.plan(b.vehicle_id)}
        pick = times.get((booking_id, StopKind.PICKUP))
        drop = times.get((booking_id, StopKind.DROPOFF))
        return (
            pick if pick is not None and pick >= 0 else None,
            drop if drop is not None and drop >= 0 else None,
        )

    def live_times(self) -> dict[str, tuple[str, int | None, int | None]]:
        """(vehicle, planned pickup, planned drop-off) of every confirmed or on-board
        booking, each vehicle's plan computed once (a day's list, not one booking)."""
        out: dict[str, tuple[str, int | None, int | None]] = {}
        for vid in self._d.vehicles:
            times: dict[str, list[int | None]] = {}
            for ps in self._d.plan(vid):
                if ps.kind == StopKind.BREAK:
                    continue
                slot = times.setdefault(ps.booking_id, [None, None])
                slot[0 if ps.kind == StopKind.PICKUP else 1] = (
                    ps.planned_s if ps.planned_s >= 0 else None
                )
            for bid, (pick, drop) in times.items():
                b = self._d.bookings[bid]
                if b.status in (BookingStatus.CONFIRMED, BookingStatus.ONBOARD):
                    out[bid] = (vid, pick, drop)
        return out

    def move_check(self, booking_id: str, vehicle_id: str, now_s: int) -> MoveCheck:
        """Whether the booking would fit that vehicle, and when (nothing is changed)."""
        return self._d.move_to(booking_id, vehicle_id, now_s, apply=False)

    def assignments(self) -> dict[str, str]:
        """The vehicle of every live (held, confirmed, on-board) booking."""
        return {b.id: b.vehicle_id for b in self._d.bookings.values() if b.status in LIVE}

    def signature(self, vehicle_id: str) -> PlanSignature | None:
        """What the vehicle's manifest depends on (to tell which vehicles a change touched)."""
        v = self._d.vehicles.get(vehicle_id)
        if v is None:
            return None
        entries = tuple(
            (
                ident,
                str(kind),
                "" if kind == StopKind.BREAK else str(self._d.bookings[ident].status),
            )
            for ident, kind in self._d.plans.get(vehicle_id, [])
        )
        return PlanSignature(entries, v.place, v.available_s, v.in_service, v.locked)

    def has_expired_holds(self, now_s: int) -> bool:
        """Whether some held offer's time is up (the engine's one expiry rule)."""
        return self._d.has_expired_holds(now_s)

    def behind(self, now_s: int) -> list[str]:
        """Vehicles on shift whose plans can no longer be kept from now (to be re-timed)."""
        return self._d.behind(now_s)
