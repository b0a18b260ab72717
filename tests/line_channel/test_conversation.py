"""The LINE conversation end to end: signed webhook bodies in, the real line-bot-sdk out to
the stand-in over HTTP, the booking service on PostgreSQL and Redis behind it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core import models as bm
from line_channel.models import LineEvent, LineFavourite
from residents import models as rm
from tests.booking.conftest import JST, START
from tests.line_channel.conftest import PHONE, Line, buttons, data_of, quick_replies, texts

pytestmark = pytest.mark.services

HANAKO = "U" + "a" * 32


def choose(actions: list[dict], label_part: str) -> dict:
    found = [a for a in actions if label_part in a.get("label", "")]
    assert found, (label_part, [a.get("label") for a in actions])
    return found[0]


def tap_action(line: Line, user: str, action: dict, **params: str) -> list[dict]:
    assert action["type"] in ("postback", "datetimepicker"), action
    return line.send(line.st.postback(user, action["data"], params or None))


def book_until_offer(line: Line, user: str, passengers: str = "1人") -> list[dict]:
    """予約する → a location near KUR-010 → 「役場」 → one hour from now → passengers."""
    line.tap(user, "a=book")
    p = line.world.stops.get("KUR-010")
    near = line.send(line.st.location(user, p.lat + 0.0004, p.lon))
    tap_action(line, user, choose(quick_replies(near[0]), "ヤクルト"))
    found = line.say(user, "役場")
    tap_action(line, user, choose(quick_replies(found[0]), "鞍手町役場"))
    when = (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    line.tap(user, "a=time&mode=depart_at", datetime=when)
    return line.tap(user, f"a=pax&n={passengers.removesuffix('人')}")


def offer_for(line: Line, user: str, origin: str, destination: str, n: int) -> list[dict]:
    """The offer for a ride one hour from now, places chosen by id."""
    line.tap(user, "a=book")
    line.tap(user, f"a=stop&id={origin}")
    line.tap(user, f"a=stop&id={destination}")
    when = (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    line.tap(user, "a=time&mode=depart_at", datetime=when)
    return line.tap(user, f"a=pax&n={n}")


def test_a_whole_booking_from_follow_to_confirmed(line: Line) -> None:
    rid = line.register(PHONE)
    code = line.operator("post", f"/v1/operator/residents/{rid}/link-code")["code"]
    line.st.profiles[HANAKO] = "はなこ"

    welcome = line.send(line.st.follow(HANAKO))
    assert "はなこさん" in welcome[0]["text"]  # the display name from the profile API
    assert "電話番号を送ってください" in welcome[1]["text"]
    assert [a["label"] for a in quick_replies(welcome[1])] == [
        "登録していない",
        "電話で予約",
        "やめる",
    ]

    assert "確認コード" in line.say(HANAKO, "090-1234-5678")[0]["text"]
    linked = line.say(HANAKO, code)
    assert "つながりました" in linked[0]["text"]
    assert "鞍手 太郎さん" in linked[0]["text"]

    ask_origin = line.tap(HANAKO, "a=book")  # the rich menu's 予約する
    assert "どこから乗りますか" in ask_origin[0]["text"]
    actions = quick_replies(ask_origin[0])
    assert actions[0]["type"] == "location"
    assert [a["label"] for a in actions[1:]] == ["自宅", "病院", "お店", "やめる"]

    p = line.world.stops.get("KUR-010")
    near = line.send(line.st.location(HANAKO, p.lat + 0.0004, p.lon))
    assert "近くの乗る場所" in near[0]["text"]
    first = quick_replies(near[0])[0]
    assert data_of(first) == {"a": "stop", "id": "KUR-010"}
    ask_dest = tap_action(line, HANAKO, first)
    assert "どこで降りますか" in ask_dest[0]["text"]
    assert "ヤクルト鞍手センター" in ask_dest[0]["text"]

    found = line.say(HANAKO, "役場")
    assert "1. 鞍手町役場" in found[0]["text"]
    ask_time = tap_action(line, HANAKO, choose(quick_replies(found[0]), "鞍手町役場"))
    assert "いつ乗りますか" in ask_time[0]["text"]
    picker = choose(quick_replies(ask_time[0]), "日時を選ぶ")
    assert picker["type"] == "datetimepicker"
    assert picker["min"] == "2026-12-02T10:00"
    assert picker["max"] == "2026-12-09T23:59"

    when = (START + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    ask_people = tap_action(line, HANAKO, picker, datetime=when)
    assert "何人で乗りますか" in ask_people[0]["text"]

    offer = tap_action(line, HANAKO, choose(quick_replies(ask_people[0]), "2人"))
    assert offer[0]["type"] == "flex"
    words = texts(offer)
    assert "12月2日(水)" in words
    assert "11時" in words  # the pickup window opens at 11:00 or a little later
    assert "〜" in words
    assert "400円(2人分。お一人200円)" in words
    assert "ヤクルト鞍手センター" in words
    assert "鞍手町役場" in words
    confirm, stop = buttons(offer[0]["contents"])
    assert confirm["label"] == "予約を確定する"
    assert stop["label"] == "やめる"

    done = tap_action(line, HANAKO, confirm)
    assert "ご予約が確定しました" in done[0]["text"]
    assert "-5678" in done[0]["text"]  # the reservation number ends with the phone's last 4
    assert "予約の確認・キャンセル" in done[0]["text"]  # how to cancel

    with line.db.sessionmaker()() as s:
        b = s.scalars(select(bm.Booking)).one()
        assert (b.channel, b.resident_id, b.origin, b.destination) == ("line", rid, "KUR-010",
                                                                      "KUR-001")  # fmt: skip
        assert b.passengers == {"adult": 2}
        assert b.pickup_from >= START + timedelta(hours=1)
        dispatch_id = b.dispatch_id
    with line.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        assert any(ps.booking_id == dispatch_id for v in d.vehicle_ids() for ps in d.plan(v))
    # every answer went out as a reply, and LINE accepted every message
    bot = line.st.entries(HANAKO, sender="bot")
    assert {e.via for e in bot} == {"reply"}
    assert line.st.rejected == []
    assert line.count(LineEvent) == 11  # one per event, from follow to 確定


def test_a_bad_signature_gets_400_and_nothing_is_processed(line: Line) -> None:
    line.register(PHONE)
    event = line.st.follow(HANAKO)
    r = line.post(event, secret="not-the-channel-secret")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "line_signature_invalid"
    assert err["message_ja"]
    assert err["message_en"]
    body, _ = line.st.webhook_body(event)
    missing = line.client.post("/v1/line/webhook", content=body)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "line_signature_invalid"
    assert line.count(LineEvent) == 0
    assert line.st.entries(HANAKO, sender="bot") == []
    ok = line.post(event)  # the same event, signed properly, is processed
    assert ok.status_code == 200
    line.drain()
    assert line.count(LineEvent) == 1
    assert len(line.st.entries(HANAKO, sender="bot")) == 1


def test_the_webhook_answers_before_the_event_is_handled(line: Line) -> None:
    line.link(HANAKO)
    busy = line.channel.store.lock(HANAKO)  # the rider's previous message is still being handled
    assert busy.acquire(1)
    try:
        seq = line.st.last_seq
        r = line.post(line.st.postback(HANAKO, "a=help"))
        assert r.status_code == 200
        assert line.st.bot_messages(HANAKO, since=seq) == []  # answered, not yet handled
    finally:
        busy.release()
    line.drain()
    assert "使い方" in line.st.bot_messages(HANAKO, since=seq)[0]["text"]


def test_a_redelivered_confirmation_books_once(line: Line) -> None:
    line.link(HANAKO)
    offer = book_until_offer(line, HANAKO)
    confirm = buttons(offer[0]["contents"])[0]
    event = line.st.postback(HANAKO, confirm["data"])
    assert "ご予約が確定しました" in texts(line.send(event))
    assert line.count(bm.Booking) == 1
    again = line.send(line.st.redelivery(event))
    assert again == []  # handled before: no second booking, no second answer
    assert line.count(bm.Booking) == 1
    with line.db.sessionmaker()() as s:
        row = s.get(LineEvent, event["webhookEventId"])
        assert row is not None
        assert row.done_at is not None


def test_a_late_answer_is_pushed_once_with_a_retry_key(line: Line) -> None:
    line.link(HANAKO)
    offer = book_until_offer(line, HANAKO)
    confirm = buttons(offer[0]["contents"])[0]
    event = line.st.postback(HANAKO, confirm["data"])
    line.st.expire_reply_tokens()  # LINE redelivers it after the reply token ran out
    late = line.st.redelivery(event)
    answer = line.send(late)
    assert "ご予約が確定しました" in texts(answer)
    pushed = line.st.entries(HANAKO, sender="bot")[-1]
    assert pushed.via == "push"
    assert pushed.retry_key is not None
    assert line.count(bm.Booking) == 1
    assert line.send(late) == []  # a third delivery: nothing
    assert line.count(bm.Booking) == 1
    # the same retry key again (an answer lost on the way back) is not delivered twice
    portal = line.client.portal
    assert portal is not None
    again = portal.call(line.channel.api.push, HANAKO, pushed.messages, pushed.retry_key)
    assert again == "accepted_before"
    assert [e.via for e in line.st.entries(HANAKO, sender="bot")].count("push") == 1


def test_cancelling_through_line_frees_the_seat(line: Line) -> None:
    line.link(HANAKO)
    offer = book_until_offer(line, HANAKO)
    line.tap(HANAKO, buttons(offer[0]["contents"])[0]["data"])
    mine = line.tap(HANAKO, "a=mine")  # the rich menu's 予約の確認・キャンセル
    assert "これからの予約は1件です" in mine[0]["text"]
    cancel = choose(buttons(mine[1]["contents"]), "取り消す")
    ask = tap_action(line, HANAKO, cancel)
    assert "この予約を取り消しますか" in ask[0]["text"]
    assert [a["label"] for a in quick_replies(ask[0])] == ["取り消す", "取り消さない"]
    done = tap_action(line, HANAKO, quick_replies(ask[0])[0])
    assert "予約を取り消しました" in done[0]["text"]
    with line.db.sessionmaker()() as s:
        assert s.scalars(select(bm.Booking.status)).one() == "cancelled"
    with line.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        assert all(not d.plan(v) for v in d.vehicle_ids())  # the seat is free again
    assert "これからの予約はありません" in line.tap(HANAKO, "a=mine")[0]["text"]


def test_too_late_to_cancel_gives_the_phone_number(line: Line) -> None:
    line.link(HANAKO)
    offer = book_until_offer(line, HANAKO)
    line.tap(HANAKO, buttons(offer[0]["contents"])[0]["data"])
    with line.db.sessionmaker()() as s:
        b = s.scalars(select(bm.Booking)).one()
        line.clock.now_s = int(b.pickup_from.timestamp()) - 600
    answer = line.tap(HANAKO, f"a=cancel_yes&b={b.id}")
    assert line.world.config.operator_phone in answer[0]["text"]
    assert choose(quick_replies(answer[0]), "電話で予約")


def test_a_busy_van_offers_other_times_and_the_phone(line: Line) -> None:
    line.link(HANAKO)
    line.link("U" + "b" * 32, phone="090-0000-1111")
    # all eight seats held for a long ride south at the same time
    assert offer_for(line, "U" + "b" * 32, "KUR-010", "KUR-039", 8)[0]["type"] == "flex"
    answer = offer_for(line, HANAKO, "KUR-010", "KUR-001", 1)
    words = texts(answer)
    assert "その時間にはお迎えに行けません" in words  # the reason, in one sentence
    assert "かわりに、次の時間なら予約できます" in words
    assert answer[1]["type"] == "flex"
    assert answer[1]["contents"]["type"] == "carousel"
    alt = buttons(answer[1]["contents"])[0]
    assert alt["label"] == "この時間で予約する"
    labels = [a["label"] for a in quick_replies(answer[1])]
    assert labels == ["別の時間にする", "電話で予約", "やめる"]
    assert "ご予約が確定しました" in texts(tap_action(line, HANAKO, alt))


def test_favourites_are_learned_on_first_use(line: Line) -> None:
    line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    clinics = line.tap(HANAKO, "a=fav&slot=clinic")
    assert "病院の乗る場所です" in clinics[0]["text"]
    hospital = quick_replies(clinics[0])[0]
    assert data_of(hospital)["id"] == "KUR-002"
    assert "どこで降りますか" in tap_action(line, HANAKO, hospital)[0]["text"]
    home = line.tap(HANAKO, "a=fav&slot=home")
    assert "まだ覚えていません" in home[0]["text"]
    near = line.say(HANAKO, "木月")
    tap_action(line, HANAKO, quick_replies(near[0])[0])
    with line.db.sessionmaker()() as s:
        saved = {f.slot: f.stop_id for f in s.scalars(select(LineFavourite))}
    assert saved["clinic"] == "KUR-002"
    assert "home" in saved
    line.say(HANAKO, "やめる")
    line.tap(HANAKO, "a=book")
    assert "どこで降りますか" in line.tap(HANAKO, "a=fav&slot=clinic")[0]["text"]  # straight on


def test_anything_not_understood_gets_short_help_with_the_phone(line: Line) -> None:
    line.link(HANAKO)
    phone = line.world.config.operator_phone
    sticker = line.st.event(HANAKO, "message", message={
        "id": "1", "type": "sticker", "packageId": "1", "stickerId": "1",
        "stickerResourceType": "STATIC", "quoteToken": "q"})  # fmt: skip
    for answer in (line.send(sticker), line.say(HANAKO, "こんにちは")):
        assert "わかりませんでした" in answer[0]["text"]
        assert phone in answer[0]["text"]
        assert [a["label"] for a in quick_replies(answer[0])] == [
            "予約する", "予約の確認・キャンセル", "使い方", "電話で予約"]  # fmt: skip
    card = line.tap(HANAKO, "a=phone")
    assert phone in texts(card)
    assert buttons(card[0]["contents"])[0]["uri"] == "tel:0949420000"


def test_stopping_halfway_and_starting_over(line: Line) -> None:
    line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    assert "やめました" in line.say(HANAKO, "やめる")[0]["text"]
    # a typed time, after choosing places by name
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    line.tap(HANAKO, "a=stop&id=KUR-001")
    assert "何人で乗りますか" in line.say(HANAKO, "13時半")[0]["text"]
    offer = line.say(HANAKO, "1")
    assert "13時" in texts(offer)


def test_an_unlinked_user_is_guided_and_wrong_codes_are_limited(line: Line) -> None:
    user = "U" + "c" * 32
    first = line.tap(user, "a=book")
    assert "利用者登録とつなぎます" in first[0]["text"]
    register = line.tap(user, "a=register")
    assert line.world.config.operator_phone in register[0]["text"]
    line.register("090-2222-0000")
    for left in range(4, -1, -1):
        line.say(user, "090-2222-0000")
        answer = line.say(user, "000000")
        if left:
            assert f"あと{left}回" in answer[0]["text"]
    assert "止めています" in answer[0]["text"]
    assert "止めています" in line.say(user, "090-2222-0000")[0]["text"]
    with line.db.sessionmaker()() as s:
        assert (
            s.scalars(select(rm.ResidentChannel).where(rm.ResidentChannel.kind == "line")).all()
            == []
        )


def test_the_rich_menu_is_set_up_with_its_image(line: Line) -> None:
    st = line.st
    assert st.default_rich_menu == line.channel.rich_menu_id
    menu = st.rich_menus[st.default_rich_menu]
    labels = [a["action"]["label"] for a in menu["areas"]]
    assert labels == [
        "予約する",
        "予約の確認",
        "電話で予約",
        "ごみの日",
        "質問・使い方",
        "通知の設定",
    ]
    # six tiles, three by two, covering the image without overlap
    covered = sum(a["bounds"]["width"] * a["bounds"]["height"] for a in menu["areas"])
    assert covered == menu["size"]["width"] * menu["size"]["height"]
    assert {(a["bounds"]["x"], a["bounds"]["y"]) for a in menu["areas"]} == {
        (x, y) for x in (0, 833, 1666) for y in (0, 843)
    }
    kind, png = st.rich_menu_images[st.default_rich_menu]
    assert kind == "image/png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_tile_of_the_rich_menu_answers(line: Line) -> None:
    """Each tile's postback gets its own answer (never 「わかりませんでした」): the town's
    services as much as the bus, for a linked resident and for someone not linked yet."""
    from tests.line_channel.test_garbage import _import

    _import(line)
    menu = line.st.rich_menus[line.st.default_rich_menu]
    taps = {a["action"]["label"]: a["action"]["data"] for a in menu["areas"]}
    line.link(HANAKO)  # 鞍手町大字中山 1
    expected = {
        "予約する": "乗る場所",
        "予約の確認": "予約",
        "電話で予約": "電話",
        "ごみの日": "中山のごみの日",
        "質問・使い方": "文章で送ってください",
        "通知の設定": "お知らせの設定",
    }
    for label, words in expected.items():
        said = texts(line.tap(HANAKO, taps[label]))
        assert words in said, (label, said)
        assert "わかりませんでした" not in said, label
        line.say(HANAKO, "やめる")
    # typed instead of tapped; from there, the classes and the applications a tap away
    asked = line.say(HANAKO, "質問する")
    assert "文章で送ってください" in texts(asked)
    labels = {a["label"]: a["data"] for a in quick_replies(asked[-1])}
    assert "予約できる教室や窓口はありません" in texts(line.tap(HANAKO, labels["教室・窓口の予約"]))
    assert "どの申請書ですか" in texts(line.tap(HANAKO, labels["申請(証明書など)"]))
    # not linked: the services that need no account still answer; the settings say how to link
    assert "どの地区" in texts(line.tap("U-menu-unlinked", taps["ごみの日"]))
    assert "文章で送ってください" in texts(line.tap("U-menu-unlinked", taps["質問・使い方"]))
    assert "わかりませんでした" not in texts(line.tap("U-menu-unlinked", taps["通知の設定"]))


def test_booking_for_another_day_with_the_picker(line: Line) -> None:
    line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-002")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    when = datetime(2026, 12, 4, 9, 30, tzinfo=JST).strftime("%Y-%m-%dT%H:%M")
    line.tap(HANAKO, "a=time&mode=arrive_by", datetime=when)
    offer = line.tap(HANAKO, "a=pax&n=1")
    assert "12月4日(金)" in texts(offer)
    done = line.tap(HANAKO, buttons(offer[0]["contents"])[0]["data"])
    assert "12月4日(金)" in done[0]["text"]


def test_a_typed_day_and_time_books_that_day_and_nothing_dead_ends(line: Line) -> None:
    """「明日の9時」 used to get 「時刻がわかりませんでした」 with only 今すぐ and やめる."""
    line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-002")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    lost = line.say(HANAKO, "そのうち")[0]
    assert "日時がわかりませんでした" in lost["text"]
    kinds = [i["action"]["type"] for i in lost["quickReply"]["items"]]
    assert "datetimepicker" in kinds  # the picker again, not a dead end
    asked = line.say(HANAKO, "明日")[0]  # a day alone: which time?
    assert "12月3日(木)ですね" in asked["text"]  # the test clock: Wednesday 2 December
    assert "datetimepicker" in [i["action"]["type"] for i in asked["quickReply"]["items"]]
    assert "何人で乗りますか" in line.say(HANAKO, "9時半")[0]["text"]
    offer = line.say(HANAKO, "1")
    assert "12月3日(木)" in texts(offer)
    assert "5分間お取り置きしています" in texts(offer)  # LINE's longer hold (2 min before)
    line.say(HANAKO, "やめる")
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-002")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    assert "何人で乗りますか" in line.say(HANAKO, "あさっての午後2時までに着きたい")[0]["text"]
    offer = line.say(HANAKO, "1")
    assert "12月4日(金)" in texts(offer)


def test_any_booking_is_cancelled_in_three_taps_without_swiping(line: Line) -> None:
    """Cancelling the later of two bookings used to need a sideways swipe to its card."""
    line.link(HANAKO)
    for hour in ("11時", "14時"):
        line.tap(HANAKO, "a=book")
        line.tap(HANAKO, "a=stop&id=KUR-002")
        line.tap(HANAKO, "a=stop&id=KUR-010")
        line.say(HANAKO, hour)
        offer = line.say(HANAKO, "1")
        line.tap(HANAKO, buttons(offer[0]["contents"])[0]["data"])
    mine = line.tap(HANAKO, "a=mine")  # tap 1: the rich menu's 予約の確認・キャンセル
    assert "これからの予約は2件です" in mine[0]["text"]
    later = next(
        a for a in quick_replies(mine[1]) if a["label"].startswith("取消") and "14:" in a["label"]
    )
    assert len(later["label"]) <= 20
    ask = tap_action(line, HANAKO, later)  # tap 2
    assert "この予約を取り消しますか" in ask[0]["text"]
    assert "14時" in ask[0]["text"]
    done = tap_action(line, HANAKO, quick_replies(ask[0])[0])  # tap 3: 取り消す
    assert "予約を取り消しました" in done[0]["text"]
    with line.db.sessionmaker()() as s:
        assert sorted(s.scalars(select(bm.Booking.status))) == ["cancelled", "confirmed"]


def test_a_rider_with_a_grandchild_books_their_fares_on_line(line: Line) -> None:
    """LINE booked adult fares only; a child or a disability discount meant phoning."""
    line.link(HANAKO)
    line.tap(HANAKO, "a=book")
    line.tap(HANAKO, "a=stop&id=KUR-002")
    line.tap(HANAKO, "a=stop&id=KUR-010")
    asked = line.say(HANAKO, "11時")[0]
    discount = choose(quick_replies(asked), "割引の方がいっしょ")
    q = tap_action(line, HANAKO, discount)[0]
    assert "おとな(中学生以上)は何人ですか" in q["text"]
    assert "200円" in q["text"]
    for who, n in (("adult", 1), ("child", 1), ("disability", 0), ("preschool", 0)):
        assert any(f"c={who}" in a["data"] for a in quick_replies(q))
        answer = line.tap(HANAKO, f"a=fare&c={who}&n={n}")
        q = answer[0]
    assert "300円" in texts(answer)  # 200 + 100, and who pays what
    line.tap(HANAKO, buttons(answer[0]["contents"])[0]["data"])
    with line.db.sessionmaker()() as s:
        b = s.scalars(select(bm.Booking)).one()
        assert (dict(b.passengers), b.fare_yen) == ({"adult": 1, "child": 1}, 300)
