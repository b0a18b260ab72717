"""The live engine on the small world of conftest.py: offers, holds, shared rides, events."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from common.errors import ConfigError
from dispatch.engine import Dispatcher
from dispatch.model import (
    BookingStatus,
    HoldExpired,
    InvalidRequest,
    InvalidTransition,
    Mode,
    Offer,
    OutsideServiceHours,
    Reason,
    Rejection,
    TooManyPassengers,
    UnknownPlace,
)
from dispatch.params import ServiceParams, load_params
from tests.dispatch.conftest import NOW, H, ask, check_invariants, make_dispatcher


def test_asap_offer_keeps_its_promise(dispatcher: Dispatcher) -> None:
    offer = dispatcher.quote(ask("r1", 1, 4), NOW)
    assert isinstance(offer, Offer)
    pr = offer.promise
    assert pr.pickup_to_s - pr.pickup_from_s == 600
    assert pr.pickup_from_s <= pr.pickup_planned_s <= pr.pickup_to_s
    # From the depot at 0: 2 min to place 1 plus the stop overhead, after the 2-minute lead.
    assert pr.pickup_planned_s >= NOW + 120
    assert pr.dropoff_planned_s >= pr.pickup_planned_s + 30 + 3 * 120
    assert pr.max_ride_s == min(int(1.5 * 360 + 600), 2700)
    assert offer.expires_at_s == NOW + 120
    booking = dispatcher.confirm(offer.booking_id, NOW + 10)
    assert booking.status == BookingStatus.CONFIRMED
    assert dispatcher.confirm(offer.booking_id, NOW + 20) is booking  # idempotent
    check_invariants(dispatcher)


def test_an_idle_van_cannot_be_somewhere_in_the_past() -> None:
    """The van has waited at the depot since 08:00; at 10:00 it still needs 10 minutes to 5."""
    d = make_dispatcher(vans=1)
    later = NOW + 2 * H
    offer = d.quote(ask("a", 5, 4), later)
    assert isinstance(offer, Offer)
    assert offer.promise.pickup_planned_s >= later + 5 * 120 + 30


def test_two_riders_share_one_van() -> None:
    """One van; riders 1->4 and 2->5 at the same time ride together."""
    d = make_dispatcher(vans=1)
    a = d.quote(ask("a", 1, 4), NOW)
    b = d.quote(ask("b", 2, 5), NOW)
    assert isinstance(a, Offer)
    assert isinstance(b, Offer)
    d.confirm(a.booking_id, NOW)
    d.confirm(b.booking_id, NOW)
    kinds = [(s.booking_id.split("#")[0], s.kind.value) for s in d.plan("v1")]
    # Both board before either alights: they share the van (the return to the depot at 0
    # makes 4-then-5 and 5-then-4 cost the same, so the drop-off order is a tie).
    assert kinds[:2] == [("a", "pickup"), ("b", "pickup")]
    assert {k for _, k in kinds[2:]} == {"dropoff"}
    check_invariants(d)


def test_stops_at_the_same_place_are_merged() -> None:
    d = make_dispatcher(vans=1)
    a = d.quote(ask("a", 2, 5), NOW)
    b = d.quote(ask("b", 2, 5), NOW)
    assert isinstance(a, Offer)
    assert isinstance(b, Offer)
    stops = d.plan("v1")
    # Both board at place 2 back to back, without a second stop overhead.
    assert stops[1].planned_s - stops[0].planned_s == 30


def test_full_van_gets_reason_and_later_alternatives() -> None:
    d = make_dispatcher(vans=1, seats=4)
    first = d.quote(ask("a", 1, 5, seats=4), NOW)
    assert isinstance(first, Offer)
    d.confirm(first.booking_id, NOW)
    answer = d.quote(ask("b", 1, 5, seats=4, mode=Mode.DEPART_AT, at=NOW + 300), NOW)
    assert isinstance(answer, Rejection)
    assert answer.reason in {Reason.FULL, Reason.TIME_WINDOW}
    assert 1 <= len(answer.alternatives) <= 3
    for alt in answer.alternatives:
        assert alt.promise.pickup_from_s >= NOW + 300 + 900  # only later times fit
    chosen = d.confirm(answer.alternatives[0].booking_id, NOW + 30)
    others = [b for b in d.bookings.values() if b.request.id.startswith("b~") and b.id != chosen.id]
    assert all(b.status == BookingStatus.CANCELLED for b in others)
    check_invariants(d)


def test_expired_hold_frees_the_seats_and_cannot_be_confirmed() -> None:
    d = make_dispatcher(vans=1, seats=4)
    held = d.quote(ask("a", 1, 5, seats=4), NOW)
    assert isinstance(held, Offer)
    blocked = d.quote(ask("b", 1, 5, seats=4, mode=Mode.DEPART_AT, at=NOW + 300), NOW + 1)
    assert isinstance(blocked, Rejection)
    later = NOW + 121
    ok = d.quote(ask("c", 1, 5, seats=4, mode=Mode.DEPART_AT, at=NOW + 300), later)
    assert isinstance(ok, Offer)
    with pytest.raises(HoldExpired):
        d.confirm(held.booking_id, later)
    assert d.bookings[held.booking_id].status == BookingStatus.EXPIRED


def test_cancel_frees_the_seat(dispatcher: Dispatcher) -> None:
    offer = dispatcher.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    dispatcher.confirm(offer.booking_id, NOW)
    dispatcher.cancel(offer.booking_id, NOW + 5)
    assert dispatcher.cancel(offer.booking_id, NOW + 6).status == BookingStatus.CANCELLED
    assert all(not dispatcher.plan(v) for v in dispatcher.vehicles)


@pytest.mark.parametrize(
    ("request_args", "error"),
    [
        (("x", 9, 1), UnknownPlace),
        (("x", 2, 2), InvalidRequest),
        (("x", 1, 2, 0), InvalidRequest),
        (("x", 1, 2, 9), TooManyPassengers),
        (("x", 1, 2, 1, Mode.DEPART_AT, 22 * H), OutsideServiceHours),
        (("x", 1, 2, 1, Mode.DEPART_AT, NOW - 60), InvalidRequest),
        (("x", 1, 2, 1, Mode.DEPART_AT, None), InvalidRequest),
    ],
)
def test_bad_requests_get_a_domain_error(
    dispatcher: Dispatcher, request_args: tuple, error: type
) -> None:  # type: ignore[type-arg]
    with pytest.raises(error) as err:
        dispatcher.quote(ask(*request_args), NOW)
    assert err.value.code
    assert err.value.message_ja
    assert err.value.message_en
    assert not dispatcher.bookings


def test_fare_categories_must_add_up(dispatcher: Dispatcher) -> None:
    from dataclasses import replace

    good = replace(ask("f", 1, 3, seats=3), fare_counts=(("adult", 2), ("child", 1)))
    assert isinstance(dispatcher.quote(good, NOW), Offer)
    bad = replace(ask("g", 1, 3, seats=3), fare_counts=(("adult", 1),))
    with pytest.raises(InvalidRequest):
        dispatcher.quote(bad, NOW)


def test_same_inputs_same_decisions() -> None:
    """No clock, no randomness: replaying the same calls gives the same plans and promises."""

    def replay() -> list[object]:
        d = make_dispatcher(vans=2)
        out: list[object] = []
        for i, (o, dest) in enumerate([(1, 4), (2, 5), (5, 0), (3, 1), (0, 2)]):
            answer = d.quote(ask(f"r{i}", o, dest, seats=1 + i % 3), NOW + 30 * i)
            out.append(answer)
            if isinstance(answer, Offer):
                d.confirm(answer.booking_id, NOW + 30 * i)
        out.append({v: d.plan(v) for v in d.vehicles})
        return out

    assert replay() == replay()


def test_a_ride_from_boarding_to_alighting(dispatcher: Dispatcher) -> None:
    offer = dispatcher.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    b = dispatcher.confirm(offer.booking_id, NOW)
    with pytest.raises(InvalidTransition):
        dispatcher.alight(b.id, NOW)  # not on board yet
    with pytest.raises(InvalidTransition):
        dispatcher.no_show(b.id, offer.promise.pickup_from_s - 1)  # too early
    dispatcher.update_vehicle(b.vehicle_id, 1, offer.promise.pickup_planned_s, NOW + 60)
    dispatcher.board(b.id, offer.promise.pickup_planned_s)
    assert b.status == BookingStatus.ONBOARD
    check_invariants(dispatcher)
    dispatcher.update_vehicle(
        b.vehicle_id, 3, offer.promise.dropoff_planned_s, offer.promise.dropoff_planned_s
    )
    dispatcher.alight(b.id, offer.promise.dropoff_planned_s)
    assert b.status == BookingStatus.COMPLETED
    assert dispatcher.plan(b.vehicle_id) == []


def test_no_show_after_the_window_opens(dispatcher: Dispatcher) -> None:
    offer = dispatcher.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    b = dispatcher.confirm(offer.booking_id, NOW)
    dispatcher.update_vehicle(b.vehicle_id, 1, offer.promise.pickup_planned_s, NOW + 60)
    dispatcher.no_show(b.id, offer.promise.pickup_from_s + 300)
    assert b.status == BookingStatus.NO_SHOW
    assert dispatcher.plan(b.vehicle_id) == []


def test_delay_moves_a_rider_to_another_van() -> None:
    d = make_dispatcher(vans=2)
    offer = d.quote(ask("a", 3, 5), NOW)
    assert isinstance(offer, Offer)
    b = d.confirm(offer.booking_id, NOW)
    first = b.vehicle_id
    # The van is stuck: it will only be free at place 0 in 40 minutes.
    at_risk = d.update_vehicle(first, 0, NOW + 40 * 60, NOW + 60)
    assert at_risk == []
    assert b.vehicle_id != first
    check_invariants(d)


def test_delay_with_no_other_van_is_flagged() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 3, 5), NOW)
    assert isinstance(offer, Offer)
    b = d.confirm(offer.booking_id, NOW)
    at_risk = d.update_vehicle("v1", 0, NOW + 40 * 60, NOW + 60)
    assert [r.booking_id for r in at_risk] == [b.id, b.id]
    assert all(r.late_by_s > 0 for r in at_risk)
    assert b.promise_broken
    check_invariants(d)


def test_params_validate_themselves() -> None:
    from common.errors import ConfigError

    with pytest.raises(ConfigError):
        ServiceParams(pickup_window_s=0)
    with pytest.raises(ConfigError):
        ServiceParams(replan_shift_s=900, pickup_window_s=600)


def test_a_rider_moved_off_a_late_van_keeps_the_promise_and_is_not_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = make_dispatcher(vans=2)
    first = d.quote(ask("a", 1, 2), NOW)
    second = d.quote(ask("b", 2, 3, mode=Mode.DEPART_AT, at=NOW + 15 * 60), NOW)
    assert isinstance(first, Offer)
    assert isinstance(second, Offer)
    a, b = d.confirm(first.booking_id, NOW), d.confirm(second.booking_id, NOW)
    assert a.vehicle_id == b.vehicle_id == "v1"
    promise_a = a.promise
    real_move = d._move
    # The other van can take only rider a (say b needs the wheelchair space that is taken).
    monkeypatch.setattr(d, "_move", lambda bk, now: real_move(bk, now) if bk.id == a.id else False)
    at_risk = d.update_vehicle("v1", 0, NOW + 40 * 60, NOW + 60)
    assert a.vehicle_id == "v2"
    assert not a.promise_broken
    assert a.promise == promise_a
    assert {r.booking_id for r in at_risk} == {b.id}
    assert b.promise_broken
    check_invariants(d)


def test_an_offer_on_line_is_held_longer() -> None:
    """Older riders on LINE read the offer and find the button: 5 minutes there, 2 elsewhere."""
    d = make_dispatcher(vans=1, params=ServiceParams(hold_by_channel_s=(("line", 300),)))
    for channel, held in (("line", 300), ("app", 120), ("phone", 120)):
        offer = d.quote(replace(ask(f"r-{channel}", 3, 5), channel=channel), NOW)
        assert isinstance(offer, Offer)
        assert d.bookings[offer.booking_id].expires_at_s == NOW + held
    with pytest.raises(ConfigError):
        ServiceParams(hold_by_channel_s=(("line", 0),))


def test_the_service_file_sets_holds_by_channel(tmp_path: Path) -> None:
    path = tmp_path / "service.toml"
    path.write_text("[offers]\nhold_ttl_s = 120\nhold_by_channel_s = { line = 300 }\n")
    params = load_params(path)
    assert (params.hold_s("line"), params.hold_s("app")) == (300, 120)
    assert ServiceParams.from_json(params.to_json()) == params  # as the dispatch log keeps it
