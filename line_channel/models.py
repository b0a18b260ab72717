"""Tables of the LINE channel: webhook events seen, pushes sent, riders' favourite places.

Times are UTC-aware and come from the service clock; ``day`` is the local service day.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime


class LineEvent(Base):
    """A webhook event taken on (by ``webhookEventId``): a redelivery is never acted on twice."""

    __tablename__ = "line_webhook_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LinePush(Base):
    """One push message: claimed once by its key, sent with a stable ``X-Line-Retry-Key``.

    ``key`` names what the push is about (``reminder:B…``, ``reply:<webhookEventId>``), so
    two workers or two ticks never send the same notification; ``status`` is ``pending``,
    ``sent``, ``capped`` (over the daily quota), ``skipped`` (not needed) or ``failed``.
    """

    __tablename__ = "line_pushes"
    __table_args__ = (Index("ix_line_pushes_day_status", "day", "status"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    retry_key: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    booking_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LineFavourite(Base):
    """A rider's favourite meeting point for a slot (home, clinic, shop), learned on first use."""

    __tablename__ = "line_favourites"

    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    stop_id: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
