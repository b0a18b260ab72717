"""Compiled kernels of the dispatch core: route scheduling and the best insertion of a request.

Everything here works on flat arrays indexed by *stop id* (see ``dispatch.problem.Problem``):
``loc`` (travel-matrix index), ``early``/``late`` (window on the start of service), ``svc`` (service
duration), ``dq``/``dw`` (seat and wheelchair load change), ``kind`` (START, PICKUP, DROPOFF,
END), ``partner`` (the other stop of the request, -1 for a passenger already on board),
``maxride`` (for a drop-off: the longest allowed ride) and ``ride_from`` (for an on-board
passenger's drop-off: when the ride started). A route is a sequence of stop ids that starts
with the vehicle's START stop and ends with its END stop.

Times are float64. The live service passes whole seconds, which float64 adds exactly, so its
promises stay exact integers; the published DARP benchmarks pass real-valued minutes.

``schedule`` is the eight-step procedure of Cordeau & Laporte (2003): it fixes the departure
and the waiting so that ride times and the route duration are as short as the windows allow,
then checks every constraint. It is O(n^2) for n stops and never accepts an infeasible
route (step 8 re-checks everything); on rare routes it can refuse a feasible one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

F = TypeVar("F", bound=Callable[..., Any])

START, PICKUP, DROPOFF, END = 0, 1, 2, 3

OK = 0
CAPACITY = 1
WINDOW = 2
RIDE_TIME = 3
DURATION = 4
PRECEDENCE = 5

VIOLATIONS = ("ok", "capacity", "time_window", "ride_time", "duration", "precedence")

INF = 1e18
EPS = 1e-9


def jit(func: F) -> F:
    """numba.njit with an on-disk cache, typed for mypy."""
    return cast(F, numba.njit(cache=True, nogil=True)(func))


@jit
def _forward(
    seq: Ints,
    m: int,
    start: int,
    loc: Ints,
    early: Floats,
    svc: Floats,
    tt: Floats,
    bt: Floats,
    wt: Floats,
) -> None:
    """Earliest service times from position ``start`` on, given bt[start]."""
    for k in range(start + 1, m):
        s_prev = seq[k - 1]
        s = seq[k]
        arrive = bt[k - 1] + svc[s_prev] + tt[loc[s_prev], loc[s]]
        if arrive >= early[s]:
            bt[k] = arrive
            wt[k] = 0.0
        else:
            bt[k] = early[s]
            wt[k] = early[s] - arrive


@jit
def _ride(
    seq: Ints,
    k: int,
    pos: Ints,
    kind: Ints,
    partner: Ints,
    svc: Floats,
    ride_from: Floats,
    bt: Floats,
) -> tuple[float, int]:
    """Current ride time of the drop-off at position k, and its pickup's position (-1: on board)."""
    s = seq[k]
    p = partner[s]
    if p < 0:
        return bt[k] - ride_from[s], -1
    pp = pos[p]
    return bt[k] - (bt[pp] + svc[p]), pp


@jit
def _slack(
    seq: Ints,
    m: int,
    i: int,
    pos: Ints,
    kind: Ints,
    partner: Ints,
    late: Floats,
    svc: Floats,
    maxride: Floats,
    ride_from: Floats,
    bt: Floats,
    wt: Floats,
) -> float:
    """Forward time slack at position i (Cordeau & Laporte 2003, eq. for F_i)."""
    best = INF
    waited = 0.0
    for j in range(i, m):
        if j > i:
            waited += wt[j]
        s = seq[j]
        room = late[s] - bt[j]
        if kind[s] == DROPOFF:
            ride, pp = _ride(seq, j, pos, kind, partner, svc, ride_from, bt)
            if pp < i:  # its pickup is not delayed with i: the ride gets longer
                room = min(room, maxride[s] - ride)
        if room < 0.0:
            room = 0.0
        value = waited + room
        if value < best:
            best = value
    return best


