"""The booking state machine: confirm, cancel, board, alight, no-show, and breaks.

A held offer becomes a booking only by :meth:`Lifecycle.confirm` (an expired hold is refused
by the rule of :func:`dispatch.state.hold_expired`); a cancelled or no-show booking leaves the
plan at once. Boarding, alighting, no-shows and breaks happen at the vehicle's current stop
only, and leave the vehicle free at that stop's place once they are done.
"""

from __future__ import annotations

from dispatch.kernels import OK
from dispatch.model import BookingStatus, Break, InvalidTransition, StopKind
from dispatch.state import Booking, Entry, FleetState, hold_expired, hold_expired_error


class Lifecycle(FleetState):
    """What riders and drivers do to a booking after its quote, and the checks on each step."""

    def confirm(self, booking_id: str, now_s: int) -> Booking:
        """Turn a held offer into a booking (idempotent); other offers for it are released."""
        b = self._booking(booking_id)
        if b.status == BookingStatus.CONFIRMED:
            return b
        if hold_expired(b, now_s):
            self._release(b, BookingStatus.EXPIRED)
        if b.status == BookingStatus.EXPIRED:
            raise hold_expired_error(booking_id=booking_id)
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

    def board(self, booking_id: str, now_s: int) -> Booking:
        """The rider got on at the vehicle's current stop; the ride starts after boarding."""
        b = self._at_stop(booking_id, BookingStatus.CONFIRMED, StopKind.PICKUP)
        self.plans[b.vehicle_id].remove((b.id, StopKind.PICKUP))
        b.status = BookingStatus.ONBOARD
        b.ride_started_s = now_s + self.params.dwell_board_s * b.persons
        self._vehicle_at(b.vehicle_id, b.request.origin, b.ride_started_s)
        return b

    def alight(self, booking_id: str, now_s: int) -> Booking:
        """The rider got off at the vehicle's current stop; the ride is complete."""
        b = self._at_stop(booking_id, BookingStatus.ONBOARD, StopKind.DROPOFF)
        self.plans[b.vehicle_id].remove((b.id, StopKind.DROPOFF))
        b.status = BookingStatus.COMPLETED
        self._vehicle_at(
            b.vehicle_id, b.request.destination, now_s + self.params.dwell_alight_s * b.persons
        )
        return b

    def no_show(self, booking_id: str, now_s: int, *, reported: bool = False) -> Booking:
        """The rider did not come; allowed only once the promised window has opened.

        ``reported``: an operator records it for the driver (told by phone, the tablet not in
        use): the stop need not be the vehicle's current one, and the vehicle stays where it
        was last known."""
        if reported:
            b = self._booking(booking_id)
            if b.status != BookingStatus.CONFIRMED:
                raise InvalidTransition(
                    f"この予約は今この操作ができる状態ではありません(状態: {b.status})",
                    f"This booking cannot do that now (status: {b.status}, needed: confirmed)",
                    booking_id=booking_id,
                )
        else:
            b = self._at_stop(booking_id, BookingStatus.CONFIRMED, StopKind.PICKUP)
        if now_s < b.promise.pickup_from_s:
            raise InvalidTransition(
                "お約束の時間帯より前は「来られなかった」にできません",
                "A no-show cannot be recorded before the promised pickup window opens",
                booking_id=booking_id,
            )
        self._release(b, BookingStatus.NO_SHOW)
        if not reported:
            self._vehicle_at(b.vehicle_id, b.request.origin, now_s)
        return b

    def add_break(self, vehicle_id: str, brk: Break, now_s: int) -> str:
        """Plan a driver's break (an operator's override): where it costs least, between
        rides (nobody on board) and after the stop the vehicle is driving to, with every
        promise kept. Returns its id; refused when it fits nowhere."""
        v = self._vehicle(vehicle_id)
        self._check_place(brk.place)
        plan = self.plans[vehicle_id]
        bid = f"break:{vehicle_id}:{sum(1 for owner, _ in self.breaks.values() if owner == vehicle_id)}"
        self.breaks[bid] = (vehicle_id, brk)
        riding = {
            i
            for i, k in plan
            if k == StopKind.DROPOFF and self.bookings[i].status == BookingStatus.ONBOARD
        }
        best: tuple[float, list[Entry]] | None = None
        for pos in range(1 if v.locked and plan else 0, len(plan) + 1):
            if pos:
                ident, kind = plan[pos - 1]
                if kind == StopKind.PICKUP:
                    riding.add(ident)
                elif kind == StopKind.DROPOFF:
                    riding.discard(ident)
            if riding:  # riders on board: no break here
                continue
            trial = [*plan[:pos], (bid, StopKind.BREAK), *plan[pos:]]
            self.plans[vehicle_id] = trial
            problem, stop_of, _ = self.build_problem([vehicle_id], None, now_s)
            route = [stop_of[e] for e in trial]
            if problem.check(0, route) == OK:
                cost = problem.cost_of(0, route)
                if best is None or cost < best[0]:
                    best = (cost, trial)
        self.plans[vehicle_id] = plan if best is None else best[1]
        if best is None:
            del self.breaks[bid]
            raise InvalidTransition(
                "その時間には休憩を入れられません(お約束した乗り降りに間に合わなくなります)。時間帯を広げるか、ずらしてください。",
                "The break fits nowhere in that window without breaking a promise. Widen or move the window.",
                vehicle=vehicle_id,
            )  # fmt: skip
        return bid

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

    # -- internals: checks on a step ------------------------------------------------------

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

    def _vehicle_at(self, vehicle_id: str, place: int, available_s: int) -> None:
        v = self.vehicles[vehicle_id]
        v.place, v.available_s, v.locked = place, available_s, False
