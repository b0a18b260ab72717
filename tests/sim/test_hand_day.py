"""KPI arithmetic on a tiny day worked out by hand.

Four places on a line, 0-1-2-3, 10 minutes (600 s) and 5 km apart; the van's depot is 0; it
works 08:00-12:00 with 8 seats. Default promises: a stop costs 30 s to pull in and out, each
boarding rider 30 s, each alighting rider 20 s. No noise, drivers leave at the planned time.

Both riders book at 08:00:

- A (1 rider) from 0 to 2, depart at 09:00. Offer: pickup 09:00 at the depot, so the promised
  window is 09:00-09:10, kept to 09:00-09:05; drop-off planned 09:21:00 (30 s boarding,
  20 min drive, 30 s overhead); max ride min(1.5 x 1200 + 600, 2700) = 2400 s; drop-off by
  09:05 + 30 s + 2400 s = 09:45:30.
- B (2 riders) from 1 to 3, depart at 09:10. The only cheapest feasible plan picks B up on
  the way: A at 0 at 09:00:00 (boarding until 09:00:30), B at 1 at 09:11:00 (until 09:12:00),
  A off at 2 at 09:22:30 (until 09:22:50), B off at 3 at 09:33:20. (Dropping B first would
  make A ride 2590 s > 2400 s.) The van then waits at 3 and drives 30 min + 30 s back to
  the depot to arrive at 12:00, the end of its shift.

Hence: waits 0 s (A) and 60 s (B, wished 09:10, picked up 09:11); rides (end of boarding to
start of alighting) 1320 s and 1280 s for 1200 s direct; both share the van; legs 0->1 with
1 rider, 1->2 with 3, 2->3 with 2, 3->0 empty: 30 km driven, 15 km empty, 30 passenger-km;
4 vehicle hours, 3 passengers.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch.model import Mode
from dispatch.params import ServiceParams
from sim.demand import RiderPlan
from sim.kpi import compute_kpis, kpis_by_hour
from sim.records import Outcome
from sim.simulator import simulate
from tests.sim.conftest import H, line_world, small_scenario

NINE = 9 * H


def riders() -> list[RiderPlan]:
    return [
        RiderPlan("A", 8 * H, NINE, 0, 2, Mode.DEPART_AT, NINE, 1, 0),
        RiderPlan("B", 8 * H, NINE + 600, 1, 3, Mode.DEPART_AT, NINE + 600, 2, 0),
    ]


def test_the_hand_computed_day(params: ServiceParams) -> None:
    day = simulate(small_scenario(), line_world(), params, seed=1, riders=riders())
    a, b = day.trips
    assert (a.outcome, b.outcome) == (Outcome.SERVED, Outcome.SERVED)
    assert a.promise is not None
    assert b.promise is not None
    assert (a.promise.pickup_from_s, a.promise.pickup_to_s) == (NINE, NINE + 600)
    assert a.promise.pickup_planned_s == NINE
    assert a.promise.max_ride_s == 2400
    assert a.promise.dropoff_by_s == NINE + 300 + 30 + 2400
    assert (a.board_s, a.alight_s) == (NINE, NINE + 22 * 60 + 30)
    assert (b.board_s, b.alight_s) == (NINE + 660, NINE + 33 * 60 + 20)
    assert (b.promise.pickup_from_s, b.promise.pickup_to_s) == (NINE + 600, NINE + 1200)
    legs = [(leg.origin, leg.destination, leg.distance_m, leg.persons) for leg in day.legs]
    assert legs == [(0, 1, 5000, 1), (1, 2, 5000, 3), (2, 3, 5000, 2), (3, 0, 15000, 0)]
    assert [(s.start_s, s.end_s, s.break_s) for s in day.shifts] == [(8 * H, 12 * H, 0)]

    k = compute_kpis(day, params.dwell_board_s)
    assert (k["requests"], k["served"], k["rejected"]) == (2, 2, 0)
    assert k["served_share"] == 1.0
    assert (k["wait_mean_s"], k["wait_median_s"]) == (30.0, 30.0)
    assert k["wait_p90_s"] == pytest.approx(54.0)  # 0 + 0.9 * (60 - 0)
    assert (k["pickup_deviation_mean_s"], k["pickup_outside_window"]) == (0.0, 0)
    assert (k["ride_mean_s"], k["ride_median_s"]) == (1300.0, 1300.0)
    assert k["ride_p90_s"] == pytest.approx(1316.0)  # 1280 + 0.9 * 40
    assert k["detour_factor_mean"] == pytest.approx((1320 + 1280) / 2 / 1200, abs=1e-3)
    assert k["passengers_served"] == 3
    assert (k["vehicle_hours"], k["revenue_hours"]) == (4.0, 4.0)
    assert k["passenger_trips_per_vehicle_hour"] == 0.75
    assert (k["vehicle_km"], k["empty_km"], k["passenger_km"]) == (30.0, 15.0, 30.0)
    assert k["occupancy"] == 1.0
    assert k["pooling_rate"] == 1.0
    assert (k["promises_broken"], k["at_risk_reports"], k["never_served"]) == (0, 0, 0)

    nine = next(r for r in kpis_by_hour(day) if r["hour"] == 9)
    assert (nine["requests"], nine["served"], nine["wait_mean_s"]) == (2, 2, 30.0)
    # 09:00-10:00: 1 rider 0->1, 3 riders 1->2, 2 riders 2->3; 3->0 leaves at 11:29:30.
    assert (nine["vehicle_km"], nine["passenger_km"], nine["empty_km"]) == (15.0, 30.0, 0.0)


def test_cancellations_and_no_shows_are_counted_apart(params: ServiceParams) -> None:
    """C cancels and D does not come: neither counts against the served share."""
    plans = [
        *riders(),
        RiderPlan("C", 8 * H, 11 * H, 3, 2, Mode.DEPART_AT, 11 * H, 1, 0, cancels=True),
        RiderPlan("D", 8 * H, 10 * H, 3, 1, Mode.DEPART_AT, 10 * H, 1, 0, no_show=True),
    ]
    day = simulate(small_scenario(), line_world(), params, seed=1, riders=plans)
    outcome = {t.rider: t.outcome for t in day.trips}
    assert outcome == {
        "A": Outcome.SERVED,
        "B": Outcome.SERVED,
        "C": Outcome.CANCELLED,
        "D": Outcome.NO_SHOW,
    }
    k = compute_kpis(day, params.dwell_board_s)
    assert (k["requests"], k["cancelled"], k["no_show"], k["served_share"]) == (4, 1, 1, 1.0)
    assert k["passengers_served"] == 3


def test_a_planning_factor_lengthens_the_promises(params: ServiceParams) -> None:
    """Planning drives at 150 % the dispatcher plans 0->2 as 1800 s; the van, driving 1200 s,
    waits."""
    sc = small_scenario()
    slow = replace(params, plan_travel_pct=150)
    day = simulate(sc, line_world(), slow, seed=1, riders=riders()[:1])
    (a,) = day.trips
    assert a.promise is not None
    assert a.promise.dropoff_planned_s == NINE + 30 + 1800 + 30
    assert a.alight_s == NINE + 30 + 1200 + 30  # the real drive is shorter: early, not late
    assert compute_kpis(day, params.dwell_board_s)["promises_broken"] == 0
