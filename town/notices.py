"""Notices staff send to a segment of residents by LINE push.

Staff (operators and admins) write a notice (a title and a text), choose who it is for (a
:class:`town.segments.SegmentIn`), see how many residents that is, and send it now or at a
time (``scheduled``; cancel before then). From its time the LINE notifier's tick pushes it
to each LINE user of the segment's residents who opted in to ``notices``, once each (claimed
by ``notice:<id>:<user>``), within the day's push cap. An emergency notice (disasters,
shelters) goes to everyone opted in to ``notices`` or ``disaster``, in the segment, even over
the cap, before anything else. Pushes of a notice are made for ``DELIVERY`` after its time
(so a push that failed is tried again; who opts in during that hour gets it too, later not).
Every staff action is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import now_utc
from common.errors import DrtError, InvalidInput, NotFound
from common.ids import new_id
from residents import service as people
from town import segments
from town.models import TownNotice

DELIVERY = timedelta(hours=1)
MAX_AHEAD = timedelta(days=60)


class NoticeIn(BaseModel):
    title: str = Field(min_length=1, max_length=40, description="件名 (shown first)")
    body: str = Field(min_length=1, max_length=1000, description="本文")
    segment: segments.SegmentIn = Field(default_factory=segments.SegmentIn)
    emergency: bool = Field(False, description="災害・避難: to everyone opted in, over the cap")
    send_at: datetime | None = Field(None, description="when to send (empty: now)")


class NoticeNotChangeable(DrtError):
    code = "notice_not_changeable"
    http_status = 409


def service_of(notice: TownNotice) -> str:
    return "disaster" if notice.emergency else "notices"


def get(session: Session, notice_id: str) -> TownNotice:
    row = session.get(TownNotice, notice_id)
    if row is None:
        raise NotFound("そのお知らせはありません。", f"No notice {notice_id}.", notice_id=notice_id)
    return row


def create(session: Session, actor: people.Actor, body: NoticeIn, now: datetime) -> TownNotice:
    """A notice, scheduled for ``send_at`` (now when empty); audited."""
    people.require_staff(actor, "operator", "admin")
    body.segment.check()
    send_at = body.send_at or now
    if send_at.tzinfo is None:
        raise InvalidInput(
            "送る時刻にはタイムゾーンを付けてください(例: 2027-01-05T09:00:00+09:00)。",
            "send_at needs a time zone (for example 2027-01-05T09:00:00+09:00).",
            field="send_at",
        )
    if not now - timedelta(minutes=5) <= send_at <= now + MAX_AHEAD:
        raise InvalidInput(
            "送る時刻は、今から60日先までにしてください。",
            "send_at must be from now to 60 days ahead.",
            field="send_at",
        )
    send_at = max(send_at, now)
    row = TownNotice(id=new_id("N"), title=body.title.strip(), body=body.body.strip(),
                     segment=body.segment.model_dump(), emergency=body.emergency,
                     status="scheduled", send_at=send_at, created_by=actor.id,
                     created_at=now_utc())  # fmt: skip
    session.add(row)
    people.audit(session, actor, "town.notice.create", notice_id=row.id,
                 emergency=body.emergency, send_at=send_at.isoformat())  # fmt: skip
    session.flush()
    return row


def cancel(session: Session, actor: people.Actor, notice_id: str, now: datetime) -> TownNotice:
    """Cancel a notice not yet sent (cancelling it again changes nothing)."""
    people.require_staff(actor, "operator", "admin")
    row = get(session, notice_id)
    if row.status == "cancelled":
        return row
    if row.status != "scheduled" or (row.send_at is not None and row.send_at <= now):
        raise NoticeNotChangeable(
            "このお知らせはもう送りはじめているので、取り消せません。",
            "This notice is being sent or was sent: it cannot be cancelled.",
        )
    row.status = "cancelled"
    people.audit(session, actor, "town.notice.cancel", notice_id=row.id)
    session.flush()
    return row


def recipients(
    session: Session, notice: TownNotice, today: date, known: Iterable[str] = ()
) -> list[segments.Member]:
    """Who the notice goes to: its segment, opted in to its service."""
    seg = segments.SegmentIn.model_validate(notice.segment)
    return segments.members(session, seg, service_of(notice), today, known)


def delivering(session: Session, now: datetime) -> list[TownNotice]:
    """Notices whose pushes are made now (from their time, for ``DELIVERY``), emergencies
    first; a scheduled notice whose time has come is marked ``sent``."""
    rows = session.scalars(
        select(TownNotice).where(
            TownNotice.status.in_(("scheduled", "sent")),
            TownNotice.send_at <= now,
            TownNotice.send_at > now - DELIVERY,
        )
    ).all()
    for row in rows:
        if row.status == "scheduled":
            row.status, row.sent_at = "sent", now
    return sorted(rows, key=lambda r: (not r.emergency, r.send_at or now, r.id))


def listing(session: Session, actor: people.Actor, limit: int = 100) -> list[TownNotice]:
    people.require_staff(actor, "operator", "admin")
    return list(
        session.scalars(select(TownNotice).order_by(TownNotice.created_at.desc()).limit(limit))
    )
