"""Taking a vehicle out of service: its riders move where their promise holds, the rest are
listed (stranded) and stay booked; never while riders are on board."""

from __future__ import annotations

import pytest

from dispatch.model import BookingStatus, InvalidTransition, Mode, Offer
from tests.dispatch.conftest import NOW, ask, check_invariants, make_dispatcher


def booked(d, rid: str, o: int, dest: int, minute: int) -> str:  # type: ignore[no-untyped-def]
    offer = d.quote(ask(rid, o, dest, mode=Mode.DEPART_AT, at=NOW + 60 * minute), NOW)
    assert isinstance(offer, Offer)
    d.confirm(offer.booking_id, NOW)
    return str(offer.booking_id)


def test_riders_move_to_the_other_van_within_their_promises() -> None:
    d = make_dispatcher(vans=2)
    ids = [booked(d, f"r{i}", 1, 4, 20 + 10 * i) for i in range(3)]
    van = d.bookings[ids[0]].vehicle_id
    mine = [b for b in ids if d.bookings[b].vehicle_id == van]
    promised = {b: d.bookings[b].promise for b in ids}
    out = d.withdraw(van, NOW)
    assert out.stranded == ()
    assert {b for b, _ in out.moved} == set(mine)
    assert all(d.bookings[b].vehicle_id != van for b in ids)
    assert not d.vehicles[van].in_service
    assert [e for e in d.plans[van] if not e[0].startswith("break")] == []
    assert all(d.bookings[b].promise == promised[b] for b in ids)  # the same promises
    check_invariants(d)


def test_riders_who_fit_nowhere_are_listed_and_stay_booked() -> None:
    d = make_dispatcher(vans=2, seats=2)
    d.vehicles["v2"].in_service = False  # only v1 takes the bookings
    ids = [booked(d, f"r{i}", 1, 5, 30) for i in range(2)]  # two riders, one trip, v1 full
    d.vehicles["v2"].in_service = True
    booked(d, "other", 1, 5, 30)  # v2 now carries a rider at that time too (one seat left)
    out = d.withdraw("v1", NOW)
    assert len(out.moved) == 1
    assert len(out.stranded) == 1
    (stuck,) = out.stranded
    assert d.bookings[stuck].status == BookingStatus.CONFIRMED
    assert d.bookings[stuck].vehicle_id == "v1"  # still booked, for the operator to call
    assert set(ids) == {out.moved[0][0], stuck}


def test_a_van_with_riders_on_board_cannot_be_taken_out() -> None:
    d = make_dispatcher(vans=2)
    b = booked(d, "r", 0, 3, 5)
    van = d.bookings[b].vehicle_id
    d.update_vehicle(van, 0, NOW + 300, NOW + 300)
    d.board(b, NOW + 300)
    with pytest.raises(InvalidTransition):
        d.withdraw(van, NOW + 300)
    assert d.vehicles[van].in_service
