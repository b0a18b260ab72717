"""Tables of the town services: garbage calendars imported by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
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
