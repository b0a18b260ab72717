"""Compiled destroy-and-repair steps of the static search, built on ``best_insertion``.

Routes live in one 2-D array: row v holds vehicle v's sequence (START ... END) in its first
``lens[v]`` cells. Repairs insert requests only through :func:`dispatch.kernels.best_prepared`
(the live engine's feasibility and insertion code, which ``best_insertion`` also runs), so
every route stays feasible. A route's filter data is prepared once per change of the route,
not once per request tried on it (same result, less work).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dispatch.kernels import (
    INF,
    PICKUP,
    Floats,
    Ints,
    best_prepared,
    jit,
    prepare_route,
    route_cost,
)

#: (loc, early, late, svc, dq, dw, kind, partner, maxride, ride_from), see dispatch.kernels.
StopArrays = tuple[Ints, Floats, Floats, Floats, Ints, Ints, Ints, Ints, Floats, Floats]
#: (v_cap, v_cap_w, v_load0, v_load0_w, v_max_duration) per vehicle.
FleetArrays = tuple[Ints, Ints, Ints, Ints, Floats]
#: (pos, bt, wt, work) work space of the kernels.
Scratch = tuple[Ints, Floats, Floats, Ints]
Bools = npt.NDArray[np.bool_]


@jit
def insert_at(routes: Ints, lens: Ints, v: int, a: int, b: int, p: int, d: int) -> None:
    """Put p after position a and d after position b (b >= a) of route v."""
    row = routes[v]
    m = lens[v]
    for k in range(m - 1, b, -1):
        row[k + 2] = row[k]
    row[b + 2] = d
    for k in range(b, a, -1):
        row[k + 1] = row[k]
    row[a + 1] = p
    lens[v] = m + 2


@jit
def remove_stops(routes: Ints, lens: Ints, drop: Ints) -> None:
    """Remove every stop s with drop[s] != 0 from every route."""
    for v in range(routes.shape[0]):
        k = 0
        for x in range(lens[v]):
            s = routes[v, x]
            if drop[s] == 0:
                routes[v, k] = s
                k += 1
        lens[v] = k


@jit
def route_costs(routes: Ints, lens: Ints, loc: Ints, cost: Floats, out: Floats) -> None:
    for v in range(routes.shape[0]):
        out[v] = route_cost(routes[v], lens[v], loc, cost)


@jit
def removal_savings(
    routes: Ints,
    lens: Ints,
    kind: Ints,
    partner: Ints,
    loc: Ints,
    cost: Floats,
    pos: Ints,
    out_p: Ints,
    out_saving: Floats,
) -> int:
    """For every assigned request, how much its route's cost falls without it."""
    n = 0
    for v in range(routes.shape[0]):
        row = routes[v]
        m = lens[v]
        for x in range(m):
            pos[row[x]] = x
        for i in range(1, m - 1):
            p = row[i]
            if kind[p] != PICKUP:
                continue
            d = partner[p]
            j = pos[d]
            lp, ld = loc[p], loc[d]
            prev_p, next_p = loc[row[i - 1]], loc[row[i + 1]]
            next_d = loc[row[j + 1]]
            if j == i + 1:
                saving = cost[prev_p, lp] + cost[lp, ld] + cost[ld, next_d] - cost[prev_p, next_d]
            else:
                prev_d = loc[row[j - 1]]
                saving = cost[prev_p, lp] + cost[lp, next_p] - cost[prev_p, next_p]
                saving += cost[prev_d, ld] + cost[ld, next_d] - cost[prev_d, next_d]
            out_p[n] = p
            out_saving[n] = saving
            n += 1
    return n


@jit
def _best_in_route(
    routes: Ints,
    lens: Ints,
    v: int,
    p: int,
    stops: StopArrays,
    fleet: FleetArrays,
    tt: Floats,
    cost: Floats,
    scratch: Scratch,
    limit: float,
    max_checks: int,
    preps: Floats,
    valid: Bools,
) -> tuple[float, int, int]:
    """``best_insertion`` of request p (and its drop-off) into route v: (extra, a, b).

    The route's filter data (``prepare_route``) is computed once per route state and kept in
    ``preps[v]`` while ``valid[v]``; whoever changes route v clears ``valid[v]``."""
    loc, early, late, svc, dq, dw, kind, partner, maxride, ride_from = stops
    v_cap, v_cap_w, v_load0, v_load0_w, v_max_duration = fleet
    pos, bt, wt, work = scratch
    m = lens[v]
    if not valid[v]:
        prepare_route(
            routes[v, :m], m, pos, loc, early, late, svc, dq, dw, kind, partner, maxride,
            ride_from, v_load0[v], v_load0_w[v], tt, preps[v],
        )  # fmt: skip
        valid[v] = True
    extra, a, b, _ = best_prepared(
        routes[v, :m], m, p, partner[p], pos, loc, early, late, svc, dq, dw, kind, partner,
        maxride, ride_from, v_cap[v], v_cap_w[v], v_load0[v], v_load0_w[v], v_max_duration[v],
        tt, cost, bt, wt, work, limit, 0, max_checks, preps[v],
    )  # fmt: skip
    return extra, a, b


