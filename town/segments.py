"""Segments of residents: who a notice or a survey is for.

A segment filters the town's residents by 大字 (from the address: 「鞍手町大字中山 1-1」 is in
中山), age band (from the birth year: the age reached this year; the bands of the planner's
report, :mod:`residents.profile`), eligibility (resident,
commuter, student) and channel (how the town can reach them: ``line`` for a LINE-linked
resident), and always by consent: only residents opted in to the service (``notices``,
``disaster``, ``surveys``; :class:`town.models.Subscription`). Closed accounts are never in
a segment. An empty filter keeps everyone.

Counting and sending use the same :func:`members`, so the preview count staff see is the
number of residents a notice goes to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from residents import models as rm
from residents.profile import AGE_BANDS, age_band, district
from town.models import Subscription

ELIGIBILITY = ("resident", "commuter", "student")
CHANNELS = ("line", "phone", "app")
BANDS = tuple(label for _, label in AGE_BANDS)


class SegmentIn(BaseModel):
    """Who a notice or survey is for (an empty list keeps everyone)."""

    districts: list[str] = Field(default_factory=list, max_length=50, description="大字 (中山)")
    age_bands: list[str] = Field(default_factory=list, description=", ".join(BANDS))
    eligibility: list[str] = Field(default_factory=list, description=", ".join(ELIGIBILITY))
    channels: list[str] = Field(default_factory=list, description=", ".join(CHANNELS))

    @field_validator("districts")
    @classmethod
    def _districts(cls, v: list[str]) -> list[str]:
        return [d.strip().removeprefix("大字") for d in v if d.strip()]

    def check(self) -> None:
        """422 naming the first unknown value."""
        for name, values, allowed in (
            ("age_bands", self.age_bands, BANDS),
            ("eligibility", self.eligibility, ELIGIBILITY),
            ("channels", self.channels, CHANNELS),
        ):
            for v in values:
                if v not in allowed:
                    raise InvalidInput(
                        f"「{v}」は選べません。次から選んでください: {'、'.join(allowed)}。",
                        f"{name}: {v!r} is not one of {', '.join(allowed)}.",
                        field=name,
                    )


@dataclass(frozen=True, slots=True)
class Member:
    """A resident in a segment, with the LINE user ids a push reaches them at."""

    resident_id: str
    district: str  # 「その他」 when the address names none
    age_band: str
    eligibility: str
    line_user_ids: tuple[str, ...] = field(default=())


def members(
    session: Session, segment: SegmentIn, service: str, today: date, known: Iterable[str] = ()
) -> list[Member]:
    """The residents in ``segment`` who opted in to ``service`` (or, for ``disaster``, to
    ``notices`` or ``disaster``), closed accounts left out, ordered by id."""
    segment.check()
    services = ("notices", "disaster") if service == "disaster" else (service,)
    opted = set(
        session.scalars(select(Subscription.resident_id).where(Subscription.service.in_(services)))
    )
    if not opted:
        return []
    rows = session.scalars(
        select(rm.Resident)
        .where(rm.Resident.id.in_(opted), rm.Resident.closed_at.is_(None))
        .order_by(rm.Resident.id)
    ).all()
    channels: dict[str, dict[str, list[str]]] = {}
    for c in session.scalars(
        select(rm.ResidentChannel).where(rm.ResidentChannel.resident_id.in_(opted))
    ):
        channels.setdefault(c.resident_id, {}).setdefault(c.kind, []).append(c.external_id)
    known = list(known)
    out = []
    for r in rows:
        home = district(r.address, known)
        band = age_band(r.birth_year, today.year)
        kinds = channels.get(r.id, {})
        reach = {*kinds, "phone"} if r.phone else set(kinds)
        if segment.districts and home not in segment.districts:
            continue
        if segment.age_bands and band not in segment.age_bands:
            continue
        if segment.eligibility and r.eligibility not in segment.eligibility:
            continue
        if segment.channels and not reach & set(segment.channels):
            continue
        out.append(Member(r.id, home, band, r.eligibility, tuple(sorted(kinds.get("line", [])))))
    return out
