"""Static mode: all requests known in advance, solved by adaptive large-neighbourhood search.

Routes are only ever built by the compiled repairs of :mod:`dispatch.repair`, which insert
through :func:`dispatch.kernels.best_insertion`, the same feasibility and insertion code the
live engine uses; every route kept therefore passes the checks of a live plan. Destroy
operators: random, worst (largest saving) and related (Shaw: close in space and time)
removal; repair: greedy cheapest insertion in random order, or regret-2 insertion.
Acceptance is simulated annealing on a time-based temperature schedule, with a return to the
best solution after ``RESTART_AFTER`` iterations without a new best; operator weights adapt
to their recent success. Deterministic for a seed and an iteration budget (a time
limit stops it at a machine-dependent iteration).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

import numpy as np

from dispatch.kernels import OK, PICKUP, Floats, Ints
from dispatch.problem import Problem
from dispatch.repair import removal_savings, remove_stops, repair_greedy, repair_regret, route_costs

UNASSIGNED_PENALTY = 10_000.0
MAX_CHECKS = 1_000_000_000  # offline: try every candidate, cheapest first
RESTART_AFTER = 2000  # iterations without a new best before the search returns to the best


@dataclass(frozen=True, slots=True)
class Request:
    pickup: int
    dropoff: int


@dataclass(slots=True)
class Solution:
    """Routes as rows of one array (START ... END), their costs, and requests left out."""

    routes: Ints
    lens: Ints
    costs: Floats
    unassigned: list[int]  # pickup stop ids

    @property
    def cost(self) -> float:
        return float(self.costs.sum())

    @property
    def objective(self) -> float:
        return self.cost + UNASSIGNED_PENALTY * len(self.unassigned)

    def copy(self) -> Solution:
        return Solution(
            self.routes.copy(), self.lens.copy(), self.costs.copy(), list(self.unassigned)
        )

    def route(self, v: int) -> list[int]:
        return [int(s) for s in self.routes[v, 1 : self.lens[v] - 1]]


@dataclass(frozen=True, slots=True)
class StaticResult:
    routes: list[list[int]]
    cost: float
    unassigned: list[Request]
    iterations: int
    seconds: float
    initial_cost: float


class Search:
    """One ALNS run over a Problem and its requests."""

    def __init__(self, problem: Problem, requests: list[Request], seed: int) -> None:
        self.problem = problem
        self.requests = {r.pickup: r for r in requests}
        self.rng = random.Random(seed)
        pr = problem
        self._pos = np.zeros(pr.loc.shape[0], dtype=np.int64)
        self._bt = np.zeros(pr.loc.shape[0] + 4)
        self._wt = np.zeros(pr.loc.shape[0] + 4)
        self._work = np.zeros(pr.loc.shape[0] + 4, dtype=np.int64)
        self._left = np.zeros(len(requests) + 1, dtype=np.int64)
        self._drop = np.zeros(pr.loc.shape[0], dtype=np.int64)
        pickups = np.array(sorted(self.requests), dtype=np.int64)
        self._pickups = pickups
        # when each pickup can start, given its own window and its drop-off's (outbound trips
        # have a wide pickup window and a tight drop-off one): the middle of that window
        drops = pr.partner[pickups]
        early = np.maximum(pr.early[pickups], pr.early[drops] - pr.svc[pickups] - pr.maxride[drops])
        late = np.minimum(
            pr.late[pickups],
            pr.late[drops] - pr.svc[pickups] - pr.tt[pr.loc[pickups], pr.loc[drops]],
        )
        mid = (early + np.minimum(late, early + 1e4)) / 2
        self._mid = {int(p): float(t) for p, t in zip(pickups, mid, strict=True)}

    # -- building blocks ---------------------------------------------------------------

    def _repair(self, sol: Solution, regret: bool, order: list[int]) -> None:
        pr = self.problem
        pending = np.array(order, dtype=np.int64)
        fn = repair_regret if regret else repair_greedy
        stops = (
            pr.loc,
            pr.early,
            pr.late,
            pr.svc,
            pr.dq,
            pr.dw,
            pr.kind,
            pr.partner,
            pr.maxride,
            pr.ride_from,
        )
        fleet = (pr.v_cap, pr.v_cap_w, pr.v_load0, pr.v_load0_w, pr.v_max_duration)
        scratch = (self._pos, self._bt, self._wt, self._work)
        n_left = fn(
            sol.routes, sol.lens, sol.costs, pending, stops, fleet, pr.tt, pr.cost, scratch,
            MAX_CHECKS, self._left,
        )  # fmt: skip
        sol.unassigned = [int(x) for x in self._left[:n_left]]

    def greedy(self, sol: Solution) -> None:
        order = list(sol.unassigned)
        self.rng.shuffle(order)
        self._repair(sol, False, order)

    def regret(self, sol: Solution) -> None:
        self._repair(sol, True, sorted(sol.unassigned))

    def remove(self, sol: Solution, pickups: list[int]) -> None:
        if not pickups:
            return
        pr = self.problem
        self._drop[:] = 0
        for p in pickups:
            self._drop[p] = 1
            self._drop[pr.partner[p]] = 1
        remove_stops(sol.routes, sol.lens, self._drop)
        route_costs(sol.routes, sol.lens, pr.loc, pr.cost, sol.costs)
        sol.unassigned.extend(pickups)

    def assigned(self, sol: Solution) -> list[int]:
        kind = self.problem.kind
        return [
            int(s)
            for v in range(sol.routes.shape[0])
            for s in sol.routes[v, 1 : sol.lens[v] - 1]
            if kind[s] == PICKUP
        ]

    # -- destroy -------------------------------------------------------------------------

    def random_removal(self, sol: Solution, q: int) -> None:
        reqs = sorted(self.assigned(sol))
        self.remove(sol, self.rng.sample(reqs, min(q, len(reqs))))

    def worst_removal(self, sol: Solution, q: int) -> None:
        pr = self.problem
        n = len(self.requests)
        out_p = np.empty(n, dtype=np.int64)
        out_s = np.empty(n)
        count = removal_savings(
            sol.routes, sol.lens, pr.kind, pr.partner, pr.loc, pr.cost, self._pos, out_p, out_s
        )
        order = np.lexsort((out_p[:count], -out_s[:count]))
        ranked = [int(out_p[i]) for i in order]
        chosen: list[int] = []
        while ranked and len(chosen) < q:
            k = int(len(ranked) * self.rng.random() ** 4)  # biased to the worst
            chosen.append(ranked.pop(k))
        self.remove(sol, chosen)

    def related_removal(self, sol: Solution, q: int) -> None:
        reqs = sorted(self.assigned(sol))
        if not reqs:
            return
        pr = self.problem
        seed = self.rng.choice(reqs)
        arr = np.array(reqs, dtype=np.int64)
        lp, ld = pr.loc[arr], pr.loc[pr.partner[arr]]
        space = pr.tt[pr.loc[seed], lp] + pr.tt[pr.loc[pr.partner[seed]], ld]
        mids = np.array([self._mid[r] for r in reqs])
        score = space + 0.5 * np.abs(mids - self._mid[seed])
        ranked = [int(arr[i]) for i in np.lexsort((arr, score))]
        chosen: list[int] = []
        while ranked and len(chosen) < q:
            k = int(len(ranked) * self.rng.random() ** 5)
            chosen.append(ranked.pop(k))
        self.remove(sol, chosen)

    # -- the search ----------------------------------------------------------------------

    def empty(self) -> Solution:
        pr = self.problem
        n_v = pr.n_vehicles
        routes = np.zeros((n_v, 2 * len(self.requests) + 2), dtype=np.int64)
        routes[:, 0] = pr.v_start
        routes[:, 1] = pr.v_end
        lens = np.full(n_v, 2, dtype=np.int64)
        costs = np.zeros(n_v)
        route_costs(routes, lens, pr.loc, pr.cost, costs)
        return Solution(routes, lens, costs, [])

    def initial(self) -> Solution:
        sol = self.empty()
        order = sorted(self.requests, key=lambda p: (self._mid[p], p))
        self._repair(sol, False, order)  # in time order: a good start for time windows
        if sol.unassigned:
            self.regret(sol)
        return sol

    def run(self, time_limit_s: float, max_iterations: int | None = None) -> StaticResult:
        started = time.perf_counter()
        current = self.initial()
        initial_cost = current.objective
        best = current.copy()
        destroy = [self.random_removal, self.worst_removal, self.related_removal]
        repair = [self.greedy, self.regret]
        w_destroy = [1.0] * len(destroy)
        w_repair = [1.0] * len(repair)
        n = len(self.requests)
        t0 = best.cost / max(n, 1)  # at the start, a move worse by cost/n passes with p = 1/e
        iterations = 0
        since_best = 0
        while True:
            elapsed = time.perf_counter() - started
            if elapsed >= time_limit_s or (
                max_iterations is not None and iterations >= max_iterations
            ):
                break
            iterations += 1
            progress = (
                elapsed / time_limit_s if max_iterations is None else iterations / max_iterations
            )
            temperature = t0 * (1.0 - progress) ** 2 + 1e-9
            di = self.rng.choices(range(len(destroy)), w_destroy)[0]
            ri = self.rng.choices(range(len(repair)), w_repair)[0]
            q = self.rng.randint(2, max(2, min(30, int(0.35 * n))))
            candidate = current.copy()
            destroy[di](candidate, q)
            repair[ri](candidate)
            delta = candidate.objective - current.objective
            score = 0.0
            since_best += 1
            if candidate.objective < best.objective - 1e-9:
                best = candidate.copy()
                score = 3.0
                since_best = 0
            if delta < -1e-9:
                current, score = candidate, max(score, 2.0)
            elif self.rng.random() < math.exp(-delta / temperature):
                current, score = candidate, max(score, 0.5)
            if since_best >= RESTART_AFTER:  # wandered too long: go back to the best
                current, since_best = best.copy(), 0
            w_destroy[di] = 0.9 * w_destroy[di] + 0.1 * (score + 0.2)
            w_repair[ri] = 0.9 * w_repair[ri] + 0.1 * (score + 0.2)
        routes = [best.route(v) for v in range(best.routes.shape[0])]
        for v, route in enumerate(routes):
            if self.problem.check(v, route) != OK:  # the search only keeps checked routes
                raise AssertionError(f"vehicle {v}: infeasible route kept by the search")
        return StaticResult(
            routes=routes,
            cost=best.cost,
            unassigned=[self.requests[p] for p in sorted(best.unassigned)],
            iterations=iterations,
            seconds=time.perf_counter() - started,
            initial_cost=initial_cost,
        )


def solve_static(
    problem: Problem,
    requests: list[Request],
    time_limit_s: float,
    seed: int = 1,
    max_iterations: int | None = None,
) -> StaticResult:
    """Best routes found for all requests within the time (or iteration) budget."""
    return Search(problem, requests, seed).run(time_limit_s, max_iterations)
