"""Run the static solver on one published DARP instance and judge it with the independent checker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dispatch.darp import read_instance
from dispatch.darp_check import check_solution
from dispatch.static import Request, solve_static


def run_instance(path: Path, bks: float | None, time_limit_s: float, seed: int) -> dict[str, Any]:
    """One benchmark row (plus the routes, in the instance's node ids)."""
    inst = read_instance(path)
    problem = inst.to_problem()
    requests = [Request(i, i + inst.requests) for i in range(1, inst.requests + 1)]
    started = time.perf_counter()
    result = solve_static(problem, requests, time_limit_s, seed=seed)
    seconds = time.perf_counter() - started
    routes = [route for route in result.routes if route]
    check = check_solution(inst, routes)
    return {
        "instance": inst.name,
        "vehicles": inst.vehicles,
        "requests": inst.requests,
        "cost": round(check.cost, 2),
        "bks": bks,
        "gap_pct": round(100.0 * (check.cost / bks - 1.0), 2) + 0.0 if bks else None,
        "seconds": round(seconds, 1),
        "feasible": check.feasible,
        "iterations": result.iterations,
        "problems": check.problems[:5],
        "routes": routes,
    }
