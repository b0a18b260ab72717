"""Tables of the residents domain (SQLAlchemy 2). Schema changes go through Alembic.

Residents are the town's one user base: LINE, the app, phone bookings and later services
(reminders, surveys, payments) all hang off ``residents.id``. Times are UTC-aware.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
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
    #: Closed at the resident's request (core/accounts.py); anonymised by the retention purge
    #: once the town's period has passed (server/backup.py).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, default=None)


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
    kind: Mapped[str] = mapped_column(String(16))  # staff | resident | driver
    subject_id: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkCode(Base):
    """A one-time code an operator gives a resident to link a channel (app, LINE).

    Only a salted scrypt hash of the six digits is stored (``common.auth.hash_password``)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """Who did what, when, for whom (every action, by staff or by residents themselves)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16), server_default="staff")  # | resident
    actor_id: Mapped[str] = mapped_column(String(24), index=True)
    action: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    booking_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
