"""Key performance indicators of a simulated day, from its records (pure arithmetic).

Definitions (times in seconds, distances in km):

- ``served_share`` = served / (served + rejected): of the riders who still wanted to travel
  (not counting riders who cancelled or did not show up), the share who were carried.
  ``rejected`` counts riders refused (by reason code) who did not take an alternative.
- ``wait``: pickup (start of boarding) minus the rider's wish: the time they asked for
  "as soon as possible" trips, the requested time for depart-at trips (never below 0);
  arrive-by trips are left out. Mean, median and 90th percentile over served riders;
  ``asap_wait_mean_s``: the mean over "as soon as possible" riders alone.
- ``pickup_deviation``: pickup minus the pickup time planned in the offer (signed mean; the
  90th percentile of its absolute value); ``pickup_outside_window`` counts pickups outside
  the promised window. ``promises_broken`` counts served riders picked up after the window,
  dropped off after the promised time, or riding longer than promised
  (``promises_broken_over_5min``: by more than five minutes). Of those, ``pickups_late``
  were picked up after the promised window and ``dropoffs_late`` dropped off after the
  promised latest drop-off (as first promised: a window widened by a repair does not make a
  late pickup on time); ``on_time_pickup_share`` and ``on_time_dropoff_share`` are the
  served riders who were not.
- ``ride``: from the end of boarding to the start of alighting (as the dispatcher bounds it);
  ``detour_factor`` = ride / direct drive time.
- ``vehicle_hours``: time in service (shift start to the return to the depot);
  ``revenue_hours`` leave out breaks. ``passenger_trips_per_vehicle_hour`` = persons carried
  / revenue hours. ``occupancy`` = passenger-km / vehicle-km. ``empty_km``: driven with
  nobody on board (to pickups, and back to the depot). ``pooling_rate``: share of served
  riders who shared the vehicle with another booking at some point of their ride.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from sim.records import DayResult, Outcome, State, TripRecord

H = 3600


def _stats(
    values: list[float], prefix: str, suffix: str = "", digits: int = 1
) -> dict[str, float | None]:
    """Mean, median and 90th percentile as ``{prefix}_mean{suffix}`` etc. (None if empty)."""
    arr = np.asarray(values, dtype=np.float64)
    found = arr.size > 0
    return {
        f"{prefix}_mean{suffix}": round(float(arr.mean()), digits) if found else None,
        f"{prefix}_median{suffix}": round(float(np.median(arr)), digits) if found else None,
        f"{prefix}_p90{suffix}": round(float(np.percentile(arr, 90)), digits) if found else None,
    }


def wait_s(t: TripRecord) -> int | None:
    """The rider's wait from their wish to the pickup (None for arrive-by or unserved)."""
    if t.board_s is None or t.mode == "arrive_by":
        return None
    wish = t.request_s if t.mode == "asap" else t.desired_s
    return max(0, t.board_s - wish)


def promise_late_s(t: TripRecord, dwell_board_s: int) -> int:
    """How far (s) a served rider's pickup, drop-off or ride went past the promise (0: kept)."""
    p = t.promise
    if p is None or t.board_s is None or t.alight_s is None:
        return 0
    ride = t.alight_s - (t.board_s + dwell_board_s * t.persons)
    return max(0, t.board_s - p.pickup_to_s, t.alight_s - p.dropoff_by_s, ride - p.max_ride_s)


def pooled(served: list[TripRecord]) -> set[str]:
    """Riders who shared their vehicle with another booking during their ride."""
    by_vehicle: dict[str, list[TripRecord]] = defaultdict(list)
    for t in served:
        by_vehicle[t.vehicle].append(t)
    out: set[str] = set()
    for trips in by_vehicle.values():
        trips.sort(key=lambda t: (t.board_s or 0, t.rider))
        for i, a in enumerate(trips):
            for b in trips[i + 1 :]:
                if (b.board_s or 0) >= (a.alight_s or 0):
                    break
                out.update((a.rider, b.rider))
    return out


