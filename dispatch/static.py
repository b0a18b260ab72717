"""Static mode: all requests known in advance, solved by adaptive large-neighbourhood search.

The search only ever builds routes through :meth:`Problem.insertion`, the same compiled
feasibility and insertion code the live engine uses, so every route it keeps passes the same
checks as a live plan. Destroy operators: random, worst (largest saving) and related (Shaw:
close in space and time) removal; repair: greedy cheapest insertion or regret-2 insertion.
Acceptance is simulated annealing on a time-based temperature schedule; operator weights adapt
to their recent success. Deterministic for a seed and an iteration budget (a time limit
stops it at a machine-dependent iteration).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from dispatch.kernels import INF, OK
from dispatch.problem import Insertion, Problem

UNASSIGNED_PENALTY = 10_000.0


@dataclass(frozen=True, slots=True)
class Request:
    pickup: int
    dropoff: int


@dataclass(slots=True)
class Solution:
    routes: list[list[int]]
    route_costs: list[float]
    unassigned: list[Request]

    @property
    def cost(self) -> float:
        return sum(self.route_costs)

    @property
    def objective(self) -> float:
        return self.cost + UNASSIGNED_PENALTY * len(self.unassigned)

    def copy(self) -> Solution:
        return Solution(
            [list(r) for r in self.routes], list(self.route_costs), list(self.unassigned)
        )


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
        self.requests = requests
        self.rng = random.Random(seed)
        self.by_pickup = {r.pickup: r for r in requests}
        pts = problem.loc
        self.tt = problem.tt
        # Relatedness features: pickup/drop-off locations and window midpoints.
        self.mid = {
            r: (
                problem.early[r.pickup] + min(problem.late[r.pickup], problem.early[r.pickup] + 1e4)
            )
            / 2
            for r in requests
        }
        self._pts = pts

    # -- building blocks ---------------------------------------------------------------

    def best_for(self, sol: Solution, req: Request) -> Insertion | None:
        found = self.problem.insertions(sol.routes, req.pickup, req.dropoff, best_only=True)
        options = [i for i in found if i is not None]
        return min(options, key=lambda i: (i.extra_cost, i.vehicle)) if options else None

    def apply(self, sol: Solution, ins: Insertion, req: Request) -> None:
        v = ins.vehicle
        sol.routes[v] = ins.apply(sol.routes[v], req.pickup, req.dropoff)
        sol.route_costs[v] += ins.extra_cost

    def remove(self, sol: Solution, reqs: list[Request]) -> None:
        drop = {s for r in reqs for s in (r.pickup, r.dropoff)}
        for v, route in enumerate(sol.routes):
            if any(s in drop for s in route):
                sol.routes[v] = [s for s in route if s not in drop]
                sol.route_costs[v] = self.problem.cost_of(v, sol.routes[v])
        sol.unassigned.extend(reqs)

    def assigned(self, sol: Solution) -> list[Request]:
        return [self.by_pickup[s] for route in sol.routes for s in route if s in self.by_pickup]

    # -- repair --------------------------------------------------------------------------

    def greedy(self, sol: Solution) -> None:
        pending = sol.unassigned
        sol.unassigned = []
        self.rng.shuffle(pending)
        for req in pending:
            ins = self.best_for(sol, req)
            if ins is None:
                sol.unassigned.append(req)
            else:
                self.apply(sol, ins, req)

    def regret(self, sol: Solution) -> None:
        """Regret-2: insert first the request that loses most if its best route is taken."""
        pending = {r.pickup: r for r in sol.unassigned}
        sol.unassigned = []
        table = {
            k: self.problem.insertions(sol.routes, r.pickup, r.dropoff) for k, r in pending.items()
        }
        while pending:
            choice, choice_key = -1, (-INF, INF)
            for k in sorted(pending):
                costs = sorted(i.extra_cost for i in table[k] if i is not None)
                if not costs:
                    continue
                regret = (costs[1] if len(costs) > 1 else 1e6) - costs[0]
                key = (regret, -costs[0])
                if choice < 0 or key > choice_key:
                    choice, choice_key = k, key
            if choice < 0:
                sol.unassigned.extend(pending.values())
                return
            best = min((i for i in table[choice] if i is not None), key=lambda i: i.extra_cost)
            req = pending.pop(choice)
            del table[choice]
            self.apply(sol, best, req)
            v = best.vehicle
            seq = self.problem.sequence(v, sol.routes[v])
            for k, r in pending.items():
                table[k][v] = self.problem.insertion(v, seq, r.pickup, r.dropoff)[0]

    # -- destroy -------------------------------------------------------------------------

    def random_removal(self, sol: Solution, q: int) -> None:
        reqs = self.assigned(sol)
        self.remove(sol, self.rng.sample(reqs, min(q, len(reqs))))

    def worst_removal(self, sol: Solution, q: int) -> None:
        savings = []
        for v, route in enumerate(sol.routes):
            for s in route:
                req = self.by_pickup.get(s)
                if req is not None:
                    savings.append((self.problem.removal_saving(v, route, s, req.dropoff), req))
        savings.sort(key=lambda t: -t[0])
        chosen: list[Request] = []
        while savings and len(chosen) < q:
            k = int(len(savings) * self.rng.random() ** 4)  # biased to the worst
            chosen.append(savings.pop(k)[1])
        self.remove(sol, chosen)

    def related_removal(self, sol: Solution, q: int) -> None:
        reqs = self.assigned(sol)
        if not reqs:
            return
        seed = self.rng.choice(reqs)
        tt, loc = self.tt, self._pts

        def distance(r: Request) -> float:
            space = tt[loc[seed.pickup], loc[r.pickup]] + tt[loc[seed.dropoff], loc[r.dropoff]]
            return float(space) + 0.5 * float(abs(self.mid[seed] - self.mid[r]))

        ranked = sorted(reqs, key=distance)
        chosen: list[Request] = []
        while ranked and len(chosen) < q:
            k = int(len(ranked) * self.rng.random() ** 5)
            chosen.append(ranked.pop(k))
        self.remove(sol, chosen)

    # -- the search ----------------------------------------------------------------------

    def initial(self) -> Solution:
        n_v = self.problem.n_vehicles
        sol = Solution(
            [[] for _ in range(n_v)], [self.problem.cost_of(v, []) for v in range(n_v)], []
        )
        sol.unassigned = sorted(self.requests, key=lambda r: self.mid[r])
        pending, sol.unassigned = sol.unassigned, []
        for req in pending:  # in time order: a good start for time-windowed requests
            ins = self.best_for(sol, req)
            if ins is None:
                sol.unassigned.append(req)
            else:
                self.apply(sol, ins, req)
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
            if candidate.objective < best.objective - 1e-9:
                best = candidate.copy()
                score = 3.0
            if delta < -1e-9:
                current, score = candidate, max(score, 2.0)
            elif self.rng.random() < math.exp(-delta / temperature):
                current, score = candidate, max(score, 0.5)
            w_destroy[di] = 0.9 * w_destroy[di] + 0.1 * (score + 0.2)
            w_repair[ri] = 0.9 * w_repair[ri] + 0.1 * (score + 0.2)
        for v, route in enumerate(best.routes):
            if self.problem.check(v, route) != OK:  # the search only keeps checked routes
                raise AssertionError(f"vehicle {v}: infeasible route kept by the search")
        return StaticResult(
            routes=[list(r) for r in best.routes],
            cost=best.cost,
            unassigned=list(best.unassigned),
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


__all__ = ["Request", "StaticResult", "solve_static"]
