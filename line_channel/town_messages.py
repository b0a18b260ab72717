"""LINE messages of the town services: garbage reminders, notices, the opt-in settings.

Plain Japanese for older residents (../shared/UX_JA.md): one thing per message, the day
written out, how to stop said every time.
"""

from __future__ import annotations

from datetime import date

from line_channel.messages import Message, _md, postback, quit_action, text
from town.subscriptions import SERVICES, TIMINGS

SETTINGS = "通知の設定"


def garbage_reminder(area: str, day: date, categories: tuple[str, ...], today: date) -> Message:
    when = "きょう" if day == today else "あした"
    return text(
        f"【ごみの日】{when} {_md(day)}は、{area}の「{'」「'.join(categories)}」の日です。\n"
        "朝8時までに出してください。\n"
        f"(このお知らせを止めるときは「{SETTINGS}」と送ってください)"
    )


def notice(title: str, body: str, emergency: bool) -> Message:
    head = "【緊急・鞍手町】" if emergency else "【鞍手町からのお知らせ】"
    return text(
        f"{head}{title}\n{body}\n(お知らせを止めるときは「{SETTINGS}」と送ってください)"[:4900]
    )


def settings(on: dict[str, str]) -> Message:
    """Each service on or off (``on``: service -> a line about its options), a button each."""
    lines, buttons = [], []
    for service, (ja, _) in SERVICES.items():
        if service in on:
            lines.append(f"・{ja}: 受け取る{on[service]}")
            buttons.append(
                postback(f"{ja}をやめる"[:20], "unsub", display=f"{ja}をやめる", s=service)
            )
        else:
            lines.append(f"・{ja}: 受け取らない")
            buttons.append(
                postback(f"{ja}を受け取る"[:20], "sub", display=f"{ja}を受け取る", s=service)
            )
    return text(
        "町からのLINEのお知らせの設定です。\n" + "\n".join(lines)
        + "\nボタンで、受け取るか止めるかを選べます。いつでも変えられます。",
        *buttons, quit_action(),
    )  # fmt: skip


def ask_garbage_area(areas: list[str], home: str | None) -> Message:
    if home:
        return text(
            f"{home}のごみの日をお知らせしてよいですか。",
            postback(f"{home}でよい", "sub", display=f"{home}でよい", s="garbage", area=home),
            *[postback(a, "sub", s="garbage", area=a) for a in areas[:10] if a != home],
            quit_action(),
        )
    return text(
        "どの地区(大字)のごみの日をお知らせしますか。ボタンで選んでください。",
        *[postback(a, "sub", s="garbage", area=a) for a in areas[:12]],
        quit_action(),
    )


def ask_garbage_timing(area: str) -> Message:
    return text(
        f"{area}のごみの日を、いつお知らせしますか。\n"
        "・前の日の夜(夜7時ごろ)\n・当日の朝(朝6時半ごろ)",
        *[postback(ja, "sub", s="garbage", area=area, t=t) for t, ja in TIMINGS.items()],
        quit_action(),
    )


def subscribed(service: str, detail: str = "") -> Message:
    ja = SERVICES[service][0]
    return text(
        f"「{ja}」を受け取るようにしました。{detail}\n止めるときは「{SETTINGS}」と送ってください。"
    )


def unsubscribed(service: str, was_on: bool) -> Message:
    ja = SERVICES[service][0]
    if not was_on:
        return text(f"「{ja}」は、もともと受け取らない設定です。")
    return text(f"「{ja}」を止めました。また受け取るときは「{SETTINGS}」と送ってください。")


def needs_link(phone: str) -> Message:
    return text(
        "お知らせを受け取るには、はじめに町の利用者登録とLINEの連携が必要です。\n"
        f"「予約する」を押すと連携の手順をご案内します。わからないときはお電話({phone})でどうぞ。",
        postback("連携する", "book", display="予約する"),
        quit_action(),
    )
