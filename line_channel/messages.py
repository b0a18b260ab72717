"""What the rider sees: texts, quick replies and Flex messages, in plain Japanese.

Pure functions that return Messaging API JSON (dicts); the sender turns them into the SDK's
models. The copy follows /work/shared/UX_JA.md: short polite sentences, one decision per
message, at most about five choices, times as 「10時05分〜10時15分」, fares as 「200円」,
and the operator's phone number wherever the rider might be stuck.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from core import schemas as s
from core.guide import FARE_LABELS

Message = dict[str, Any]
WEEKDAYS = "月火水木金土日"
LABEL_MAX = 20  # LINE's limit for an action label (quick replies, rich menu)
MAX_CANCEL_BUTTONS = 8  # quick replies allow 13; a rider has few bookings ahead


# -- words for times, money and places -----------------------------------------------------


def jp_date(t: date) -> str:
    """「12月3日(木)」"""
    return f"{t.month}月{t.day}日({WEEKDAYS[t.weekday()]})"


def jp_time(t: datetime) -> str:
    """「10時05分」"""
    return f"{t.hour}時{t.minute:02d}分"


def jp_window(a: datetime, b: datetime) -> str:
    """「10時05分〜10時15分」"""
    return f"{jp_time(a)}〜{jp_time(b)}"


def yen(amount: int) -> str:
    return f"{amount:,}円"


def people(passengers: dict[str, int]) -> int:
    return sum(passengers.values())


def fare_text(fare_yen: int, passengers: dict[str, int]) -> str:
    """「200円」, or who pays what: 「400円(2人分。お一人200円)」."""
    n = people(passengers)
    if n <= 1:
        return yen(fare_yen)
    if len(passengers) == 1 and fare_yen % n == 0:
        return f"{yen(fare_yen)}({n}人分。お一人{yen(fare_yen // n)})"
    return f"{yen(fare_yen)}({n}人分)"


def label(text: str) -> str:
    """Fit a button label into LINE's 20 characters."""
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def data(action: str, **params: str | int) -> str:
    """Postback data: ``a=<action>&key=value`` (at most 300 characters)."""
    return urlencode({"a": action, **{k: str(v) for k, v in params.items()}})


# -- building blocks -----------------------------------------------------------------------


def postback(text: str, action: str, display: str | None = None, **params: str | int) -> Message:
    return {
        "type": "postback",
        "label": label(text),
        "data": data(action, **params),
        "displayText": display or text,
    }


def quick(*actions: Message) -> dict[str, Any]:
    return {"items": [{"type": "action", "action": a} for a in actions]}


def text(body: str, *actions: Message) -> Message:
    msg: Message = {"type": "text", "text": body}
    if actions:
        msg["quickReply"] = quick(*actions)
    return msg


def quit_action() -> Message:
    return postback("やめる", "quit")


def phone_action() -> Message:
    return postback("電話で予約", "phone")


def menu_actions() -> list[Message]:
    """The rich menu's four choices, as quick replies."""
    return [
        postback("予約する", "book"),
        postback("予約の確認・キャンセル", "mine", display="予約の確認"),
        postback("使い方", "help"),
        phone_action(),
    ]


def _row(key: str, value: str, big: bool = False) -> Message:
    return {
        "type": "box",
        "layout": "vertical",
        "margin": "md",
        "contents": [
            {"type": "text", "text": key, "size": "md", "color": "#555555"},
            {"type": "text", "text": value, "size": "xl" if big else "lg", "wrap": True,
             "weight": "bold" if big else "regular", "color": "#111111"},
        ],
    }  # fmt: skip


def _title(title: str) -> Message:
    return {"type": "text", "text": title, "size": "xl", "weight": "bold", "wrap": True,
            "color": "#111111"}  # fmt: skip


def _bubble(title: str, rows: list[Message], buttons: list[Message]) -> Message:
    bubble: Message = {
        "type": "bubble",
        "size": "mega",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [_title(title)],
        },
        "body": {"type": "box", "layout": "vertical", "contents": rows},
    }
    if buttons:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "md",
            "contents": [
                {"type": "button", "style": "primary" if i == 0 else "secondary",
                 "height": "md", "action": b}
                for i, b in enumerate(buttons)
            ],
        }  # fmt: skip
    return bubble


