"""The live dispatch engine: instant offers that keep every promise.

:class:`Dispatcher` holds the fleet, the bookings and each vehicle's plan. It has no clock,
database, network or randomness: every call takes ``now_s`` explicitly, so the live service
and the simulator drive exactly this code and get the same decisions for the same inputs.

A quote inserts the request at its cheapest feasible place over all vehicles and positions
(the compiled kernels of :mod:`dispatch.kernels`), holds it for ``hold_ttl_s`` and returns an
:class:`Offer`. Only :meth:`Dispatcher.confirm` makes it a booking; an expired or cancelled
hold leaves the plan. When nothing fits, the answer is a :class:`Rejection` with a reason code
and up to three alternative offers (other times, or a nearby meeting point).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from dispatch.kernels import CAPACITY, DROPOFF, END, INF, OK, PICKUP, RIDE_TIME, START, Floats, Ints
from dispatch.model import (
    AtRisk,
    BookingStatus,
    Break,
    HoldExpired,
    InvalidRequest,
    InvalidTransition,
    Mode,
    Offer,
    OutsideServiceHours,
    PlannedStop,
    Promise,
    Reason,
    Rejection,
    StopKind,
    TooManyPassengers,
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
    pickup_earliest_s: int
    pickup_latest_s: int
    ride_started_s: int | None = None
    promise_broken: bool = False
    group: str = ""  # the rider's original request id, shared by its alternatives

    @property
    def persons(self) -> int:
        return self.request.seats + self.request.wheelchairs


@dataclass(slots=True)
class Vehicle:
    spec: VehicleSpec
    place: int
    available_s: int
    in_service: bool = False
    locked: bool = False  # driving to the first stop of its plan, which must stay first


Entry = tuple[str, StopKind]  # (booking id or break id, kind)


@dataclass(slots=True, eq=False)
class _Block:
    """The stops of one vehicle's plan as arrays, in plan order (partners as block indices).

    Cached per vehicle and reused while the plan's entries are unchanged; ``_repair``, the
    one place that changes the windows of bookings already planned, drops the cache.
    """

    entries: list[Entry]
    rows: Floats  # (n, 8): loc, early, late, svc, dq, dw, kind, maxride
    partner: Ints  # block index of the other stop of the request, or -1
    ride_from: Floats
    load0: int
    load0_w: int


class Dispatcher:
    """Fleet, bookings and plans; every method takes the current time explicitly."""

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

    def set_travel(self, travel_s: Ints) -> None:
        """Travel times (whole seconds) between places; a stop's overhead is added per move."""
        tt = np.asarray(travel_s, dtype=np.int64)
        if tt.ndim != 2 or tt.shape[0] != tt.shape[1]:
            raise ValueError("the travel-time matrix must be square")
        self._tt = tt
        moving = ~np.eye(tt.shape[0], dtype=bool)
        self._tt_eff: Floats = (tt + self.params.stop_overhead_s * moving).astype(np.float64)

    @property
    def n_places(self) -> int:
        """How many places the travel-time matrix covers."""
        return int(self._tt.shape[0])

    def add_vehicle(self, spec: VehicleSpec) -> None:
        self._check_place(spec.depot)
        self.vehicles[spec.id] = Vehicle(spec, spec.depot, spec.shift_start_s)
        self.plans.setdefault(spec.id, [])
        for i, brk in enumerate(spec.breaks):
            self._check_place(brk.place)
            bid = f"break:{spec.id}:{i}"
            self.breaks[bid] = (spec.id, brk)
            self.plans[spec.id].append((bid, StopKind.BREAK))

    def start_shift(self, vehicle_id: str, place: int, now_s: int) -> None:
        v = self._vehicle(vehicle_id)
        self._check_place(place)
        v.place, v.available_s, v.in_service, v.locked = place, now_s, True, False

    def end_shift(self, vehicle_id: str) -> None:
        v = self._vehicle(vehicle_id)
        live = [bid for bid, kind in self.plans[vehicle_id] if kind != StopKind.BREAK]
        if live:
            raise InvalidTransition(
                f"この車にはまだ {len(live)} 件の乗降予定があります",
                f"The vehicle still has {len(live)} planned stops",
                vehicle=vehicle_id,
            )
        v.in_service = False

    # -- quotes, holds, confirmations ------------------------------------------------------

    def quote(self, request: TripRequest, now_s: int) -> Offer | Rejection:
        """An offer held for ``hold_ttl_s``, or a reason and up to three alternatives."""
        self.expire(now_s)
        self._validate(request, now_s)
        offer, reason = self._try(request, now_s, request.id)
        if offer is not None:
            return offer
        alternatives: list[Offer] = []
        for alt in self._alternative_requests(request, now_s):
            if len(alternatives) >= 3:
                break
            try:
                self._validate(alt, now_s)
            except (InvalidRequest, OutsideServiceHours):
                continue
            found, _ = self._try(alt, now_s, request.id)
            if found is not None:
                alternatives.append(found)
        return Rejection(request, reason, tuple(alternatives))

    def confirm(self, booking_id: str, now_s: int) -> Booking:
        """Turn a held offer into a booking (idempotent); other offers for it are released."""
        b = self._booking(booking_id)
        if b.status == BookingStatus.CONFIRMED:
            return b
        if (
            b.status == BookingStatus.HELD
            and b.expires_at_s is not None
            and b.expires_at_s <= now_s
        ):
            self._release(b, BookingStatus.EXPIRED)
        if b.status == BookingStatus.EXPIRED:
            raise HoldExpired(
                "この提案の有効期限が切れました。もう一度お申し込みください。",
                "This offer has expired. Please ask again.",
                booking_id=booking_id,
            )
        if b.status != BookingStatus.HELD:
            raise InvalidTransition(
                f"この予約は確定できません(状態: {b.status})",
                f"This booking cannot be confirmed (status: {b.status})",
                booking_id=booking_id,
            )
        b.status, b.expires_at_s = BookingStatus.CONFIRMED, None
        for other in list(self.bookings.values()):
            same = other.group == b.group and other.id != b.id
            if same and other.status == BookingStatus.HELD:
                self._release(other, BookingStatus.CANCELLED)
        return b

    def cancel(self, booking_id: str, now_s: int) -> Booking:
        """Cancel a held or confirmed booking (idempotent); its seats are free at once."""
        b = self._booking(booking_id)
        if b.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
            return b
        if b.status != BookingStatus.HELD and b.status != BookingStatus.CONFIRMED:
            raise InvalidTransition(
                f"乗車中または終了した予約は取り消せません(状態: {b.status})",
                f"A booking that is on board or finished cannot be cancelled ({b.status})",
                booking_id=booking_id,
            )
        self._release(b, BookingStatus.CANCELLED)
        return b

    def expire(self, now_s: int) -> list[Booking]:
        """Release every hold whose time is up."""
        gone = [
            b
            for b in self.bookings.values()
            if b.status == BookingStatus.HELD
            and b.expires_at_s is not None
            and b.expires_at_s <= now_s
        ]
        for b in gone:
            self._release(b, BookingStatus.EXPIRED)
        return gone

    # -- what happens on the road ------------------------------------------------------------

    def update_vehicle(
        self, vehicle_id: str, place: int, available_s: int, now_s: int, *, locked: bool = True
    ) -> list[AtRisk]:
        """The vehicle will be free at ``place`` at ``available_s`` (a position or a delay).

        Delays propagate through the plan. Requests whose promise can no longer be kept on
        this vehicle are moved to another vehicle where they fit; the rest stay, their
        windows are widened to what is now possible, and they are returned so that riders
        can be told.
        """
        v = self._vehicle(vehicle_id)
        self._check_place(place)
        v.place, v.available_s, v.locked = (
            place,
            max(available_s, now_s),
            locked and bool(self.plans[vehicle_id]),
        )
        return self._repair(vehicle_id, now_s)

    def board(self, booking_id: str, now_s: int) -> Booking:
        """The rider got on at the vehicle's current stop; the ride starts after boarding."""
        b = self._at_stop(booking_id, BookingStatus.CONFIRMED, StopKind.PICKUP)
        self.plans[b.vehicle_id].remove((b.id, StopKind.PICKUP))
        b.status = BookingStatus.ONBOARD
        b.ride_started_s = now_s + self.params.dwell_board_s * b.persons
        self._vehicle_at(b.vehicle_id, b.request.origin, b.ride_started_s)
        return b

    def alight(self, booking_id: str, now_s: int) -> Booking:
        b = self._at_stop(booking_id, BookingStatus.ONBOARD, StopKind.DROPOFF)
        self.plans[b.vehicle_id].remove((b.id, StopKind.DROPOFF))
        b.status = BookingStatus.COMPLETED
        self._vehicle_at(
            b.vehicle_id, b.request.destination, now_s + self.params.dwell_alight_s * b.persons
        )
        return b

    def no_show(self, booking_id: str, now_s: int) -> Booking:
        """The rider did not come; allowed only once the promised window has opened."""
        b = self._at_stop(booking_id, BookingStatus.CONFIRMED, StopKind.PICKUP)
        if now_s < b.promise.pickup_from_s:
            raise InvalidTransition(
                "お約束の時間帯より前は「来られなかった」にできません",
                "A no-show cannot be recorded before the promised pickup window opens",
                booking_id=booking_id,
            )
        self._release(b, BookingStatus.NO_SHOW)
        self._vehicle_at(b.vehicle_id, b.request.origin, now_s)
        return b

    def take_break(self, vehicle_id: str, break_id: str, now_s: int) -> Break:
        """The driver starts this planned break now; the vehicle is free again after it.

        The break must be the next stop of the plan (the vehicle is at its place).
        """
        plan = self.plans[self._vehicle(vehicle_id).spec.id]
        if not plan or plan[0] != (break_id, StopKind.BREAK):
            raise InvalidTransition(
                "この休憩は今の予定の最初ではありません。次の停車地の予定を確認してください。",
                "This break is not the next stop of the plan. Check the next stop.",
                vehicle=vehicle_id,
                break_id=break_id,
            )
        _, brk = self.breaks[break_id]
        plan.pop(0)
        self._vehicle_at(vehicle_id, brk.place, now_s + brk.duration_s)
        return brk

    def _at_stop(self, booking_id: str, status: BookingStatus, kind: StopKind) -> Booking:
        """The booking, if it has this status and its stop is the vehicle's current stop."""
        b = self._booking(booking_id)
        if b.status != status:
            raise InvalidTransition(
                f"この予約は今この操作ができる状態ではありません(状態: {b.status})",
                f"This booking cannot do that now (status: {b.status}, needed: {status})",
                booking_id=booking_id,
            )
        self._require_at_front(b, kind)
        return b

    def _vehicle_at(self, vehicle_id: str, place: int, available_s: int) -> None:
        v = self.vehicles[vehicle_id]
        v.place, v.available_s, v.locked = place, available_s, False

    # -- views ---------------------------------------------------------------------------

    def plan(self, vehicle_id: str) -> list[PlannedStop]:
        """The vehicle's stops in order, with planned times from the current schedule."""
        entries = self.plans[self._vehicle(vehicle_id).spec.id]
        problem, stop_of, _ = self.build_problem([vehicle_id], None)
        route = [stop_of[e] for e in entries]
        times = problem.times(0, route)
        out = []
        for k, (ident, kind) in enumerate(entries):
            s = route[k]
            planned = int(times[k + 1]) if times is not None else -1
            seats = int(abs(problem.dq[s]))
            wheel = int(abs(problem.dw[s]))
            out.append(
                PlannedStop(
                    ident, kind, int(problem.loc[s]), planned,
                    int(problem.early[s]), int(min(problem.late[s], 10**12)), seats, wheel,
                )
            )  # fmt: skip
        return out

    def live_bookings(self) -> list[Booking]:
        return [b for b in self.bookings.values() if b.status in LIVE]

    # -- internals: validation -----------------------------------------------------------

    def _check_place(self, place: int) -> None:
        if not 0 <= place < self._tt.shape[0]:
            raise UnknownPlace(
                f"乗降ポイント {place} は登録されていません",
                f"Meeting point {place} is not known",
                place=place,
            )

    def _validate(self, r: TripRequest, now_s: int) -> None:
        self._check_place(r.origin)
        self._check_place(r.destination)
        if r.origin == r.destination:
            raise InvalidRequest(
                "乗る場所と降りる場所が同じです。別の場所を選んでください。",
                "Pickup and drop-off are the same meeting point. Choose a different one.",
                place=r.origin,
            )
        if r.seats < 0 or r.wheelchairs < 0 or r.seats + r.wheelchairs == 0:
            raise InvalidRequest(
                "乗る人数を1人以上にしてください。",
                "At least one passenger is needed.",
                seats=r.seats,
                wheelchairs=r.wheelchairs,
            )
        if r.fare_counts and sum(n for _, n in r.fare_counts) != r.seats + r.wheelchairs:
            raise InvalidRequest(
                "料金区分ごとの人数の合計が、乗る人数と合いません。",
                "The riders by fare category do not add up to the number of passengers.",
                fare_counts=dict(r.fare_counts),
            )
        if (r.mode == Mode.ASAP) != (r.time_s is None):
            raise InvalidRequest(
                "時刻の指定が正しくありません(「今すぐ」以外は時刻が必要です)",
                "A time is required for depart-at and arrive-by requests, and only for them",
                mode=str(r.mode),
            )
        if r.time_s is not None and r.time_s < now_s + self.params.min_lead_s:
            raise InvalidRequest(
                "その時刻はもう過ぎているか、近すぎます。「今すぐ」か、もっと後の時刻を選んでください。",
                "That time has passed or is too soon. Ask for 'as soon as possible' or a later time.",
                time_s=r.time_s,
            )
        specs = [v.spec for v in self.vehicles.values()]
        if not any(r.seats <= s.seats and r.wheelchairs <= s.wheelchairs for s in specs):
            most = max((s.seats for s in specs), default=0)
            raise TooManyPassengers(
                f"一度に乗れるのは{most}人までです(車いすの方は車いすの席の数まで)。分けてご予約ください。",
                f"At most {most} passengers fit in one vehicle (wheelchair users: its wheelchair spaces). "
                "Please split the booking.",
                seats=r.seats,
                wheelchairs=r.wheelchairs,
            )
        wish = now_s if r.time_s is None else r.time_s
        if not any(s.shift_start_s <= wish <= s.shift_end_s for s in specs):
            raise OutsideServiceHours(
                "その時間は運行していません。運行時間内の時刻を選んでください。",
                "There is no service at that time. Choose a time within the operating hours.",
                time_s=wish,
            )

    def search_window(self, request: TripRequest, now_s: int) -> tuple[int, int, int, int]:
        """(pickup earliest, pickup latest, drop-off latest, max ride) a quote now searches in.

        Whole seconds. The planner simulation gives an offline solver these same windows.
        """
        return self._windows(request, now_s)

    # -- internals: the search -----------------------------------------------------------

    def _windows(self, r: TripRequest, now_s: int) -> tuple[int, int, int, int]:
        """(pickup earliest, pickup latest, drop-off latest, max ride) to search within."""
        p = self.params
        direct = int(self._tt[r.origin, r.destination])
        max_ride = p.max_ride_s(direct)
        svc = p.dwell_board_s * (r.seats + r.wheelchairs)
        soonest = now_s + p.min_lead_s
        if r.mode == Mode.ASAP:
            early, late = soonest, soonest + p.asap_max_wait_s
            drop_by = late + svc + max_ride
        elif r.mode == Mode.DEPART_AT:
            assert r.time_s is not None
            early, late = r.time_s, r.time_s + p.depart_flex_s
            drop_by = late + svc + max_ride
        else:
            assert r.time_s is not None
            drop_by = r.time_s
            late = r.time_s - direct - svc - self.params.stop_overhead_s
            early = max(soonest, drop_by - max_ride - svc - p.arrive_flex_s)
        return early, late, drop_by, max_ride

    def _try(self, r: TripRequest, now_s: int, group: str) -> tuple[Offer | None, Reason]:
        early, late, drop_by, max_ride = self._windows(r, now_s)
        if late < early:
            return None, Reason.TIME_WINDOW
        in_service = sorted(vid for vid, v in self.vehicles.items() if v.in_service)
        if not in_service:
            return None, Reason.NO_VEHICLE_IN_SERVICE
        new = (early, late, drop_by, max_ride)
        problem, stop_of, (p, d) = self.build_problem(in_service, (r, new), now_s)
        best, best_v, reasons = None, -1, Counter[int]()
        for k, vid in enumerate(in_service):
            route = [stop_of[e] for e in self.plans[vid]]
            first = 1 if self.vehicles[vid].locked and route else 0
            limit = best.extra_cost if best is not None else INF
            ins, code = problem.insertion(k, route, p, d, limit, first)
            if ins is not None:
                best, best_v = ins, k
            elif code != OK:
                reasons[code] += 1
        if best is None:
            return None, self._reason(reasons)
        vid = in_service[best_v]
        route = best.apply([stop_of[e] for e in self.plans[vid]], p, d)
        times = problem.times(best_v, route)
        assert times is not None
        tp = int(times[route.index(p) + 1])
        td = int(times[route.index(d) + 1])
        w = self.params.pickup_window_s
        shift = self.params.replan_shift_s
        promised_from = max(tp - w // 2, early)
        promised_to = promised_from + w
        keep_from, keep_to = max(promised_from, tp - shift), min(promised_to, tp + shift)
        svc = self.params.dwell_board_s * (r.seats + r.wheelchairs)
        drop_by = min(drop_by, keep_to + svc + max_ride)
        self._counter += 1
        booking = Booking(
            id=f"{r.id}#{self._counter}",
            request=r,
            vehicle_id=vid,
            promise=Promise(promised_from, promised_to, tp, td, drop_by, max_ride),
            status=BookingStatus.HELD,
            expires_at_s=now_s + self.params.hold_ttl_s,
            pickup_earliest_s=keep_from,
            pickup_latest_s=keep_to,
            group=group,
        )
        self.bookings[booking.id] = booking
        inverse = {s: e for e, s in stop_of.items()}
        inverse[p], inverse[d] = (booking.id, StopKind.PICKUP), (booking.id, StopKind.DROPOFF)
        self.plans[vid] = [inverse[s] for s in route]
        return Offer(
            booking.id, r, vid, booking.promise, booking.expires_at_s or now_s
        ), Reason.FULL

    @staticmethod
    def _reason(reasons: Counter[int]) -> Reason:
        if not reasons:
            return Reason.TIME_WINDOW
        code = reasons.most_common(1)[0][0]
        return {CAPACITY: Reason.FULL, RIDE_TIME: Reason.RIDE_TIME}.get(code, Reason.TIME_WINDOW)

    def _alternative_requests(self, r: TripRequest, now_s: int) -> Iterable[TripRequest]:
        base = r.time_s if r.time_s is not None else now_s + self.params.min_lead_s
        mode = r.mode if r.mode != Mode.ASAP else Mode.DEPART_AT
        shifts = sorted(self.params.alternative_shifts_s, key=lambda s: (abs(s), s))
        for i, shift in enumerate(shifts):
            if r.mode == Mode.ASAP and shift <= 0:
                continue
            yield replace(r, id=f"{r.id}~t{i}", mode=mode, time_s=base + shift)
        for j, place in enumerate(self._nearby(r.origin)[: self.params.nearby_stops]):
            if place != r.destination:
                yield replace(r, id=f"{r.id}~o{j}", origin=place)
        for j, place in enumerate(self._nearby(r.destination)[: self.params.nearby_stops]):
            if place != r.origin:
                yield replace(r, id=f"{r.id}~d{j}", destination=place)

    def build_problem(
        self,
        vehicle_ids: list[str],
        extra: tuple[TripRequest, tuple[int, int, int, int]] | None,
        now_s: int = 0,
    ) -> tuple[Problem, dict[Entry, int], tuple[int, int]]:
        """Arrays for these vehicles' plans (and one new request, last two stops).

        Stops are numbered vehicle by vehicle (START, END, then the plan in order), then the
        new request. A vehicle leaves its place no earlier than when it is free and no
        earlier than now.
        """
        p = self.params
        blocks = [self._block(vid) for vid in vehicle_ids]
        n = sum(2 + len(blk.entries) for blk in blocks) + (2 if extra is not None else 0)
        rows = np.zeros((n, 8))
        rows[:, 7] = INF
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
            if count:
                rows[first : first + count] = blk.rows
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
            r, (e0, l0, drop_by, ride) = extra
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
        problem = Problem(
            loc=rows[:, 0].astype(np.int64),
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
        )
        return problem, stop_of, new

    def _block(self, vehicle_id: str) -> _Block:
        """The plan's stops as arrays, from the cache while the plan's entries are the same."""
        entries = self.plans[vehicle_id]
        cached = self._blocks.get(vehicle_id)
        if cached is not None and cached.entries == entries:
            return cached
        p = self.params
        rows: list[tuple[float, float, float, float, float, float, float, float]] = []
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
                continue
            b = self.bookings[ident]
            r = b.request
            if k == StopKind.PICKUP:
                rows.append((
                    r.origin, b.pickup_earliest_s, b.pickup_latest_s,
                    p.dwell_board_s * b.persons, r.seats, r.wheelchairs, PICKUP, INF,
                ))  # fmt: skip
                pickup_at[ident] = i
                continue
            rows.append((
                r.destination, 0, b.promise.dropoff_by_s, p.dwell_alight_s * b.persons,
                -r.seats, -r.wheelchairs, DROPOFF, b.promise.max_ride_s,
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
            partner=partner,
            ride_from=ride_from,
            load0=seats_on,
            load0_w=wheel_on,
        )
        self._blocks[vehicle_id] = block
        return block

    # -- internals: bookkeeping ------------------------------------------------------------

    def _release(self, b: Booking, status: BookingStatus) -> None:
        plan = self.plans.get(b.vehicle_id, [])
        self.plans[b.vehicle_id] = [e for e in plan if e[0] != b.id]
        b.status = status
        b.expires_at_s = None

    def _require_at_front(self, b: Booking, kind: StopKind) -> None:
        """The stop must be at the vehicle's current stop: nothing but stops at that place before it."""
        plan = self.plans[b.vehicle_id]
        place = b.request.origin if kind == StopKind.PICKUP else b.request.destination
        for ident, k in plan:
            if (ident, k) == (b.id, kind):
                return
            if k == StopKind.BREAK:
                continue
            other = self.bookings[ident].request
            if (other.origin if k == StopKind.PICKUP else other.destination) != place:
                break
        raise InvalidTransition(
            "この乗降は今の停車地のものではありません。次の停車地の予定を確認してください。",
            "This stop is not the vehicle's current stop. Check the next stop on the plan.",
            booking_id=b.id,
            kind=str(kind),
        )

    def _lateness(self, vehicle_id: str, now_s: int) -> dict[Entry, int]:
        """Who will be late on this vehicle's plan and by how much (s); empty if it is fine.

        Earliest possible times in the current order; a drop-off's ride limit binds like a
        window."""
        problem, stop_of, _ = self.build_problem([vehicle_id], None, now_s)
        route = [stop_of[e] for e in self.plans[vehicle_id]]
        if problem.check(0, route) == OK:
            return {}
        seq = problem.sequence(0, route)
        t = float(problem.early[seq[0]])
        late_by: dict[Entry, int] = {}
        entries = self.plans[vehicle_id]
        ride_start: dict[int, float] = {}
        for k in range(1, len(seq) - 1):
            a, s = seq[k - 1], seq[k]
            t = max(
                t + problem.svc[a] + problem.tt[problem.loc[a], problem.loc[s]], problem.early[s]
            )
            limit = problem.late[s]
            if problem.kind[s] == PICKUP:
                ride_start[int(s)] = t + problem.svc[s]
            elif problem.kind[s] == DROPOFF:
                began = ride_start.get(int(problem.partner[s]), problem.ride_from[s])
                limit = min(limit, began + problem.maxride[s])
            over = int(np.ceil(t - limit))
            if over > 0:
                late_by[entries[k - 1]] = over
        return late_by

    def _repair(self, vehicle_id: str, now_s: int) -> list[AtRisk]:
        late_by = self._lateness(vehicle_id, now_s)
        if not late_by:
            return []
        # Least harmful repair first: move affected (not yet on board) riders to another vehicle.
        for ident in sorted({ident for ident, _ in late_by if ident in self.bookings}):
            b = self.bookings[ident]
            if b.status == BookingStatus.CONFIRMED:
                self._move(b, now_s)
        # Who is still late here, now that some riders may have moved on: keep them and widen
        # their windows to what is now possible, and say so.
        at_risk = []
        for (ident, kind), over in sorted(self._lateness(vehicle_id, now_s).items()):
            if ident not in self.bookings or self.bookings[ident].status not in LIVE:
                continue
            b = self.bookings[ident]
            self._blocks.pop(b.vehicle_id, None)  # its planned windows change
            b.promise_broken = True
            if kind == StopKind.PICKUP:
                b.pickup_latest_s += over
                b.promise = replace(b.promise, dropoff_by_s=b.promise.dropoff_by_s + over)
            else:
                b.promise = replace(b.promise, dropoff_by_s=b.promise.dropoff_by_s + over)
            b.promise = replace(b.promise, max_ride_s=b.promise.max_ride_s + over)
            at_risk.append(AtRisk(ident, kind, over))
        return at_risk

    def _move(self, b: Booking, now_s: int) -> bool:
        """Try to serve a confirmed booking on another vehicle within its own promise."""
        others = sorted(
            vid for vid, v in self.vehicles.items() if v.in_service and vid != b.vehicle_id
        )
        if not others:
            return False
        r = b.request
        window = (
            b.pickup_earliest_s,
            b.pickup_latest_s,
            b.promise.dropoff_by_s,
            b.promise.max_ride_s,
        )
        problem, stop_of, (p, d) = self.build_problem(others, (r, window), now_s)
        best, best_k = None, -1
        for k, vid in enumerate(others):
            route = [stop_of[e] for e in self.plans[vid]]
            first = 1 if self.vehicles[vid].locked and route else 0
            ins, _ = problem.insertion(k, route, p, d, best.extra_cost if best else INF, first)
            if ins is not None:
                best, best_k = ins, k
        if best is None:
            return False
        old = b.vehicle_id
        self.plans[old] = [e for e in self.plans[old] if e[0] != b.id]
        vid = others[best_k]
        route = best.apply([stop_of[e] for e in self.plans[vid]], p, d)
        inverse = {s: e for e, s in stop_of.items()}
        inverse[p], inverse[d] = (b.id, StopKind.PICKUP), (b.id, StopKind.DROPOFF)
        self.plans[vid] = [inverse[s] for s in route]
        b.vehicle_id = vid
        return True

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
