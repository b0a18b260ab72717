"""All SQL of the LINE channel: linked riders, webhook events, pushes and favourites.

Functions flush and never commit; the caller (one unit of work per event or per tick) does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import models as bm
from line_channel.models import LineEvent, LineFavourite, LinePush
from residents import models as rm

RETRY_NAMESPACE = uuid.UUID("5d1f4a53-2c1b-4f5e-9a53-6b7572617465")  # "…kurate"
EVENT_STALE = timedelta(minutes=2)  # a claim older than this was abandoned by a dead worker
EVENT_KEEP = timedelta(days=7)  # LINE redelivers for a much shorter time than this
MAX_ATTEMPTS = 5


def resident_of(session: Session, user_id: str) -> rm.Resident | None:
    """The resident a LINE user is linked to (``resident_channels``, kind ``line``)."""
    return session.scalar(
        select(rm.Resident)
        .join(rm.ResidentChannel, rm.ResidentChannel.resident_id == rm.Resident.id)
        .where(rm.ResidentChannel.kind == "line", rm.ResidentChannel.external_id == user_id)
    )


@dataclass(frozen=True, slots=True)
class LineLink:
    user_id: str
    linked_at: datetime


def links_of(session: Session, resident_ids: set[str]) -> dict[str, list[LineLink]]:
    """The LINE users of these residents."""
    if not resident_ids:
        return {}
    rows = session.execute(
        select(rm.ResidentChannel.resident_id, rm.ResidentChannel.external_id,
               rm.ResidentChannel.linked_at)
        .where(rm.ResidentChannel.kind == "line",
               rm.ResidentChannel.resident_id.in_(sorted(resident_ids)))
        .order_by(rm.ResidentChannel.id)
    ).all()  # fmt: skip
    out: dict[str, list[LineLink]] = {}
    for rid, uid, linked_at in rows:
        out.setdefault(rid, []).append(LineLink(uid, linked_at))
    return out


def bookings_around(session: Session, since: datetime, until: datetime) -> list[bm.Booking]:
    """Bookings of LINE-linked residents whose pickup window opens in [since, until)."""
    linked = select(rm.ResidentChannel.resident_id).where(rm.ResidentChannel.kind == "line")
    return list(
        session.scalars(
            select(bm.Booking)
            .where(
                bm.Booking.pickup_from >= since,
                bm.Booking.pickup_from < until,
                bm.Booking.resident_id.in_(linked),
            )
            .order_by(bm.Booking.pickup_from, bm.Booking.id)
        ).all()
    )


# -- webhook events -------------------------------------------------------------------------


def claim_event(
    session: Session, event_id: str, user_id: str, kind: str, redelivery: bool, now: datetime
) -> bool:
    """Take an event on; False if it was handled already or another worker is on it."""
    row = session.get(LineEvent, event_id, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(LineEvent(event_id=event_id, user_id=user_id, kind=kind,
                                      redelivery=redelivery, received_at=now))  # fmt: skip
        except IntegrityError:
            return False  # another worker inserted it a moment ago
        return True
    if row.done_at is not None or now - row.received_at < EVENT_STALE:
        return False
    row.received_at, row.redelivery = now, True  # the first taker died: take it over
    return True


def finish_event(session: Session, event_id: str, now: datetime) -> None:
    row = session.get(LineEvent, event_id)
    if row is not None:
        row.done_at = now


def prune_events(session: Session, now: datetime) -> int:
    result = session.execute(delete(LineEvent).where(LineEvent.received_at < now - EVENT_KEEP))
    return int(getattr(result, "rowcount", 0) or 0)


# -- pushes ---------------------------------------------------------------------------------


def retry_key(key: str) -> str:
    """The ``X-Line-Retry-Key`` of a push: a UUID that is the same on every attempt."""
    return str(uuid.uuid5(RETRY_NAMESPACE, key))


def sent_today(session: Session, day: date) -> int:
    """Notification pushes sent (or being sent) on a service day; replies are not counted."""
    return session.scalar(
        select(func.count()).select_from(LinePush).where(
            LinePush.day == day, LinePush.status.in_(("sent", "pending")), LinePush.kind != "reply",
        )
    ) or 0  # fmt: skip


def claim_push(
    session: Session,
    key: str,
    user_id: str,
    kind: str,
    booking_id: str | None,
    day: date,
    now: datetime,
    cap: int | None,
) -> LinePush | None:
    """Claim a push to send: a new one, or one whose earlier attempt did not get through.

    Returns None if it was sent (or decided) before. Over ``cap`` pushes today, the push is
    recorded as ``capped`` and None is returned.
    """
    row = session.get(LinePush, key, with_for_update=True)
    if row is not None:
        if row.status == "pending" and row.attempts < MAX_ATTEMPTS:
            row.attempts += 1
            return row
        return None
    status = "pending"
    if cap is not None and sent_today(session, day) >= cap:
        status = "capped"
    row = LinePush(key=key, retry_key=retry_key(key), user_id=user_id, kind=kind,
                   booking_id=booking_id, day=day, status=status, attempts=1, created_at=now)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row if status == "pending" else None


def skip_push(
    session: Session, key: str, user_id: str, kind: str, booking_id: str, day: date, now: datetime
) -> None:
    """Record that a push is not needed (e.g. no reminder for a booking made the evening before)."""
    if session.get(LinePush, key) is None:
        session.add(LinePush(key=key, retry_key=retry_key(key), user_id=user_id, kind=kind,
                             booking_id=booking_id, day=day, status="skipped", attempts=0,
                             created_at=now))  # fmt: skip
        session.flush()


def mark_push(session: Session, key: str, status: str, now: datetime) -> None:
    row = session.get(LinePush, key)
    if row is not None:
        row.status = status
        if status == "sent":
            row.sent_at = now


# -- favourites -------------------------------------------------------------------------------


def favourites(session: Session, resident_id: str) -> dict[str, str]:
    rows = session.scalars(select(LineFavourite).where(LineFavourite.resident_id == resident_id))
    return {r.slot: r.stop_id for r in rows}


def save_favourite(
    session: Session, resident_id: str, slot: str, stop_id: str, now: datetime
) -> None:
    row = session.get(LineFavourite, (resident_id, slot))
    if row is None:
        session.add(LineFavourite(resident_id=resident_id, slot=slot, stop_id=stop_id,
                                  updated_at=now))  # fmt: skip
    else:
        row.stop_id, row.updated_at = stop_id, now
    session.flush()
