"""Tables of the operations core (SQLAlchemy 2): what must be durable about a trip.

A quote keeps the offer as it was made; a booking keeps the request, the promise made to the
rider (pickup window, latest drop-off), its status and payment. Planned times and the
vehicle are *not* stored: the dispatcher's live plan is their only source (every view reads
them from it), so they can never go stale. ``dispatch_log`` is the dispatcher's durable
state. Schema changes go through Alembic. Times are UTC-aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime


class _Trip:
    """Columns a quote and the booking made from it share: who, where, how many, the promise."""

    dispatch_id: Mapped[str] = mapped_column(String(80), unique=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    staff_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(16))
    passengers: Mapped[dict[str, Any]] = mapped_column(JSON)
    wheelchairs: Mapped[int] = mapped_column(Integer)
    fare_yen: Mapped[int] = mapped_column(Integer)
    pickup_from: Mapped[datetime] = mapped_column(UTCDateTime())
    pickup_to: Mapped[datetime] = mapped_column(UTCDateTime())
    dropoff_by: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Quote(_Trip, Base):
    """An offer made to a resident (held by the dispatcher until it expires or is confirmed).

    It records the offer as it was made, estimates included: what the rider was told.
    """

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(40))
    pickup_planned: Mapped[datetime] = mapped_column(UTCDateTime())
    dropoff_planned: Mapped[datetime] = mapped_column(UTCDateTime())  # the estimate shown
    request_id: Mapped[str] = mapped_column(String(40), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Booking(_Trip, Base):
    """A confirmed trip: the request, the promise, status and payment (times: from the plan)."""

    __tablename__ = "bookings"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16))  # said to the driver with the phone's last 4
    status: Mapped[str] = mapped_column(String(16), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payment_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fare_paid_yen: Mapped[int | None] = mapped_column(Integer, nullable=True)


class IdempotencyKey(Base):
    """The stored answer to a retried request: same key and body, same answer."""

    __tablename__ = "idempotency_keys"

    actor: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DispatchLogEntry(Base):
    """Every call made to the dispatcher, in order: the durable source of its state.

    The primary key (area, seq) is the fence of the single writer: a writer whose lock
    timed out cannot commit a step another writer has already taken.
    """

    __tablename__ = "dispatch_log"

    area: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    op: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    now_s: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class DispatchSnapshot(Base):
    """The replica's state after log entry ``seq`` (:mod:`core.snapshots`): a start-up
    replays only the entries after it. A cache of the log, never the truth; read only by a
    process whose code and road data have the same ``fingerprint``."""

    __tablename__ = "dispatch_snapshots"

    area: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
