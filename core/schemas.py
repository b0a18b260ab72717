"""Bodies of the trip use cases (pydantic): quotes, offers and bookings, shared by every channel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from residents.schemas import Strict
from routing.names import SHORT_NAME_MAX

TripMode = Literal["asap", "depart_at", "arrive_by"]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def sane_datetime(value: datetime) -> datetime:
    """A time between 2000 and 2100: beyond that it is a typo or a probe, and converting it
    (to UTC, to a timestamp) can overflow. Checked on the year first, so nothing overflows."""
    if not EARLIEST.year - 1 <= value.year <= LATEST.year:
        raise ValueError("time must be between 2000-01-01 and 2100-01-01")
    utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValueError("time must be between 2000-01-01 and 2100-01-01")
    return value


SaneDatetime = Annotated[datetime, AfterValidator(sane_datetime)]
"""A datetime input bounded to 2000-01-01 ≤ t < 2100-01-01 (UTC)."""


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


class QuoteCreate(Strict):
    origin: str = Field(
        max_length=60, description='meeting point id (KUR-001), or "lat,lon" for the nearest one'
    )
    destination: str = Field(max_length=60)
    mode: TripMode = "asap"
    time: SaneDatetime | None = Field(
        None, description="with a time zone, 2000–2099; required unless asap"
    )
    passengers: Passengers
    wheelchairs: int | None = Field(
        None, ge=0, le=4,
        description="how many of the passengers use a wheelchair; left out: 1 when the rider's "
        "record says they use one, else 0",
    )  # fmt: skip
    resident_id: str | None = Field(None, description="operators only: the rider")


class Place(BaseModel):
    id: str
    name: str
    short_name: str = Field(description="at most 16 characters, for buttons")
    lat: float
    lon: float


class GuideHours(BaseModel):
    days: str
    opens: str
    closes: str


class GuideFare(BaseModel):
    who: str
    yen: int


class GuidePoint(BaseModel):
    id: str
    name: str
    short_name: str
    kana: str | None
    kind: str
    lat: float
    lon: float
    closed_note: str | None = Field(None, description="closed for now (road works), why")


class GuideDistrict(BaseModel):
    name: str
    points: list[GuidePoint]


class Guide(BaseModel):
    """What any resident may read without a login: the bus, how to book, where it stops."""

    service: str
    phone: str
    hours: list[GuideHours]
    closed_days: list[str]
    fares: list[GuideFare]
    book_ahead_days: int
    cancel_before_min: int
    districts: list[GuideDistrict]
    attribution: str


class ServiceRule(BaseModel):
    key: str
    label_ja: str
    value: int | float = Field(description="in force now")
    file_value: int | float = Field(description="what the area's service.toml says")


class ServiceRules(BaseModel):
    rules: list[ServiceRule]


class MeetingPointAdmin(Place):
    """A meeting point as operators and admins see it."""

    kana: str | None
    kana_source: str | None = Field(
        None, description="machine: read by the reading library, until staff confirm; staff"
    )
    kind: str
    closed_from: datetime | None = Field(None, description="closed for a time (road works)")
    closed_to: datetime | None = None
    closed_note: str = ""


class MeetingPointCreate(Strict):
    name: str = Field(min_length=1, max_length=40)
    short_name: str | None = Field(None, min_length=1, max_length=SHORT_NAME_MAX)
    kana: str | None = Field(None, min_length=1, max_length=80, description="none: read by machine")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class MeetingPointChange(Strict):
    """Rename it, set its kana, close it for a time (both ends) or open it again."""

    name: str | None = Field(None, min_length=1, max_length=40)
    short_name: str | None = Field(None, min_length=1, max_length=SHORT_NAME_MAX)
    kana: str | None = Field(
        None, min_length=1, max_length=80, description="given by staff (the same one confirms it)"
    )
    closed_from: datetime | None = None
    closed_to: datetime | None = None
    closed_note: str = Field("", max_length=80, description="why, for riders (道路工事)")
    reopen: bool = False


class AffectedRide(BaseModel):
    booking_id: str
    reservation_number: str
    pickup_from: datetime
    rider_name: str
    rider_phone: str


class MeetingPointChanged(BaseModel):
    point: MeetingPointAdmin
    affected: list[AffectedRide] = Field(
        description="confirmed rides from or to it while it is closed: call these riders"
    )


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


class DayBooking(Booking):
    """A booking on an operator's day board: with its rider and what the live plan says."""

    vehicle_id: str | None = Field(description="the vehicle the live plan has it on (van-1)")
    vehicle_in_service: bool = Field(
        True, description="false: that vehicle was taken out of service; call the rider"
    )
    rider_name: str
    rider_phone: str
    late_by_min: int = Field(
        description="minutes the plan's pickup lies past the window, or its drop-off past the "
        "promised latest (0: on time)"
    )
    protected: bool = Field(
        False, description="an operator keeps it on its vehicle: the engine never moves it"
    )


class MoveRequest(Strict):
    vehicle_id: str = Field(
        min_length=1, max_length=24, description="the vehicle to move it to (van-2)"
    )
    dry_run: bool = Field(False, description="only say whether it fits and when; change nothing")


class ProtectRequest(Strict):
    protected: bool = Field(
        strict=True,
        description="true: keep the booking on its vehicle (no automatic move); false: let the "
        "engine move it again",
    )


class MoveResult(BaseModel):
    booking_id: str
    vehicle_id: str
    fits: bool = Field(description="whether the booking fits that vehicle within its promise")
    moved: bool
    reason: str | None = None
    reason_ja: str | None = None
    reason_en: str | None = None
    pickup_estimate: datetime | None = None
    dropoff_estimate: datetime | None = None


