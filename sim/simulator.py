"""A service day as a discrete-event simulation that drives the live dispatcher.

The simulator owns the clock (an :class:`~sim.clock.EventQueue`) and plays the riders and the
vehicles; every decision is made by :class:`dispatch.engine.Dispatcher` through the calls a
live service makes: ``quote``, ``confirm``, ``cancel``, ``start_shift``, ``update_vehicle``,
``board``, ``alight``, ``no_show``, ``take_break``, ``end_shift`` and ``plan``.

Vehicles:

- are registered for the day when booking opens (``start_shift`` with their shift start, so
  advance bookings can be planned on them) and start driving at their shift start;
- follow their plan: each leaves for the next stop of ``Dispatcher.plan`` at the latest time
  that reaches it at its planned time, so a stop inserted meanwhile can still come first;
- on leaving, report where they are going and when they will really get there (the drive
  time with multiplicative lognormal noise, mean 1, plus the stop overhead) with
  ``update_vehicle``; the dispatcher moves or flags riders whose promise this breaks;
- at a stop serve it no earlier than its planned time (riders come at their window), board
  and alight with the dwell times of the service parameters, wait ``no_show_wait_s`` (and at
  least until the promised window opens) for a rider who does not come, take planned breaks;
- with nothing left to do, wait where they are, and drive back to the depot in time for the
  end of their shift.

Riders ask at their request time, confirm an offer after their confirm delay, take the first
alternative offer when refused (if they are of that mind) or give up, and may cancel later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from common.errors import ConfigError
from dispatch.engine import Dispatcher, Entry
from dispatch.model import (
    AtRisk,
    BookingStatus,
    Break,
    DispatchError,
    HoldExpired,
    Offer,
    PlannedStop,
    StopKind,
    VehicleSpec,
)
from dispatch.params import ServiceParams
from sim.clock import Event, EventQueue, Kind
from sim.demand import RiderPlan, demand_model
from sim.records import (
    DayResult,
    Interval,
    Leg,
    Outcome,
    RiskReport,
    Shift,
    State,
    TripRecord,
)
from sim.scenario import Scenario
from sim.world import World

Progress = Callable[[int], None]
PROGRESS_EVERY = 500


@dataclass(slots=True)
class Van:
    spec: VehicleSpec
    place: int
    state: State | None = None  # None: off shift
    since_s: int = 0
    token: int = 0
    busy: bool = False  # driving, serving, on a break or waiting for a no-show: no re-plan
    seen: list[Entry] = field(default_factory=list)
    onboard: int = 0
    shift_from_s: int = 0
    break_s: int = 0


def rider_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for demand and for driving noise, both from ``seed``."""
    demand, noise = np.random.SeedSequence(seed).spawn(2)
    return np.random.Generator(np.random.PCG64(demand)), np.random.Generator(np.random.PCG64(noise))


