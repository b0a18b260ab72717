"""Reservations from LINE (town/reservations.py): a linked resident asks for 「教室」 (or the
help desk, a counter appointment), picks one of the coming events with room, reserves a
place (or one on the waiting list), and is offered the bus there and back in one tap:
both legs quoted by the dispatcher (arriving before the start, leaving after the end, from
their home stop), both confirmed by the one button. 「教室の予約の確認」 lists what they
hold, with a button to cancel each (the bus booked with it is cancelled too).

Pushes (found due by the notifier's tick, sent once each by key): the event's reminders
(「あした 10時00分から…」), a place that came free for someone waiting, and an event the
town called off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import at
from common.errors import DrtError
from core import bookings as trips
from core import schemas as s
from core.host import DispatchHost
from core.world import World
from line_channel import messages as msg
from line_channel import repository as repo
from line_channel.messages import Message
from line_channel.town_push import TownPush
from residents.service import Actor
from town import reservations as rv
from town.models import TownEvent, TownReservation

ACTIONS = ("ev_list", "ev_show", "ev_book", "ev_rides", "ev_norides", "ev_mine", "ev_cancel",
           "ev_cancel_yes")  # fmt: skip
LIST_WORDS = ("教室", "スマホ教室", "教室の予約", "窓口の予約", "相談窓口", "窓口", "講座",
              "スマホ相談", "デジタル相談")  # fmt: skip
MINE_WORDS = (
    "教室の予約の確認",
    "予約した教室",
    "教室の確認",
    "教室のキャンセル",
    "窓口の予約の確認",
)
MAX_EVENTS = 5  # events offered at once (quick replies: one decision per message)
DAYS_AHEAD = 30


def _words(text: str) -> str:
    return "".join(text.split()).removesuffix("。")


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int, host: DispatchHost | None = None,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a reservation (a typed 「教室」, one of our
    buttons), else None (the chat goes on)."""
    if action == "text":
        typed = _words(text)
        if typed in MINE_WORDS:
            action = "ev_mine"
        elif typed in LIST_WORDS:
            action = "ev_list"
    if action not in ACTIONS:
        return None
    return ReservationTurn(session, world, resident_id, now_s, host).run(action, params)


