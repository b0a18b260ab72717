"""Reservations in the LINE chat, through the LINE stand-in with signed webhooks: a linked
resident types 「教室」, picks the class, reserves, and books the bus there and back with
one tap (tapped twice: still two bookings); 「教室の予約の確認」 cancels the place and the bus
with it; the second resident, who waited, is told a place came free; the reminder the day
before goes out once; a class the town calls off is said to everyone who held a place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core import models as bm
from line_channel.repository import save_favourite
from tests.booking.conftest import JST, START
from tests.line_channel.conftest import Line, quick_replies, texts
from town.models import TownReservation

pytestmark = pytest.mark.services
DAY = START.date() + timedelta(days=2)  # Friday 4 December
CLASS: dict[str, Any] = {
    "kind": "class", "title": "スマホ教室", "place": "鞍手町役場 2階 会議室", "stop_id": "KUR-010",
    "starts_at": datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=JST).isoformat(),
    "ends_at": datetime(DAY.year, DAY.month, DAY.day, 11, 30, tzinfo=JST).isoformat(),
    "capacity": 1, "waitlist": 2, "reminders": [{"days_before": 1, "at": "17:00"}],
}  # fmt: skip


def tap(line: Line, user: str, answer: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    action = next(a for a in quick_replies(answer[-1]) if a["label"] == label)
    return line.tap(user, action["data"])


def new_class(line: Line, key: str) -> dict[str, Any]:
    return dict(line.operator("post", "/v1/town/reservations/events", json=CLASS,
                              headers={"Idempotency-Key": key}))  # fmt: skip


def pushes_at(line: Line, when: datetime, user: str) -> list[str]:
    seq = line.st.last_seq
    line.tick(int(when.timestamp()))
    return [m["text"] for m in line.st.bot_messages(user, since=seq)]


def test_a_class_and_the_bus_there_and_back_in_one_tap(line: Line) -> None:
    e = new_class(line, "c-1")
    rid = line.link("U-class-1")
    with line.db.sessionmaker()() as s:
        save_favourite(s, rid, "home", "KUR-002", START)
        s.commit()
    listed = line.say("U-class-1", "教室")
    assert "予約できる教室・窓口です" in texts(listed)
    assert "12月4日(金) 10時00分〜11時30分 スマホ教室" in texts(listed)
    shown = tap(line, "U-class-1", listed, "12/4 10:00 スマホ教室")
    assert "場所: 鞍手町役場 2階 会議室" in texts(shown)
    assert "あと1席" in texts(shown)
    booked = tap(line, "U-class-1", shown, "予約する")
    said = texts(booked)
    assert "予約しました" in said
    assert "のりあいバスで行き帰りしますか" in said
    assert "行き:" in said
    assert "帰り:" in said
    rides = next(a for a in quick_replies(booked[-1]) if a["label"] == "バスも予約する")
    assert "バスも予約しました" in texts(line.tap("U-class-1", rides["data"]))
    line.tap("U-class-1", rides["data"])  # tapped twice
    with line.db.sessionmaker()() as s:
        res = s.scalars(select(TownReservation)).one()
        trips = s.scalars(select(bm.Booking).where(bm.Booking.resident_id == rid)).all()
    assert len(trips) == 2
    assert sorted(res.rides) == sorted(b.id for b in trips)
    legs = {(b.origin, b.destination): b for b in trips}
    there, back = legs["KUR-002", "KUR-010"], legs["KUR-010", "KUR-002"]
    assert there.dropoff_by <= datetime.fromisoformat(e["starts_at"])  # there before the start
    assert back.pickup_from >= datetime.fromisoformat(e["ends_at"])  # back after the end

    # a second resident waits; the first cancels from LINE: the bus too, and a place for the second
    rid2 = line.link("U-class-2", phone="09022223333")
    assert "キャンセル待ちにしました(1番目)" in texts(
        tap(line, "U-class-2", tap(line, "U-class-2", line.say("U-class-2", "教室"), "12/4 10:00 スマホ教室"),
            "キャンセル待ちをする"))  # fmt: skip
    mine = line.say("U-class-1", "教室の予約の確認")
    assert "スマホ教室(予約)" in texts(mine)
    ask = tap(line, "U-class-1", mine, "取消 12/4 10:00 スマホ教室")
    assert "いっしょに予約したバスも取り消します" in texts(ask)
    assert "バスも取り消しました" in texts(tap(line, "U-class-1", ask, "取り消す"))
    with line.db.sessionmaker()() as s:
        statuses = {
            b.status for b in s.scalars(select(bm.Booking).where(bm.Booking.resident_id == rid))
        }
        second = s.scalars(select(TownReservation).where(TownReservation.resident_id == rid2)).one()
    assert statuses == {"cancelled"}
    assert second.status == "booked"
    now = datetime.fromtimestamp(line.clock.now_s, JST)
    told = pushes_at(line, now, "U-class-2")
    assert any("空きが出て、予約が取れました" in t for t in told), told
    assert pushes_at(line, now + timedelta(minutes=1), "U-class-2") == []  # once

    # the day before at 17:00: reminded once; the one who cancelled is not
    eve = datetime(DAY.year, DAY.month, DAY.day, 17, 0, tzinfo=JST) - timedelta(days=1)
    assert pushes_at(line, eve - timedelta(minutes=1), "U-class-2") == []
    reminded = pushes_at(line, eve, "U-class-2")
    assert len(reminded) == 1
    assert "あした 12月4日(金) 10時00分〜11時30分は「スマホ教室」です" in reminded[0]
    assert pushes_at(line, eve + timedelta(minutes=15), "U-class-2") == []
    assert pushes_at(line, eve + timedelta(minutes=30), "U-class-1") == []


def test_a_class_called_off_is_said_to_those_who_held_a_place(line: Line) -> None:
    e = new_class(line, "c-2")
    line.link("U-class-3")
    tap(
        line,
        "U-class-3",
        tap(line, "U-class-3", line.say("U-class-3", "教室"), "12/4 10:00 スマホ教室"),
        "予約する",
    )
    line.operator("post", f"/v1/town/reservations/events/{e['id']}/cancel")
    told = pushes_at(line, datetime.fromtimestamp(line.clock.now_s, JST), "U-class-3")
    assert any("取りやめになりました" in t for t in told), told
    assert "予約している教室・窓口はありません" in texts(line.say("U-class-3", "教室の予約の確認"))


def test_nothing_to_reserve_says_so_with_the_phone(line: Line) -> None:
    line.link("U-class-4")
    said = texts(line.say("U-class-4", "教室"))
    assert "予約できる教室や窓口はありません" in said
    assert "0949-42-0000" in said


def test_a_reminder_of_ones_own_class_goes_before_a_notice_to_everyone(
    make_line: Callable[..., Line],
) -> None:
    """Under the daily cap, what a resident booked comes first: with room for one push, the
    class's reminder is sent and the broadcast notice due at the same moment is the one capped."""
    line = make_line(line_push_daily_cap=1)
    e = new_class(line, "c-cap")
    rid = line.link("U-class-cap")
    line.operator("put", f"/v1/town/residents/{rid}/subscriptions/notices", json={})
    line.operator("post", f"/v1/town/reservations/events/{e['id']}/reservations",
                  json={"resident_id": rid})  # fmt: skip
    eve = datetime(DAY.year, DAY.month, DAY.day, 17, 0, tzinfo=JST) - timedelta(days=1)
    line.operator("post", "/v1/town/notices", headers={"Idempotency-Key": "n-cap"},
                  json={"title": "花火大会", "body": "今夜は花火大会です。", "send_at": eve.isoformat()})  # fmt: skip
    got = pushes_at(line, eve, "U-class-cap")
    assert len(got) == 1
    assert "「スマホ教室」です" in got[0]
