"""Tables of the town services on the residents: garbage calendars imported by staff,
residents' opt-ins, notices, surveys and the FAQ bot's hand-overs; reservations of classes,
the help desk and counter appointments; applications written for residents at the counter
(書かない窓口); payment slips (納付書)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, UTCDateTime


class GarbageCalendar(Base):
    """A 5374-format calendar as imported (its five files' text); the newest one is in use."""

    __tablename__ = "garbage_calendars"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    imported_by: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))  # where it came from (a folder, "sample")
    files: Mapped[dict[str, str]] = mapped_column(JSON)  # file name -> its text


class Subscription(Base):
    """A resident's opt-in to one town service (one row per service while opted in; stopping
    deletes it, and both are in the audit log). ``service``: ``garbage`` (reminders of
    collection days; ``options``: ``{"area": 地名, "timing": "evening" | "morning"}``),
    ``notices`` (the town's notices), ``disaster`` (emergency notices: disasters, shelters),
    ``surveys`` (invitations to answer a survey), ``payments`` (reminders before a payment
    slip's due date)."""

    __tablename__ = "town_subscriptions"

    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TownNotice(Base):
    """A notice staff send to a segment of residents by LINE push (town/notices.py).

    ``segment``: the filters (town/segments.py); ``status``: ``draft``, ``scheduled``,
    ``sent`` or ``cancelled``; each push is claimed once in ``line_pushes`` (key
    ``notice:<id>:<LINE user>``), so a notice reaches a resident once."""

    __tablename__ = "town_notices"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(String(2000))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), index=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recipients: Mapped[int | None] = mapped_column(Integer, nullable=True)  # pushes sent


class Survey(Base):
    """A survey staff define (town/surveys.py): ``questions`` is a list of ``{"id", "kind":
    single | multiple | scale | text, "text", "choices", "min", "max", "required"}``;
    ``status``: ``draft``, ``open`` or ``closed``."""

    __tablename__ = "town_surveys"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    intro: Mapped[str] = mapped_column(String(1000), default="")
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), index=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveyResponse(Base):
    """One resident's answers to a survey: one row per respondent (``respondent_key`` is the
    resident id, or for an anonymous survey a keyed hash of it, so that one answer per
    resident holds without storing who answered). ``answers`` maps question id to the
    answer; ``completed_at`` is set once every required question is answered."""

    __tablename__ = "town_survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("town_surveys.id"), index=True)
    respondent_key: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FaqTicket(Base):
    """A question handed to staff (「担当者につなぐ」): open until staff close it."""

    __tablename__ = "town_faq_tickets"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    question: Mapped[str] = mapped_column(String(500))
    resident_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    line_user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | closed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(24), nullable=True)
    note: Mapped[str] = mapped_column(String(1000), default="")


class FaqMiss(Base):
    """A question the FAQ bot found no answer for (listed for staff, who add answers)."""

    __tablename__ = "town_faq_misses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TownCounter(Base):
    """A named counter (``form:2026-12-02`` …) taken under a row lock: numbers residents are
    given (an application's 受付番号) are never handed out twice."""

    __tablename__ = "town_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# -- reservations (town/reservations.py) ----------------------------------------------------


class TownEvent(Base):
    """Something residents reserve a place at: a スマホ教室 session (``class``), the digital
    help desk (``desk``) or a counter appointment (``counter``; slots made together share
    ``series_id``). ``capacity`` places and up to ``waitlist`` waiting; residents cancel
    until ``cancel_before_s`` before the start; ``reminders``: ``[{"days_before": 1, "at":
    "17:00"}, ...]``; ``stop_id``: the meeting point at the place (the bus goes there);
    ``status``: ``open`` or ``cancelled``."""

    __tablename__ = "town_events"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    series_id: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(80))
    place: Mapped[str] = mapped_column(String(120))
    stop_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(String(1000), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    waitlist: Mapped[int] = mapped_column(Integer, default=0)
    cancel_before_s: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_by: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TownReservation(Base):
    """A resident's place at an event: one row per (event, resident). ``status``: ``booked``,
    ``waiting`` (in ``queued_at`` order; ``promoted_at``: when a place came free for it),
    ``cancelled``, ``attended`` or ``absent``;
    ``rides``: the bus bookings made with it (there and back)."""

    __tablename__ = "town_reservations"
    __table_args__ = (UniqueConstraint("event_id", "resident_id"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("town_events.id"), index=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    made_by: Mapped[str] = mapped_column(String(24))  # the resident, or the staff account
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rides: Mapped[list[str]] = mapped_column(JSON, default=list)


# -- applications written for the resident (town/forms.py) ---------------------------------


class FormApplication(Base):
    """An application on one of the town's forms (defined as data in the area's ``forms/``):
    ``values`` maps field id to value, ``prefilled`` the fields filled from the resident's
    record (with their consent), ``confirmed`` those staff checked at the counter.
    ``number``: the 受付番号 the resident shows at the counter. ``status``: ``pre_applied``
    (from LINE or the app), ``in_review`` (at the counter), ``completed`` or ``cancelled``."""

    __tablename__ = "town_form_applications"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    form_id: Mapped[str] = mapped_column(String(40), index=True)
    form_version: Mapped[str] = mapped_column(String(16))  # the definition's hash
    number: Mapped[str] = mapped_column(String(16), unique=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prefilled: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: When the resident agreed that their record fills the form (None: it did not).
    prefill_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    confirmed: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(24), nullable=True)


# -- payment slips (town/slips.py) ----------------------------------------------------------


class PaymentSlip(Base):
    """A 納付書: what the barcode's 44 digits say (``biller_code``, the 21-digit
    ``free_field``, ``reissue``, ``due``, ``stamp``, ``amount`` in yen), the eL-QR payload as
    the tax system gave it (stored and drawn, never built here), and whether it is paid
    (``status``: ``unpaid`` or ``paid``, from an imported file)."""

    __tablename__ = "town_payment_slips"
    __table_args__ = (UniqueConstraint("biller_code", "free_field", "reissue"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    resident_id: Mapped[str | None] = mapped_column(
        ForeignKey("residents.id"), nullable=True, index=True
    )
    subject: Mapped[str] = mapped_column(String(80))  # 軽自動車税(種別割) …
    fiscal_year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(40), default="")  # 第1期 …
    payer_name: Mapped[str] = mapped_column(String(80))
    biller_code: Mapped[str] = mapped_column(String(6))
    free_field: Mapped[str] = mapped_column(String(21))
    reissue: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[date] = mapped_column(Date, index=True)
    stamp: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer)
    elqr_payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(8), index=True)
    paid_at: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid_source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_by: Mapped[str] = mapped_column(String(80))
