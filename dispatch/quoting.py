"""Quotes: validate a request, search the cheapest feasible insertion, hold it as an offer.

A quote inserts the request at its cheapest feasible place over all vehicles in service and
positions (the compiled kernels of :mod:`dispatch.kernels`, on the arrays of
:meth:`dispatch.state.FleetState.build_problem`), holds it for ``hold_ttl_s`` and returns an
:class:`Offer`. When nothing fits, the answer is a :class:`Rejection` with a reason code and
up to three alternative offers (other times, or a nearby meeting point), each held like an
offer and sharing the original request's id as its group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from dispatch.kernels import CAPACITY, INF, OK, RIDE_TIME
from dispatch.model import (
    BookingStatus,
    InvalidRequest,
    Mode,
    Offer,
    OutsideServiceHours,
    Promise,
    Reason,
    Rejection,
    StopKind,
    TooManyPassengers,
    TripRequest,
)
from dispatch.state import Booking, FleetState, due_times


class Quoting(FleetState):
    """Offers and refusals for new requests, and the windows a quote searches in."""

    def quote(self, request: TripRequest, now_s: int) -> Offer | Rejection:
        """An offer held for its channel's hold (``ServiceParams.hold_s``), or a reason and up
        to three alternatives."""
        self.expire(now_s)
        self._validate(request, now_s)
        stages = self.params.asap_wait_stages_s if request.mode == Mode.ASAP else ()
        for wait_s in stages:  # "as soon as possible": the soonest stage that has room
            offer, _ = self._try(request, now_s, request.id, wait_s)
            if offer is not None:
                return offer
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

    def search_window(self, request: TripRequest, now_s: int) -> tuple[int, int, int, int]:
        """(pickup earliest, pickup latest, drop-off latest, max ride) a quote now searches in.

        Whole seconds. The planner simulation gives an offline solver these same windows.
        """
        return self._windows(request, now_s)

    # -- internals: validation -----------------------------------------------------------

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

    # -- internals: the search -----------------------------------------------------------

    def _windows(
        self, r: TripRequest, now_s: int, wait_s: int | None = None
    ) -> tuple[int, int, int, int]:
        """(pickup earliest, pickup latest, drop-off latest, max ride) to search within
        (``wait_s``: an ASAP request's pickup within this wait, not ``asap_max_wait_s``)."""
        p = self.params
        direct = int(self._tt[r.origin, r.destination])
        max_ride = p.max_ride_s(direct)
        svc = p.dwell_board_s * (r.seats + r.wheelchairs)
        soonest = now_s + p.min_lead_s
        if r.mode == Mode.ASAP:
            early, late = soonest, soonest + (p.asap_max_wait_s if wait_s is None else wait_s)
            drop_by = late + svc + max_ride
        elif r.mode == Mode.DEPART_AT:
            assert r.time_s is not None
            early, late = r.time_s, r.time_s + p.depart_flex_s
            drop_by = late + svc + max_ride
        else:
            assert r.time_s is not None
            drop_by = r.time_s
            late = r.time_s - p.direct_ride_s(direct, r.seats + r.wheelchairs)
            early = max(soonest, drop_by - max_ride - svc - p.arrive_flex_s)
        return early, late, drop_by, max_ride

    def _try(
        self, r: TripRequest, now_s: int, group: str, wait_s: int | None = None
    ) -> tuple[Offer | None, Reason]:
        early, late, drop_by, max_ride = self._windows(r, now_s, wait_s)
        if late < early:
            return None, Reason.TIME_WINDOW
        slack = self.params.promise_slack_s
        in_service = sorted(vid for vid, v in self.vehicles.items() if v.in_service)
        if not in_service:
            return None, Reason.NO_VEHICLE_IN_SERVICE
        new = (early, late, drop_by - slack, max_ride - slack)  # planned inside the promise
        due = due_times(new)
        problem, stop_of, (p, d) = self.build_problem(in_service, (r, new, due), now_s)
        best, best_v, reasons = None, -1, Counter[int]()
        weight = self.params.asap_wait_weight if r.mode == Mode.ASAP else 0.0
        for k, vid in enumerate(in_service):
            route = [stop_of[e] for e in self.plans[vid]]
            first = 1 if self.vehicles[vid].locked and route else 0
            limit = best.extra_cost if best is not None else INF
            ins, code = problem.insertion(k, route, p, d, limit, first, wait_weight=weight)
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
        keep_from = max(promised_from, tp - shift)
        told_to, keep_to = min(promised_to, tp + shift), min(promised_to - slack, tp + shift)
        svc = self.params.dwell_board_s * (r.seats + r.wheelchairs)
        plan_drop_by = min(drop_by - slack, keep_to + svc + max_ride - slack)
        drop_by = min(drop_by, told_to + svc + max_ride)
        self._counter += 1
        booking = Booking(
            id=f"{r.id}#{self._counter}",
            request=r,
            vehicle_id=vid,
            promise=Promise(promised_from, promised_to, tp, td, drop_by, max_ride),
            status=BookingStatus.HELD,
            expires_at_s=now_s + self.params.hold_s(r.channel),
            pickup_earliest_s=keep_from,
            pickup_latest_s=keep_to,
            dropoff_latest_s=plan_drop_by,
            ride_limit_s=max_ride - slack,
            due_s=due,
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
