"""Request and response bodies of the booking API (pydantic), validated at the edge."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Eligibility = Literal["resident", "commuter", "student"]
TripMode = Literal["asap", "depart_at", "arrive_by"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Passengers(Strict):
    """Riders by fare category (adult 200 yen, child 100, disability 100, preschool free)."""

    adult: int = Field(0, ge=0, le=20)
    child: int = Field(0, ge=0, le=20)
    disability: int = Field(0, ge=0, le=20)
    preschool: int = Field(0, ge=0, le=20)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v}

    @property
    def total(self) -> int:
        return self.adult + self.child + self.disability + self.preschool


class ResidentCreate(Strict):
    name: str = Field(min_length=1, max_length=80)
    kana: str = Field(min_length=1, max_length=80, description="読み(カタカナまたはひらがな)")
    phone: str = Field(min_length=10, max_length=20, description="電話番号(ハイフン可)")
    address: str = Field(min_length=1, max_length=200)
    birth_year: int = Field(ge=1900, le=2100)
    eligibility: Eligibility = "resident"
    wheelchair: bool = False
    needs_help: bool = False
    consent: bool = Field(description="個人情報の利用に同意したか (must be true)")
    line_user_id: str | None = Field(None, max_length=128)

    @field_validator("phone")
    @classmethod
    def _digits(cls, v: str) -> str:
        digits = "".join(ch for ch in v if ch.isdigit())
        if not 10 <= len(digits) <= 11:
            raise ValueError("phone must have 10 or 11 digits")
        return digits


class Resident(BaseModel):
    id: str
    name: str
    kana: str
    phone: str
    address: str
    birth_year: int
    eligibility: str
    wheelchair: bool
    needs_help: bool
    suspended: bool
    channels: list[str]


class ResidentRegistered(BaseModel):
    resident: Resident
    token: str | None = Field(None, description="a resident token (channel clients only)")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class ResidentLogin(Strict):
    phone: str = Field(min_length=10, max_length=20)
    code: str = Field(min_length=4, max_length=12)


class LinkCode(BaseModel):
    code: str
    expires_at: datetime


class QuoteCreate(Strict):
    origin: str = Field(
        max_length=60, description='meeting point id (KUR-001), or "lat,lon" for the nearest one'
    )
    destination: str = Field(max_length=60)
    mode: TripMode = "asap"
    time: datetime | None = Field(None, description="with a time zone; required unless asap")
    passengers: Passengers
    wheelchairs: int = Field(
        0, ge=0, le=4, description="how many of the passengers use a wheelchair"
    )
    resident_id: str | None = Field(None, description="operators only: the rider")


class Place(BaseModel):
    id: str
    name: str
    lat: float
    lon: float


class Offer(BaseModel):
    quote_id: str
    origin: Place
    destination: Place
    pickup_from: datetime
    pickup_to: datetime
    pickup_estimate: datetime
    dropoff_estimate: datetime
    dropoff_by: datetime
    fare_yen: int
    passengers: dict[str, int]
    wheelchairs: int
    expires_at: datetime


class QuoteResult(BaseModel):
    status: Literal["offer", "rejected"]
    offer: Offer | None = None
    reason: str | None = None
    reason_ja: str | None = None
    reason_en: str | None = None
    alternatives: list[Offer] = []


class BookingCreate(Strict):
    quote_id: str


class Booking(BaseModel):
    id: str
    reservation_number: str = Field(description="予約番号: booking code + last 4 phone digits")
    status: str
    resident_id: str
    origin: Place
    destination: Place
    pickup_from: datetime
    pickup_to: datetime
    dropoff_by: datetime
    eta_pickup: datetime | None
    eta_dropoff: datetime | None
    fare_yen: int
    passengers: dict[str, int]
    wheelchairs: int
    channel: str
    created_at: datetime


class ResidentSearch(BaseModel):
    results: list[Resident]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    staff_id: str
    action: str
    resident_id: str | None
    booking_id: str | None
    details: dict[str, object]