class ReservationTurn:
    def __init__(self, session: Session, world: World, resident_id: str, now_s: int,
                 host: DispatchHost | None) -> None:  # fmt: skip
        self.session, self.world, self.rid, self.host = session, world, resident_id, host
        self.now = at(now_s)
        self.tz = world.config.calendar.time_zone
        self.phone = world.config.operator_phone
        self.actor = Actor("resident", resident_id, "resident")

    def run(self, action: str, params: dict[str, str]) -> list[Message]:
        handlers: dict[str, Callable[[], list[Message]]] = {
            "ev_list": self.listing,
            "ev_show": lambda: self.show(params.get("e", "")),
            "ev_book": lambda: self.book(params.get("e", "")),
            "ev_rides": lambda: self.rides(params),
            "ev_norides": self.no_rides,
            "ev_mine": self.mine,
            "ev_cancel": lambda: self.ask_cancel(params.get("r", "")),
            "ev_cancel_yes": lambda: self.cancel(params.get("r", "")),
        }
        try:
            return handlers[action]()
        except DrtError as e:
            return [msg.text(f"{e.message_ja}\nわからないときは、お電話({self.phone})でどうぞ。",
                             msg.phone_action(), msg.quit_action())]  # fmt: skip

    def no_rides(self) -> list[Message]:
        return [
            msg.text("わかりました。バスが要るときは「予約する」からどうぞ。", *msg.menu_actions())
        ]

    # -- words ---------------------------------------------------------------------------

    def when(self, e: TownEvent) -> str:
        return when(e, self.tz)

    def short(self, e: TownEvent) -> str:
        a = e.starts_at.astimezone(self.tz)
        return f"{a.month}/{a.day} {a.hour}:{a.minute:02d} {e.title}"

    # -- choosing and reserving -----------------------------------------------------------

    def listing(self) -> list[Message]:
        events = rv.listing(self.session, self.now, self.now + timedelta(days=DAYS_AHEAD),
                            open_only=True)  # fmt: skip
        have = rv.counts(self.session, [e.id for e in events])
        room = [e for e in events if have[e.id].taken < e.capacity
                or have[e.id].waiting < e.waitlist][:MAX_EVENTS]  # fmt: skip
        if not room:
            return [msg.text(f"これから{DAYS_AHEAD}日の間に、予約できる教室や窓口はありません。\n"
                             f"お問い合わせは、お電話({self.phone})でどうぞ。",
                             msg.phone_action(), msg.quit_action())]  # fmt: skip
        lines = [f"・{self.when(e)} {e.title}" for e in room]
        return [msg.text("予約できる教室・窓口です。えらんでください。\n" + "\n".join(lines),
                         *[msg.postback(self.short(e), "ev_show", e=e.id) for e in room],
                         msg.quit_action())]  # fmt: skip

    def show(self, event_id: str) -> list[Message]:
        e = rv.get_event(self.session, event_id)
        c = rv.counts(self.session, [e.id])[e.id]
        free = e.capacity - c.taken
        seats = (
            f"あと{free}席"
            if free > 0
            else f"満席(キャンセル待ち あと{max(0, e.waitlist - c.waiting)}人)"
        )
        body = (f"{e.title}\n日時: {self.when(e)}\n場所: {e.place}\n{seats}"
                + (f"\n{e.note}" if e.note else ""))  # fmt: skip
        button = "予約する" if free > 0 else "キャンセル待ちをする"
        return [msg.text(body, msg.postback(button, "ev_book", e=e.id), msg.quit_action())]

    def book(self, event_id: str) -> list[Message]:
        try:
            row, _ = rv.reserve(self.session, self.actor, event_id, self.rid, "line", self.now)
        except rv.EventFull as full:
            others = [rv.get_event(self.session, i) for i in full.details.get("next_events", [])]
            return [msg.text("満席で、キャンセル待ちもいっぱいです。" + ("ほかの日はいかがですか。" if others else ""),
                             *[msg.postback(self.short(o), "ev_show", e=o.id) for o in others],
                             msg.quit_action())]  # fmt: skip
        e = rv.get_event(self.session, row.event_id)
        if row.status == "waiting":
            place = [i for i, _ in rv.waiting_order(self.session, e.id)].index(row.id) + 1
            return [msg.text(f"キャンセル待ちにしました({place}番目)。\n{e.title} {self.when(e)}\n"
                             "空きが出たら、LINEでお知らせします。", *msg.menu_actions())]  # fmt: skip
        done = msg.text(f"予約しました。\n{e.title}\n日時: {self.when(e)}\n場所: {e.place}\n"
                        "前の日に、LINEでお知らせします。")  # fmt: skip
        return [done, *self.offer_rides(row, e)]

    # -- the bus there and back ------------------------------------------------------------

    def home(self, e: TownEvent) -> str | None:
        home = repo.favourites(self.session, self.rid).get("home")
        if home and home != e.stop_id:
            return home
        return trips.usual_origin(self.session, self.rid, not_at=e.stop_id)

    def offer_rides(self, row: TownReservation, e: TownEvent) -> list[Message]:
        """Both legs quoted; one button books both. Nothing offered when the place has no
        meeting point, the resident no home stop, or a leg has no offer."""
        home = self.home(e)
        if self.host is None or not e.stop_id or not home:
            return []
        try:
            there, back = trips.round_trip(self.host, self.actor, self.rid, home, e.stop_id,
                                           e.starts_at, e.ends_at, s.Passengers(adult=1), "line")  # fmt: skip
        except DrtError:
            return []
        legs = [q.offer or (q.alternatives[0] if q.alternatives else None) for q in (there, back)]
        if legs[0] is None or legs[1] is None:
            return [msg.text("バスの行き帰りは、この時間には取れませんでした。"
                             f"お電話({self.phone})でもご相談ください。", *msg.menu_actions())]  # fmt: skip
        go, come = legs[0], legs[1]
        lines = (f"行き: {msg.jp_window(go.pickup_from.astimezone(self.tz), go.pickup_to.astimezone(self.tz))}にお迎え"
                 f"({go.origin.short_name}→{go.destination.short_name})\n"
                 f"帰り: {msg.jp_window(come.pickup_from.astimezone(self.tz), come.pickup_to.astimezone(self.tz))}にお迎え"
                 f"({come.origin.short_name}→{come.destination.short_name})\n"
                 f"料金: 行き{msg.yen(go.fare_yen)}・帰り{msg.yen(come.fare_yen)}")  # fmt: skip
        return [msg.text("のりあいバスで行き帰りしますか。\n" + lines,
                         msg.postback("バスも予約する", "ev_rides", r=row.id, q1=go.quote_id, q2=come.quote_id),
                         msg.postback("バスはいらない", "ev_norides"))]  # fmt: skip

    def rides(self, params: dict[str, str]) -> list[Message]:
        row = rv.get_reservation(self.session, self.actor, params.get("r", ""))
        if self.host is None:
            return [msg.sorry(self.phone)]
        booked = []
        for qid in (params.get("q1", ""), params.get("q2", "")):
            try:  # one key per reservation and quote: a tapped-twice button books once
                _, answer = trips.confirm(self.host, self.actor, s.BookingCreate(quote_id=qid),
                                          f"line-reservation:{row.id}:{qid}", "line")  # fmt: skip
            except DrtError as e:
                if e.code == "offer_expired":
                    return [msg.text("バスのご提案の時間が切れました。「予約する」から、もう一度お申し込みください。",
                                     *msg.menu_actions())]  # fmt: skip
                raise
            booked.append(s.Booking.model_validate(answer))
        rv.set_rides(self.session, row, [b.id for b in booked])
        return [msg.text("バスも予約しました。\n" + "\n".join(msg.booking_lines(b) for b in booked),
                         *msg.menu_actions())]  # fmt: skip

    # -- what one holds ---------------------------------------------------------------------

    def mine(self) -> list[Message]:
        held = rv.mine(self.session, self.rid, self.now)
        if not held:
            return [msg.text("予約している教室・窓口はありません。「教室」と送ると、予約できるものを見られます。",
                             msg.postback("教室を見る", "ev_list"), msg.quit_action())]  # fmt: skip
        lines = [f"・{self.when(e)} {e.title}({rv.STATUS_JA[r.status]})" for r, e in held]
        return [msg.text("予約している教室・窓口です。\n" + "\n".join(lines),
                         *[msg.postback(f"取消 {self.short(e)}", "ev_cancel", r=r.id) for r, e in held[:MAX_EVENTS]],
                         msg.quit_action())]  # fmt: skip

    def ask_cancel(self, reservation_id: str) -> list[Message]:
        r = rv.get_reservation(self.session, self.actor, reservation_id)
        e = rv.get_event(self.session, r.event_id)
        rides = "\nいっしょに予約したバスも取り消します。" if r.rides else ""
        return [msg.text(f"{e.title} {self.when(e)} の予約を取り消しますか。{rides}",
                         msg.postback("取り消す", "ev_cancel_yes", r=r.id), msg.postback("取り消さない", "quit"))]  # fmt: skip

    def cancel(self, reservation_id: str) -> list[Message]:
        row, _ = rv.cancel(self.session, self.actor, reservation_id, self.now)
        e = rv.get_event(self.session, row.event_id)
        for booking_id in row.rides or []:
            if self.host is None:
                break
            try:
                trips.cancel(self.host, self.actor, booking_id)
            except DrtError:  # ridden, or already cancelled
                continue
        also = "\nいっしょに予約したバスも取り消しました。" if row.rides else ""
        return [msg.text(f"取り消しました。\n{e.title} {self.when(e)}{also}", *msg.menu_actions())]


