"""Push notifications at the right moments of a simulated day (the notifier's tick is
called with the test clock; pushes go through the real SDK to the stand-in)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import select

from core import models as bm
from core.commands import VehicleAt
from line_channel.models import LinePush
from tests.booking.conftest import JST
from tests.line_channel.conftest import Line

pytestmark = pytest.mark.services

HANAKO = "U" + "d" * 32


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 12, day, hour, minute, tzinfo=JST).timestamp())


def operator_books(line: Line, rid: str, when: int, origin: str = "KUR-010") -> bm.Booking:
    """A booking made by phone (an operator) for the resident, departing at ``when``."""
    body = {"origin": origin, "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": datetime.fromtimestamp(when, JST).isoformat(),
            "resident_id": rid}  # fmt: skip
    q = line.operator("post", "/v1/operator/quotes", json=body)
    b = line.operator("post", "/v1/operator/bookings", json={"quote_id": q["offer"]["quote_id"]},
                      headers={"Idempotency-Key": f"call-{when}-{origin}"})  # fmt: skip
    with line.db.sessionmaker()() as s:
        row = s.get(bm.Booking, b["id"])
        assert row is not None
        return row


def pushes(line: Line, user: str = HANAKO) -> list[str]:
    """The texts pushed to the user so far."""
    return [m["text"] for e in line.st.entries(user, sender="bot") if e.via == "push"
            for m in e.messages]  # fmt: skip


def eta_pickup(line: Line, b: bm.Booking) -> int:
    with line.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        pick, _ = d.eta(b.dispatch_id)
    assert pick is not None
    return pick


def test_the_notifications_of_a_simulated_day(line: Line) -> None:
    rid = line.link(HANAKO)
    phone = line.world.config.operator_phone
    morning = operator_books(line, rid, at(3, 10))  # by phone, for tomorrow 10:00
    afternoon = operator_books(line, rid, at(3, 13), origin="KUR-002")
    assert [n.kind for n in line.tick()] == ["confirmed", "confirmed"]  # made by phone
    assert len(pushes(line)) == 2
    assert all("お電話でのご予約を承りました" in t for t in pushes(line))
    assert "-5678" in pushes(line)[0]
    assert line.tick() == []  # nothing twice

    line.clock.now_s = at(2, 16, 59)
    assert line.tick() == []
    line.clock.now_s = at(2, 17)
    sent = line.tick()
    assert sorted(n.kind for n in sent) == ["reminder", "reminder"]
    assert "明日のご予約のお知らせです" in pushes(line)[-1]
    line.clock.now_s = at(2, 21)
    assert line.tick() == []

    eta = eta_pickup(line, morning)
    line.clock.now_s = eta - line.channel.config.approaching_s - 60
    assert line.tick() == []
    line.clock.now_s = eta - line.channel.config.approaching_s
    sent = line.tick()
    assert [n.kind for n in sent] == ["approaching"]
    assert "まもなく" in pushes(line)[-1]
    assert "あと5分ほど" in pushes(line)[-1]
    assert line.tick() == []

    # the operator cancels the morning ride (say the rider called)
    line.operator("post", f"/v1/operator/bookings/{morning.id}/cancel")
    sent = line.tick()
    assert [n.kind for n in sent] == ["cancelled"]
    assert "受付の係によって取り消されました" in pushes(line)[-1]
    assert phone in pushes(line)[-1]

    # the van is held up: free only 20 minutes after the afternoon window closes
    host = line.client.app.state.host  # type: ignore[attr-defined]
    late_s = int(afternoon.pickup_to.timestamp()) + 1200
    with host.read() as d:
        live = d.booking(afternoon.dispatch_id)
    assert live is not None
    depot = line.world.places.nodes[line.world.place_of("KUR-001")]
    with host.write() as step:
        step.do(VehicleAt(live.vehicle_id, depot, late_s, locked=False))
    assert eta_pickup(line, afternoon) > int(afternoon.pickup_to.timestamp())
    sent = line.tick()
    assert [n.kind for n in sent] == ["delay"]
    assert "遅れています" in pushes(line)[-1]
    assert "お約束の時間" in pushes(line)[-1]
    assert line.tick() == []
    assert len(pushes(line)) == 7
    assert line.st.rejected == []


def test_line_bookings_are_not_pushed_again_and_late_bookings_get_no_reminder(line: Line) -> None:
    line.link(HANAKO)
    line.clock.now_s = at(2, 18)  # after the reminder time: book for tomorrow morning
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    line.tap(HANAKO, "a=stop&id=KUR-001")
    line.tap(HANAKO, "a=time&mode=depart_at", datetime="2026-12-03T09:00")
    offer = line.tap(HANAKO, "a=pax&n=1")
    confirm = offer[0]["contents"]["footer"]["contents"][0]["action"]["data"]
    assert "ご予約が確定しました" in line.tap(HANAKO, confirm)[0]["text"]
    assert line.tick() == []  # confirmed in the chat, and no reminder: it was just read
    line.clock.now_s = at(2, 22)
    assert line.tick() == []
    assert pushes(line) == []
    with line.db.sessionmaker()() as s:
        assert s.scalars(select(LinePush.status)).all() == ["skipped"]


def test_a_phone_booking_in_the_evening_gets_no_reminder_after_its_confirmation(
    line: Line,
) -> None:
    rid = line.link(HANAKO)
    line.clock.now_s = at(2, 18)
    operator_books(line, rid, at(3, 9))
    assert [n.kind for n in line.tick()] == ["confirmed"]  # it says everything already
    line.clock.now_s = at(2, 20)
    assert line.tick() == []
    assert len(pushes(line)) == 1


def test_push_quota_knobs(make_line: Callable[..., Line]) -> None:
    line = make_line(line_push_daily_cap=1, line_push_kinds="reminder,cancelled")
    rid = line.link(HANAKO)
    first = operator_books(line, rid, at(3, 10))
    operator_books(line, rid, at(3, 14), origin="KUR-002")
    assert line.tick() == []  # 「confirmed」 is switched off
    line.operator("post", f"/v1/operator/bookings/{first.id}/cancel")
    line.clock.now_s = at(2, 17)
    sent = line.tick()
    assert [n.kind for n in sent] == ["cancelled"]  # the most urgent one fits the cap of 1
    assert line.tick() == []
    with line.db.sessionmaker()() as s:
        statuses = sorted((p.kind, p.status) for p in s.scalars(select(LinePush)))
    assert statuses == [("cancelled", "sent"), ("reminder", "capped")]
    line.clock.now_s = at(3, 17)  # a new day, a new quota (and no reminders for the past)
    assert line.tick() == []
    assert len(pushes(line)) == 1


def test_the_reminder_time_follows_the_setting(make_line: Callable[..., Line]) -> None:
    line = make_line(line_reminder_at="08:30", line_push_kinds="reminder")
    rid = line.link(HANAKO)
    b = operator_books(line, rid, at(4, 10))  # Friday's ride: reminded on Thursday morning
    line.clock.now_s = at(2, 17)
    assert line.tick() == []
    line.clock.now_s = at(3, 8, 29)
    assert line.tick() == []
    line.clock.now_s = at(3, 8, 30)
    sent = line.tick()
    assert [(n.kind, n.booking_id) for n in sent] == [("reminder", b.id)]
    assert "明日のご予約のお知らせです" in pushes(line)[-1]


def test_the_notifier_runs_by_itself_and_wakes_on_changes(make_line: Callable[..., Line]) -> None:
    line = make_line(line_notifier_interval_s=60)  # a long interval: the change must wake it
    rid = line.link(HANAKO)
    operator_books(line, rid, at(3, 10))
    deadline = time.monotonic() + 20
    while not pushes(line) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pushes(line)) == 1
    assert "お電話でのご予約を承りました" in pushes(line)[0]


def test_riders_of_a_van_that_fell_behind_without_a_word_are_told(line: Line) -> None:
    """No position, no recorded stop: time passes the rider's window. The next writer turn
    re-times the van, so the rider gets a delay notice with a real time (before, the plan
    could not be kept from now, had no times at all, and nobody was told)."""
    rid = line.link(HANAKO)
    b = operator_books(line, rid, at(3, 10))
    line.tick()  # the confirmation of the phone booking
    line.clock.now_s = int(b.pickup_to.timestamp()) + 600  # ten minutes past the window
    host = line.client.app.state.host  # type: ignore[attr-defined]
    with host.write():
        pass  # any turn (a quote, a cancellation, a position) re-times the van first
    assert eta_pickup(line, b) >= line.clock.now_s
    sent = line.tick()
    assert "delay" in [n.kind for n in sent]
    assert any("遅れています" in t for t in pushes(line))
    assert line.st.rejected == []


def test_riders_no_van_can_take_after_a_breakdown_are_told_once(line: Line) -> None:
    """The operator takes the one van out of service: its rider is stranded (no other van)
    and is told by LINE, once, with the number to call (before, nobody was told)."""
    rid = line.link(HANAKO)
    b = operator_books(line, rid, at(3, 10))
    line.tick()  # the confirmation of the phone booking
    day = datetime.fromtimestamp(int(b.pickup_from.timestamp()), JST).date().isoformat()
    out = line.operator("post", f"/v1/operator/vehicles/van-1/withdraw?date={day}")
    assert [x["id"] for x in out["stranded"]] == [b.id]
    assert [n.kind for n in line.tick()] == ["stranded"]
    told = pushes(line)[-1]
    assert "運休" in told
    assert line.world.config.operator_phone in told
    assert line.tick() == []  # once
    assert line.st.rejected == []


def test_a_push_during_a_booking_asks_the_open_question_again(line: Line) -> None:
    """A notice pushed while the rider is answering 「いつ乗りますか?」 took its buttons away."""
    rid = line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-002")
    line.tap(HANAKO, "a=stop&id=KUR-010")  # now asked when
    operator_books(line, rid, at(3, 10))  # meanwhile an operator books another ride by phone
    assert [n.kind for n in line.tick()] == ["confirmed"]
    pushed = [e for e in line.st.entries(HANAKO, sender="bot") if e.via == "push"][-1].messages
    assert "お電話でのご予約を承りました" in pushed[0]["text"]
    last = pushed[-1]
    assert "いつ乗りますか" in last["text"]  # the open question, with its buttons, again
    assert "datetimepicker" in [i["action"]["type"] for i in last["quickReply"]["items"]]
    assert "何人で乗りますか" in line.say(HANAKO, "14時")[0]["text"]  # and the booking goes on
