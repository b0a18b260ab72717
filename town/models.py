"""Tables of the town services on the residents: garbage calendars imported by staff,
residents' opt-ins, notices, surveys and the FAQ bot's hand-overs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
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
    ``surveys`` (invitations to answer a survey)."""

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