@jit
def _route_cache(routes: Ints) -> tuple[Floats, Bools]:
    """Empty per-route filter data for the routes of one repair."""
    n_v, width = routes.shape
    return np.empty((n_v, 7, width)), np.zeros(n_v, dtype=np.bool_)


@jit
def repair_greedy(
    routes: Ints,
    lens: Ints,
    costs: Floats,
    pending: Ints,
    stops: StopArrays,
    fleet: FleetArrays,
    tt: Floats,
    cost: Floats,
    scratch: Scratch,
    max_checks: int,
    left: Ints,
) -> int:
    """Insert the pending pickups in the given order, each at its cheapest place overall.

    Returns how many could not be placed (their pickups are written to ``left``)."""
    partner = stops[7]
    preps, valid = _route_cache(routes)
    n_left = 0
    for r in range(pending.shape[0]):
        p = pending[r]
        d = partner[p]
        best, bv, ba, bb = INF, -1, -1, -1
        for v in range(routes.shape[0]):
            extra, a, b = _best_in_route(
                routes, lens, v, p, stops, fleet, tt, cost, scratch, best, max_checks, preps, valid
            )
            if a >= 0 and extra < best:
                best, bv, ba, bb = extra, v, a, b
        if bv < 0:
            left[n_left] = p
            n_left += 1
        else:
            insert_at(routes, lens, bv, ba, bb, p, d)
            valid[bv] = False
            costs[bv] += best
    return n_left


@jit
def repair_regret(
    routes: Ints,
    lens: Ints,
    costs: Floats,
    pending: Ints,
    stops: StopArrays,
    fleet: FleetArrays,
    tt: Floats,
    cost: Floats,
    scratch: Scratch,
    max_checks: int,
    left: Ints,
) -> int:
    """Regret-2 insertion: place first the request that loses most if its best route fills."""
    partner = stops[7]
    n_r = pending.shape[0]
    n_v = routes.shape[0]
    tab_c = np.full((n_r, n_v), INF)
    tab_a = np.full((n_r, n_v), -1, dtype=np.int64)
    tab_b = np.full((n_r, n_v), -1, dtype=np.int64)
    alive = np.ones(n_r, dtype=np.bool_)
    preps, valid = _route_cache(routes)
    for r in range(n_r):
        for v in range(n_v):
            extra, a, b = _best_in_route(
                routes, lens, v, pending[r], stops, fleet, tt, cost, scratch, INF, max_checks,
                preps, valid,
            )  # fmt: skip
            if a >= 0:
                tab_c[r, v], tab_a[r, v], tab_b[r, v] = extra, a, b
    for _ in range(n_r):
        choice, best_regret, best_cost, choice_v = -1, -INF, INF, -1
        for r in range(n_r):
            if not alive[r]:
                continue
            c1, c2, v1 = INF, INF, -1
            for v in range(n_v):
                c = tab_c[r, v]
                if c < c1:
                    c2, c1, v1 = c1, c, v
                elif c < c2:
                    c2 = c
            if v1 < 0:
                continue
            regret = (c2 if c2 < INF else c1 + 1e6) - c1
            if regret > best_regret or (regret == best_regret and c1 < best_cost):
                choice, best_regret, best_cost, choice_v = r, regret, c1, v1
        if choice < 0:
            break
        alive[choice] = False
        p = pending[choice]
        insert_at(
            routes, lens, choice_v, tab_a[choice, choice_v], tab_b[choice, choice_v], p, partner[p]
        )
        valid[choice_v] = False
        costs[choice_v] += best_cost
        for r in range(n_r):
            if not alive[r]:
                continue
            extra, a, b = _best_in_route(
                routes, lens, choice_v, pending[r], stops, fleet, tt, cost, scratch, INF,
                max_checks, preps, valid,
            )  # fmt: skip
            tab_c[r, choice_v] = extra if a >= 0 else INF
            tab_a[r, choice_v], tab_b[r, choice_v] = a, b
    n_left = 0
    for r in range(n_r):
        if alive[r]:
            left[n_left] = pending[r]
            n_left += 1
    return n_left
