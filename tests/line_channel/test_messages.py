"""The words and shapes riders see, without services: Japanese times and fares, typed times,
place search, settings, and every message builder within LINE's limits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from common.errors import ConfigError
from common.settings import load_settings
from core import schemas as s
from core.world import World
from line_channel import messages as msg
from line_channel.config import LineConfig
from line_channel.conversation import Inbound, State, intent, search_stops
from line_channel.standin import message_problems
from tests.booking.conftest import JST
from tests.line_channel.conftest import quick_replies

T0 = datetime(2026, 12, 3, 9, 5, tzinfo=JST)
LONG = "大字上木月・市立底井野小学校の南 約600m(西)"


def place(pid: str, name: str) -> s.Place:
    return s.Place(id=pid, name=name, short_name=name[:16], lat=33.79, lon=130.68)


def offer(n: int = 2) -> s.Offer:
    return s.Offer(
        quote_id="Q" + "0" * 16, origin=place("KUR-040", LONG), destination=place("KUR-001", "鞍手町役場"),
        pickup_from=T0, pickup_to=T0 + timedelta(minutes=10), pickup_estimate=T0,
        dropoff_estimate=T0 + timedelta(minutes=21), dropoff_by=T0 + timedelta(minutes=40),
        fare_yen=200 * n, passengers={"adult": n}, wheelchairs=0,
        expires_at=T0 + timedelta(minutes=2),
    )  # fmt: skip


def booking(status: str = "confirmed") -> s.Booking:
    o = offer(1)
    return s.Booking(
        id="B" + "1" * 16, reservation_number="7UJL-2222", status=status, resident_id="R1",
        origin=o.origin, destination=o.destination, pickup_from=o.pickup_from,
        pickup_to=o.pickup_to, dropoff_by=o.dropoff_by, eta_pickup=T0, eta_dropoff=None,
        fare_yen=200, passengers={"adult": 1}, wheelchairs=0, channel="phone", created_at=T0,
    )  # fmt: skip


def test_times_dates_and_fares_in_plain_japanese() -> None:
    assert msg.jp_date(T0) == "12月3日(木)"
    assert msg.jp_time(T0) == "9時05分"
    assert msg.jp_window(T0, T0 + timedelta(minutes=10)) == "9時05分〜9時15分"
    assert msg.fare_text(200, {"adult": 1}) == "200円"
    assert msg.fare_text(400, {"adult": 2}) == "400円(2人分。お一人200円)"
    assert msg.fare_text(300, {"adult": 1, "child": 1}) == "300円(2人分)"
    assert msg.label(LONG) == LONG[:19] + "…"
    assert len(msg.label(LONG)) == 20


@pytest.mark.parametrize(
    ("typed", "action"),
    [("やめる", "quit"), ("やめます", "quit"), ("予約する", "book"), ("予約の確認・キャンセル", "mine"),
     ("使い方", "help"), ("?", "help"), ("電話で予約", "phone"), ("自宅を登録", "sethome"),
     ("役場", "text")],
)  # fmt: skip
def test_what_typed_words_mean(typed: str, action: str) -> None:
    ev = Inbound(event_id="e", user_id="U1", kind="text", text=typed)
    assert intent(ev, State())[0] == action


def test_place_search_finds_facilities_first(world: World) -> None:
    assert search_stops(world, "役場")[0].id == "KUR-001"
    post_offices = search_stops(world, "郵便局")
    assert [p.kind for p in post_offices[:4]] == ["post_office"] * 4
    assert search_stops(world, "ＫＵＲＡＴＥ") == []  # full-width is normalised, nothing matches
    assert search_stops(world, "   ") == []


def test_place_buttons_show_every_shipped_short_name_uncut(world: World) -> None:
    """99 of 180 names were cut on their buttons (「3. 大字古門・新延郵便局の北東 約1…」)."""
    points = world.stops.points
    for start in range(0, len(points), 10):
        shown = points[start : start + 10]
        rows = [(p.id, p.name, p.label, "") for p in shown]
        labels = [a["label"] for a in quick_replies(msg.choose_place("乗る場所です。", rows))
                  if a["type"] == "postback" and a["label"] != "やめる"]  # fmt: skip
        assert labels == [f"{i}. {p.label}" for i, p in enumerate(shown, 1)]
        assert all(len(x) <= 20 and "…" not in x for x in labels)


def test_every_message_fits_lines_limits() -> None:
    phone = "0949-42-0000"
    now = datetime(2026, 12, 2, 10, 7, tzinfo=JST)
    places = [(f"KUR-{i:03d}", LONG, LONG[:16], "(約120m)") for i in range(4)]
    built = [
        *msg.welcome_new("はなこ", phone), *msg.welcome_linked("鞍手 花子"), msg.ask_code(),
        msg.link_failed(phone, 3), msg.link_failed(phone, 0), *msg.linked("鞍手 花子"),
        msg.how_to_register(phone), msg.phone_card(phone, "平日 7時〜19時"), msg.help_text(phone),
        msg.ask_place("origin"), msg.choose_place("近くの乗る場所です。", places, more=True),
        msg.ask_time(LONG, "鞍手町役場", now, now + timedelta(days=7)), msg.ask_passengers(phone),
        msg.too_many(phone, 8), *msg.offer(offer(), 2), *msg.alternatives("満席です。", [offer()] * 3, phone),
        *msg.alternatives("満席です。", [], phone), *msg.confirmed(booking()),
        *msg.my_bookings([booking(), booking("onboard")] * 2), msg.ask_cancel(booking()),
        msg.cancelled(booking()), *msg.notice_confirmed(booking()), *msg.notice_reminder(booking()),
        *msg.notice_approaching(booking(), 5), *msg.notice_delay(booking(), T0, phone),
        *msg.notice_cancelled(booking(), phone),
        msg.garbage_ask_area([f"大字{i}" for i in range(13)]), msg.garbage_missing(phone),
        msg.garbage_days("中山", [(now.date(), "燃やすごみ")] * 3, now.date()),
        msg.garbage_what("電池", []),
    ]  # fmt: skip
    for i in range(0, len(built), 5):
        assert message_problems(built[i : i + 5]) == []
    picker = [a for a in quick_replies(msg.ask_time("a", "b", now, now + timedelta(days=7)))
              if a["type"] == "datetimepicker"]  # fmt: skip
    assert picker[0]["initial"] == "2026-12-02T10:15"  # the next quarter hour


def test_line_settings_are_checked() -> None:
    ok = LineConfig.from_settings(load_settings())
    assert not ok.enabled  # no secret: the channel is off
    assert ok.push_kinds == {
        "confirmed",
        "reminder",
        "approaching",
        "delay",
        "cancelled",
        "stranded",
    }
    on = LineConfig.from_settings(
        load_settings(line_channel_secret="s", line_channel_access_token="t")
    )
    assert on.enabled
    for bad in ({"line_push_kinds": "reminder,fireworks"}, {"line_reminder_at": "5pm"},
                {"line_push_daily_cap": -1}, {"line_api_base": "api.line.me"},
                {"line_standin": True}):  # fmt: skip
        with pytest.raises(ConfigError) as err:
            LineConfig.from_settings(load_settings(**bad))
        assert "DRT_LINE_" in err.value.message_ja