@jit
def schedule(
    seq: Ints,
    m: int,
    pos: Ints,
    loc: Ints,
    early: Floats,
    late: Floats,
    svc: Floats,
    dq: Ints,
    dw: Ints,
    kind: Ints,
    partner: Ints,
    maxride: Floats,
    ride_from: Floats,
    cap: int,
    cap_w: int,
    load0: int,
    load0_w: int,
    max_duration: float,
    tt: Floats,
    bt: Floats,
    wt: Floats,
) -> int:
    """Fill bt with service start times for the route seq[0:m]; return OK or a violation code.

    ``pos`` is scratch of size n_stops. ``bt`` and ``wt`` are scratch of size >= m.
    """
    load = load0
    load_w = load0_w
    if load > cap or load_w > cap_w:
        return CAPACITY
    for k in range(m):
        pos[seq[k]] = k
    for k in range(1, m - 1):
        s = seq[k]
        load += dq[s]
        load_w += dw[s]
        if load > cap or load_w > cap_w:
            return CAPACITY
        mate = partner[s]
        if mate >= 0:
            pm = pos[mate]
            if pm >= m or seq[pm] != mate:
                return PRECEDENCE  # the other stop of the request is not on this route
            if (kind[s] == DROPOFF and pm >= k) or (kind[s] == PICKUP and pm <= k):
                return PRECEDENCE
    # Steps 1-2: leave as early as possible.
    s0 = seq[0]
    bt[0] = early[s0]
    wt[0] = 0.0
    _forward(seq, m, 0, loc, early, svc, tt, bt, wt)
    for k in range(1, m):
        if bt[k] > late[seq[k]] + EPS:
            return WINDOW
    # Steps 3-5: delay the departure by the slack, as far as it only removes waiting.
    waiting = 0.0
    for k in range(1, m - 1):
        waiting += wt[k]
    delay = min(
        _slack(seq, m, 0, pos, kind, partner, late, svc, maxride, ride_from, bt, wt), waiting
    )
    if delay > 0.0:
        bt[0] = min(early[s0] + delay, late[s0])
        _forward(seq, m, 0, loc, early, svc, tt, bt, wt)
    # Step 7: for each pickup, delay it to cut waiting downstream, shortening rides.
    for j in range(1, m - 1):
        s = seq[j]
        if kind[s] != PICKUP:
            continue
        after = 0.0
        for k in range(j + 1, m - 1):
            after += wt[k]
        if after <= 0.0:
            continue
        push = min(
            _slack(seq, m, j, pos, kind, partner, late, svc, maxride, ride_from, bt, wt), after
        )
        if push > 0.0:
            bt[j] += push
            wt[j] += push
            _forward(seq, m, j, loc, early, svc, tt, bt, wt)
    # Step 8: check everything.
    if bt[0] > late[s0] + EPS:
        return WINDOW
    for k in range(1, m):
        s = seq[k]
        if bt[k] > late[s] + EPS or bt[k] < early[s] - EPS:
            return WINDOW
        if kind[s] == DROPOFF:
            ride, _ = _ride(seq, k, pos, kind, partner, svc, ride_from, bt)
            if ride > maxride[s] + EPS:
                return RIDE_TIME
    if bt[m - 1] - bt[0] > max_duration + EPS:
        return DURATION
    return OK


@jit
def route_cost(seq: Ints, m: int, loc: Ints, cost: Floats) -> float:
    total = 0.0
    for k in range(1, m):
        total += cost[loc[seq[k - 1]], loc[seq[k]]]
    return total


@jit
def prepare_route(
    seq: Ints,
    m: int,
    pos: Ints,
    loc: Ints,
    early: Floats,
    late: Floats,
    svc: Floats,
    dq: Ints,
    dw: Ints,
    kind: Ints,
    partner: Ints,
    maxride: Floats,
    ride_from: Floats,
    load0: int,
    load0_w: int,
    tt: Floats,
    prep: Floats,
) -> None:
    """What the insertion filters need to know of a route, computed once per route state.

    ``prep`` has 7 rows of length >= m: earliest times, waits, seat and wheelchair loads,
    forward slack, cumulative travel and ride-time room (see :func:`best_insertion`).
    """
    eb, ew, load, load_w, fs, cum, room = (
        prep[0],
        prep[1],
        prep[2],
        prep[3],
        prep[4],
        prep[5],
        prep[6],
    )
    # Earliest schedule and loads of the current route, for the cheap filters.
    eb[0] = early[seq[0]]
    ew[0] = 0.0
    _forward(seq, m, 0, loc, early, svc, tt, eb, ew)
    load[0] = load0
    load_w[0] = load0_w
    for k in range(1, m):
        load[k] = load[k - 1] + dq[seq[k]]
        load_w[k] = load_w[k - 1] + dw[seq[k]]
    # Forward slack of the earliest schedule: how much a stop may be pushed later without
    # breaking a window downstream (ride times ignored, so it is a necessary condition).
    fs[m - 1] = late[seq[m - 1]] - eb[m - 1]
    for k in range(m - 2, -1, -1):
        fs[k] = min(late[seq[k]] - eb[k], ew[k + 1] + fs[k + 1])
    # Travel and service time from the start to each position, without waiting.
    cum[0] = 0.0
    for k in range(1, m):
        cum[k] = cum[k - 1] + svc[seq[k - 1]] + tt[loc[seq[k - 1]], loc[seq[k]]]
    # Ride-time room on each leg k -> k+1: how much longer the shortest possible ride of
    # every rider on board over that leg may get. A detour inserted there must fit in it.
    for k in range(m):
        room[k] = INF
        pos[seq[k]] = k
    for j in range(1, m - 1):
        s = seq[j]
        if kind[s] != DROPOFF:
            continue
        mate = partner[s]
        if mate >= 0:
            i = pos[mate]
            shortest = cum[j] - cum[i] - svc[mate]
        else:
            i = 0
            shortest = early[seq[0]] - ride_from[s] + cum[j]
        spare = maxride[s] - shortest
        for k in range(i, j):
            if spare < room[k]:
                room[k] = spare


