"""The flat, array-based view of a dispatch problem that the kernels work on.

A :class:`Problem` numbers every stop: each vehicle's START and END pseudo-stops and the
PICKUP and DROPOFF of each request. Routes are lists of request stop ids (without START and
END); :class:`Problem` adds the vehicle's ends and calls the compiled kernels. The static
benchmark solver and the live engine both build a Problem, so they share one feasibility code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from dispatch.kernels import (
    DROPOFF,
    END,
    INF,
    OK,
    PICKUP,
    START,
    Floats,
    Ints,
    best_insertion,
    route_cost,
    schedule,
)

NO_FIT: Final = -1


@dataclass(frozen=True, slots=True)
class Insertion:
    """Where a request fits in one route: pickup after position a, drop-off after b (0 = START)."""

    vehicle: int
    extra_cost: float
    a: int
    b: int

    def apply(self, route: list[int], p: int, d: int) -> list[int]:
        seq = [-1, *route]  # position 0 is START
        out: list[int] = []
        for k, s in enumerate(seq):
            if k > 0:
                out.append(s)
            if k == self.a:
                out.append(p)
            if k == self.b:
                out.append(d)
        return out


@dataclass(slots=True, eq=False)
class Problem:
    """Stops, vehicles and matrices as arrays (see ``dispatch.kernels`` for the fields)."""

    loc: Ints
    early: Floats
    late: Floats
    svc: Floats
    dq: Ints
    dw: Ints
    kind: Ints
    partner: Ints
    maxride: Floats
    ride_from: Floats
    tt: Floats
    cost: Floats
    v_start: Ints
    v_end: Ints
    v_cap: Ints
    v_cap_w: Ints
    v_load0: Ints
    v_load0_w: Ints
    v_max_duration: Floats
    #: each stop's place when ``loc`` indexes a banded matrix (rows per peak band), else None
    place: Ints | None = None
    _pos: Ints = field(init=False)
    _bt: Floats = field(init=False)
    _wt: Floats = field(init=False)
    _work: Ints = field(init=False)

    def __post_init__(self) -> None:
        n = self.loc.shape[0]
        self._pos = np.zeros(n, dtype=np.int64)
        self._bt = np.zeros(n + 4)
        self._wt = np.zeros(n + 4)
        self._work = np.zeros(n + 4, dtype=np.int64)

    def place_of(self, stop: int) -> int:
        """The place (travel-matrix row of the area) of a stop."""
        return int(self.loc[stop] if self.place is None else self.place[stop])

    @property
    def n_vehicles(self) -> int:
        return int(self.v_start.shape[0])

    def sequence(self, vehicle: int, route: list[int]) -> Ints:
        return np.array([self.v_start[vehicle], *route, self.v_end[vehicle]], dtype=np.int64)

    def check(self, vehicle: int, route: list[int]) -> int:
        """OK (0) when the route is feasible for the vehicle, else the violation code."""
        seq = self.sequence(vehicle, route)
        return int(
            schedule(
                seq, seq.shape[0], self._pos, self.loc, self.early, self.late, self.svc,
                self.dq, self.dw, self.kind, self.partner, self.maxride, self.ride_from,
                int(self.v_cap[vehicle]), int(self.v_cap_w[vehicle]), int(self.v_load0[vehicle]),
                int(self.v_load0_w[vehicle]), float(self.v_max_duration[vehicle]), self.tt,
                self._bt, self._wt,
            )
        )  # fmt: skip

    def times(self, vehicle: int, route: list[int]) -> Floats | None:
        """Service start times of [START, *route, END] under the eight-step schedule, or None."""
        if self.check(vehicle, route) != OK:
            return None
        return self._bt[: len(route) + 2].copy()

    def cost_of(self, vehicle: int, route: list[int]) -> float:
        seq = self.sequence(vehicle, route)
        return float(route_cost(seq, seq.shape[0], self.loc, self.cost))

    def insertion(
        self,
        vehicle: int,
        route: list[int] | Ints,
        p: int,
        d: int,
        limit: float = INF,
        first_pos: int = 0,
        max_checks: int = 256,
        wait_weight: float = 0.0,
    ) -> tuple[Insertion | None, int]:
        """Cheapest feasible insertion of request (p, d) into this route, or (None, reason).

        ``route`` may also be the vehicle's full sequence array (START and END included),
        which saves rebuilding it when many requests are tried on one route. ``wait_weight``:
        the new rider's wait priced into the cost (see :func:`dispatch.kernels.best_insertion`).
        """
        seq = route if isinstance(route, np.ndarray) else self.sequence(vehicle, route)
        extra, a, b, code = best_insertion(
            seq, seq.shape[0], p, d, self._pos, self.loc, self.early, self.late, self.svc,
            self.dq, self.dw, self.kind, self.partner, self.maxride, self.ride_from,
            int(self.v_cap[vehicle]), int(self.v_cap_w[vehicle]), int(self.v_load0[vehicle]),
            int(self.v_load0_w[vehicle]), float(self.v_max_duration[vehicle]), self.tt,
            self.cost, self._bt, self._wt, self._work, limit, first_pos, max_checks, wait_weight,
        )  # fmt: skip
        if a < 0:
            return None, int(code)
        return Insertion(vehicle, float(extra), int(a), int(b)), OK


__all__ = ["DROPOFF", "END", "PICKUP", "START", "Insertion", "Problem"]