def flex(alt: str, contents: Message, *actions: Message) -> Message:
    msg: Message = {"type": "flex", "altText": alt[:400], "contents": contents}
    if actions:
        msg["quickReply"] = quick(*actions)
    return msg


# -- the conversation ----------------------------------------------------------------------


def welcome_linked(name: str) -> list[Message]:
    return [
        text(
            f"{name}さん、鞍手町のりあいバスです。\n"
            "下のメニューから「予約する」を押すと、予約ができます。",
            *menu_actions(),
        )
    ]


def welcome_new(display_name: str | None, phone: str) -> list[Message]:
    hello = f"{display_name}さん、" if display_name else ""
    return [
        text(
            f"{hello}友だち追加ありがとうございます。鞍手町のりあいバスです。\n"
            "LINEで予約するために、はじめに町の利用者登録とつなぎます。"
        ),
        ask_phone(phone),
    ]


def ask_phone(phone: str) -> Message:
    return text(
        "登録した電話番号を送ってください。\n(例: 090-1234-5678)\n\n"
        f"まだ登録していない方は「登録していない」を押してください。お電話({phone})でも予約できます。",
        postback("登録していない", "register"),
        phone_action(),
        quit_action(),
    )


def ask_code() -> Message:
    return text(
        "次に、確認コード(6けたの数字)を送ってください。\n"
        "確認コードは、受付の係が電話や窓口でお伝えします。",
        postback("確認コードがない", "register"),
        quit_action(),
    )


def link_failed(phone: str, tries_left: int) -> Message:
    if tries_left <= 0:
        return text(
            "確認コードが何度か違っていたため、LINEでの登録を止めています。\n"
            f"お手数ですが、お電話({phone})でご連絡ください。",
            phone_action(),
        )
    return text(
        "電話番号か確認コードが違うか、コードの期限(24時間)が切れています。\n"
        f"もう一度、電話番号から送ってください。あと{tries_left}回ためせます。\n"
        f"新しいコードは、お電話({phone})でお伝えします。",
        phone_action(),
        quit_action(),
    )


def linked(name: str) -> list[Message]:
    return [
        text(
            f"登録とつながりました。{name}さん、ありがとうございます。\n"
            "これからはLINEで予約・確認・取り消しができます。",
            postback("予約する", "book"),
            postback("使い方", "help"),
        )
    ]


def how_to_register(phone: str) -> Message:
    return text(
        "利用者登録は、お電話か役場の窓口でできます。\n"
        f"電話: {phone}\n"
        "登録のときに「LINEで予約したい」とお伝えください。確認コードをお伝えします。\n"
        "登録がなくても、お電話で予約できます。",
        phone_action(),
        postback("電話番号を送る", "link"),
    )


def phone_card(phone: str, hours: str) -> Message:
    digits = "".join(ch for ch in phone if ch.isdigit())
    bubble = _bubble(
        "電話で予約",
        [_row("電話番号", phone, big=True), _row("受付時間", hours)],
        [{"type": "uri", "label": "電話をかける", "uri": f"tel:{digits}"}],
    )
    return flex(f"電話で予約: {phone}({hours})", bubble, *menu_actions()[:3])


def help_text(phone: str, not_understood: bool = False) -> Message:
    intro = "すみません、わかりませんでした。\n" if not_understood else ""
    return text(
        f"{intro}鞍手町のりあいバスのLINEの使い方です。\n"
        "・「予約する」: 乗る場所、降りる場所、時間、人数を順にお聞きします。\n"
        "・「予約の確認・キャンセル」: これからの予約を見たり、取り消したりできます。\n"
        "・「ごみの日」: 地区のごみの収集日をお知らせします。「電池は何ごみ」とも聞けます。\n"
        "・「質問する」: 町やバスのことを、文章で聞けます(24時間)。担当者にもつなげます。\n"
        "・「教室」: スマホ教室や窓口の予約ができます。「申請」: 証明書などを、窓口で書かずに申し込めます。\n"
        "・「通知の設定」: ごみの日や町からのお知らせを、LINEで受け取るか選べます。\n"
        "・とちゅうでやめるときは「やめる」と送ってください。\n"
        f"・わからないときは、お電話({phone})でどうぞ。",
        *menu_actions(),
    )


def stopped() -> Message:
    return text("やめました。また使うときは、メニューを押してください。", *menu_actions())


def busy(phone: str) -> Message:
    return text(
        "ただいま混み合っています。少し待ってから、もう一度送ってください。\n"
        f"お急ぎのときは、お電話({phone})でどうぞ。",
        phone_action(),
    )