@jit
def best_insertion(
    seq: Ints,
    m: int,
    p: int,
    d: int,
    pos: Ints,
    loc: Ints,
    early: Floats,
    late: Floats,
    svc: Floats,
    dq: Ints,
    dw: Ints,
    kind: Ints,
    partner: Ints,
    maxride: Floats,
    ride_from: Floats,
    cap: int,
    cap_w: int,
    load0: int,
    load0_w: int,
    max_duration: float,
    tt: Floats,
    cost: Floats,
    bt: Floats,
    wt: Floats,
    work: Ints,
    limit_cost: float,
    first_pos: int,
    max_checks: int,
    wait_weight: float = 0.0,
) -> tuple[float, int, int, int]:
    """Cheapest feasible insertion of pickup p and drop-off d into seq[0:m].

    Returns (extra cost, a, b, reason): p goes after position a and d after position b of
    the current route (b >= a; b == a puts d right after p). a == -1 when nothing fits, and
    reason then says which constraint refused the cheapest candidate. Candidates costing
    ``limit_cost`` or more are not considered; the pickup goes no earlier than after position
    ``first_pos`` (1 keeps the stop a vehicle is driving to first). At most ``max_checks``
    candidates get the exact O(m^2) schedule check, cheapest first, so one call costs
    O(m^2) at worst. ``work`` is scratch of size >= m + 2. ``wait_weight`` prices the new
    rider's wait: each candidate also costs that many seconds per second its pickup (as
    estimated from the route's earliest times) starts after ``early[p]`` (0: driving only).
    """
    prep = np.empty((7, m))
    prepare_route(
        seq, m, pos, loc, early, late, svc, dq, dw, kind, partner, maxride, ride_from,
        load0, load0_w, tt, prep,
    )  # fmt: skip
    return best_prepared(
        seq, m, p, d, pos, loc, early, late, svc, dq, dw, kind, partner, maxride, ride_from,
        cap, cap_w, load0, load0_w, max_duration, tt, cost, bt, wt, work, limit_cost, first_pos,
        max_checks, prep, wait_weight,
    )  # fmt: skip


