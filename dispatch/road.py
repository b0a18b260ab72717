"""Road events: a vehicle's new position or delay, and repairing the plan it breaks.

:meth:`Road.update_vehicle` propagates a delay through the vehicle's plan. Confirmed riders
whose promise can no longer be kept there are moved to another vehicle where it still holds
(the least harmful repair); the rest stay, their windows are widened to what is now
possible, and they are reported as :class:`AtRisk` so that they can be told.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dispatch.kernels import CAPACITY, DROPOFF, INF, OK, PICKUP, RIDE_TIME
from dispatch.model import (
    AtRisk,
    BookingStatus,
    InvalidTransition,
    MoveCheck,
    Reason,
    StopKind,
    Withdrawal,
)
from dispatch.state import LIVE, Booking, Entry, FleetState


class Road(FleetState):
    """Where vehicles are and how late they run, and the repairs that keep promises."""

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

    def behind(self, now_s: int) -> list[str]:
        """Vehicles on shift now whose plan can no longer be kept from now: time has passed a
        stop they have not reported (a van stuck in traffic, a stop not recorded yet)."""
        out = []
        for vid, v in sorted(self.vehicles.items()):
            spec = v.spec
            on_shift = v.in_service and spec.shift_start_s <= now_s <= spec.shift_end_s
            if on_shift and self.plans[vid] and self._lateness(vid, now_s):
                out.append(vid)
        return out

    def retime(self, now_s: int) -> list[AtRisk]:
        """Re-time every vehicle that is :meth:`behind`: from where it was last known, free
        from now at the earliest. Riders whose promise it can no longer keep are moved to
        another vehicle where it still holds, or keep their place with windows widened to
        what is now possible and are returned (to be told); the plan is feasible again, so
        quoting goes on for everything that still fits. A planned break whose window has
        passed without the driver starting it leaves the plan (the tablet's own break button
        is still there)."""
        at_risk: list[AtRisk] = []
        for vid in self.behind(now_s):
            v = self.vehicles[vid]
            v.available_s = max(v.available_s, now_s)
            missed = [e for e in self.plans[vid]  # a planned break not begun in its window
                      if e[1] == StopKind.BREAK and self.breaks[e[0]][1].latest_s < now_s]  # fmt: skip
            self.plans[vid] = [e for e in self.plans[vid] if e not in missed]
            at_risk += self._repair(vid, now_s)
        return at_risk

    # -- internals: repairs ----------------------------------------------------------------

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
        # Least harmful repair first: move affected (not yet on board) riders to another
        # vehicle, unless an operator protected the booking on this one.
        for ident in sorted({ident for ident, _ in late_by if ident in self.bookings}):
            b = self.bookings[ident]
            if b.status == BookingStatus.CONFIRMED and not b.protected:
                self._move(b, now_s)
        # Who is still late here, now that some riders may have moved on: keep them and widen
        # their planned windows to what is now possible; where that goes past what they were
        # promised (not just into the slack kept inside it), widen the promise and say so.
        at_risk = []
        for (ident, kind), over in sorted(self._lateness(vehicle_id, now_s).items()):
            if ident not in self.bookings or self.bookings[ident].status not in LIVE:
                continue
            b = self.bookings[ident]
            self._blocks.pop(b.vehicle_id, None)  # its planned windows change
            if kind == StopKind.PICKUP:
                b.pickup_latest_s += over
            b.dropoff_latest_s += over
            b.ride_limit_s += over
            p = b.promise
            if (b.pickup_latest_s > p.pickup_to_s or b.dropoff_latest_s > p.dropoff_by_s
                    or b.ride_limit_s > p.max_ride_s):  # fmt: skip
                b.promise_broken = True
                b.promise = replace(p, dropoff_by_s=max(p.dropoff_by_s, b.dropoff_latest_s),
                                    max_ride_s=max(p.max_ride_s, b.ride_limit_s))  # fmt: skip
                at_risk.append(AtRisk(ident, kind, over))
        return at_risk

    def move_to(self, booking_id: str, vehicle_id: str, now_s: int, *, apply: bool) -> MoveCheck:
        """An operator's override: serve a confirmed booking on this vehicle, within the
        windows it is planned in (its promise kept). ``apply=False`` only checks and changes
        nothing; ``apply=True`` moves it when it fits."""
        b = self._confirmed(booking_id, "乗車中・終わった・取り消した予約は別の車に移せません。",
                            "Only a confirmed booking can move to another vehicle")  # fmt: skip
        target = self._vehicle(vehicle_id)
        if vehicle_id == b.vehicle_id or not target.in_service:
            raise InvalidTransition(
                "移す先は、今と別の、運行中の車を選んでください。",
                "Choose another vehicle that is in service.",
                vehicle=vehicle_id,
            )
        placed, code = self._fit(b, [vehicle_id], now_s, apply=apply)
        if placed is None:
            reason = {CAPACITY: Reason.FULL, RIDE_TIME: Reason.RIDE_TIME}.get(
                code, Reason.TIME_WINDOW
            )
            return MoveCheck(booking_id, vehicle_id, False, reason)
        return MoveCheck(booking_id, vehicle_id, True, None, *placed[1:])

    def protect(self, booking_id: str, on: bool) -> Booking:
        """An operator's override: keep (``on``) a confirmed booking on its vehicle, or let the
        engine move it again. A protected booking is never moved to another vehicle by a
        repair or a re-optimisation; an operator's own move or taking its vehicle out of
        service still moves it (and it stays protected there)."""
        b = self._confirmed(booking_id, "乗車前の確定した予約だけ、車を固定できます。",
                            "Only a confirmed booking not yet on board can be kept on its vehicle")  # fmt: skip
        b.protected = on
        return b

    def _confirmed(self, booking_id: str, ja: str, en: str) -> Booking:
        """The booking, if it is confirmed (not yet on board); else refused with this text."""
        b = self._booking(booking_id)
        if b.status != BookingStatus.CONFIRMED:
            raise InvalidTransition(ja, f"{en} (this one is {b.status}).",
                                    booking_id=booking_id, status=str(b.status))  # fmt: skip
        return b

    def withdraw(self, vehicle_id: str, now_s: int) -> Withdrawal:
        """Take a vehicle out of service now (a breakdown, a driver off sick): each of its
        confirmed riders moves to another vehicle where the promise holds, earliest pickup
        first; the others stay booked on it and are returned as stranded (an operator calls
        them). Refused while riders are on board."""
        v = self._vehicle(vehicle_id)
        planned = [self.bookings[i] for i, k in self.plans[vehicle_id] if k == StopKind.PICKUP]
        onboard = sorted({i for i, k in self.plans[vehicle_id]
                          if k == StopKind.DROPOFF and self.bookings[i].status == BookingStatus.ONBOARD})  # fmt: skip
        if onboard:
            raise InvalidTransition(
                f"この車には乗車中のお客様が{len(onboard)}人います。降りてから運休にしてください。",
                f"{len(onboard)} riders are on board; take the vehicle out after they alight.",
                vehicle=vehicle_id, onboard=onboard,
            )  # fmt: skip
        v.in_service = False  # first: nothing new is planned on it, moves go elsewhere
        moved, stranded = [], []
        others = sorted(vid for vid, o in self.vehicles.items() if o.in_service)
        for b in sorted(planned, key=lambda b: (b.pickup_earliest_s, b.id)):
            live = b.status in (BookingStatus.CONFIRMED, BookingStatus.HELD)
            if live and others and self._fit(b, others, now_s, apply=True)[0]:
                moved.append((b.id, b.vehicle_id))
            elif b.status == BookingStatus.HELD:
                self._release(b, BookingStatus.EXPIRED)  # an offer not yet taken: let it go
            else:
                stranded.append(b.id)
        return Withdrawal(vehicle_id, tuple(moved), tuple(stranded))

    def _move(self, b: Booking, now_s: int) -> bool:
        """Try to serve a confirmed booking on another vehicle within its own promise."""
        others = sorted(
            vid for vid, v in self.vehicles.items() if v.in_service and vid != b.vehicle_id
        )
        return bool(others) and self._fit(b, others, now_s, apply=True)[0] is not None

    def _fit(
        self, b: Booking, others: list[str], now_s: int, *, apply: bool
    ) -> tuple[tuple[str, int, int] | None, int]:
        """The cheapest of these vehicles the booking fits within its planned windows:
        ((vehicle, planned pickup, planned drop-off), OK), moved there when ``apply``; or
        (None, the reason code of the last vehicle tried)."""
        r = b.request
        window = (
            b.pickup_earliest_s,
            b.pickup_latest_s,
            b.dropoff_latest_s,
            b.ride_limit_s,
        )
        problem, stop_of, (p, d) = self.build_problem(others, (r, window, b.due_s), now_s)
        best, best_k, code = None, -1, OK
        for k, vid in enumerate(others):
            route = [stop_of[e] for e in self.plans[vid]]
            first = 1 if self.vehicles[vid].locked and route else 0
            ins, why = problem.insertion(k, route, p, d, best.extra_cost if best else INF, first)
            if ins is not None:
                best, best_k = ins, k
            elif best is None:
                code = why
        if best is None:
            return None, code
        vid = others[best_k]
        route = best.apply([stop_of[e] for e in self.plans[vid]], p, d)
        times = problem.times(best_k, route)
        assert times is not None
        placed = (vid, int(times[route.index(p) + 1]), int(times[route.index(d) + 1]))
        if apply:
            old = b.vehicle_id
            self.plans[old] = [e for e in self.plans[old] if e[0] != b.id]
            inverse = {s: e for e, s in stop_of.items()}
            inverse[p], inverse[d] = (b.id, StopKind.PICKUP), (b.id, StopKind.DROPOFF)
            self.plans[vid] = [inverse[s] for s in route]
            b.vehicle_id = vid
        return placed, OK