def sorry(phone: str) -> Message:
    return text(
        "すみません、うまく受け付けられませんでした。もう一度お試しください。\n"
        f"お急ぎのときは、お電話({phone})でどうぞ。",
        phone_action(),
    )


# -- choosing a place ------------------------------------------------------------------------


def place_actions() -> list[Message]:
    """Send a location, or a favourite (home, clinic, shop), or stop."""
    return [
        {"type": "location", "label": "位置情報を送る"},
        postback("自宅", "fav", slot="home"),
        postback("病院", "fav", slot="clinic"),
        postback("お店", "fav", slot="shop"),
        quit_action(),
    ]


def ask_place(step: str, origin_name: str | None = None) -> Message:
    if step == "origin":
        head = "どこから乗りますか?\n乗る場所(乗降ポイント)を選びます。"
    elif step == "destination":
        head = f"どこで降りますか?\n(乗る場所: {origin_name})"
    else:
        head = "自宅の近くの乗る場所を選びます。"
    return text(
        f"{head}\n"
        "・「位置情報を送る」を押すと、近くの乗る場所をお知らせします。\n"
        "・「役場」「郵便局」のように、名前を送っても探せます。",
        *place_actions(),
    )


def choose_place(
    intro: str, places: list[tuple[str, str, str, str]], more: bool = False
) -> Message:
    """A numbered list (id, name, short name, note) with the full names, and one quick reply
    per place with its short name (at most 16 characters: a button shows it uncut)."""
    lines = [f"{i}. {name}{note}" for i, (_, name, _, note) in enumerate(places, 1)]
    tail = "\nほかにもあります。もう少しくわしい名前を送っても探せます。" if more else ""
    return text(
        f"{intro}\n" + "\n".join(lines) + f"\n番号のボタンを押してください。{tail}",
        *[postback(f"{i}. {short}", "stop", display=name, id=pid)
          for i, (pid, name, short, _) in enumerate(places, 1)],
        quit_action(),
    )  # fmt: skip


def nothing_found(query: str) -> Message:
    return text(
        f"「{query}」という乗る場所は見つかりませんでした。\n"
        "別の言葉で送るか、「位置情報を送る」を押してください。",
        *place_actions(),
    )


def outside_area(message_ja: str) -> Message:
    return text(
        f"{message_ja}\n鞍手町の中で、乗る場所を選んでください。",
        *place_actions(),
    )


def favourite_unknown(slot_ja: str) -> Message:
    return text(
        f"「{slot_ja}」の乗る場所を、まだ覚えていません。\n"
        "近くで「位置情報を送る」を押すか、名前を送ってください。\n"
        f"選んだ場所を「{slot_ja}」として覚えます。",
        *place_actions(),
    )


def same_place() -> Message:
    return text(
        "乗る場所と同じ場所です。降りる場所は、別の場所を選んでください。",
        *place_actions(),
    )


def home_saved(name: str) -> Message:
    return text(f"「{name}」を自宅として覚えました。", *menu_actions())


# -- time and passengers -----------------------------------------------------------------------


