"""Tables of the booking service (SQLAlchemy 2). Schema changes go through Alembic.

Residents are the town's one user base: LINE, the app, phone bookings and later services
(reminders, surveys, payments) all hang off ``residents.id``. Times are UTC-aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kana: Mapped[str] = mapped_column(String(80), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # digits only
    address: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    eligibility: Mapped[str] = mapped_column(String(16))  # resident | commuter | student
    wheelchair: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_help: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ResidentChannel(Base):
    """A linked channel: a LINE user id, a phone number, an app install."""

    __tablename__ = "resident_channels"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Staff(Base):
    """Operators and admins of the booking centre (and service clients such as an app backend)."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # operator | admin | channel
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Token(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # staff | resident
    subject_id: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkCode(Base):
    """A one-time code an operator gives a resident to link a channel (app, LINE)."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class _Trip:
    """Columns a quote and the booking made from it share: who, where, how many, when."""

    dispatch_id: Mapped[str] = mapped_column(String(80), unique=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    staff_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(16))
    passengers: Mapped[dict[str, Any]] = mapped_column(JSON)
    wheelchairs: Mapped[int] = mapped_column(Integer)
    fare_yen: Mapped[int] = mapped_column(Integer)
    vehicle_id: Mapped[str] = mapped_column(String(40))
    pickup_from: Mapped[datetime] = mapped_column(UTCDateTime())
    pickup_to: Mapped[datetime] = mapped_column(UTCDateTime())
    pickup_planned: Mapped[datetime] = mapped_column(UTCDateTime())
    dropoff_planned: Mapped[datetime] = mapped_column(UTCDateTime())
    dropoff_by: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Quote(_Trip, Base):
    """An offer made to a resident (held by the dispatcher until it expires or is confirmed)."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(40), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Booking(_Trip, Base):
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


class AuditEntry(Base):
    """Who did what, when, for whom (every staff action)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    staff_id: Mapped[str] = mapped_column(String(24), index=True)
    action: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    booking_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


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
