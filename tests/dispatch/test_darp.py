"""The benchmark reader, the independent checker, and the static solver on small instances."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.darp import InstanceError, instance_files, read_bks, read_instance
from dispatch.darp_check import check_solution
from dispatch.kernels import OK
from dispatch.static import Request, solve_static

ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "darp"


def _published_routes(res: Path, n: int) -> list[list[int]]:
    """Routes of a Cordeau & Laporte (2003) .res file, depots left out."""
    routes = []
    for line in res.read_text().splitlines()[1:]:
        nodes = [int(x) for x in re.findall(r"(\d+)\s*\(", line)]
        route = [x for x in nodes if 1 <= x <= 2 * n]
        if route:
            routes.append(route)
    return routes


def test_reader_handles_both_formats() -> None:
    a = read_instance(ROOT / "a" / "a2-16.txt")
    assert (a.vehicles, a.requests, a.capacity, a.max_ride, a.max_duration) == (2, 16, 3, 30, 480)
    assert len(a.nodes) == 34
    pr = read_instance(ROOT / "pr" / "pr01")
    assert (pr.vehicles, pr.requests, pr.capacity, pr.max_ride) == (3, 24, 6, 90)
    assert pr.nodes[-1].x == pr.nodes[0].x  # the end depot is added at the start depot
    assert len(instance_files(ROOT, ["a", "b", "pr"])) == 68
    assert read_bks(ROOT / "bks.csv")["a8-96"] == pytest.approx(1229.66)


@pytest.mark.parametrize("name", ["pr01", "pr02", "pr11", "pr13"])
def test_checker_accepts_the_published_solutions(name: str) -> None:
    inst = read_instance(ROOT / "pr" / name)
    published = ROOT / "pr" / f"{name}.res"
    routes = _published_routes(published, inst.requests)
    result = check_solution(inst, routes)
    assert result.feasible, result.problems
    assert result.cost == pytest.approx(float(published.read_text().split()[0]), abs=0.01)


def test_checker_refuses_broken_solutions() -> None:
    inst = read_instance(ROOT / "pr" / "pr01")
    routes = _published_routes(ROOT / "pr" / "pr01.res", inst.requests)
    swapped = [list(r) for r in routes]
    first = swapped[0]
    p = next(x for x in first if x <= inst.requests)
    first.remove(p)
    first.insert(first.index(p + inst.requests) + 1, p)  # pickup after its drop-off
    assert "before pickup" in " ".join(check_solution(inst, swapped).problems)
    assert not check_solution(inst, routes[1:]).feasible  # requests left unserved
    one_route = [[x for r in routes for x in r]]  # everything on one vehicle: too late, too full
    assert not check_solution(inst, one_route).feasible


def test_static_solver_finds_the_optimum_of_a2_16() -> None:
    inst = read_instance(ROOT / "a" / "a2-16.txt")
    problem = inst.to_problem()
    requests = [Request(i, i + inst.requests) for i in range(1, inst.requests + 1)]
    # The iteration budget ends the search, not the clock: a busy machine gets the same answer.
    result = solve_static(problem, requests, time_limit_s=3600, seed=1, max_iterations=4000)
    routes = [r for r in result.routes if r]
    check = check_solution(inst, routes)
    assert check.feasible, check.problems
    assert not result.unassigned
    assert check.cost == pytest.approx(result.cost)
    assert check.cost <= 294.25 * 1.005  # the proven optimum is 294.25
    assert all(problem.check(v, r) == OK for v, r in enumerate(result.routes))


def test_static_solver_is_deterministic_for_an_iteration_budget() -> None:
    inst = read_instance(ROOT / "b" / "b2-16.txt")
    problem = inst.to_problem()
    requests = [Request(i, i + inst.requests) for i in range(1, inst.requests + 1)]
    one = solve_static(problem, requests, time_limit_s=3600, seed=3, max_iterations=300)
    two = solve_static(problem, requests, time_limit_s=3600, seed=3, max_iterations=300)
    assert one.routes == two.routes


def test_bad_instance_files(tmp_path: Path) -> None:
    with pytest.raises(InstanceError):
        read_instance(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("2 16 480 3 30\n0 0 0 0 0 0 480\n")
    with pytest.raises(InstanceError):
        read_instance(bad)