def _pickers(now: datetime, last: datetime, day: date | None = None) -> list[dict[str, Any]]:
    """The two date-and-time pickers (departure, arrival), opening on ``day`` if given."""
    start = min((int(now.timestamp()) // 900 + 1) * 900, int(last.timestamp()))
    initial = datetime.fromtimestamp(start, now.tzinfo)
    if day is not None and day > now.date():
        initial = datetime.combine(day, time(9, 0), now.tzinfo)
    fmt = "%Y-%m-%dT%H:%M"
    picker: dict[str, Any] = {
        "type": "datetimepicker", "mode": "datetime", "initial": initial.strftime(fmt),
        "min": now.strftime(fmt), "max": last.strftime(fmt),
    }  # fmt: skip
    return [
        {**picker, "label": "日時を選ぶ", "data": data("time", mode="depart_at")},
        {**picker, "label": "着きたい時刻で選ぶ", "data": data("time", mode="arrive_by")},
    ]


def ask_time(place_from: str, place_to: str, now: datetime, last: datetime) -> Message:
    return text(
        f"いつ乗りますか?\n({place_from} → {place_to})\n"
        "「今すぐ」か「日時を選ぶ」を押してください。\n"
        "「明日の9時」「12月5日 午後2時」のように送ってもかまいません。",
        postback("今すぐ", "now"),
        *_pickers(now, last),
        quit_action(),
    )


def time_not_understood(now: datetime, last: datetime) -> Message:
    return text(
        "日時がわかりませんでした。「日時を選ぶ」を押して選ぶか、"
        "「明日の9時」「あさって 午後2時半」のように送ってください。",
        postback("今すぐ", "now"),
        *_pickers(now, last),
        quit_action(),
    )


def ask_time_of_day(day: date, now: datetime, last: datetime) -> Message:
    return text(
        f"{jp_date(day)}ですね。何時ごろに乗りますか?\n"
        "「9時」「午後2時半」のように送るか、「日時を選ぶ」を押してください。",
        *_pickers(now, last, day),
        quit_action(),
    )


def back_to_question() -> Message:
    return text("(ご予約の続きです)")


def ask_passengers(phone: str) -> Message:
    return text(
        "何人で乗りますか?\n(ご本人を入れた人数です)\n"
        "お子さまや障がい者手帳をお持ちの方がいっしょのときは、「割引の方がいっしょ」を押してください。",
        *[postback(f"{n}人", "pax", n=n) for n in (1, 2, 3, 4)],
        postback("割引の方がいっしょ", "fares"),
        quit_action(),
    )


def ask_fare(category: str, fare_yen: int) -> Message:
    return text(
        f"{FARE_LABELS[category]}は何人ですか?\n(お一人 {yen(fare_yen)})",
        *[postback(f"{n}人", "fare", c=category, n=n) for n in (0, 1, 2, 3, 4)],
        quit_action(),
    )


def too_many(phone: str, limit: int) -> Message:
    return text(
        f"LINEでは{limit}人までご予約できます。それより多いときは、お電話({phone})でご相談ください。",
        *[postback(f"{n}人", "pax", n=n) for n in (1, 2, 3, 4)],
        phone_action(),
    )


# -- the offer and the booking -----------------------------------------------------------------


def _trip_rows(
    origin: str, destination: str, pickup: str, dropoff: str, passengers: dict[str, int], fare: int
) -> list[Message]:
    return [
        _row("乗る場所", origin),
        _row("お迎え", pickup, big=True),
        _row("降りる場所", destination),
        _row("着く時刻(めやす)", dropoff),
        _row("人数", f"{people(passengers)}人"),
        _row("料金(乗るときにお支払い)", fare_text(fare, passengers)),
    ]


def offer_bubble(o: s.Offer, title: str, button: str) -> Message:
    pickup = f"{jp_date(o.pickup_from)}\n{jp_window(o.pickup_from, o.pickup_to)}のあいだ"
    rows = _trip_rows(o.origin.name, o.destination.name, pickup,
                      f"{jp_time(o.dropoff_estimate)}ごろ", o.passengers, o.fare_yen)  # fmt: skip
    return _bubble(
        title,
        rows,
        [postback(button, "confirm", display=button, q=o.quote_id), quit_action()],
    )


def offer_alt(o: s.Offer) -> str:
    return (
        f"{jp_date(o.pickup_from)} {jp_window(o.pickup_from, o.pickup_to)}のあいだにお迎え。"
        f"{o.origin.name}→{o.destination.name}、{fare_text(o.fare_yen, o.passengers)}"
    )


def offer(o: s.Offer, hold_min: int) -> list[Message]:
    return [
        flex(
            "この内容で予約しますか? " + offer_alt(o),
            offer_bubble(o, "この内容で予約しますか?", "予約を確定する"),
        ),
        text(
            f"よければ「予約を確定する」を押してください。\n{hold_min}分間お取り置きしています。",
        ),
    ]


def alternatives(reason_ja: str, offers: list[s.Offer], phone: str) -> list[Message]:
    retry = [postback("別の時間にする", "retime"), phone_action(), quit_action()]
    if not offers:
        return [
            text(
                f"{reason_ja}\n別の時間を選ぶか、お電話({phone})でご相談ください。",
                *retry,
            )
        ]
    carousel = {
        "type": "carousel",
        "contents": [offer_bubble(o, f"ご提案 {i}", "この時間で予約する")
                     for i, o in enumerate(offers, 1)],
    }  # fmt: skip
    return [
        text(f"{reason_ja}\nかわりに、次の時間なら予約できます。"),
        flex("ご提案: " + " / ".join(offer_alt(o) for o in offers), carousel, *retry),
    ]


def refused(message_ja: str, phone: str) -> Message:
    return text(
        f"{message_ja}\nお困りのときは、お電話({phone})でどうぞ。",
        postback("別の時間にする", "retime"),
        phone_action(),
        quit_action(),
    )


def booking_lines(b: s.Booking) -> str:
    return (
        f"予約番号: {b.reservation_number}\n"
        f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)}のあいだに、"
        f"「{b.origin.name}」へお迎えに行きます。\n"
        f"降りる場所: {b.destination.name}\n"
        f"人数: {people(b.passengers)}人\n"
        f"料金: {fare_text(b.fare_yen, b.passengers)}(乗るときにお支払いください)"
    )


