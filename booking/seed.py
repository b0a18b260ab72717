"""Accounts and sample data: the first admin of a real deployment, and the demo's residents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import models as m
from booking.schemas import ResidentCreate
from booking.service import Actor, new_id, register_resident
from common.auth import hash_password, hash_token
from driver_app_api.models import Device
from driver_app_api.service import create_device, create_driver

DEMO_OPERATOR = ("operator", "kurate-demo")  # printed by `drt demo`; never used by `drt serve`
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


def create_staff(
    session: Session, username: str, password: str, role: str, display_name: str = ""
) -> m.Staff:
    """An operator, admin or channel account (idempotent on the user name)."""
    if role not in ("operator", "admin", "channel"):
        raise ValueError(f"unknown role {role!r}")
    existing = session.scalar(select(m.Staff).where(m.Staff.username == username))
    if existing is not None:
        return existing
    staff = m.Staff(id=new_id("S"), username=username, display_name=display_name or username,
                    password_hash=hash_password(password), role=role, active=True)  # fmt: skip
    session.add(staff)
    session.flush()
    return staff


def seed_demo(session: Session) -> list[m.Resident]:
    """The demo operator and sample residents (once; later runs find them)."""
    admin = create_staff(session, "admin", "kurate-admin", "admin", "管理者")
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