class Simulation:
    """One day: build it, then :meth:`run` it once."""

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        params: ServiceParams,
        riders: list[RiderPlan],
        noise: np.random.Generator,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.params = params
        self.riders = riders
        self.noise = noise
        self.sigma = scenario.operations.travel_noise_sigma
        if scenario.operations.learned_travel and not world.learned:
            raise ConfigError(
                "learned_travel には学習した所要時間が必要です(drt learn-travel で作ります)",
                "learned_travel needs the area's learned travel times (run drt learn-travel)",
                world=world.name,
            )
        self.progress = progress
        self._real_tt = world.duration_s
        # The sim's clock is seconds of the local day: the bands need no offset.
        self.params = params = params.with_peak_bands(world.peak, 0)
        self.d = Dispatcher(params, world.duration_s, world.nearby_places)
        self.queue = EventQueue()
        self.vans: dict[str, Van] = {}
        self.rider_of: dict[str, int] = {}
        self.result = DayResult(
            scenario=scenario.name,
            seed=seed,
            vehicles=scenario.vehicle_count,
            service_start_s=scenario.service_start_s,
            service_end_s=scenario.service_end_s,
        )
        for r in riders:
            self.result.trips.append(
                TripRecord(
                    rider=r.id,
                    request_s=r.request_s,
                    desired_s=r.desired_s,
                    mode=str(r.mode),
                    origin=r.origin,
                    destination=r.destination,
                    seats=r.seats,
                    wheelchairs=r.wheelchairs,
                    purpose=r.purpose,
                    direct_s=int(world.duration_s[r.origin, r.destination]),
                    direct_m=int(world.distance_m[r.origin, r.destination]),
                )
            )

    # -- set-up ------------------------------------------------------------------------------

    def _setup(self) -> None:
        """Register the fleet (before any request: booking is open) and queue the first events."""
        sc = self.scenario
        for i, template in enumerate(sc.vehicle_templates()):
            start, end = sc.shift_of(template)
            depot = self.world.depots[i % len(self.world.depots)]
            breaks = tuple(
                Break(b.earliest_s, b.latest_s, b.duration_s, depot) for b in template.breaks
            )
            spec = VehicleSpec(
                f"v{i + 1:03d}", template.seats, template.wheelchairs, depot, start, end, breaks
            )
            self.d.add_vehicle(spec)
            self.result.fleet.append(spec)
            # Registered for the day: advance bookings may be planned from the shift start.
            self.d.start_shift(spec.id, depot, start)
            van = Van(spec, depot)
            van.seen = list(self.d.plans[spec.id])
            self.vans[spec.id] = van
            self.queue.push(start, Event(Kind.SHIFT_START, spec.id))
        for i, r in enumerate(self.riders):
            self.queue.push(r.request_s, Event(Kind.REQUEST, str(i)))

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> DayResult:
        started = time.perf_counter()
        self._setup()
        handlers: dict[Kind, Callable[[int, Event], None]] = {
            Kind.ARRIVE: self._arrive,
            Kind.DONE: self._done,
            Kind.NO_SHOW: self._no_show,
            Kind.SERVE: self._serve,
            Kind.DEPART: self._depart,
            Kind.HOME: self._home,
            Kind.SHIFT_START: self._shift_start,
            Kind.DECIDE: self._decide,
            Kind.CANCEL: self._cancel,
            Kind.REQUEST: self._request,
        }
        vehicle_kinds = {Kind.ARRIVE, Kind.DONE, Kind.NO_SHOW, Kind.SERVE, Kind.DEPART, Kind.HOME}
        count = 0
        now = 0
        while self.queue:
            now, event = self.queue.pop()
            if event.kind in vehicle_kinds and event.token != self.vans[event.subject].token:
                continue  # the plan changed since this was scheduled
            handlers[event.kind](now, event)
            count += 1
            if self.progress is not None and count % PROGRESS_EVERY == 0:
                self.progress(now)
        if self.progress is not None:
            self.progress(now)
        self.result.events = count
        self.result.wall_s = time.perf_counter() - started
        return self.result

    # -- vehicles ------------------------------------------------------------------------------

    def _drive_s(self, a: int, b: int, due_s: int) -> int:
        """The drive between places as the dispatcher plans it (stop overhead, planning and
        peak factors) to arrive at ``due_s``."""
        return self.d.planned_drive_s(a, b, due_s)

    def _actual_drive_s(self, a: int, b: int, now: int) -> int:
        nominal = int(self._real_tt[a, b])
        sigma = self.sigma
        if self.scenario.operations.learned_travel:
            pct, learned_sigma = self.world.learned_at(a, b, now)
            nominal = round(nominal * pct / 100)
            sigma = sigma if learned_sigma is None else learned_sigma
        elif self.scenario.operations.peak_traffic:
            nominal = round(nominal * self.world.peak_pct(now) / 100)
        if sigma > 0 and nominal > 0:
            factor = float(np.exp(sigma * self.noise.standard_normal() - sigma**2 / 2))
            nominal = max(1, round(nominal * factor))
        return nominal + self.params.stop_overhead_s

    def _set(self, van: Van, state: State | None, now: int) -> None:
        if van.state is not None and now > van.since_s:
            self.result.intervals.append(Interval(van.spec.id, van.state, van.since_s, now))
        van.state, van.since_s = state, now

    def _push(self, at_s: int, kind: Kind, van: Van, ref: str = "") -> None:
        self.queue.push(at_s, Event(kind, van.spec.id, van.token, ref))

    def _busy(
        self, van: Van, state: State, now: int, until_s: int, kind: Kind, ref: str = ""
    ) -> None:
        self._set(van, state, now)
        van.busy = True
        self._push(until_s, kind, van, ref)

    def _replan(self, van: Van, now: int) -> None:
        """Schedule what the vehicle does next, from its current plan."""
        van.token += 1
        van.busy = False
        vid = van.spec.id
        van.seen = list(self.d.plans[vid])
        if van.state is None:
            return
        stops = self.d.plan(vid)
        if not stops:
            self._set(van, State.IDLE, now)
            leave = van.spec.shift_end_s - self._drive_s(
                van.place, van.spec.depot, van.spec.shift_end_s
            )
            self._push(max(now, leave), Kind.HOME, van)
            return
        first = stops[0]
        planned = first.planned_s if first.planned_s >= 0 else now
        if first.place == van.place:
            self._set(van, State.WAIT, now)
            self._push(max(now, planned), Kind.SERVE, van)
        else:
            self._set(van, State.IDLE, now)
            drive = self._drive_s(van.place, first.place, planned)
            early = int(
                self.scenario.operations.depart_early_share * self._real_tt[van.place, first.place]
            )
            self._push(max(now, planned - drive - early), Kind.DEPART, van)

    def _sync(self, now: int) -> None:
        """Re-plan every waiting vehicle whose plan the dispatcher has just changed."""
        plans = self.d.plans
        for vid, van in self.vans.items():
            if not van.busy and van.state is not None and plans[vid] != van.seen:
                self._replan(van, now)

    def _risks(self, risks: list[AtRisk], now: int) -> None:
        for risk in risks:
            self.result.risks.append(
                RiskReport(now, risk.booking_id, str(risk.kind), risk.late_by_s)
            )
            rec = self.result.trips[self.rider_of[risk.booking_id]]
            rec.at_risk_reports += 1
            rec.late_by_s = max(rec.late_by_s, risk.late_by_s)

    def _drive(self, van: Van, target: int, now: int) -> None:
        arrive = now + self._actual_drive_s(van.place, target, now)
        risks = self.d.update_vehicle(van.spec.id, target, arrive, now, locked=True)
        self.result.legs.append(
            Leg(
                van.spec.id, van.place, target, now, arrive, self._drive_s(van.place, target, now),
                int(self.world.distance_m[van.place, target]), van.onboard,
            )
        )  # fmt: skip
        state = State.DRIVE_LOADED if van.onboard > 0 else State.DRIVE_EMPTY
        van.place = target
        self._busy(van, state, now, arrive, Kind.ARRIVE)
        self._risks(risks, now)
        self._sync(now)

    def _shift_start(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        self.d.start_shift(van.spec.id, van.spec.depot, now)
        van.place, van.shift_from_s = van.spec.depot, now
        self._set(van, State.IDLE, now)
        self._replan(van, now)

    def _depart(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        stops = self.d.plan(van.spec.id)
        if not stops or stops[0].place == van.place:
            self._replan(van, now)
            return
        self._drive(van, stops[0].place, now)

    def _arrive(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        risks = self.d.update_vehicle(van.spec.id, van.place, now, now, locked=False)
        self._risks(risks, now)
        self._replan(van, now)
        self._sync(now)

    def _done(self, now: int, event: Event) -> None:
        self._replan(self.vans[event.subject], now)

    def _serve(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        vid = van.spec.id
        stops = self.d.plan(vid)
        if not stops or stops[0].place != van.place:
            self._replan(van, now)
            return
        stop = stops[0]
        if stop.planned_s > now:
            self._push(stop.planned_s, Kind.SERVE, van)
            return
        if stop.kind == StopKind.BREAK:
            brk = self.d.take_break(vid, stop.booking_id, now)
            van.break_s += brk.duration_s
            self._busy(van, State.BREAK, now, now + brk.duration_s, Kind.DONE)
            return
        self._serve_rider(van, stop, now)

    def _serve_rider(self, van: Van, stop: PlannedStop, now: int) -> None:
        b = self.d.bookings[stop.booking_id]
        rec = self.result.trips[self.rider_of[b.id]]
        p = self.params
        if b.status == BookingStatus.HELD:  # the rider has not answered yet
            if self.d.expire(now):
                self._replan(van, now)
                self._sync(now)
            else:
                self._push(b.expires_at_s or now + 1, Kind.SERVE, van)
            return
        if stop.kind == StopKind.DROPOFF:
            self.d.alight(b.id, now)
            rec.alight_s = now
            rec.outcome = Outcome.SERVED
            if rec.board_s is not None:
                rec.ride_s = now - (rec.board_s + p.dwell_board_s * rec.persons)
            van.onboard -= rec.persons
            self._busy(van, State.SERVE, now, now + p.dwell_alight_s * rec.persons, Kind.DONE)
        elif self.riders[self.rider_of[b.id]].no_show:
            wait_until = max(now + self.scenario.operations.no_show_wait_s, b.promise.pickup_from_s)
            self._busy(van, State.WAIT, now, wait_until, Kind.NO_SHOW, b.id)
        else:
            self.d.board(b.id, now)
            rec.board_s = now
            rec.vehicle = van.spec.id
            van.onboard += rec.persons
            self._busy(van, State.SERVE, now, now + p.dwell_board_s * rec.persons, Kind.DONE)

    def _no_show(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        self.d.no_show(event.ref, now)
        self.result.trips[self.rider_of[event.ref]].outcome = Outcome.NO_SHOW
        self._replan(van, now)
        self._sync(now)

    def _home(self, now: int, event: Event) -> None:
        van = self.vans[event.subject]
        spec = van.spec
        if van.place != spec.depot:
            self._drive(van, spec.depot, now)
        elif now < spec.shift_end_s:
            self._push(spec.shift_end_s, Kind.HOME, van)
        else:
            skipped = sum(1 for _, kind in self.d.plans[spec.id] if kind == StopKind.BREAK)
            self.d.end_shift(spec.id)
            self._set(van, None, now)
            van.token += 1
            self.result.shifts.append(Shift(spec.id, van.shift_from_s, now, van.break_s, skipped))

    # -- riders -------------------------------------------------------------------------------

    def _request(self, now: int, event: Event) -> None:
        i = int(event.subject)
        rider, rec = self.riders[i], self.result.trips[i]
        try:
            answer = self.d.quote(rider.request(), now)
        except DispatchError as exc:
            rec.outcome, rec.reason = Outcome.REJECTED, exc.code
            self._sync(now)
            return
        delay = now + rider.confirm_delay_s
        if isinstance(answer, Offer):
            self.rider_of[answer.booking_id] = i
            self.queue.push(delay, Event(Kind.DECIDE, str(i), ref=answer.booking_id))
        else:
            rec.reason = str(answer.reason)
            for alt in answer.alternatives:
                self.rider_of[alt.booking_id] = i
            if answer.alternatives and rider.accepts_alternative:
                rec.alternative = True
                choice = answer.alternatives[0].booking_id
                self.queue.push(delay, Event(Kind.DECIDE, str(i), ref=choice))
            else:
                for alt in answer.alternatives:
                    self.d.cancel(alt.booking_id, now)
                rec.outcome = Outcome.REJECTED
        self._sync(now)

    def _decide(self, now: int, event: Event) -> None:
        i = int(event.subject)
        rider, rec = self.riders[i], self.result.trips[i]
        try:
            booking = self.d.confirm(event.ref, now)
        except HoldExpired:
            rec.outcome, rec.reason = Outcome.REJECTED, HoldExpired.code
            self._sync(now)
            return
        rec.outcome, rec.booking_id = Outcome.CONFIRMED, booking.id
        rec.vehicle, rec.promise = booking.vehicle_id, booking.promise
        if rider.cancels:
            room = booking.promise.pickup_from_s - 600 - now
            at = now + max(30, int(rider.cancel_fraction * room))
            self.queue.push(at, Event(Kind.CANCEL, str(i), ref=booking.id))
        self._sync(now)

    def _cancel(self, now: int, event: Event) -> None:
        booking = self.d.bookings[event.ref]
        if booking.status != BookingStatus.CONFIRMED:
            return
        self.d.cancel(booking.id, now)
        self.result.trips[int(event.subject)].outcome = Outcome.CANCELLED
        self._sync(now)


def simulate(
    scenario: Scenario,
    world: World,
    params: ServiceParams,
    seed: int,
    *,
    riders: list[RiderPlan] | None = None,
    progress: Progress | None = None,
) -> DayResult:
    """Simulate one day of ``scenario`` on ``world``; the same seed gives the same day.

    ``riders`` replaces the scenario's demand model (for hand-made test days).
    """
    demand_rng, noise_rng = rider_streams(seed)
    if riders is None:
        riders = demand_model(scenario.demand.model).riders(scenario, world, demand_rng)
    return Simulation(scenario, world, params, riders, noise_rng, seed, progress).run()
