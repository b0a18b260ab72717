"""The one hold-expiry rule: ``hold_expired`` and ``has_expired_holds`` agree with ``expire()``."""

from __future__ import annotations

import pytest

from dispatch.engine import hold_expired, hold_expired_error
from dispatch.model import BookingStatus, HoldExpired, Offer
from tests.dispatch.conftest import NOW, ask, make_dispatcher


def test_an_expired_hold_is_reported_then_released_then_no_longer_reported() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    b = d.bookings[offer.booking_id]
    ttl = d.params.hold_ttl_s

    # Still held just before its expiry: nothing to report, and expire() releases nothing.
    before = NOW + ttl - 1
    assert not hold_expired(b, before)
    assert not d.has_expired_holds(before)
    assert d.expire(before) == []
    assert b.status == BookingStatus.HELD

    # At its expiry time: reported, and exactly that hold is what expire() releases.
    at = NOW + ttl
    assert hold_expired(b, at)
    assert d.has_expired_holds(at)
    assert d.expire(at) == [b]
    assert b.status == BookingStatus.EXPIRED
    assert all(e[0] != b.id for e in d.plans[b.vehicle_id])

    # Released: no longer reported, and expiring again does nothing.
    assert not hold_expired(b, at)
    assert not d.has_expired_holds(at)
    assert d.expire(at) == []


def test_a_confirmed_booking_never_expires() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    b = d.confirm(offer.booking_id, NOW)
    later = NOW + 10 * d.params.hold_ttl_s
    assert not hold_expired(b, later)
    assert not d.has_expired_holds(later)
    assert d.expire(later) == []


def test_confirm_refuses_what_the_rule_calls_expired_with_the_one_message() -> None:
    d = make_dispatcher(vans=1)
    offer = d.quote(ask("a", 1, 3), NOW)
    assert isinstance(offer, Offer)
    at = NOW + d.params.hold_ttl_s
    assert hold_expired(d.bookings[offer.booking_id], at)
    with pytest.raises(HoldExpired) as caught:
        d.confirm(offer.booking_id, at)
    expected = hold_expired_error(booking_id=offer.booking_id)
    assert caught.value.message_ja == expected.message_ja
    assert caught.value.message_en == expected.message_en
    assert caught.value.details == {"booking_id": offer.booking_id}
    assert not d.has_expired_holds(at)
