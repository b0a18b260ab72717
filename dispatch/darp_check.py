"""An independent checker for dial-a-ride solutions, written from the benchmark's definition.

It shares no code with the solver: it reads routes of node ids, re-derives everything from the
instance (coordinates, windows, loads, limits), and decides whether *some* schedule meets every
constraint by solving a small linear programme per route with HiGHS (exact, unlike the
solver's eight-step heuristic): B_j >= B_i + d_i + t_ij along the route, e_j <= B_j <= l_j
including both depots, B_drop - (B_pick + d_pick) <= L, and B_end - B_start <= T.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from dispatch.darp import DarpInstance

TOLERANCE = 1e-6


@dataclass(slots=True)
class CheckResult:
    feasible: bool
    cost: float
    problems: list[str] = field(default_factory=list)


def _dist(inst: DarpInstance, i: int, j: int) -> float:
    a, b = inst.nodes[i], inst.nodes[j]
    return math.hypot(a.x - b.x, a.y - b.y)


def _route_schedulable(inst: DarpInstance, route: list[int]) -> str | None:
    """None when a schedule exists for [start depot, *route, end depot], else why not."""
    n = inst.requests
    seq = [0, *route, 2 * n + 1]
    m = len(seq)
    rows, rhs = [], []

    def row(coeffs: dict[int, float], bound: float) -> None:
        r = np.zeros(m)
        for k, v in coeffs.items():
            r[k] += v
        rows.append(r)
        rhs.append(bound)

    for k in range(m - 1):  # B_k + d_k + t <= B_{k+1}
        i, j = seq[k], seq[k + 1]
        row({k: 1.0, k + 1: -1.0}, -(inst.nodes[i].service + _dist(inst, i, j)))
    where = {node: k for k, node in enumerate(seq)}
    for k, node in enumerate(seq):
        if n < node <= 2 * n:  # ride time of request node - n
            pk = where[node - n]
            row({k: 1.0, pk: -1.0}, inst.max_ride + inst.nodes[node - n].service)
    row({m - 1: 1.0, 0: -1.0}, inst.max_duration)
    bounds = [(inst.nodes[node].early, inst.nodes[node].late) for node in seq]
    result = linprog(
        c=np.zeros(m), A_ub=np.array(rows), b_ub=np.array(rhs) + TOLERANCE, bounds=bounds,
        method="highs",
    )  # fmt: skip
    if result.status == 0:
        return None
    return f"no schedule meets windows, ride times and duration ({result.message})"


def check_solution(inst: DarpInstance, routes: list[list[int]]) -> CheckResult:
    """Every constraint of the benchmark, re-evaluated from the instance file."""
    n = inst.requests
    problems: list[str] = []
    if len(routes) > inst.vehicles:
        problems.append(f"{len(routes)} routes but only {inst.vehicles} vehicles")
    seen: dict[int, int] = {}
    cost = 0.0
    for r, route in enumerate(routes):
        for node in route:
            if not 1 <= node <= 2 * n:
                problems.append(f"route {r}: node {node} is not a pickup or drop-off")
            elif node in seen:
                problems.append(f"node {node} visited twice")
            seen[node] = r
        for node in route:
            if 1 <= node <= n and seen.get(node + n) != r:
                problems.append(f"request {node}: drop-off not on the same route")
        where = {node: k for k, node in enumerate(route)}
        for node in route:
            if 1 <= node <= n and node + n in where and where[node + n] < where[node]:
                problems.append(f"request {node}: drop-off before pickup")
        load = 0
        for node in route:
            load += inst.nodes[node].load
            if load > inst.capacity:
                problems.append(f"route {r}: load {load} over capacity {inst.capacity}")
                break
        seq = [0, *route, 2 * n + 1]
        cost += sum(_dist(inst, a, b) for a, b in itertools.pairwise(seq))
        if route and not problems:
            why = _route_schedulable(inst, route)
            if why:
                problems.append(f"route {r}: {why}")
    missing = [i for i in range(1, 2 * n + 1) if i not in seen]
    if missing:
        problems.append(f"{len(missing)} nodes not served, e.g. {missing[:5]}")
    return CheckResult(feasible=not problems, cost=cost, problems=problems)