class VehicleDayCreate(Strict):
    """A vehicle for one service day: a spare van after a breakdown, a second van on a busy
    day (a vehicle of the area's fleet takes its seats from there unless given)."""

    vehicle_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,15}$", description="e.g. spare-1")
    date: date
    start: time = Field(description="when it starts taking riders (local time, HH:MM)")
    end: time = Field(description="when its service ends (local time, HH:MM)")
    seats: int | None = Field(None, ge=1, le=20)
    wheelchairs: int | None = Field(None, ge=0, le=4)
    depot: str | None = Field(None, max_length=16, description="meeting point it starts from")


class BreakCreate(Strict):
    """A driver's break for a day: it starts between ``earliest`` and ``latest``."""

    date: date
    earliest: time = Field(description="the earliest start (local time, HH:MM)")
    latest: time = Field(description="the latest start (local time, HH:MM)")
    minutes: int = Field(ge=5, le=120)
    place: str | None = Field(None, max_length=16, description="meeting point; the depot")


class BreakPlanned(BaseModel):
    break_id: str
    vehicle_id: str
    planned: datetime = Field(description="when the plan has it start")
    minutes: int
    place: Place


class VehicleDay(BaseModel):
    vehicle_id: str
    date: date
    start: datetime
    end: datetime
    seats: int
    wheelchairs: int
    depot: Place


class Withdrawn(BaseModel):
    vehicle_id: str
    moved: list[dict[str, str]] = Field(description="booking id and the vehicle it moved to")
    stranded: list[DayBooking] = Field(description="riders it could not re-plan: call them")


class FleetStop(BaseModel):
    name: str
    lat: float
    lon: float
    kind: str = Field(description="pickup | dropoff")
    planned: datetime | None


class FleetVehicle(BaseModel):
    vehicle_id: str
    state: Literal["on_time", "late", "very_late", "no_gps", "idle", "out_of_service"] = Field(
        description="late: 2-10 minutes past a rider's promise, very_late: more; no_gps: no "
        "point for over 2 minutes while riders are planned; idle: nobody planned"
    )
    late_by_min: int
    position: dict[str, float] | None = Field(description="the tablet's latest GPS point")
    gps_age_s: int | None
    next_stops: list[FleetStop]
    route: list[list[float]] = Field(description="[lat, lon] of the road to the next stop")


class Fleet(BaseModel):
    date: date
    vehicles: list[FleetVehicle]


RIDERSHIP_FIELDS = ("bookings", "completed", "passengers", "no_show", "cancelled", "refused",
                    "fares_yen")  # fmt: skip
#: The punctuality figures of a row, after the counts and the refusals by reason (CSV order).
RIDERSHIP_TIMES = ("timed_rides", "wait_mean_s", "wait_p90_s", "asap_rides", "asap_wait_mean_s",
                   "asap_wait_p90_s", "pickups_on_time", "pickup_on_time_share", "timed_dropoffs",
                   "dropoffs_on_time", "dropoff_on_time_share")  # fmt: skip


class RidershipRow(BaseModel):
    period: str = Field(description="YYYY-MM-DD or YYYY-MM")
    bookings: int = Field(description="bookings whose pickup falls in the period")
    completed: int = Field(description="rides done")
    passengers: int = Field(description="people carried on completed rides")
    no_show: int
    cancelled: int
    refused: int = Field(description="quotes answered with neither an offer nor an alternative")
    fares_yen: int = Field(description="fares recorded as paid")
    refused_by_reason: dict[str, int] = Field(
        default_factory=dict,
        description="the refused quotes by the dispatcher's reason code (no_time_available, "
        "vehicles_full, ...; unknown: recorded before reasons were kept); they sum to refused",
    )
    timed_rides: int = Field(0, description="completed rides whose boarding time is recorded")
    wait_mean_s: int | None = Field(
        None, description="mean wait from the start of the promised pickup window to boarding"
    )
    wait_p90_s: int | None = Field(None, description="90th percentile of that wait (nearest rank)")
    asap_rides: int = Field(0, description="timed rides asked for as soon as possible")
    asap_wait_mean_s: int | None = Field(
        None, description="as-soon-as-possible rides: mean time from the request to boarding"
    )
    asap_wait_p90_s: int | None = Field(None, description="its 90th percentile (nearest rank)")
    pickups_on_time: int = Field(0, description="timed rides boarded by the window's end")
    pickup_on_time_share: float | None = Field(None, description="pickups_on_time / timed_rides")
    timed_dropoffs: int = Field(0, description="completed rides whose alighting time is recorded")
    dropoffs_on_time: int = Field(0, description="of those, set down by the promised dropoff_by")
    dropoff_on_time_share: float | None = Field(
        None, description="dropoffs_on_time / timed_dropoffs"
    )


class Ridership(BaseModel):
    first: date
    last: date
    by: Literal["day", "month"]
    periods: list[RidershipRow]
    totals: RidershipRow = Field(description="the whole period (period: total)")
    riders_by_district: dict[str, int] = Field(description="people carried, by 大字 of the rider")
    rides_by_age_band: dict[str, int] = Field(description="completed rides by the rider's age")


class BoardBreak(BaseModel):
    """A driver's break on a vehicle's plan that day (planned by an operator)."""

    break_id: str
    vehicle_id: str
    planned: datetime | None = Field(description="when the plan has it start")
    minutes: int
    place: Place


class DayBookings(BaseModel):
    date: date
    bookings: list[DayBooking]
    breaks: list[BoardBreak] = Field(default_factory=list, description="planned breaks that day")
    counts: dict[str, int] = Field(description="bookings of the day by status (before filters)")
    vehicles: list[str] = Field(description="the vehicles that run that day (van-1, van-2)")
