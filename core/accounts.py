"""Closing a resident's account at their request (at the counter or on the phone).

A closed account cannot sign in or book: its linked channels (phone, LINE, app) and its
tokens are removed at once, so the phone number and the LINE account are free to register
again, and self-service booking is suspended. Everything else is kept for the town's period
of ``retention.toml`` (``closed_accounts_days``: questions about a past ride, a fare), then
``drt db purge`` anonymises it (``server/backup.py``). A resident with a ride still to take
is not closed: cancel or ride it first. Closing twice answers the same.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import now_utc
from core import models as m
from core.errors import ResidentHasOpenBookings
from residents import schemas as rs
from residents.service import (
    Actor,
    audit,
    get_resident,
    remove_sign_ins,
    require_staff,
    resident_view,
)

#: Bookings still to ride: an account with one is not closed.
OPEN_STATUSES = ("held", "confirmed", "onboard")


def open_bookings(session: Session, resident_id: str) -> list[str]:
    return list(
        session.scalars(
            select(m.Booking.id)
            .where(m.Booking.resident_id == resident_id, m.Booking.status.in_(OPEN_STATUSES))
            .order_by(m.Booking.id)
        ).all()
    )


def close_account(session: Session, actor: Actor, resident_id: str) -> rs.Resident:
    require_staff(actor, "operator", "admin")
    r = get_resident(session, actor, resident_id)
    if r.closed_at is not None:
        return resident_view(session, r)
    still = open_bookings(session, r.id)
    if still:
        listing = "、".join(still)
        raise ResidentHasOpenBookings(
            f"まだ乗る前のご予約があります({listing})。取り消すか、乗り終わってから退会の手続きをしてください。",
            f"This resident still has rides to take ({', '.join(still)}): cancel them, or wait "
            "until they are ridden, before closing the account.",
            bookings=still,
        )
    r.closed_at = now_utc()
    r.suspended = True
    removed = remove_sign_ins(session, r.id)
    audit(session, actor, "resident.close", resident_id=r.id, removed=removed)
    session.flush()
    return resident_view(session, r)
