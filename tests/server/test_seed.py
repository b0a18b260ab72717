"""The demo's sample classes (server/seed.py): made once, on the next weekdays, reservable."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from residents import models as rm
from residents.service import Actor
from server.migrate import upgrade
from server.seed import DEMO_OPERATOR, seed_demo, seed_town_sample
from tests.harness import IsolatedDatabase
from town import reservations as rv
from town.models import TownEvent

pytestmark = pytest.mark.services
JST = ZoneInfo("Asia/Tokyo")
FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=JST)


def operator(session: Session) -> Actor:
    staff = session.scalars(select(rm.Staff).where(rm.Staff.username == DEMO_OPERATOR[0])).one()
    return Actor("staff", staff.id, "operator")


def test_the_demo_has_a_class_and_the_help_desk_on_the_next_weekdays(
    db_schema: IsolatedDatabase,
) -> None:
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as session:
        residents = seed_demo(session)
        made = seed_town_sample(session, FRIDAY, JST, ["KUR-001", "KUR-002"])
        session.commit()
        events = session.scalars(select(TownEvent).order_by(TownEvent.starts_at)).all()
        assert [e.id for e in events] == made
        assert [(e.kind, e.starts_at.astimezone(JST).strftime("%a %H:%M"), e.stop_id)
                for e in events] == [("class", "Mon 10:00", "KUR-001"), ("desk", "Tue 13:00", "KUR-001")]  # fmt: skip
        assert seed_town_sample(session, FRIDAY, JST, ["KUR-001"]) == []  # once
        row, _ = rv.reserve(session, operator(session), made[0], residents[0].id, "phone", FRIDAY)
        assert row.status == "booked"
