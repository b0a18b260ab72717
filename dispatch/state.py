"""The state the live dispatch engine decides on, and the one rule for when a hold expires.

:class:`FleetState` holds the fleet, the bookings, each vehicle's plan and the travel-time
matrix, and turns plans into the arrays the compiled kernels search (:meth:`build_problem`,
with a per-vehicle cache). It is the shared base of the engine's parts: quoting
(:mod:`dispatch.quoting`), the booking state machine (:mod:`dispatch.lifecycle`) and road
events (:mod:`dispatch.road`), which :class:`dispatch.engine.Dispatcher` puts together.

When a held offer has run out is decided here only: :func:`hold_expired` for one booking,
:meth:`FleetState.has_expired_holds` and :meth:`FleetState.expire` for all of them, and
:func:`hold_expired_error` for what the rider is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dispatch.kernels import DROPOFF, END, INF, PICKUP, START, Floats, Ints
from dispatch.model import (
    BookingStatus,
    Break,
    HoldExpired,
    InvalidTransition,
    Promise,
    StopKind,
    TripRequest,
    UnknownBooking,
    UnknownPlace,
    VehicleSpec,
)
from dispatch.params import ServiceParams
from dispatch.problem import Problem

BREAK_KIND = 4  # a plain windowed stop for the kernels
LIVE = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.ONBOARD)


@dataclass(slots=True)
class Booking:
    """A held or confirmed request with its promise and the window its pickup must keep."""

    id: str
    request: TripRequest
    vehicle_id: str
    promise: Promise
    status: BookingStatus
    expires_at_s: int | None
    pickup_earliest_s: int  # the plan keeps the pickup within these (inside the promise)
    pickup_latest_s: int
    dropoff_latest_s: int  # the plan's latest drop-off (the promise's, less the slack)
    ride_limit_s: int  # the plan's longest ride (the promise's, less the slack)
    due_s: tuple[int, int]  # when its pickup and drop-off are due: the bands they drive in
    ride_started_s: int | None = None
    promise_broken: bool = False
    group: str = ""  # the rider's original request id, shared by its alternatives
    protected: bool = False  # an operator keeps it on its vehicle: no repair moves it away

    @property
    def persons(self) -> int:
        """Everyone who rides (seated and wheelchair users): what boarding time scales with."""
        return self.request.seats + self.request.wheelchairs


@dataclass(slots=True)
class Vehicle:
    """A vehicle's spec and where and when it is next free; the engine plans from there."""

    spec: VehicleSpec
    place: int
    available_s: int
    in_service: bool = False
    locked: bool = False  # driving to the first stop of its plan, which must stay first


Entry = tuple[str, StopKind]  # (booking id or break id, kind)


def due_times(window: tuple[int, int, int, int]) -> tuple[int, int]:
    """When a request's pickup and drop-off are due, from the windows it was planned in
    ``(pickup earliest, pickup latest, drop-off latest, longest ride)``: the pickup in the
    middle of its window, the drop-off half its longest ride before its latest time. A
    booking keeps these for good (:attr:`Booking.due_s`), so each stop stays in the peak band
    its plan was made in, whatever its windows become."""
    early, late, drop_by, ride = window
    return (early + late) // 2, drop_by - min(ride, drop_by) // 2


def hold_expired(b: Booking, now_s: int) -> bool:
    """Whether this booking is a held offer whose time is up at ``now_s``.

    The one expiry rule: the engine releases exactly these holds (:meth:`FleetState.expire`,
    and :meth:`~dispatch.lifecycle.Lifecycle.confirm` refuses them), so callers that need to
    know whether to expire ask here instead of restating the condition.
    """
    return b.status == BookingStatus.HELD and b.expires_at_s is not None and b.expires_at_s <= now_s


def hold_expired_error(**details: Any) -> HoldExpired:
    """The error a rider sees for an offer that has expired (one wording everywhere)."""
    return HoldExpired(
        "この提案の有効期限が切れました。もう一度お申し込みください。",
        "This offer has expired. Please ask again.",
        **details,
    )


@dataclass(slots=True, eq=False)
class _Block:
    """The stops of one vehicle's plan as arrays, in plan order (partners as block indices).

    Cached per vehicle and reused while the plan's entries are unchanged; ``_repair``, the
    one place that changes the windows of bookings already planned, drops the cache.
    """

    entries: list[Entry]
    rows: Floats  # (n, 8): loc, early, late, svc, dq, dw, kind, maxride
    due: Floats  # when each stop is due (its peak band)
    partner: Ints  # block index of the other stop of the request, or -1
    ride_from: Floats
    load0: int
    load0_w: int