@jit
def best_prepared(
    seq: Ints,
    m: int,
    p: int,
    d: int,
    pos: Ints,
    loc: Ints,
    early: Floats,
    late: Floats,
    svc: Floats,
    dq: Ints,
    dw: Ints,
    kind: Ints,
    partner: Ints,
    maxride: Floats,
    ride_from: Floats,
    cap: int,
    cap_w: int,
    load0: int,
    load0_w: int,
    max_duration: float,
    tt: Floats,
    cost: Floats,
    bt: Floats,
    wt: Floats,
    work: Ints,
    limit_cost: float,
    first_pos: int,
    max_checks: int,
    prep: Floats,
    wait_weight: float = 0.0,
) -> tuple[float, int, int, int]:
    """:func:`best_insertion` on a route whose :func:`prepare_route` is in ``prep``."""
    eb, load, load_w, fs, cum, room = prep[0], prep[2], prep[3], prep[4], prep[5], prep[6]
    n_cand = 0
    cand_cost = np.empty(m * m)
    cand_drive = np.empty(m * m)
    cand_a = np.empty(m * m, dtype=np.int64)
    cand_b = np.empty(m * m, dtype=np.int64)
    lp, ld = loc[p], loc[d]
    reason = WINDOW
    saw_capacity = False
    for a in range(first_pos, m - 1):
        sa = seq[a]
        t_p = eb[a] + svc[sa] + tt[loc[sa], lp]
        if t_p > late[p] + EPS:
            break  # later positions only arrive later
        b_p = max(t_p, early[p])
        na = seq[a + 1]
        if b_p + svc[p] + tt[lp, loc[na]] - eb[a + 1] > fs[a + 1] + EPS:
            continue  # the pickup alone pushes a later stop out of its window
        detour_p = tt[loc[sa], lp] + svc[p] + tt[lp, loc[na]] - tt[loc[sa], loc[na]]
        if detour_p > room[a] + EPS:
            continue  # riders on board over this leg would ride too long
        add_p = cost[loc[sa], lp] + cost[lp, loc[na]] - cost[loc[sa], loc[na]]
        wait_p = wait_weight * (b_p - early[p])
        for b in range(a, m - 1):
            if load[b] + dq[p] > cap or load_w[b] + dw[p] > cap_w:
                saw_capacity = True
                break  # the load stays too high for every later b
            sb = seq[b]
            nb = seq[b + 1]
            if b == a:
                detour = tt[loc[sa], lp] + svc[p] + tt[lp, ld] + svc[d] + tt[ld, loc[na]]
                if detour - tt[loc[sa], loc[na]] > room[a] + EPS:
                    continue
                t_d = b_p + svc[p] + tt[lp, ld]
                extra = wait_p + (
                    cost[loc[sa], lp] + cost[lp, ld] + cost[ld, loc[na]] - cost[loc[sa], loc[na]]
                )
            else:
                # The new rider's ride is at least the driving and stops in between.
                ride_lb = tt[lp, loc[na]] + cum[b] - cum[a + 1] + svc[sb] + tt[loc[sb], ld]
                if ride_lb > maxride[d] + EPS:
                    break
                detour_d = tt[loc[sb], ld] + svc[d] + tt[ld, loc[nb]] - tt[loc[sb], loc[nb]]
                if detour_d > room[b] + EPS:
                    continue
                t_d = eb[b] + svc[sb] + tt[loc[sb], ld]
                extra = (
                    wait_p + add_p + cost[loc[sb], ld] + cost[ld, loc[nb]] - cost[loc[sb], loc[nb]]
                )
            if t_d > late[d] + EPS:
                break
            if max(t_d, early[d]) + svc[d] + tt[ld, loc[nb]] - eb[b + 1] > fs[b + 1] + EPS:
                continue  # the drop-off pushes a later stop out of its window
            if extra >= limit_cost:
                continue
            cand_cost[n_cand] = extra
            cand_drive[n_cand] = extra - wait_p
            cand_a[n_cand] = a
            cand_b[n_cand] = b
            n_cand += 1
    if n_cand == 0:
        return INF, -1, -1, CAPACITY if saw_capacity else reason
    order = np.argsort(cand_cost[:n_cand], kind="mergesort")
    first_reason = -1
    # Priced waits: a candidate's cost above uses the earliest pickup the route allows, a
    # lower bound on the pickup the schedule sets (it may delay a pickup to shorten rides);
    # the exact cost takes the schedule's, and the search stops at the first lower bound
    # that cannot beat the best exact cost found.
    best_cost, best_a, best_b = limit_cost, -1, -1
    for idx in range(min(n_cand, max_checks)):
        c = order[idx]
        if cand_cost[c] >= best_cost:
            break
        a = cand_a[c]
        b = cand_b[c]
        k = 0
        for x in range(m):
            work[k] = seq[x]
            k += 1
            if x == a:
                work[k] = p
                k += 1
            if x == b:
                work[k] = d
                k += 1
        code = schedule(
            work,
            m + 2,
            pos,
            loc,
            early,
            late,
            svc,
            dq,
            dw,
            kind,
            partner,
            maxride,
            ride_from,
            cap,
            cap_w,
            load0,
            load0_w,
            max_duration,
            tt,
            bt,
            wt,
        )
        if code == OK:
            if wait_weight == 0.0:
                return cand_cost[c], a, b, OK
            exact = cand_drive[c] + wait_weight * (bt[a + 1] - early[p])
            if exact < best_cost:
                best_cost, best_a, best_b = exact, a, b
        elif first_reason < 0:
            first_reason = code
    if best_a >= 0:
        return best_cost, best_a, best_b, OK
    if first_reason < 0 and wait_weight > 0.0:
        first_reason = reason  # feasible, but none cheaper than limit_cost once waits priced
    return INF, -1, -1, first_reason
