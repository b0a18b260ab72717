"""Who asks for which trip, when, and how they behave: the day's riders, drawn from a seed.

The ``gravity`` model (the default; models are registered in :data:`DEMAND_MODELS`):

- The number of trips is Poisson with the scenario's mean. Each trip's desired time follows
  the hourly profile, inside the service hours, ending 30 minutes before service ends.
- Purpose: in the morning most trips leave home, in the afternoon most go back
  (``outbound_probability``); a share ``other_share`` goes from home to home (visits).
  Home ends are drawn by the population weight of the world, activity ends by attraction
  (1 + the scenario's weight per point of interest of each kind near the meeting point), and
  the far end of a trip by that weight times ``exp(-travel time / decay_s)``.
- Group sizes, one wheelchair user in a share of the groups, immediate ("as soon as
  possible") or advance bookings (depart-at or arrive-by, booked 1-20 hours ahead, no earlier
  than booking opens the evening before), cancellations, no-shows, whether a refused rider
  takes an alternative offer, and how long a rider takes to confirm an offer.

All random draws for a trip are made up front from one generator, the same number for every
trip whatever is drawn, so the same seed gives the same riders whatever the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dispatch.model import Mode, TripRequest
from sim.scenario import DemandSpec, Scenario, invalid_setting
from sim.world import Floats, World

LAST_TRIP_BEFORE_END_S = 1800
ROUND_S = 300

#: Default attraction weight per point of interest of a category (a place's base weight is 1).
DEFAULT_ATTRACTION: dict[str, float] = {
    "hospital": 40.0,
    "clinic": 15.0,
    "pharmacy": 5.0,
    "supermarket": 25.0,
    "convenience": 3.0,
    "shop": 2.0,
    "town_hall": 30.0,
    "post_bank": 5.0,
    "community": 8.0,
    "station": 25.0,
    "school": 0.5,
}
#: Default demand by hour of desired travel (rural on-demand service: clinic mornings).
DEFAULT_HOURLY: dict[int, float] = {
    7: 0.6, 8: 1.4, 9: 1.6, 10: 1.4, 11: 1.1, 12: 0.7, 13: 1.0,
    14: 1.1, 15: 1.0, 16: 0.8, 17: 0.6, 18: 0.3,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RiderPlan:
    """One rider's trip and behaviour, decided before the day starts (the simulator obeys it).

    ``desired_s`` is the wished pickup time (for arrive-by: the arrival time). ``request_s``
    is when the rider asks. Times are seconds since midnight of the simulated day.
    """

    id: str
    request_s: int
    desired_s: int
    origin: int
    destination: int
    mode: Mode
    time_s: int | None
    seats: int
    wheelchairs: int
    purpose: str = "outbound"
    accepts_alternative: bool = False
    confirm_delay_s: int = 0
    cancels: bool = False
    cancel_fraction: float = 0.5
    no_show: bool = False

    @property
    def persons(self) -> int:
        return self.seats + self.wheelchairs

    def request(self) -> TripRequest:
        return TripRequest(
            self.id,
            self.origin,
            self.destination,
            self.mode,
            self.time_s,
            self.seats,
            self.wheelchairs,
        )


class DemandModel(Protocol):
    def riders(self, scenario: Scenario, world: World, rng: np.random.Generator) -> list[RiderPlan]:
        """The day's riders, ordered by id, drawn from ``rng`` only."""
        ...


def outbound_probability(hour: float) -> float:
    """Share of home-based trips leaving home at this hour (0.9 at 08:00 down to 0.1 at 16:00)."""
    return float(np.clip(0.9 - 0.8 * (hour - 8.0) / 8.0, 0.1, 0.9))


def attraction(world: World, spec: DemandSpec) -> Floats:
    weights = dict(DEFAULT_ATTRACTION)
    weights.update(spec.attraction)
    out = np.ones(world.size)
    for category, counts in world.features.items():
        out += weights.get(category, 0.0) * counts
    index = {pid: i for i, pid in enumerate(world.place_ids)}
    for pid, extra in spec.extra_attraction:
        if pid not in index:
            raise invalid_setting(
                "demand.extra_attraction",
                f"乗降ポイント {pid} はありません",
                f"no meeting point {pid}",
            )
        out[index[pid]] += extra
    return out