class FleetState:
    """Fleet, bookings and plans, their set-up, and the arrays the kernels search.

    The base every part of :class:`dispatch.engine.Dispatcher` shares, so that each part
    reads and changes one state and builds its search problems the same way.
    """

    def __init__(
        self,
        params: ServiceParams,
        travel_s: Ints,
        nearby: Callable[[int], list[int]] | None = None,
    ) -> None:
        self.params = params
        self.vehicles: dict[str, Vehicle] = {}
        self.bookings: dict[str, Booking] = {}
        self.plans: dict[str, list[Entry]] = {}
        self.breaks: dict[str, tuple[str, Break]] = {}
        self._nearby = nearby or (lambda _place: [])
        self._blocks: dict[str, _Block] = {}
        self._counter = 0
        self.set_travel(travel_s)

    # -- set-up --------------------------------------------------------------------------

    def set_params(self, params: ServiceParams) -> None:
        """Service parameters from now on (bookings already made keep their promises)."""
        self.params = params
        self._blocks.clear()  # their rows hold service times
        self.set_travel(self._tt)  # the stop overhead is in the planning matrix

    def set_travel(self, travel_s: Ints) -> None:
        """Travel times (whole seconds) between places; a stop's overhead is added per move."""
        tt = np.asarray(travel_s, dtype=np.int64)
        if tt.ndim != 2 or tt.shape[0] != tt.shape[1]:
            raise ValueError("the travel-time matrix must be square")
        self._tt = tt
        moving = ~np.eye(tt.shape[0], dtype=bool)
        overhead = self.params.stop_overhead_s * moving
        self._tt_eff: Floats = (tt + overhead).astype(np.float64)
        # Peak bands: one block of columns per distinct factor (a drive takes the factor of
        # the stop it drives to), the same rows repeated, so the kernels stay time-free.
        pcts = sorted({100, *(b[2] for b in self.params.peak_bands)})
        self._band_pcts = pcts
        safe = self.params.plan_travel_pct / 100
        if len(pcts) > 1:
            cols = np.hstack([np.round(tt * (safe * pct / 100)) + overhead for pct in pcts])
            self._tt_eff = np.vstack([cols] * len(pcts)).astype(np.float64)
        elif safe != 1.0:
            self._tt_eff = (np.round(tt * safe) + overhead).astype(np.float64)

    def planned_drive_s(self, a: int, b: int, due_s: int) -> int:
        """The drive from place a to place b as the plan counts it (with the stop overhead,
        the planning factor, and the peak factor of a stop at b due at ``due_s``)."""
        if a == b:
            return 0
        block = self._band_pcts.index(self.params.peak_pct(due_s)) if self.params.peak_bands else 0
        return int(self._tt_eff[a, block * self._tt.shape[0] + b])

    @property
    def travel_s(self) -> Ints:
        """The travel-time matrix given to :meth:`set_travel` (whole seconds)."""
        return self._tt

    @property
    def n_places(self) -> int:
        """How many places the travel-time matrix covers."""
        return int(self._tt.shape[0])

    def add_vehicle(self, spec: VehicleSpec) -> None:
        """Register a vehicle (not yet in service) at its depot, with its breaks planned."""
        self._check_place(spec.depot)
        self.vehicles[spec.id] = Vehicle(spec, spec.depot, spec.shift_start_s)
        self.plans.setdefault(spec.id, [])
        for i, brk in enumerate(spec.breaks):
            self._check_place(brk.place)
            bid = f"break:{spec.id}:{i}"
            self.breaks[bid] = (spec.id, brk)
            self.plans[spec.id].append((bid, StopKind.BREAK))

    def start_shift(self, vehicle_id: str, place: int, now_s: int) -> None:
        """The vehicle is in service from now at ``place``: quotes may plan on it."""
        v = self._vehicle(vehicle_id)
        self._check_place(place)
        v.place, v.available_s, v.in_service, v.locked = place, now_s, True, False

    def end_shift(self, vehicle_id: str) -> None:
        """Take the vehicle out of service; refused while riders are still planned on it."""
        v = self._vehicle(vehicle_id)
        live = [bid for bid, kind in self.plans[vehicle_id] if kind != StopKind.BREAK]
        if live:
            raise InvalidTransition(
                f"この車にはまだ {len(live)} 件の乗降予定があります",
                f"The vehicle still has {len(live)} planned stops",
                vehicle=vehicle_id,
            )
        v.in_service = False

    # -- holds -----------------------------------------------------------------------------

    def has_expired_holds(self, now_s: int) -> bool:
        """Whether :meth:`expire` at ``now_s`` would release anything.

        Lets a caller that records every change (the live service's log) skip an expiry
        step that would do nothing.
        """
        return any(hold_expired(b, now_s) for b in self.bookings.values())

    def expire(self, now_s: int) -> list[Booking]:
        """Release every hold whose time is up."""
        gone = [b for b in self.bookings.values() if hold_expired(b, now_s)]
        for b in gone:
            self._release(b, BookingStatus.EXPIRED)
        return gone

    def _release(self, b: Booking, status: BookingStatus) -> None:
        plan = self.plans.get(b.vehicle_id, [])
        self.plans[b.vehicle_id] = [e for e in plan if e[0] != b.id]
        b.status = status
        b.expires_at_s = None

    # -- lookups ---------------------------------------------------------------------------

    def _check_place(self, place: int) -> None:
        if not 0 <= place < self._tt.shape[0]:
            raise UnknownPlace(
                f"乗降ポイント {place} は登録されていません",
                f"Meeting point {place} is not known",
                place=place,
            )

    def _vehicle(self, vehicle_id: str) -> Vehicle:
        try:
            return self.vehicles[vehicle_id]
        except KeyError:
            raise UnknownBooking(
                f"車両 {vehicle_id} は登録されていません",
                f"Vehicle {vehicle_id} is not known",
                vehicle=vehicle_id,
            ) from None

    def _booking(self, booking_id: str) -> Booking:
        try:
            return self.bookings[booking_id]
        except KeyError:
            raise UnknownBooking(
                f"予約 {booking_id} は見つかりません",
                f"No booking {booking_id}",
                booking_id=booking_id,
            ) from None

    # -- the arrays the kernels search -----------------------------------------------------

    def build_problem(
        self,
        vehicle_ids: list[str],
        extra: tuple[TripRequest, tuple[int, int, int, int], tuple[int, int]] | None,
        now_s: int = 0,
    ) -> tuple[Problem, dict[Entry, int], tuple[int, int]]:
        """Arrays for these vehicles' plans (and one new request, last two stops: the request,
        its windows and when its stops are due, :func:`due_times`).

        Stops are numbered vehicle by vehicle (START, END, then the plan in order), then the
        new request. A vehicle leaves its place no earlier than when it is free and no
        earlier than now.
        """
        p = self.params
        blocks = [self._block(vid) for vid in vehicle_ids]
        n = sum(2 + len(blk.entries) for blk in blocks) + (2 if extra is not None else 0)
        rows = np.zeros((n, 8))
        rows[:, 7] = INF
        due = np.zeros(n)  # when each stop is due (the band its drive to it takes)
        partner = np.full(n, -1, dtype=np.int64)
        ride_from = np.zeros(n)
        stop_of: dict[Entry, int] = {}
        ends: list[int] = []
        caps, caps_w, load0, load0_w = [], [], [], []
        head: list[tuple[float, float, float, float, float, float, float, float]] = []
        off = 0
        for vid, blk in zip(vehicle_ids, blocks, strict=True):
            v = self.vehicles[vid]
            spec = v.spec
            leave = max(v.available_s, now_s)
            head.append((v.place, leave, spec.shift_end_s, 0, 0, 0, START, INF))
            head.append((spec.depot, 0, spec.shift_end_s, 0, 0, 0, END, INF))
            ends.append(off + 1)
            first, count = off + 2, len(blk.entries)
            due[off], due[off + 1] = leave, spec.shift_end_s
            if count:
                rows[first : first + count] = blk.rows
                due[first : first + count] = blk.due
                partner[first : first + count] = np.where(blk.partner >= 0, blk.partner + first, -1)
                ride_from[first : first + count] = blk.ride_from
                stop_of.update(zip(blk.entries, range(first, first + count), strict=True))
            caps.append(spec.seats)
            caps_w.append(spec.wheelchairs)
            load0.append(blk.load0)
            load0_w.append(blk.load0_w)
            off = first + count
        starts = np.array([e - 1 for e in ends], dtype=np.int64)
        if head:
            rows[np.column_stack((starts, starts + 1)).ravel()] = np.array(head)
        new = (-1, -1)
        if extra is not None:
            r, (e0, l0, drop_by, ride), due[off : off + 2] = extra
            persons = r.seats + r.wheelchairs
            rows[off] = (
                r.origin,
                e0,
                l0,
                p.dwell_board_s * persons,
                r.seats,
                r.wheelchairs,
                PICKUP,
                INF,
            )
            rows[off + 1] = (
                r.destination, 0, drop_by, p.dwell_alight_s * persons,
                -r.seats, -r.wheelchairs, DROPOFF, ride,
            )  # fmt: skip
            partner[off], partner[off + 1] = off + 1, off
            new = (off, off + 1)
        n_v = len(vehicle_ids)
        place = rows[:, 0].astype(np.int64)
        loc = place if len(self._band_pcts) == 1 else self._banded(place, due)
        problem = Problem(
            loc=loc,
            early=rows[:, 1].copy(),
            late=rows[:, 2].copy(),
            svc=rows[:, 3].copy(),
            dq=rows[:, 4].astype(np.int64),
            dw=rows[:, 5].astype(np.int64),
            kind=rows[:, 6].astype(np.int64),
            partner=partner,
            maxride=rows[:, 7].copy(),
            ride_from=ride_from,
            tt=self._tt_eff,
            cost=self._tt_eff,
            v_start=starts,
            v_end=np.array(ends, dtype=np.int64),
            v_cap=np.array(caps, dtype=np.int64),
            v_cap_w=np.array(caps_w, dtype=np.int64),
            v_load0=np.array(load0, dtype=np.int64),
            v_load0_w=np.array(load0_w, dtype=np.int64),
            v_max_duration=np.full(n_v, INF),
            place=None if loc is place else place,
        )
        return problem, stop_of, new

    def _banded(self, place: Ints, due: Floats) -> Ints:
        """Rows of the banded matrix: each stop's place in the block of the peak factor of
        when it is due (a booking's stops: :attr:`Booking.due_s`; a break: the middle of its
        window; a vehicle's start: when it leaves)."""
        local = (due + self.params.local_offset_s) % 86400
        bands = np.zeros(len(place), dtype=np.int64)
        for start, end, pct in self.params.peak_bands:
            bands[(local >= start) & (local < end)] = self._band_pcts.index(pct)
        banded: Ints = place + bands * self._tt.shape[0]
        return banded

    def _block(self, vehicle_id: str) -> _Block:
        """The plan's stops as arrays, from the cache while the plan's entries are the same."""
        entries = self.plans[vehicle_id]
        cached = self._blocks.get(vehicle_id)
        if cached is not None and cached.entries == entries:
            return cached
        p = self.params
        rows: list[tuple[float, float, float, float, float, float, float, float]] = []
        due = np.zeros(len(entries))
        ride_from = np.zeros(len(entries))
        partner = np.full(len(entries), -1, dtype=np.int64)
        pickup_at: dict[str, int] = {}
        seats_on = wheel_on = 0
        for i, (ident, k) in enumerate(entries):
            if k == StopKind.BREAK:
                _, brk = self.breaks[ident]
                rows.append(
                    (brk.place, brk.earliest_s, brk.latest_s, brk.duration_s, 0, 0, BREAK_KIND, INF)
                )
                due[i] = (brk.earliest_s + brk.latest_s) // 2
                continue
            b = self.bookings[ident]
            r = b.request
            due[i] = b.due_s[0] if k == StopKind.PICKUP else b.due_s[1]
            if k == StopKind.PICKUP:
                rows.append((
                    r.origin, b.pickup_earliest_s, b.pickup_latest_s,
                    p.dwell_board_s * b.persons, r.seats, r.wheelchairs, PICKUP, INF,
                ))  # fmt: skip
                pickup_at[ident] = i
                continue
            rows.append((
                r.destination, 0, b.dropoff_latest_s, p.dwell_alight_s * b.persons,
                -r.seats, -r.wheelchairs, DROPOFF, b.ride_limit_s,
            ))  # fmt: skip
            if ident in pickup_at:
                partner[i], partner[pickup_at[ident]] = pickup_at[ident], i
            if b.status == BookingStatus.ONBOARD:
                seats_on += r.seats
                wheel_on += r.wheelchairs
                ride_from[i] = float(b.ride_started_s or 0)
        block = _Block(
            entries=list(entries),
            rows=np.array(rows, dtype=np.float64).reshape(len(entries), 8),
            due=due,
            partner=partner,
            ride_from=ride_from,
            load0=seats_on,
            load0_w=wheel_on,
        )
        self._blocks[vehicle_id] = block
        return block