HOW_TO_CANCEL = "取り消すときは、メニューの「予約の確認・キャンセル」を押してください。"


def confirmed(b: s.Booking) -> list[Message]:
    return [
        text(
            f"ご予約が確定しました。\n{booking_lines(b)}\n\n{HOW_TO_CANCEL}",
            postback("予約の確認", "mine"),
            postback("もう1件予約する", "book"),
        )
    ]


def expired(hold_min: int) -> Message:
    return text(
        f"お取り置きの時間({hold_min}分)が過ぎました。もう一度お調べしますか?",
        postback("もう一度調べる", "requote"),
        quit_action(),
    )


def already_booked() -> Message:
    return text(
        "このご提案は、もう予約が確定しています。",
        postback("予約の確認", "mine"),
        postback("予約する", "book"),
    )


def offer_gone() -> Message:
    return text(
        "このご提案は見つかりませんでした。お手数ですが、はじめから予約してください。",
        postback("予約する", "book"),
    )


# -- checking and cancelling ---------------------------------------------------------------------


def booking_bubble(b: s.Booking) -> Message:
    pickup = f"{jp_window(b.pickup_from, b.pickup_to)}のあいだ"
    rows = [
        _row("お迎え", pickup, big=True),
        _row("乗る場所", b.origin.name),
        _row("降りる場所", b.destination.name),
        _row("人数・料金", f"{people(b.passengers)}人・{fare_text(b.fare_yen, b.passengers)}"),
        _row("予約番号", b.reservation_number),
    ]
    if b.status == "onboard":
        rows.insert(0, _row("いまの状態", "乗車中"))
    buttons = []
    if b.status == "confirmed":
        buttons.append(postback("この予約を取り消す", "cancel", display="取り消したい", b=b.id))
    return _bubble(jp_date(b.pickup_from), rows, buttons)


def my_bookings(bookings: list[s.Booking]) -> list[Message]:
    if not bookings:
        return [text("これからの予約はありません。", postback("予約する", "book"))]
    carousel = {"type": "carousel", "contents": [booking_bubble(b) for b in bookings]}
    alt = " / ".join(
        f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)} "
        f"{b.origin.name}→{b.destination.name}"
        for b in bookings
    )
    # cancelling in three taps, without swiping through the cards: one button per booking
    cancels = [postback(f"取消 {b.pickup_from.month}/{b.pickup_from.day} {b.pickup_from:%H:%M} {b.origin.name}",
                        "cancel", display=f"{jp_date(b.pickup_from)} {jp_time(b.pickup_from)}の予約を取り消したい",
                        b=b.id) for b in bookings[:MAX_CANCEL_BUTTONS] if b.status == "confirmed"]  # fmt: skip
    return [
        text(f"これからの予約は{len(bookings)}件です。取り消すときは、下のボタンからも選べます。"),
        flex(
            "これからの予約: " + alt,
            carousel,
            *cancels,
            postback("予約する", "book"),
            quit_action(),
        ),
    ]


def ask_cancel(b: s.Booking) -> Message:
    return text(
        "この予約を取り消しますか?\n"
        f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)}\n"
        f"{b.origin.name} → {b.destination.name}",
        postback("取り消す", "cancel_yes", b=b.id),
        postback("取り消さない", "keep"),
    )


def cancelled(b: s.Booking) -> Message:
    return text(
        "予約を取り消しました。\n"
        f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)}\n"
        f"{b.origin.name} → {b.destination.name}\n"
        "またのご利用をお待ちしています。",
        *menu_actions()[:2],
    )


def kept() -> Message:
    return text("予約はそのままです。", *menu_actions()[:2])


