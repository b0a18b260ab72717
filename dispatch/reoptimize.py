"""Re-optimise the committed plans with OR-Tools' routing solver, keeping every promise.

The model: pickups and drop-offs on the same vehicle, seat and wheelchair capacities (with the
riders already on board), a time dimension whose windows are exactly the promise windows of
the plans, the maximum ride time of each rider, vehicles starting where they are now, riders on
board bound to their vehicle, breaks bound to their vehicle, bookings an operator protected
kept on their vehicle, and the stop a vehicle is driving to kept first. Travel times and costs are whole matrices registered with the solver, not
per-arc Python callbacks. The search starts from the current plans and runs under a time limit.

A new plan is adopted only when every one of its routes passes the engine's own feasibility
check (:meth:`Problem.check`, the same code that made the promises) and the total cost falls.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.engine import Dispatcher, Entry
from dispatch.kernels import DROPOFF, OK, PICKUP
from dispatch.model import BookingStatus, StopKind


@dataclass(frozen=True, slots=True)
class ReoptResult:
    adopted: bool
    cost_before: float
    cost_after: float
    reason: str


def reoptimize(dispatcher: Dispatcher, now_s: int, time_limit_s: float = 2.0) -> ReoptResult:
    """Try to lower the fleet's travel time without breaking any promise; adopt if better."""
    dispatcher.expire(now_s)
    vids = sorted(vid for vid, v in dispatcher.vehicles.items() if v.in_service)
    if not vids or not any(dispatcher.plans[v] for v in vids):
        return ReoptResult(False, 0.0, 0.0, "nothing to optimise")
    problem, stop_of, _ = dispatcher.build_problem(vids, None, now_s)
    routes = [[stop_of[e] for e in dispatcher.plans[v]] for v in vids]
    before = sum(problem.cost_of(k, r) for k, r in enumerate(routes))
    n = int(problem.loc.shape[0])
    starts = [int(s) for s in problem.v_start]
    ends = [int(s) for s in problem.v_end]
    manager = pywrapcp.RoutingIndexManager(n, len(vids), starts, ends)
    model = pywrapcp.RoutingModel(manager)

    loc = problem.loc
    tt = problem.tt
    cost = [[int(tt[loc[i], loc[j]]) for j in range(n)] for i in range(n)]
    travel = [[int(problem.svc[i]) + cost[i][j] for j in range(n)] for i in range(n)]
    cost_cb = model.RegisterTransitMatrix(cost)
    time_cb = model.RegisterTransitMatrix(travel)
    model.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    horizon = int(max(problem.late[s] for s in range(n) if problem.late[s] < 1e17)) + 1
    model.AddDimension(time_cb, horizon, horizon, False, "time")
    time = model.GetDimensionOrDie("time")
    seats_cb = model.RegisterUnaryTransitVector([int(x) for x in problem.dq])
    wheel_cb = model.RegisterUnaryTransitVector([int(x) for x in problem.dw])
    model.AddDimensionWithVehicleCapacity(
        seats_cb, 0, [int(c) for c in problem.v_cap], False, "seats"
    )
    model.AddDimensionWithVehicleCapacity(
        wheel_cb, 0, [int(c) for c in problem.v_cap_w], False, "wheel"
    )
    seats, wheel = model.GetDimensionOrDie("seats"), model.GetDimensionOrDie("wheel")
    solver = model.solver()

    owner = {s: k for k, r in enumerate(routes) for s in r}
    entry_of: dict[int, Entry] = {s: e for e, s in stop_of.items()}
    protected = {i for i, b in dispatcher.bookings.items() if b.protected}
    for k in range(len(vids)):
        start, end = model.Start(k), model.End(k)
        time.CumulVar(start).SetRange(int(problem.early[starts[k]]), horizon)
        time.CumulVar(end).SetRange(0, int(min(problem.late[ends[k]], horizon)))
        seats.CumulVar(start).SetValue(int(problem.v_load0[k]))
        wheel.CumulVar(start).SetValue(int(problem.v_load0_w[k]))
        vehicle = dispatcher.vehicles[vids[k]]
        if vehicle.locked and routes[k]:
            model.NextVar(start).SetValues([manager.NodeToIndex(routes[k][0])])
    for s in range(n):
        if s in starts or s in ends:
            continue
        index = manager.NodeToIndex(s)
        late = problem.late[s]
        if problem.kind[s] == DROPOFF and problem.partner[s] < 0:  # rider on board
            late = min(late, problem.ride_from[s] + problem.maxride[s])
            model.VehicleVar(index).SetValue(owner[s])
        elif problem.kind[s] not in (PICKUP, DROPOFF) or (  # a break stays with its driver,
            problem.kind[s] == PICKUP and entry_of[s][0] in protected  # and what an operator kept
        ):
            model.VehicleVar(index).SetValue(owner[s])
        time.CumulVar(index).SetRange(int(problem.early[s]), int(min(late, horizon)))
        if problem.kind[s] == PICKUP:
            d = int(problem.partner[s])
            p_idx, d_idx = index, manager.NodeToIndex(d)
            model.AddPickupAndDelivery(p_idx, d_idx)
            solver.Add(model.VehicleVar(p_idx) == model.VehicleVar(d_idx))
            solver.Add(time.CumulVar(p_idx) <= time.CumulVar(d_idx))
            ride = int(problem.maxride[d]) + int(problem.svc[s])
            solver.Add(time.CumulVar(d_idx) - time.CumulVar(p_idx) <= ride)
    for k in range(len(vids)):
        model.AddVariableMinimizedByFinalizer(time.CumulVar(model.End(k)))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    model.CloseModelWithParameters(params)
    initial = model.ReadAssignmentFromRoutes(
        [[manager.NodeToIndex(s) for s in route] for route in routes], True
    )
    if initial is None:
        return ReoptResult(False, before, before, "the current plans do not load into the model")
    solution = model.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        return ReoptResult(False, before, before, "no solution within the time limit")
    new_routes: list[list[int]] = []
    for k in range(len(vids)):
        index = solution.Value(model.NextVar(model.Start(k)))
        route = []
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        new_routes.append(route)
    for k, route in enumerate(new_routes):
        if problem.check(k, route) != OK:
            return ReoptResult(False, before, before, f"vehicle {vids[k]}: fails the promise check")
    after = sum(problem.cost_of(k, r) for k, r in enumerate(new_routes))
    if after >= before - 1e-6:
        return ReoptResult(False, before, after, "no improvement")
    for k, route in enumerate(new_routes):
        dispatcher.plans[vids[k]] = [entry_of[s] for s in route]
        for ident, kind in dispatcher.plans[vids[k]]:
            if kind == StopKind.PICKUP:
                b = dispatcher.bookings[ident]
                if b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED):
                    b.vehicle_id = vids[k]
    return ReoptResult(True, before, after, "adopted")
