"""The compiled schedule never accepts a route that the independent LP checker refuses."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.darp import read_instance
from dispatch.darp_check import check_solution
from dispatch.kernels import OK
from dispatch.static import Request, solve_static

ROOT = Path(__file__).resolve().parents[2] / "benchmarks" / "darp"
INSTANCE = read_instance(ROOT / "b" / "b2-16.txt")  # group requests, capacity 6
PROBLEM = INSTANCE.to_problem()
N = INSTANCE.requests
TIGHT = read_instance(ROOT / "a" / "a2-16.txt")  # 30-minute ride limit
TIGHT_PROBLEM = TIGHT.to_problem()


@st.composite
def routes(draw: st.DrawFn) -> list[int]:
    """A random order of the pickups and drop-offs of 1 to 6 requests."""
    reqs = draw(st.lists(st.integers(1, N), min_size=1, max_size=6, unique=True))
    stops = list(reqs) + [r + N for r in reqs]
    return list(draw(st.permutations(stops)))


@settings(max_examples=300, deadline=None)
@given(route=routes(), tight=st.booleans())
def test_schedule_is_sound(route: list[int], tight: bool) -> None:
    inst, problem = (TIGHT, TIGHT_PROBLEM) if tight else (INSTANCE, PROBLEM)
    code = problem.check(0, route)
    verdict = check_solution(inst, [route])
    if code == OK:
        # Feasible for the kernel: the LP must agree (other requests are simply unserved).
        assert [p for p in verdict.problems if "not served" not in p] == []
    position = {s: i for i, s in enumerate(route)}
    if any(position[r + N] < position[r] for r in route if r <= N):
        assert code != OK  # precedence, or another rule checked before it


def test_insertion_result_is_feasible_and_cheapest_among_checked() -> None:
    """Greedy construction by insertion keeps every route feasible for the checker."""
    requests = [Request(i, i + N) for i in range(1, N + 1)]
    result = solve_static(PROBLEM, requests, time_limit_s=60, max_iterations=0)
    assert not result.unassigned
    assert check_solution(INSTANCE, [r for r in result.routes if r]).feasible
