"""The live dispatch engine: instant offers that keep every promise.

:class:`Dispatcher` holds the fleet, the bookings and each vehicle's plan. It has no clock,
database, network or randomness: every call takes ``now_s`` explicitly, so the live service
and the simulator drive exactly this code and get the same decisions for the same inputs.

A quote inserts the request at its cheapest feasible place over all vehicles and positions
(the compiled kernels of :mod:`dispatch.kernels`), holds it for ``hold_ttl_s`` and returns an
:class:`Offer`. Only :meth:`Dispatcher.confirm` makes it a booking; an expired or cancelled
hold leaves the plan. When nothing fits, the answer is a :class:`Rejection` with a reason code
and up to three alternative offers (other times, or a nearby meeting point).

:class:`Dispatcher` is put together from one part per responsibility, all over one shared
state; this module adds only the read-only views (:meth:`Dispatcher.plan`,
:meth:`Dispatcher.live_bookings`):

- :mod:`dispatch.state` -- :class:`~dispatch.state.FleetState`: the fleet, bookings, plans and
  breaks, their set-up (``set_travel``, ``add_vehicle``, ``start_shift``, ``end_shift``), the
  lookups, the arrays the kernels search (``build_problem`` and its per-vehicle cache), and
  the one hold-expiry rule (:func:`hold_expired`, ``has_expired_holds``, ``expire``, and
  :func:`hold_expired_error`, the one wording of that refusal);
- :mod:`dispatch.quoting` -- validation, search windows, the insertion search, alternatives,
  ``quote`` and ``search_window``;
- :mod:`dispatch.lifecycle` -- the booking state machine: ``confirm``, ``cancel``, ``board``,
  ``alight``, ``no_show``, ``take_break``;
- :mod:`dispatch.road` -- ``update_vehicle``: delays, and the repairs that move riders to
  another vehicle or widen their windows.

``Booking``, ``Vehicle``, ``Entry``, ``LIVE``, :func:`hold_expired` and
:func:`hold_expired_error` are defined in :mod:`dispatch.state` and importable from here.
"""

from __future__ import annotations

from dispatch.lifecycle import Lifecycle
from dispatch.model import PlannedStop
from dispatch.quoting import Quoting
from dispatch.road import Road
from dispatch.state import (
    LIVE,
    Booking,
    Entry,
    FleetState,
    Vehicle,
    hold_expired,
    hold_expired_error,
)

__all__ = [
    "LIVE",
    "Booking",
    "Dispatcher",
    "Entry",
    "FleetState",
    "Vehicle",
    "hold_expired",
    "hold_expired_error",
]


class Dispatcher(Quoting, Lifecycle, Road):
    """Fleet, bookings and plans; every method takes the current time explicitly.

    ``Dispatcher(params, travel_s, nearby)``: service parameters, the travel-time matrix
    (whole seconds between places) and, optionally, the nearby meeting points of a place
    (for alternative offers). The one object the live service and the simulator drive.
    """

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
                    ident, kind, problem.place_of(s), planned,
                    int(problem.early[s]), int(min(problem.late[s], 10**12)), seats, wheel,
                )
            )  # fmt: skip
        return out

    def live_bookings(self) -> list[Booking]:
        """Bookings still in play (held, confirmed or on board): what a view or a replica needs."""
        return [b for b in self.bookings.values() if b.status in LIVE]