def cannot_cancel(message_ja: str) -> Message:
    return text(message_ja, phone_action(), postback("予約の確認", "mine"))


def booking_missing() -> Message:
    return text("その予約は見つかりませんでした。", postback("予約の確認", "mine"))


# -- notifications (push) ------------------------------------------------------------------------


def notice_confirmed(b: s.Booking) -> list[Message]:
    how = "お電話" if b.channel == "phone" else "アプリ"
    return [text(f"{how}でのご予約を承りました。\n{booking_lines(b)}\n\n{HOW_TO_CANCEL}")]


def notice_reminder(b: s.Booking) -> list[Message]:
    return [text(f"明日のご予約のお知らせです。\n{booking_lines(b)}\n\n{HOW_TO_CANCEL}")]


def notice_approaching(b: s.Booking, minutes: int) -> list[Message]:
    return [
        text(
            f"まもなく、のりあいバスが「{b.origin.name}」に着きます(あと{minutes}分ほど)。\n"
            f"乗る場所でお待ちください。\n予約番号: {b.reservation_number}"
        )
    ]


def notice_delay(b: s.Booking, eta: datetime, phone: str) -> list[Message]:
    return [
        text(
            "のりあいバスが遅れています。申し訳ありません。\n"
            f"「{b.origin.name}」には{jp_time(eta)}ごろ着く見込みです。\n"
            f"(お約束の時間: {jp_window(b.pickup_from, b.pickup_to)})\n"
            f"ご不明な点は、お電話({phone})でどうぞ。"
        )
    ]


def notice_stranded(b: s.Booking, phone: str) -> list[Message]:
    return [
        text(
            "申し訳ありません。お迎えの車が、故障などで運休になりました。\n"
            f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)}\n"
            f"{b.origin.name} → {b.destination.name}\n"
            "ほかの車も空いていないため、このままではお迎えに行けません。\n"
            f"受付の係からお電話します。お急ぎのときは、お電話({phone})でご相談ください。",
            phone_action(),
        )
    ]


def notice_cancelled(b: s.Booking, phone: str) -> list[Message]:
    return [
        text(
            "ご予約が、受付の係によって取り消されました。\n"
            f"{jp_date(b.pickup_from)} {jp_window(b.pickup_from, b.pickup_to)}\n"
            f"{b.origin.name} → {b.destination.name}\n"
            f"くわしくは、お電話({phone})でおたずねください。",
            postback("予約する", "book"),
            phone_action(),
        )
    ]


# -- the town's garbage days --------------------------------------------------------------

WEEKDAYS_JA = "月火水木金土日"


def _md(d: date) -> str:
    return f"{d.month}月{d.day}日({WEEKDAYS_JA[d.weekday()]})"


def garbage_missing(phone: str) -> Message:
    return text(f"ごみの収集日の情報は、まだありません。役場({phone})にお問い合わせください。")


def garbage_ask_area(areas: list[str]) -> Message:
    """Which 大字: a button for each (at most 12), or type 「ごみ 中山」."""
    return text(
        "どの地区(大字)のごみの日をお知らせしますか。\n"
        "ボタンを押すか、「ごみ 中山」のように地区の名前を送ってください。",
        *[postback(a, "garbage", display=f"ごみ {a}", area=a) for a in areas[:12]],
        quit_action(),
    )


def garbage_days(area: str, days: list[tuple[date, str]], today: date) -> Message:
    """The next week's collection days of an area, a line per day."""
    by_day: dict[date, list[str]] = {}
    for d, category in days:
        by_day.setdefault(d, []).append(category)
    if not by_day:
        return text(f"{area}は、これから1週間、ごみの収集はありません。")
    lines = [
        f"{'きょう ' if d == today else 'あした ' if d == today + timedelta(days=1) else ''}"
        f"{_md(d)}: {'、'.join(cats)}"
        for d, cats in sorted(by_day.items())
    ]
    return text(f"{area}のごみの日(これから1週間)です。\n" + "\n".join(lines))


def garbage_what(item: str, targets: list[Any]) -> Message:
    """What kind of garbage: the best matches of target.csv, with how to put them out."""
    if not targets:
        return text(
            f"「{item}」は見つかりませんでした。別の言い方で送ってみてください(例:「電池は何ごみ」)。"
        )
    lines = [f"{t.name}: {t.category}" + (f"({t.notice})" if t.notice else "") for t in targets]
    return text("\n".join(lines))
