"""Request and response bodies of the driver API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventKind = Literal["arrived", "boarded", "no_show", "alighted", "departed"]
PaymentMethod = Literal["cash", "ic_card", "qr", "free"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(Strict):
    device_token: str = Field(
        min_length=8, max_length=200, description="the vehicle tablet's token"
    )
    login: str = Field(min_length=1, max_length=32, description="driver number")
    pin: str = Field(min_length=4, max_length=12)


class SessionToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    vehicle_id: str
    driver_name: str
    expires_at: datetime


T_MIN = 1_577_836_800.0  # 2020-01-01T00:00:00Z
T_MAX = 4_102_444_800.0  # 2100-01-01T00:00:00Z


class ShiftStart(Strict):
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)


class Shift(BaseModel):
    vehicle_id: str
    service_vehicle_id: str | None
    in_service: bool


class BreakStart(Strict):
    minutes: int = Field(ge=1, le=120)


class GpsPoint(Strict):
    """One fix. Every number is finite (NaN and Infinity are refused) and within range."""

    t: float = Field(
        ge=T_MIN, le=T_MAX, allow_inf_nan=False,
        description="device time in Unix seconds (not milliseconds), 2020-01-01 to 2100-01-01",
    )  # fmt: skip
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    speed_mps: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    heading_deg: float | None = Field(None, ge=0, le=360, allow_inf_nan=False)
    accuracy_m: float | None = Field(None, ge=0, le=10_000, allow_inf_nan=False)


class PositionBatch(Strict):
    points: list[GpsPoint] = Field(min_length=1, max_length=600)


class PositionResult(BaseModel):
    accepted: int
    duplicates: int
    stale: int
    stored: int
    dispatcher_updated: bool


class Rider(BaseModel):
    booking_id: str
    action: Literal["board", "alight"]
    name: str
    reservation_number: str
    passengers: dict[str, int]
    wheelchairs: int
    needs_help: bool
    fare_yen: int
    status: str
    late_by_min: int = Field(
        0, description="minutes the plan is past what the rider was promised (the end of the "
        "pickup window, or the latest drop-off); 0 while on time",
    )  # fmt: skip


class ManifestStop(BaseModel):
    stop_id: str | None
    name: str
    lat: float
    lon: float
    kind: Literal["stop", "break"]
    planned: datetime | None
    window_from: datetime | None
    window_to: datetime | None
    riders: list[Rider]


class Manifest(BaseModel):
    vehicle_id: str
    service_vehicle_id: str | None
    version: int = Field(description="the dispatch log sequence this manifest reflects")
    at_stop: str | None = Field(description="the stop the vehicle has arrived at, if any")
    at_stop_name: str | None
    arrived_at: datetime | None
    stops: list[ManifestStop]
    polyline: str | None = Field(description="encoded polyline (precision 5) to the next stop")
    route_duration_s: int | None
    position: dict[str, float] | None
    late_riders: int = Field(0, description="riders of these stops the plan will reach late")


class StopEventIn(Strict):
    client_event_id: str = Field(min_length=1, max_length=64)
    kind: EventKind
    booking_id: str | None = Field(None, max_length=24)
    stop_id: str | None = Field(None, max_length=16)
    payment_method: PaymentMethod | None = None


class StopEventResult(BaseModel):
    client_event_id: str
    kind: str
    booking_id: str | None
    booking_status: str | None
    fare_paid_yen: int | None
    at: datetime
    distance_m: int | None = Field(
        None, description="an arrival: metres from the tablet's latest GPS point to the stop"
    )
    far_from_stop: bool = Field(
        False,
        description="an arrival farther from the stop than the service allows (kept, flagged)",
    )