# -- pushes ------------------------------------------------------------------------------------


def when(e: TownEvent, tz: tzinfo, today: date | None = None) -> str:
    """「12月4日(金) 10時00分〜11時30分」, with 「きょう」 or 「あした」 before it when ``today``
    is given and the event is then."""
    a, b = e.starts_at.astimezone(tz), e.ends_at.astimezone(tz)
    day = a.date()
    near = "" if today is None else "きょう " if day == today else (
        "あした " if day == today + timedelta(days=1) else "")  # fmt: skip
    return f"{near}{msg.jp_date(day)} {msg.jp_window(a, b)}"


def _pushes(session: Session, kind: str, items: Iterable[tuple[str, str, str]]) -> list[TownPush]:
    """(key, resident id, text) → one push per LINE user of the resident."""
    items = list(items)
    links = repo.links_of(session, {rid for _, rid, _ in items})
    return [TownPush(f"{key}:{link.user_id}", kind, link.user_id, [msg.text(body)])
            for key, rid, body in items for link in links.get(rid, [])]  # fmt: skip


def due_reminders(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Reminders of reserved events, places that came free for those waiting, and events
    called off, due at ``now_s`` (each once, by key)."""
    now, tz = at(now_s), world.config.calendar.time_zone
    today = world.config.calendar.local_date(now_s)

    def near(e: TownEvent) -> str:
        return when(e, tz, today)

    items = [(d.key, d.reservation.resident_id,
              f"【教室・窓口のお知らせ】{near(d.event)}は「{d.event.title}」です。\n場所: {d.event.place}\n"
              "行けなくなったときは「教室の予約の確認」から取り消せます。")
             for d in rv.due_reminders(session, now, tz)]  # fmt: skip
    soon = now + timedelta(days=DAYS_AHEAD)
    recent = now - timedelta(days=1)
    for r, e in session.execute(
        select(TownReservation, TownEvent).join(TownEvent, TownEvent.id == TownReservation.event_id)
        .where(TownEvent.starts_at > now, TownEvent.starts_at <= soon,
               TownReservation.status == "booked", TownReservation.promoted_at > recent)
    ).all():  # fmt: skip
        if r.promoted_at is not None:
            items.append((f"promoted:{r.id}:{int(r.promoted_at.timestamp())}", r.resident_id,
                          f"【教室・窓口】キャンセル待ちの「{e.title}」({near(e)})に空きが出て、"
                          "予約が取れました。行けないときは「教室の予約の確認」から取り消してください。"))  # fmt: skip
    for r, e in session.execute(
        select(TownReservation, TownEvent).join(TownEvent, TownEvent.id == TownReservation.event_id)
        .where(TownEvent.status == "cancelled", TownEvent.starts_at > now,
               TownEvent.cancelled_at > recent, TownReservation.cancelled_at == TownEvent.cancelled_at)
    ).all():  # fmt: skip
        items.append((f"eventoff:{r.id}", r.resident_id,
                      f"【教室・窓口】申し訳ありません。「{e.title}」({near(e)})は取りやめになりました。"
                      f"ご予約は取り消しました。お問い合わせは、お電話({world.config.operator_phone})でどうぞ。"))  # fmt: skip
    return _pushes(session, "reservation", items)