def compute_kpis(day: DayResult, dwell_board_s: int) -> dict[str, Any]:
    """The day's KPIs (see the module docstring); None where nothing was counted."""
    trips = day.trips
    served = [t for t in trips if t.outcome == Outcome.SERVED]
    rejected = [t for t in trips if t.outcome == Outcome.REJECTED]
    counts = Counter(str(t.outcome) for t in trips)
    wanted = len(served) + len(rejected)
    waits = [w for t in served if (w := wait_s(t)) is not None]
    asap_waits = [float(w) for t in served if t.mode == "asap" and (w := wait_s(t)) is not None]
    deviation = [
        t.board_s - t.promise.pickup_planned_s
        for t in served
        if t.board_s is not None and t.promise is not None
    ]
    outside = sum(
        1
        for t in served
        if t.promise is not None
        and t.board_s is not None
        and not t.promise.pickup_from_s <= t.board_s <= t.promise.pickup_to_s
    )
    rides = [float(t.ride_s) for t in served if t.ride_s is not None]
    detours = [t.ride_s / t.direct_s for t in served if t.ride_s is not None and t.direct_s > 0]
    persons = sum(t.persons for t in served)
    vehicle_s = sum(s.end_s - s.start_s for s in day.shifts)
    revenue_s = vehicle_s - sum(s.break_s for s in day.shifts)
    vehicle_m = sum(leg.distance_m for leg in day.legs)
    empty_m = sum(leg.distance_m for leg in day.legs if leg.persons == 0)
    passenger_m = sum(leg.distance_m * leg.persons for leg in day.legs)
    shared = pooled(served)
    lateness = [promise_late_s(t, dwell_board_s) for t in served]
    kept, pickups_late, dropoffs_late = 0, 0, 0  # served riders with a promise and a pickup
    for t in served:
        if t.promise is None or t.board_s is None:
            continue
        kept += 1
        pickups_late += t.board_s > t.promise.pickup_to_s
        dropoffs_late += t.alight_s is not None and t.alight_s > t.promise.dropoff_by_s
    kpis: dict[str, Any] = {
        "scenario": day.scenario,
        "seed": day.seed,
        "vehicles": day.vehicles,
        "requests": len(trips),
        "served": len(served),
        "rejected": len(rejected),
        "cancelled": counts.get(str(Outcome.CANCELLED), 0),
        "no_show": counts.get(str(Outcome.NO_SHOW), 0),
        "never_served": counts.get(str(Outcome.CONFIRMED), 0) + counts.get(str(Outcome.PENDING), 0),
        "served_share": round(len(served) / wanted, 4) if wanted else None,
        "rejections_by_reason": dict(sorted(Counter(t.reason for t in rejected).items())),
        "alternatives_taken": sum(1 for t in served if t.alternative),
        "passengers_served": persons,
        **_stats([float(w) for w in waits], "wait", "_s"),
        "asap_wait_mean_s": round(float(np.mean(asap_waits)), 1) if asap_waits else None,
        "pickup_deviation_mean_s": round(float(np.mean(deviation)), 1) if deviation else None,
        "pickup_deviation_abs_p90_s": (
            round(float(np.percentile(np.abs(deviation), 90)), 1) if deviation else None
        ),
        "pickup_outside_window": outside,
        "promises_broken": sum(1 for late in lateness if late > 0),
        "promises_broken_over_5min": sum(1 for late in lateness if late > 300),
        "pickups_late": pickups_late,
        "dropoffs_late": dropoffs_late,
        "on_time_pickup_share": round(1 - pickups_late / kept, 4) if kept else None,
        "on_time_dropoff_share": round(1 - dropoffs_late / kept, 4) if kept else None,
        "at_risk_reports": len(day.risks),
        **_stats(rides, "ride", "_s"),
        **_stats(detours, "detour_factor", digits=3),
        "vehicle_hours": round(vehicle_s / H, 3),
        "revenue_hours": round(revenue_s / H, 3),
        "vehicle_km": round(vehicle_m / 1000, 3),
        "empty_km": round(empty_m / 1000, 3),
        "passenger_km": round(passenger_m / 1000, 3),
        "passenger_trips_per_vehicle_hour": round(persons / (revenue_s / H), 3)
        if revenue_s
        else None,
        "occupancy": round(passenger_m / vehicle_m, 3) if vehicle_m else None,
        "pooling_rate": round(len(shared) / len(served), 4) if served else None,
    }
    return kpis


def kpis_by_hour(day: DayResult) -> list[dict[str, Any]]:
    """Per hour of the day: demand by desired hour, and the fleet's time and distance."""
    first = min([day.service_start_s // H] + [t.desired_s // H for t in day.trips])
    last = max(
        [(day.service_end_s - 1) // H]
        + [t.desired_s // H for t in day.trips]
        + [s.end_s // H for s in day.shifts]
    )
    rows: dict[int, dict[str, Any]] = {
        h: {
            "hour": h,
            "requests": 0,
            "served": 0,
            "rejected": 0,
            "waits": [],
            "vehicle_km": 0.0,
            "empty_km": 0.0,
            "passenger_km": 0.0,
            **{f"{s}_h": 0.0 for s in State},
        }
        for h in range(first, last + 1)
    }
    for t in day.trips:
        row = rows[t.desired_s // H]
        row["requests"] += 1
        if t.outcome == Outcome.SERVED:
            row["served"] += 1
            w = wait_s(t)
            if w is not None:
                row["waits"].append(w)
        elif t.outcome == Outcome.REJECTED:
            row["rejected"] += 1
    for leg in day.legs:
        at = rows.get(leg.depart_s // H)
        if at is not None:
            km = leg.distance_m / 1000
            at["vehicle_km"] += km
            at["empty_km"] += km if leg.persons == 0 else 0.0
            at["passenger_km"] += km * leg.persons
    for iv in day.intervals:
        for h in range(iv.start_s // H, (iv.end_s - 1) // H + 1):
            if h in rows:
                overlap = min(iv.end_s, (h + 1) * H) - max(iv.start_s, h * H)
                rows[h][f"{iv.state}_h"] += max(0, overlap) / H
    out = []
    for h in sorted(rows):
        row = rows[h]
        waits = row.pop("waits")
        in_service = sum(row[f"{s}_h"] for s in State)
        busy = in_service - row[f"{State.IDLE}_h"] - row[f"{State.BREAK}_h"]
        row["vehicles_in_service"] = round(in_service, 3)
        row["busy_share"] = round(busy / in_service, 3) if in_service else None
        row["wait_mean_s"] = round(float(np.mean(waits)), 1) if waits else None
        row["wait_p90_s"] = round(float(np.percentile(waits, 90)), 1) if waits else None
        row["occupancy"] = (
            round(row["passenger_km"] / row["vehicle_km"], 3) if row["vehicle_km"] else None
        )
        for key in ("vehicle_km", "empty_km", "passenger_km", *(f"{s}_h" for s in State)):
            row[key] = round(row[key], 3)
        out.append(row)
    return out
