"""Hindsight: the same day solved offline, knowing every request in advance.

The riders who wanted to travel (everyone except those who cancelled or did not show up)
become one static dial-a-ride problem for :func:`dispatch.static.solve_static`, each with
the window the live dispatcher searched when the rider asked (``Dispatcher.search_window``:
the rider's original wish, not an alternative they may have taken) and the same planning
travel times (with the scenario's buffer, if any). Vehicles work their
shifts from and back to their depot; a shift is cut at the breaks the vehicles took online,
so the offline fleet has exactly the same hours. The comparison is the ratio of online to
offline served trips and vehicle kilometres. The static solver is a heuristic under a time
limit, so this is an estimate of what perfect foresight buys, not a proven bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.engine import Dispatcher
from dispatch.kernels import DROPOFF, END, INF, PICKUP, START
from dispatch.model import InvalidRequest, OutsideServiceHours, TooManyPassengers, UnknownPlace
from dispatch.params import ServiceParams
from dispatch.problem import Problem
from dispatch.static import Request, solve_static
from sim.demand import RiderPlan
from sim.records import DayResult, Outcome, State
from sim.world import World


@dataclass(frozen=True, slots=True)
class Hindsight:
    requests: int
    online_served: int
    offline_served: int
    online_km: float
    offline_km: float
    served_ratio: float | None  # online / offline
    km_ratio: float | None  # online / offline
    km_per_trip_ratio: float | None
    seconds: float
    iterations: int
    time_limit_s: float


#: Refusals that no plan could change (the request itself breaks a rule).
RULE_REFUSALS = frozenset(
    {InvalidRequest.code, OutsideServiceHours.code, TooManyPassengers.code, UnknownPlace.code}
)


def work_periods(day: DayResult) -> list[tuple[int, int, int, int, int]]:
    """(seats, wheelchairs, depot, from_s, to_s) per stretch of work between breaks."""
    breaks: dict[str, list[tuple[int, int]]] = {}
    for iv in day.intervals:
        if iv.state == State.BREAK:
            breaks.setdefault(iv.vehicle, []).append((iv.start_s, iv.end_s))
    periods = []
    for spec in day.fleet:
        t = spec.shift_start_s
        for b_from, b_to in sorted(breaks.get(spec.id, [])):
            periods.append((spec.seats, spec.wheelchairs, spec.depot, t, b_from))
            t = b_to
        periods.append((spec.seats, spec.wheelchairs, spec.depot, t, spec.shift_end_s))
    return [p for p in periods if p[4] > p[3]]


def offline_problem(
    day: DayResult,
    world: World,
    params: ServiceParams,
    riders: list[RiderPlan],
) -> tuple[Problem, list[Request], list[int]]:
    """The static problem, its requests, and which rider (index) each request is."""
    rules = Dispatcher(params, world.duration_s)  # its planning factor, not the peaks
    rows: list[tuple[int, float, float, float, int, int, int, float]] = []
    partner: list[int] = []
    starts, ends, caps, caps_w = [], [], [], []
    for seats, wheel, depot, t0, t1 in work_periods(day):
        starts.append(len(rows))
        rows.append((depot, t0, t1, 0, 0, 0, START, INF))
        ends.append(len(rows))
        rows.append((depot, 0, t1, 0, 0, 0, END, INF))
        partner += [-1, -1]
        caps.append(seats)
        caps_w.append(wheel)
    requests, who = [], []
    wanted = {Outcome.SERVED, Outcome.REJECTED}
    for i, (r, rec) in enumerate(zip(riders, day.trips, strict=True)):
        if rec.outcome not in wanted or rec.reason in RULE_REFUSALS:
            continue
        early, late, drop_by, max_ride = rules.search_window(r.request(), r.request_s)
        if late < early:
            continue
        p = len(rows)
        rows.append(
            (
                r.origin,
                early,
                late,
                params.dwell_board_s * r.persons,
                r.seats,
                r.wheelchairs,
                PICKUP,
                INF,
            )
        )
        rows.append((
            r.destination, 0, drop_by, params.dwell_alight_s * r.persons,
            -r.seats, -r.wheelchairs, DROPOFF, max_ride,
        ))  # fmt: skip
        partner += [p + 1, p]
        requests.append(Request(p, p + 1))
        who.append(i)
    arr = np.array(rows, dtype=np.float64).reshape(len(rows), 8)
    tt = rules.build_problem([], None)[0].tt  # travel times with the stop overhead
    n_v = len(starts)
    problem = Problem(
        loc=arr[:, 0].astype(np.int64),
        early=arr[:, 1].copy(),
        late=arr[:, 2].copy(),
        svc=arr[:, 3].copy(),
        dq=arr[:, 4].astype(np.int64),
        dw=arr[:, 5].astype(np.int64),
        kind=arr[:, 6].astype(np.int64),
        partner=np.array(partner, dtype=np.int64),
        maxride=arr[:, 7].copy(),
        ride_from=np.zeros(len(rows)),
        tt=tt,
        cost=tt,
        v_start=np.array(starts, dtype=np.int64),
        v_end=np.array(ends, dtype=np.int64),
        v_cap=np.array(caps, dtype=np.int64),
        v_cap_w=np.array(caps_w, dtype=np.int64),
        v_load0=np.zeros(n_v, dtype=np.int64),
        v_load0_w=np.zeros(n_v, dtype=np.int64),
        v_max_duration=np.full(n_v, INF),
    )
    return problem, requests, who


def hindsight(
    day: DayResult,
    world: World,
    params: ServiceParams,
    riders: list[RiderPlan],
    time_limit_s: float = 10.0,
    seed: int = 1,
) -> Hindsight:
    """Online versus offline on the same riders (see the module docstring)."""
    problem, requests, who = offline_problem(day, world, params, riders)
    result = solve_static(problem, requests, time_limit_s, seed)
    offline_m = 0
    for v, route in enumerate(result.routes):
        seq = problem.sequence(v, route)
        places = problem.loc[seq]
        offline_m += int(world.distance_m[places[:-1], places[1:]].sum())
    considered = {who[k] for k in range(len(requests))}
    online_served = sum(1 for i in considered if day.trips[i].outcome == Outcome.SERVED)
    offline_served = len(requests) - len(result.unassigned)
    online_km = sum(leg.distance_m for leg in day.legs) / 1000
    offline_km = offline_m / 1000
    per_trip = None
    if online_served and offline_served and offline_km:
        per_trip = round((online_km / online_served) / (offline_km / offline_served), 4)
    return Hindsight(
        requests=len(requests),
        online_served=online_served,
        offline_served=offline_served,
        online_km=round(online_km, 3),
        offline_km=round(offline_km, 3),
        served_ratio=round(online_served / offline_served, 4) if offline_served else None,
        km_ratio=round(online_km / offline_km, 4) if offline_km else None,
        km_per_trip_ratio=per_trip,
        seconds=round(result.seconds, 2),
        iterations=result.iterations,
        time_limit_s=time_limit_s,
    )
