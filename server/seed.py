"""Accounts and sample data: the first admin of a real deployment, and the demo's residents."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.auth import hash_token, verify_password
from common.settings import Settings
from driver_app_api.models import Device, Driver
from driver_app_api.service import create_device, create_driver
from line_channel.demo import DEMO_SECRET, DEMO_TOKEN
from residents import models as m
from residents.schemas import ResidentCreate
from residents.service import Actor, create_staff, register_resident

DEMO_OPERATOR = ("operator", "kurate-demo")  # printed by `drt demo`; refused by `drt serve`
DEMO_ADMIN = ("admin", "kurate-admin")
DEMO_TABLET = "kurate-demo-tablet-van-1"  # device token of van-1's tablet in the demo
DEMO_DRIVER = ("1001", "1234", "遠賀 進")  # driver number, PIN, name
DEMO_RESIDENTS = [
    ResidentCreate(name="鞍手 花子", kana="クラテ ハナコ", phone="090-1111-2222",
                   address="鞍手町大字中山 1-1", birth_year=1948, consent=True),
    ResidentCreate(name="中山 一郎", kana="ナカヤマ イチロウ", phone="080-3333-4444",
                   address="鞍手町大字中山 2-5", birth_year=1952, needs_help=True, consent=True),
    ResidentCreate(name="古門 幸子", kana="フルカド サチコ", phone="0949-42-5555",
                   address="鞍手町大字古門 3-8", birth_year=1944, wheelchair=True, consent=True),
    ResidentCreate(name="木月 健太", kana="キヅキ ケンタ", phone="090-6666-7777",
                   address="鞍手町大字木月 4-2", birth_year=2008, eligibility="student", consent=True),
]  # fmt: skip


SAMPLE_LABEL = "サンプル(鞍手町の実際の収集日ではありません) / sample, not Kurate's real schedule"


def seed_garbage_sample(session: Session, folder: Path) -> None:
    """The demo's garbage calendar: the area's sample, clearly labelled (once)."""
    from town import calendars
    from town.models import GarbageCalendar

    if folder.is_dir() and session.scalar(select(GarbageCalendar.id).limit(1)) is None:
        calendars.import_calendar(session, folder, by="drt demo", label=SAMPLE_LABEL)


def seed_town_sample(session: Session, now: datetime, tz: tzinfo, stops: list[str]) -> list[str]:
    """The demo's classes, when none is to come: a スマホ教室 on the next weekday and the
    digital help desk on the one after, at the town hall (the depot's meeting point); their
    ids. Made by the demo admin, as staff would."""
    from town import reservations as rv
    from town.models import TownEvent

    if session.scalar(select(TownEvent.id).where(TownEvent.starts_at > now).limit(1)):
        return []
    admin = session.scalar(select(m.Staff).where(m.Staff.username == DEMO_ADMIN[0]))
    if admin is None:
        return []
    actor = Actor("staff", admin.id, "admin")
    days: list[date] = []
    day = now.astimezone(tz).date()
    while len(days) < 2:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    stop = "KUR-001" if "KUR-001" in stops else None
    made = []
    for d, kind, title, start, end, places, note in (
        (days[0], "class", "スマホ教室(LINEの使い方)", time(10), time(11, 30), 10,
         "スマートフォンをお持ちください。はじめての方も歓迎です。"),
        (days[1], "desk", "デジタル活用相談窓口", time(13), time(16), 6,
         "スマホやマイナンバーカードのお困りごとを、職員がお手伝いします。"),
    ):  # fmt: skip
        body = rv.EventIn(kind=kind, title=title, place="鞍手町役場 2階 会議室", stop_id=stop, note=note,
                          starts_at=datetime.combine(d, start, tz), ends_at=datetime.combine(d, end, tz),
                          capacity=places, waitlist=5)  # fmt: skip
        made.append(rv.create_event(session, actor, body, now, stops).id)
    return made


def seed_demo(session: Session) -> list[m.Resident]:
    """The demo operator and sample residents (once; later runs find them)."""
    admin = create_staff(session, *DEMO_ADMIN, "admin", "管理者")
    create_staff(session, *DEMO_OPERATOR, "operator", "受付 オペレーター")
    actor = Actor("staff", admin.id, "admin")
    if session.scalar(select(Device).where(Device.token_hash == hash_token(DEMO_TABLET))) is None:
        create_device(session, "van-1", DEMO_TABLET)
    create_driver(session, DEMO_DRIVER[0], DEMO_DRIVER[2], DEMO_DRIVER[1])
    residents = []
    for body in DEMO_RESIDENTS:
        found = session.scalar(select(m.Resident).where(m.Resident.phone == body.phone))
        if found is None:
            register_resident(session, actor, body)
            found = session.scalar(select(m.Resident).where(m.Resident.phone == body.phone))
        assert found is not None
        residents.append(found)
    return residents


def demo_leftovers(settings: Settings, session: Session) -> list[str]:
    """What of the published demo a real deployment still has (``drt serve`` refuses to run).

    The demo's logins and LINE secrets are printed in the README and by ``drt demo``: anyone
    could use them."""
    problems = []
    if (
        settings.line_channel_secret == DEMO_SECRET
        or settings.line_channel_access_token == DEMO_TOKEN
    ):
        problems.append(
            "DRT_LINE_CHANNEL_SECRET / DRT_LINE_CHANNEL_ACCESS_TOKEN are the demo's published "
            "values: set the channel's own (LINE Developers console)"
        )
    for username, password in (DEMO_ADMIN, DEMO_OPERATOR):
        staff = session.scalar(select(m.Staff).where(m.Staff.username == username))
        if staff is not None and staff.active and verify_password(password, staff.password_hash):
            problems.append(
                f"staff account {username!r} has the demo password: disable it or change it"
            )
    tablet = session.scalar(select(Device).where(Device.token_hash == hash_token(DEMO_TABLET)))
    if tablet is not None and tablet.active:
        problems.append("the demo tablet's device token is registered: deactivate that device")
    driver = session.scalar(select(Driver).where(Driver.login == DEMO_DRIVER[0]))
    if driver is not None and driver.active and verify_password(DEMO_DRIVER[1], driver.pin_hash):
        problems.append(f"driver {DEMO_DRIVER[0]!r} has the demo PIN: change it")
    return problems
