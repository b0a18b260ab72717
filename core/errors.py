"""Errors of the trip use cases; each renders as ``{"error": {code, message_ja, message_en}}``."""

from __future__ import annotations

from common.errors import DrtError


class ResidentHasOpenBookings(DrtError):
    """A resident with a booking still to ride: the account is not closed (or anonymised)."""

    code = "resident_has_open_bookings"
    http_status = 409


class NoServiceThatDay(DrtError):
    code = "no_service_that_day"
    http_status = 422


class TooFarAhead(DrtError):
    code = "too_far_ahead"
    http_status = 422


class TimeInPast(DrtError):
    code = "time_in_past"
    http_status = 422


class CancelTooLate(DrtError):
    code = "cancel_too_late"
    http_status = 409


class BookingSuspended(DrtError):
    code = "booking_suspended"
    http_status = 403


class QuoteUsed(DrtError):
    code = "quote_already_used"
    http_status = 409


class UnknownMeetingPoint(DrtError):
    code = "unknown_meeting_point"
    http_status = 422


class ResidentNotRegistered(DrtError):
    code = "resident_not_registered"
    http_status = 404


class NoMeetingPointNear(DrtError):
    code = "no_meeting_point_near"
    http_status = 422


class MoveNotPossible(DrtError):
    code = "move_not_possible"
    http_status = 409


class BookingNotChangeable(DrtError):
    """An operator's override asked of a booking in a state that does not allow it."""

    code = "booking_not_changeable"
    http_status = 409


class MeetingPointClosed(DrtError):
    """The meeting point is closed at that time (road works, an event)."""

    code = "meeting_point_closed"
    http_status = 422