def _pick(weights: Floats, u: float) -> int:
    cum = np.cumsum(weights)
    return int(min(np.searchsorted(cum, u * cum[-1], side="right"), weights.shape[0] - 1))


def hourly_weights(scenario: Scenario) -> Floats:
    """Weight of each hour 0..23, zero outside [service start, service end - 30 min)."""
    table = dict(scenario.demand.hourly) if scenario.demand.hourly else DEFAULT_HOURLY
    last = scenario.service_end_s - LAST_TRIP_BEFORE_END_S
    out = np.zeros(24)
    for h in range(24):
        lo, hi = max(h * 3600, scenario.service_start_s), min((h + 1) * 3600, last)
        if hi > lo:
            out[h] = table.get(h, 0.0) * (hi - lo) / 3600
    return out


class GravityDemand:
    """See the module docstring."""

    def riders(self, scenario: Scenario, world: World, rng: np.random.Generator) -> list[RiderPlan]:
        spec = scenario.demand
        hours = hourly_weights(scenario)
        if hours.sum() <= 0:
            return []
        count = int(rng.poisson(spec.trips_per_day))
        draws = rng.random((count, 15))
        pop = world.population + 1e-9
        attract = attraction(world, spec)
        decay = np.exp(-world.duration_s / spec.decay_s)
        np.fill_diagonal(decay, 0.0)
        groups = np.asarray(spec.group_sizes, dtype=np.float64)
        last = scenario.service_end_s - LAST_TRIP_BEFORE_END_S
        riders = []
        for k in range(count):
            u = draws[k]
            hour = _pick(hours, u[0])
            lo, hi = max(hour * 3600, scenario.service_start_s), min((hour + 1) * 3600, last)
            desired = int(lo + u[1] * (hi - lo)) // 60 * 60
            if u[2] < spec.other_share:
                purpose, from_w, to_w = "other", pop, pop
            elif u[2] < spec.other_share + (1 - spec.other_share) * outbound_probability(
                desired / 3600
            ):
                purpose, from_w, to_w = "outbound", pop, attract
            else:
                purpose, from_w, to_w = "return", attract, pop
            origin = _pick(from_w, u[3])
            destination = _pick(to_w * decay[origin], u[4])
            size = 1 + _pick(groups, u[5])
            wheel = 1 if u[6] < spec.wheelchair_share else 0
            advance = u[7] < spec.advance_share
            arrive_by = advance and purpose == "outbound" and u[8] < spec.arrive_by_share
            lead = spec.advance_lead_min_s + u[9] * (
                spec.advance_lead_max_s - spec.advance_lead_min_s
            )
            if not advance:
                mode, time_s, request_s = Mode.ASAP, None, desired
            else:
                request_s = max(spec.booking_opens_s, int(desired - lead) // 60 * 60)
                if arrive_by:
                    direct = int(world.duration_s[origin, destination])
                    arrive = -(-(desired + direct + ROUND_S) // ROUND_S) * ROUND_S
                    mode, time_s, desired = Mode.ARRIVE_BY, arrive, arrive
                else:
                    mode, time_s = Mode.DEPART_AT, -(-desired // ROUND_S) * ROUND_S
                    desired = time_s
            cancels = u[10] < spec.cancel_share
            delay_span = spec.confirm_delay_max_s - spec.confirm_delay_min_s
            riders.append(
                RiderPlan(
                    id=f"r{k + 1:05d}",
                    request_s=request_s,
                    desired_s=desired,
                    origin=origin,
                    destination=destination,
                    mode=mode,
                    time_s=time_s,
                    seats=size - wheel,
                    wheelchairs=wheel,
                    purpose=purpose,
                    accepts_alternative=bool(u[13] < spec.accept_alternative),
                    confirm_delay_s=spec.confirm_delay_min_s + int(u[14] * delay_span),
                    cancels=cancels,
                    cancel_fraction=float(u[11]),
                    no_show=(not cancels) and bool(u[12] < spec.no_show_share),
                )
            )
        return riders


#: The demand models a scenario can name in ``demand.model``.
DEMAND_MODELS: dict[str, DemandModel] = {"gravity": GravityDemand()}


def demand_model(name: str) -> DemandModel:
    try:
        return DEMAND_MODELS[name]
    except KeyError:
        raise invalid_setting(
            "demand.model",
            f"{', '.join(DEMAND_MODELS)} のどれかです",
            f"one of {', '.join(DEMAND_MODELS)}",
        ) from None
