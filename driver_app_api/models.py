"""Tables of the driver side: tablets, drivers, their sessions, GPS tracks and stop events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime


class Device(Base):
    """A vehicle's tablet: its device token (hashed) is set up once by the town's IT staff."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(24), index=True)  # e.g. van-1
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Driver(Base):
    __tablename__ = "drivers"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    login: Mapped[str] = mapped_column(String(32), unique=True)  # the number typed on the tablet
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DriverSession(Base):
    """A driver signed in on a vehicle's tablet; the bearer token names this row."""

    __tablename__ = "driver_sessions"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    driver_id: Mapped[str] = mapped_column(ForeignKey("drivers.id"), index=True)
    vehicle_id: Mapped[str] = mapped_column(String(24))
    shift_vehicle_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # van-1@day
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Position(Base):
    """The thinned GPS track (one point per ``TRACK_EVERY_S`` or ``TRACK_EVERY_M``)."""

    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_vehicle_at", "vehicle_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)


class StopEvent(Base):
    """What happened at a stop, once per client event id (tablets retry)."""

    __tablename__ = "stop_events"
    __table_args__ = (UniqueConstraint("vehicle_id", "client_event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vehicle_id: Mapped[str] = mapped_column(String(24), index=True)
    client_event_id: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # arrived boarded no_show alighted departed
    booking_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    stop_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    driver_id: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())  # when it happened (server clock)
    payment_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fare_paid_yen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    distance_m: Mapped[int | None] = mapped_column(Integer, nullable=True)  # arrival: to the stop
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
