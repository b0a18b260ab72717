"""The town's pushes through the LINE stand-in: garbage reminders over a simulated week, each
collection day once; notices to a segment, counted as staff preview them, once each, within
the cap unless an emergency; the opt-ins residents set and stop in the chat."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.booking.conftest import JST, START
from tests.line_channel.conftest import Line, quick_replies, texts
from tests.line_channel.test_garbage import _import
from town import calendars
from town.models import Subscription

pytestmark = pytest.mark.services


def _tap_label(line: Line, user: str, answer: list[dict[str, Any]], label: str) -> list[Any]:
    action = next(a for a in quick_replies(answer[-1]) if a["label"] == label)
    return line.tap(user, action["data"])


def _collection_days(line: Line, area: str, first: date, last: date) -> dict[date, list[str]]:
    with line.db.sessionmaker()() as session:
        found = calendars.current(session).days(area, first, last)
    out: dict[date, list[str]] = {}
    for d, category in found:
        out.setdefault(d, []).append(category)
    return out


def test_a_week_of_garbage_reminders_each_collection_day_once(line: Line) -> None:
    _import(line)
    line.link("U-gomi-1")  # 鞍手町大字中山 1: offered 中山 first
    said = line.say("U-gomi-1", "通知の設定")
    assert "ごみの日のお知らせ: 受け取らない" in texts(said)
    said = _tap_label(line, "U-gomi-1", said, "ごみの日のお知らせを受け取る")
    assert "中山のごみの日をお知らせしてよいですか" in texts(said)
    said = _tap_label(line, "U-gomi-1", said, "中山でよい")
    said = _tap_label(line, "U-gomi-1", said, "前の日の夜")
    assert "中山のごみの日を、前の日の夜にお知らせします" in texts(said)
    # a second resident, opted in by an operator on the phone: 古門, the morning of the day
    rid2 = line.link("U-gomi-2", phone="09011112222", address="鞍手町大字古門 3-8")
    line.operator("put", f"/v1/town/residents/{rid2}/subscriptions/garbage",
                  json={"area": "古門", "timing": "morning"})  # fmt: skip
    line.link("U-gomi-3", phone="09033334444")  # linked, never opted in
    assert "ごみの日のお知らせ: 受け取る(中山、前の日の夜)" in texts(
        line.say("U-gomi-1", "通知の設定")
    )

    got: dict[str, list[tuple[datetime, str]]] = {"U-gomi-1": [], "U-gomi-2": [], "U-gomi-3": []}
    end = START + timedelta(days=7)
    now = START
    while now < end:
        seq = line.st.last_seq
        line.tick(int(now.timestamp()))
        for user, pushes in got.items():
            pushes += [(now, m["text"]) for m in line.st.bot_messages(user, since=seq)]
        now += timedelta(minutes=15)

    assert got["U-gomi-3"] == []
    first, last = START.date(), end.date()
    for user, area, timing in (("U-gomi-1", "中山", "evening"), ("U-gomi-2", "古門", "morning")):
        days = _collection_days(line, area, first, last)
        expected = {}
        for day, categories in days.items():
            moment = (datetime.combine(day - timedelta(days=1), datetime.min.time(), JST)
                      + timedelta(hours=19)) if timing == "evening" else (
                datetime.combine(day, datetime.min.time(), JST) + timedelta(hours=6, minutes=30))  # fmt: skip
            last_call = datetime.combine(day, datetime.min.time(), JST) + timedelta(hours=8)
            if moment < end and last_call > START:
                expected[day] = (max(moment, START), categories)
        assert len(got[user]) == len(expected) >= 3, (user, got[user])
        for (sent_at, text), (day, (moment, categories)) in zip(
            got[user], sorted(expected.items()), strict=True
        ):
            assert moment <= sent_at < moment + timedelta(minutes=15)  # the first tick after
            assert f"{day.month}月{day.day}日" in text
            assert all(f"「{c}」" in text for c in categories)
            assert "止めるときは「通知の設定」" in text

    # stopping from the chat: no more reminders
    said = line.say("U-gomi-1", "通知の設定")
    said = _tap_label(line, "U-gomi-1", said, "ごみの日のお知らせをやめる")
    assert "止めました" in texts(said)
    seq = line.st.last_seq
    for hours in range(0, 72, 1):
        line.tick(int((end + timedelta(hours=hours)).timestamp()))
    assert line.st.bot_messages("U-gomi-1", since=seq) == []
    mornings = [d for d in _collection_days(line, "古門", end.date(), end.date() + timedelta(days=3))
                if end < datetime.combine(d, datetime.min.time(), JST) + timedelta(hours=6, minutes=30)
                < end + timedelta(hours=71)]  # fmt: skip
    assert mornings  # 古門 is still reminded
    assert len(line.st.bot_messages("U-gomi-2", since=seq)) == len(mornings)


def test_the_opt_ins_need_a_linked_resident_and_are_audited(line: Line) -> None:
    assert "利用者登録とLINEの連携が必要" in texts(line.say("U-gomi-x", "通知の設定"))
    rid = line.link("U-gomi-y")
    said = line.say("U-gomi-y", "通知の設定")
    said = _tap_label(line, "U-gomi-y", said, "町からのお知らせを受け取る")
    assert "「町からのお知らせ」を受け取るようにしました" in texts(said)
    log = line.operator("get", "/v1/operator/audit", params={"resident_id": rid})
    actions = [e["action"] for e in (log["entries"] if isinstance(log, dict) else log)]
    assert "town.subscribe" in actions
    mine = line.operator("get", f"/v1/town/residents/{rid}/subscriptions")
    assert {s["service"]: s["on"] for s in mine}["notices"] is True


def _resident(line: Line, user: str, phone: str, address: str, born: int,
              services: tuple[str, ...]) -> str:  # fmt: skip
    rid = line.link(user, phone=phone, address=address, birth_year=born)
    with line.db.sessionmaker()() as session:
        for service in services:
            session.add(Subscription(resident_id=rid, service=service, options={},
                                     started_at=START))  # fmt: skip
        session.commit()
    return rid


def _people(line: Line) -> None:
    """By hand: 2026 is the year of the test clock (ages reached this year)."""
    _resident(line, "U-n-1", "09000000001", "鞍手町大字中山 1-1", 1946, ("notices",))  # 80
    _resident(line, "U-n-2", "09000000002", "鞍手町大字中山 2-2", 1990, ("notices",))  # 36
    _resident(line, "U-n-3", "09000000003", "鞍手町大字古門 3-3", 1950, ())  # not opted in
    _resident(line, "U-n-4", "09000000004", "鞍手町大字古門 4-4", 1940, ("disaster",))  # 86
    _resident(line, "U-n-5", "09000000005", "鞍手町古門5-5", 1960, ("notices",))  # 66, no 大字


def test_segment_counts_match_the_hand_count(line: Line) -> None:
    # 「鞍手町古門5-5」 is placed in 古門 by the meeting points' 大字 (no word 大字 in it)
    _people(line)

    def preview(**body: Any) -> dict[str, Any]:
        return dict(line.operator("post", "/v1/town/notices/preview", json=body))

    assert preview()["residents"] == 3  # U-n-1, 2, 5
    assert preview(segment={"districts": ["中山"]})["residents"] == 2
    assert preview(segment={"districts": ["大字古門"]})["by_district"] == {"古門": 1}
    assert preview(segment={"age_bands": ["75〜84歳"]})["residents"] == 1
    assert preview(segment={"age_bands": ["64歳以下", "65〜74歳"]})["by_age_band"] == {
        "64歳以下": 1, "65〜74歳": 1,
    }  # fmt: skip
    assert preview(emergency=True)["residents"] == 4  # notices or disaster: U-n-1, 2, 4, 5
    assert preview(emergency=True, segment={"districts": ["古門"]})["line_users"] == 2
    r = line.client.post("/v1/town/notices/preview", json={"segment": {"age_bands": ["old"]}},
                         headers={"Authorization": f"Bearer {line.operator_token}"})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["error"]["message_ja"]
    assert line.client.post("/v1/town/notices/preview", json={}).status_code == 401


def _notice(line: Line, key: str, **body: Any) -> dict[str, Any]:
    return dict(line.operator("post", "/v1/town/notices", headers={"Idempotency-Key": key},
                              json={"title": "断水", "body": "本日10時から断水します。", **body}))  # fmt: skip


def test_a_notice_reaches_its_segment_once_and_an_emergency_goes_over_the_cap(
    make_line: Callable[..., Line],
) -> None:
    line = make_line(line_push_daily_cap=2)
    _people(line)
    users = [f"U-n-{i}" for i in range(1, 6)]
    seq = line.st.last_seq
    n = _notice(line, "k-1", segment={"districts": ["中山"]})
    assert n["status"] == "scheduled"
    again = _notice(line, "k-1", segment={"districts": ["中山"]})  # a retry: the same notice
    assert again["id"] == n["id"]
    for minutes in (0, 1, 2):
        line.tick(int(line.clock.now_s + minutes * 60))
    got = {u: texts(line.st.bot_messages(u, since=seq)) for u in users}
    assert [u for u in users if "断水" in got[u]] == ["U-n-1", "U-n-2"]
    assert got["U-n-1"].count("本日10時から断水します") == 1
    assert line.operator("get", f"/v1/town/notices/{n['id']}")["pushes_sent"] == 2
    # the cap (2 a day) is spent: a second notice is capped, an emergency is not
    seq = line.st.last_seq
    _notice(line, "k-2", title="花火大会")
    _notice(line, "k-3", title="避難所を開設", body="中山公民館を避難所として開けました。",
            emergency=True)  # fmt: skip
    line.tick(int(line.clock.now_s + 180))
    got = {u: texts(line.st.bot_messages(u, since=seq)) for u in users}
    assert [u for u in users if "避難所を開設" in got[u]] == ["U-n-1", "U-n-2", "U-n-4", "U-n-5"]
    assert all("【緊急・鞍手町】" in got[u] for u in ("U-n-1", "U-n-4"))
    assert not any("花火大会" in got[u] for u in users)


def test_a_scheduled_notice_waits_for_its_time_and_can_be_cancelled(line: Line) -> None:
    _people(line)
    later = datetime.fromtimestamp(line.clock.now_s, JST) + timedelta(hours=2)
    n = _notice(line, "s-1", send_at=later.isoformat())
    seq = line.st.last_seq
    line.tick(int(line.clock.now_s + 600))
    assert "断水" not in texts(line.st.bot_messages("U-n-1", since=seq))
    line.tick(int(later.timestamp()) + 60)
    assert "断水" in texts(line.st.bot_messages("U-n-1", since=seq))
    m = _notice(line, "s-2", send_at=later.isoformat())
    cancelled = line.operator("post", f"/v1/town/notices/{m['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert line.operator("post", f"/v1/town/notices/{m['id']}/cancel")["status"] == "cancelled"
    r = line.client.post(f"/v1/town/notices/{n['id']}/cancel",
                         headers={"Authorization": f"Bearer {line.operator_token}"})  # fmt: skip
    assert r.status_code == 409  # sent already
    assert r.json()["error"]["code"] == "notice_not_changeable"
