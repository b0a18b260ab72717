"""The LINE conversation: a small state machine over the booking service.

One rider message (text, location, a tapped button, following the account) goes in; the
answer (at most five messages) comes out. Between messages the rider's state lives in
Redis with a generous time to live, because older riders pause mid-way; 「やめる」 and the
menu always start over. Everything the rider books, checks or cancels goes through the
booking service's own use cases as that resident (``Actor("resident", id, "resident")``),
so LINE bookings follow exactly the rules, idempotency and audit of every other channel.

Steps: ``link_phone`` → ``link_code`` (link the LINE user to a registered resident with an
operator-issued one-time code), then ``origin`` → ``destination`` → ``time`` →
``passengers`` → ``offer`` (Flex with 確定/やめる, or alternatives) → confirmed; and
``cancel`` (check upcoming bookings, pick one, confirm). ``home`` remembers the rider's home
meeting point.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qsl

import redis
from sqlalchemy.orm import Session, sessionmaker

from common.clock import at
from common.errors import DrtError
from common.keys import RedisKeys
from common.ratelimit import Attempts
from common.redis import RedisLock
from core import bookings
from core import schemas as s
from core.host import DispatchHost
from core.world import World
from line_channel import faq_chat, form_chat, reservation_chat, survey_chat
from line_channel import messages as msg
from line_channel import repository as repo
from line_channel import town_messages as tm
from line_channel.config import LineConfig
from line_channel.notify import skip_reminder_if_late
from line_channel.when import parse_when
from residents import service as people
from residents.profile import district
from routing.stops import MeetingPoint
from town import calendars, subscriptions
from town.garbage import GarbageAreaUnknown, find_targets

Message = msg.Message
Kind = Literal["follow", "unfollow", "text", "postback", "location", "other"]

LINK_TRIES = 5  # wrong codes per LINE user and day before linking is refused
USER_LOCK_MS = 60_000
USER_LOCK_WAIT_S = 30.0
CHOICES = 4  # places offered at once (plus 「やめる」)
SLOT_JA = {"home": "自宅", "clinic": "病院", "shop": "お店"}
SLOT_KINDS = {"clinic": ("hospital",), "shop": ("shop",)}
STOP_WORDS = {
    "やめる",
    "やめます",
    "やめて",
    "中止",
    "最初から",
    "はじめから",
    "リセット",
    "終わり",
}
SETTINGS_WORDS = {"通知の設定", "お知らせの設定", "通知", "お知らせ", "通知設定", "配信停止"}
HELP_WORDS = {"使い方", "つかいかた", "ヘルプ", "help", "?", "わからない"}
#: 「ペットボトルは何ごみ?」「電池ってなにごみ」: what kind of garbage an item is.
WHAT_GARBAGE = re.compile(r"^(.+?)(?:は|って|わ)?(?:何|なに|なん)(?:ごみ|ゴミ)(?:ですか)?[?？]*$")
#: 「ごみ」「ごみの日」「ごみ 中山」「ゴミの日 新延」: the collection days (of an area).
GARBAGE_DAYS = re.compile(r"^(?:ごみ|ゴミ)(?:の日|収集日|の収集日)?(.*)$")
PHONE = re.compile(r"^0\d{9,10}$")
CODE = re.compile(r"^\d{4,8}$")
KANJI_DIGITS = str.maketrans("一二三四五六七八", "12345678")
FARES = ("adult", "child", "disability", "preschool")  # asked in this order
QUESTION_STEPS = ("origin", "destination", "home", "time", "passengers", "fares")
LINK_STEPS = ("link_phone", "link_code")


@dataclass(frozen=True, slots=True)
class Inbound:
    """One webhook event, reduced to what the conversation needs."""

    event_id: str
    user_id: str
    kind: Kind
    text: str = ""
    data: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    lat: float | None = None
    lon: float | None = None
    display_name: str | None = None


@dataclass
class State:
    step: str = "idle"
    phone: str = ""
    origin: str = ""
    destination: str = ""
    mode: str = "asap"
    time: str = ""  # ISO 8601 with the zone; empty for 「今すぐ」
    passengers: int = 0
    saving: str = ""  # remember the next chosen place as this favourite slot
    day: str = ""  # a day typed alone (「明日」), waiting for its time of day
    fares: dict[str, int] = field(default_factory=dict)  # riders by fare, when not all adults


class StateStore:
    """Conversation state and wrong-code counts per LINE user, in Redis."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int) -> None:
        self.client, self.keys, self.ttl_s = client, RedisKeys(prefix), ttl_s

    def key(self, kind: str, user_id: str) -> str:
        return self.keys.line(kind, user_id)

    def load(self, user_id: str) -> State:
        raw = self.client.get(self.key("conv", user_id))
        if not raw:
            return State()
        try:
            return State(**json.loads(str(raw)))
        except (TypeError, ValueError):
            return State()  # an older format: start over

    def save(self, user_id: str, state: State) -> None:
        if state == State():
            self.client.delete(self.key("conv", user_id))
        else:
            self.client.set(self.key("conv", user_id), json.dumps(asdict(state)), ex=self.ttl_s)

    def link_failures(self, user_id: str) -> int:
        return int(str(self.client.get(self.key("linkfail", user_id)) or 0))

    def add_link_failure(self, user_id: str) -> int:
        key = self.key("linkfail", user_id)
        n = int(self.client.incr(key))
        self.client.expire(key, 86_400)
        return n

    def lock(self, user_id: str) -> RedisLock:
        return RedisLock(self.client, self.key("lock", user_id), USER_LOCK_MS)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("-", "")


def search_stops(world: World, query: str) -> list[MeetingPoint]:
    """Meeting points for what the rider typed (``World.search_stops``: the one search)."""
    return world.search_stops(query)


class Conversation:
    """Answers a rider's message; run in a worker thread (the service calls block)."""

    def __init__(
        self,
        config: LineConfig,
        host: DispatchHost,
        sessions: sessionmaker[Session],
        store: StateStore,
        clock: Callable[[], int],
    ) -> None:
        self.config, self.host, self.sessions, self.store, self.clock = (
            config, host, sessions, store, clock,
        )  # fmt: skip
        self.world: World = host.world
        self.phone = self.world.config.operator_phone
        self.max_passengers = max(v.seats for v in self.world.config.vehicles)
        self.stop_ids = frozenset(p.id for p in self.world.stops.points)

    def respond(self, ev: Inbound) -> list[Message]:
        """The answer to one event; the rider's lock keeps their events in order."""
        lock = self.store.lock(ev.user_id)
        if not lock.acquire(USER_LOCK_WAIT_S):
            return [msg.busy(self.phone)]
        try:
            state = self.store.load(ev.user_id)
            with self.sessions() as session:
                turn = Turn(self, session, ev, state)
                answer = turn.run()
                session.commit()
            self.store.save(ev.user_id, turn.state)
            return answer[:5]
        finally:
            lock.release()

    def current_question(self, user_id: str) -> list[Message]:
        """The question the rider is in the middle of, asked again: a push that arrives
        during a booking would otherwise take the question's buttons away (LINE shows the
        quick replies of the last message only). Nothing when no question is open."""
        state = self.store.load(user_id)
        if state.step not in QUESTION_STEPS:
            return []
        with self.sessions() as session:
            turn = Turn(self, session, Inbound(event_id="", user_id=user_id, kind="text"), state)
            if turn.resident is None:
                return []
            return [msg.back_to_question(), turn.question()]


def intent(ev: Inbound, state: State) -> tuple[str, dict[str, str]]:
    """What the rider wants: an action name and its parameters."""
    if ev.kind == "postback":
        data = dict(ev.data)
        return data.pop("a", "unknown"), {**data, **ev.params}
    if ev.kind == "location":
        return "location", {}
    if ev.kind != "text":
        return ev.kind, {}
    t = normalize(ev.text).lower()
    if t in STOP_WORDS or t.startswith("やめ"):
        return "quit", {}
    if t in HELP_WORDS or t == "使い方を見る":
        return "help", {}
    if t in ("予約する", "予約", "予約したい"):
        return "book", {}
    if t.startswith("予約の確認") or t in ("確認", "キャンセル", "取り消し", "取消"):
        return "mine", {}
    if t.startswith("電話") and state.step not in ("link_phone", "link_code"):
        return "phone", {}
    if t in ("自宅を登録", "自宅を変える", "自宅を変更", "自宅の登録"):
        return "sethome", {}
    if t in SETTINGS_WORDS:
        return "settings", {}
    if t in ("質問する", "質問", "質問・使い方", "町への質問"):
        return "ask", {}
    if (what := WHAT_GARBAGE.match(t)) is not None:
        return "garbage_what", {"item": what.group(1)}
    if (days := GARBAGE_DAYS.match(t)) is not None and state.step not in QUESTION_STEPS:
        return "garbage", {"area": days.group(1)}
    return "text", {"text": ev.text}


class Turn:
    """One event of one rider: the current state, the resident (if linked), the answer."""

    def __init__(self, conv: Conversation, session: Session, ev: Inbound, state: State) -> None:
        self.c, self.session, self.ev, self.state = conv, session, ev, state
        self.world = conv.world
        self.phone = conv.phone
        self.now_s = conv.clock()
        self.tz = self.world.config.calendar.time_zone
        self.resident = repo.resident_of(session, ev.user_id)

    def question(self) -> Message:
        """The question of the current step (one of ``QUESTION_STEPS``), asked again."""
        st = self.state
        if st.step in ("origin", "destination", "home"):
            return msg.ask_place(st.step, self._origin_name())
        if st.step == "time":
            return self.ask_time()
        if st.step == "fares":
            left = [c for c in FARES if c not in st.fares]
            return (
                msg.ask_fare(left[0], self.fare_yen(left[0]))
                if left
                else msg.ask_passengers(self.phone)
            )
        return msg.ask_passengers(self.phone)

    @property
    def actor(self) -> people.Actor:
        assert self.resident is not None
        return people.Actor("resident", self.resident.id, "resident")

    def run(self) -> list[Message]:
        if self.ev.kind == "unfollow":
            self.state = State()
            return []
        if self.ev.kind == "follow":
            return self.follow()
        action, params = intent(self.ev, self.state)
        common: dict[str, Callable[[], list[Message]]] = {
            "quit": self.quit,
            "help": lambda: [msg.help_text(self.phone)],
            "phone": lambda: [msg.phone_card(self.phone, self.hours())],
            "register": lambda: [msg.how_to_register(self.phone)],
            "garbage": lambda: self.garbage_days(params.get("area", "")),
            "garbage_what": lambda: self.garbage_what(params.get("item", "")),
            "ask": lambda: [faq_chat.prompt()],
        }
        if action in common:
            return common[action]()
        rid = self.resident.id if self.resident else None
        if action == "faq_staff":
            return faq_chat.hand_over(self.session, self.world, params, self.ev.user_id, rid,
                                      at(self.now_s))  # fmt: skip
        if rid is not None:
            chats: tuple[Callable[..., list[Message] | None], ...] = (
                survey_chat.handle,
                partial(reservation_chat.handle, host=self.c.host),
                form_chat.handle,
            )
            for chat in chats:
                found = chat(self.session, self.world, rid, action, params, self.ev.text,
                             self.now_s)  # fmt: skip
                if found is not None:
                    return found
        if action == "text" and self.state.step not in (*QUESTION_STEPS, *LINK_STEPS):
            answer = faq_chat.reply(self.session, self.world, self.ev.text, self.ev.user_id, rid,
                                    at(self.now_s))  # fmt: skip
            if answer is not None:
                return answer
        if self.resident is None:
            if action in ("settings", "sub", "unsub"):
                return [tm.needs_link(self.phone)]
            return self.unlinked(action, params)
        handlers: dict[str, Callable[[dict[str, str]], list[Message]]] = {
            "book": self.book, "mine": self.mine, "fav": self.favourite, "stop": self.stop,
            "location": self.location, "now": self.asap, "time": self.picked_time,
            "pax": self.passengers, "fares": self.ask_fares, "fare": self.fare,
            "retime": self.retime, "requote": self.requote,
            "confirm": self.confirm, "cancel": self.ask_cancel, "cancel_yes": self.cancel,
            "keep": self.keep, "sethome": self.set_home, "text": self.text, "link": self.linked,
            "settings": self.settings, "sub": self.subscribe, "unsub": self.unsubscribe,
        }  # fmt: skip
        handler = handlers.get(action)
        if handler is None:
            return [msg.help_text(self.phone, not_understood=True)]
        return handler(params)

    # -- the town's garbage days (town/; anyone, linked or not) --------------------------

    def garbage_days(self, area: str) -> list[Message]:
        """The next week's collection days of the 大字 typed, else of the resident's address."""
        try:
            cal = calendars.current(self.session)
        except calendars.NoGarbageCalendar:
            return [msg.garbage_missing(self.phone)]
        names = [a.name for a in cal.areas]
        home = district(self.resident.address) if self.resident else ""
        wanted = area.strip() or (home if home != "その他" else "")
        try:
            found = cal.area(wanted) if wanted else None
        except GarbageAreaUnknown:
            found = None
        if found is None:
            return [msg.garbage_ask_area(names)]
        today = self.local().date()
        days = cal.days(found.name, today, today + timedelta(days=6))
        return [msg.garbage_days(found.name, days, today)]

    def garbage_what(self, item: str) -> list[Message]:
        try:
            cal = calendars.current(self.session)
        except calendars.NoGarbageCalendar:
            return [msg.garbage_missing(self.phone)]
        return [msg.garbage_what(item[:30], find_targets(cal, item)[:3])]

    # -- opt-ins to the town services (town/subscriptions.py; linked residents) ----------

    def settings(self, _params: dict[str, str] | None = None) -> list[Message]:
        assert self.resident is not None
        on = {}
        for service, row in subscriptions.of(self.session, self.resident.id).items():
            opts = row.options or {}
            timing = subscriptions.TIMINGS.get(str(opts.get("timing", "")), "")
            on[service] = f"({opts['area']}、{timing})" if "area" in opts else ""
        return [tm.settings(on)]

    def subscribe(self, params: dict[str, str]) -> list[Message]:
        assert self.resident is not None
        service = params.get("s", "")
        if service not in subscriptions.SERVICES:
            return self.settings()
        if service != "garbage":
            subscriptions.subscribe(self.session, self.actor, self.resident.id, service)
            return [tm.subscribed(service)]
        try:
            cal = calendars.current(self.session)
        except calendars.NoGarbageCalendar:
            return [msg.garbage_missing(self.phone)]
        names = [a.name for a in cal.areas]
        area, timing = params.get("area", ""), params.get("t", "")
        if area not in names:
            home = district(self.resident.address, names)
            return [tm.ask_garbage_area(names, home if home in names else None)]
        if timing not in subscriptions.TIMINGS:
            return [tm.ask_garbage_timing(area)]
        options = subscriptions.garbage_options(cal, area, timing)
        subscriptions.subscribe(self.session, self.actor, self.resident.id, service, options)
        when = subscriptions.TIMINGS[timing]
        return [tm.subscribed(service, f"{area}のごみの日を、{when}にお知らせします。")]

    def unsubscribe(self, params: dict[str, str]) -> list[Message]:
        assert self.resident is not None
        service = params.get("s", "")
        if service not in subscriptions.SERVICES:
            return self.settings()
        was_on = subscriptions.unsubscribe(self.session, self.actor, self.resident.id, service)
        return [tm.unsubscribed(service, was_on)]

    # -- helpers -------------------------------------------------------------------------

    def local(self, unix_s: int | None = None) -> datetime:
        return datetime.fromtimestamp(self.now_s if unix_s is None else unix_s, self.tz)

    def hours(self) -> str:
        cal = self.world.config.calendar

        def h(t: Any) -> str:
            return f"{t.hour}時" + (f"{t.minute}分" if t.minute else "")

        return (
            f"平日 {h(cal.weekday.opens)}〜{h(cal.weekday.closes)}、"
            f"土日・祝日 {h(cal.saturday.opens)}〜{h(cal.saturday.closes)}"
        )

    def name_of(self, stop_id: str) -> str:
        return self.world.stops.get(stop_id).name

    def favourites(self) -> dict[str, str]:
        assert self.resident is not None
        return repo.favourites(self.session, self.resident.id)

    def quit(self) -> list[Message]:
        self.state = State()
        return [msg.stopped()]

    # -- following and linking ---------------------------------------------------------------

    def follow(self) -> list[Message]:
        self.state = State()
        if self.resident is not None:
            return msg.welcome_linked(self.resident.name)
        self.state.step = "link_phone"
        return msg.welcome_new(self.ev.display_name, self.phone)

    def unlinked(self, action: str, params: dict[str, str]) -> list[Message]:
        if self.c.store.link_failures(self.ev.user_id) >= LINK_TRIES:
            return [msg.link_failed(self.phone, 0)]
        text = normalize(params.get("text", ""))
        step = self.state.step
        if action == "text" and step == "link_code" and CODE.match(text):
            return self.try_code(text)
        if action == "text" and PHONE.match(text):
            self.state = State(step="link_code", phone=text)
            return [msg.ask_code()]
        self.state = State(step="link_phone")
        if action == "text" and step in ("link_phone", "link_code"):
            return [msg.text("電話番号がわかりませんでした。"), msg.ask_phone(self.phone)]
        return [
            msg.text("LINEで予約するために、はじめに町の利用者登録とつなぎます。"),
            msg.ask_phone(self.phone),
        ]

    def try_code(self, code: str) -> list[Message]:
        try:
            people.resident_login(self.session, Attempts(self.c.host.redis, self.c.host.keys),
                                  self.state.phone, code, ("line", self.ev.user_id))  # fmt: skip
        except DrtError:
            left = LINK_TRIES - self.c.store.add_link_failure(self.ev.user_id)
            self.state = State(step="link_phone")
            return [msg.link_failed(self.phone, left)]
        self.session.flush()
        self.resident = repo.resident_of(self.session, self.ev.user_id)
        assert self.resident is not None
        self.state = State()
        return msg.linked(self.resident.name)

    def linked(self, _params: dict[str, str]) -> list[Message]:
        assert self.resident is not None
        return [msg.text(f"{self.resident.name}さんの登録と、もうつながっています。",
                         *msg.menu_actions())]  # fmt: skip

    # -- choosing places -------------------------------------------------------------------------

    def book(self, _params: dict[str, str]) -> list[Message]:
        self.state = State(step="origin")
        return [msg.ask_place("origin")]

    def set_home(self, _params: dict[str, str]) -> list[Message]:
        self.state = State(step="home")
        return [msg.ask_place("home")]

    def _placing(self) -> None:
        """A place chosen outside the place steps (an old button): start a booking with it."""
        if self.state.step not in ("origin", "destination", "home"):
            self.state = State(step="origin")

    def favourite(self, params: dict[str, str]) -> list[Message]:
        self._placing()
        slot = params.get("slot", "")
        if slot not in SLOT_JA:
            return [msg.ask_place(self.state.step, self._origin_name())]
        known = self.favourites().get(slot)
        if known and known in self.c.stop_ids:
            return self.use_place(known)
        self.state.saving = slot
        kinds = SLOT_KINDS.get(slot, ())
        points = [p for p in self.world.stops.points if p.kind in kinds]
        if not points:
            return [msg.favourite_unknown(SLOT_JA[slot])]
        return [self.choices(f"{SLOT_JA[slot]}の乗る場所です。", points)]

    def choices(
        self, intro: str, points: list[MeetingPoint], notes: list[str] | None = None
    ) -> Message:
        shown = points[:CHOICES]
        rows = [(p.id, p.name, p.label, (notes or [""] * len(shown))[i])
                for i, p in enumerate(shown)]  # fmt: skip
        return msg.choose_place(intro, rows, more=len(points) > CHOICES)

    def location(self, _params: dict[str, str]) -> list[Message]:
        self._placing()
        if self.ev.lat is None or self.ev.lon is None:
            return [msg.outside_area("位置情報を読めませんでした。")]
        try:
            near = self.world.nearest_stops(self.ev.lat, self.ev.lon, CHOICES)
        except DrtError as e:
            return [msg.outside_area(e.message_ja)]
        if not near:
            return [msg.outside_area("近くに乗る場所がありません。")]
        notes = [f"(約{round(d, -1):.0f}m)" for _, d in near]
        return [self.choices("近くの乗る場所です。", [p for p, _ in near], notes)]

    def stop(self, params: dict[str, str]) -> list[Message]:
        self._placing()
        stop_id = params.get("id", "")
        if stop_id not in self.c.stop_ids:
            return [msg.nothing_found(stop_id)]
        return self.use_place(stop_id)

    def use_place(self, stop_id: str) -> list[Message]:
        assert self.resident is not None
        now = self.local().astimezone(UTC)
        st = self.state
        if st.step == "home":
            repo.save_favourite(self.session, self.resident.id, "home", stop_id, now)
            self.state = State()
            return [msg.home_saved(self.name_of(stop_id))]
        if st.step == "destination" and stop_id == st.origin:
            return [msg.same_place()]
        if st.saving:
            repo.save_favourite(self.session, self.resident.id, st.saving, stop_id, now)
            st.saving = ""
        if st.step == "origin":
            st.origin, st.step = stop_id, "destination"
            return [msg.ask_place("destination", self.name_of(stop_id))]
        st.destination, st.step = stop_id, "time"
        return [self.ask_time()]

    def _origin_name(self) -> str | None:
        return self.name_of(self.state.origin) if self.state.origin else None

    def text(self, params: dict[str, str]) -> list[Message]:
        raw = params.get("text", "")
        step = self.state.step
        if step in ("origin", "destination", "home"):
            found = search_stops(self.world, raw)
            if not found:
                return [msg.nothing_found(raw.strip()[:40])]
            return [self.choices(f"「{raw.strip()[:40]}」で見つかった乗る場所です。", found)]
        if step == "time":
            return self.typed_time(normalize(raw))
        if step == "passengers":
            n = normalize(raw).translate(KANJI_DIGITS).removesuffix("人").removesuffix("名")
            if n.isdigit():
                return self.passengers({"n": n})
            return [msg.ask_passengers(self.phone)]
        return [msg.help_text(self.phone, not_understood=True)]

    # -- time, passengers, the offer ----------------------------------------------------------

    def ask_time(self) -> Message:
        return msg.ask_time(self.name_of(self.state.origin), self.name_of(self.state.destination),
                            self.local(), self._last())  # fmt: skip

    def _have_places(self) -> bool:
        st = self.state
        return bool(st.origin and st.destination) and st.step in ("time", "passengers", "offer")

    def asap(self, _params: dict[str, str]) -> list[Message]:
        if not self._have_places():
            return self.book({})
        self.state.mode, self.state.time, self.state.step = "asap", "", "passengers"
        return [msg.ask_passengers(self.phone)]

    def picked_time(self, params: dict[str, str]) -> list[Message]:
        if not self._have_places():
            return self.book({})
        try:
            when = datetime.fromisoformat(params.get("datetime", "")).replace(tzinfo=self.tz)
        except ValueError:
            return [msg.time_not_understood(self.local(), self._last())]
        mode = params.get("mode", "depart_at")
        return self._set_time(when, "arrive_by" if mode == "arrive_by" else "depart_at")

    def _last(self) -> datetime:
        last_day = self.local().date() + timedelta(days=self.world.config.policy.book_ahead_days)
        return datetime(last_day.year, last_day.month, last_day.day, 23, 59, tzinfo=self.tz)

    def typed_time(self, text: str) -> list[Message]:
        """「明日の9時」「来週の月曜 午後3時」「10時に着きたい」「今すぐ」: never a dead end (a
        day alone asks for its time; what cannot be read offers the pickers again)."""
        now = self.local()
        when = parse_when(text, now)
        if when is None:
            return [msg.time_not_understood(now, self._last())]
        if when.mode == "asap":
            return self.asap({})
        if when.at is None:  # a day alone
            assert when.day is not None
            self.state.day = when.day.isoformat()
            return [msg.ask_time_of_day(when.day, now, self._last())]
        day = when.day or (date.fromisoformat(self.state.day) if self.state.day else None)
        moment = datetime.combine(day or now.date(), when.at, self.tz)
        return self._set_time(moment, when.mode)

    def _set_time(self, when: datetime, mode: str) -> list[Message]:
        self.state.mode, self.state.time, self.state.step = mode, when.isoformat(), "passengers"
        self.state.day = ""
        return [msg.ask_passengers(self.phone)]

    def retime(self, _params: dict[str, str]) -> list[Message]:
        if not (self.state.origin and self.state.destination):
            return self.book({})
        self.state.step = "time"
        return [self.ask_time()]

    def passengers(self, params: dict[str, str]) -> list[Message]:
        if not self._have_places():
            return self.book({})
        try:
            n = int(params.get("n", "0"))
        except ValueError:
            n = 0
        if n < 1:
            return [msg.ask_passengers(self.phone)]
        if n > self.c.max_passengers:
            return [msg.too_many(self.phone, self.c.max_passengers)]
        self.state.passengers, self.state.fares = n, {}
        return self.quote()

    def ask_fares(self, _params: dict[str, str]) -> list[Message]:
        """「割引の方がいっしょ」: how many ride at each fare, one question per fare."""
        if not self._have_places():
            return self.book({})
        self.state.step, self.state.fares = "fares", {}
        return [msg.ask_fare(FARES[0], self.fare_yen(FARES[0]))]

    def fare(self, params: dict[str, str]) -> list[Message]:
        category, n = params.get("c", ""), params.get("n", "")
        if self.state.step != "fares" or category not in FARES or not n.isdigit():
            return self.ask_fares({})
        self.state.fares[category] = int(n)
        later = FARES[FARES.index(category) + 1 :]
        if later:
            return [msg.ask_fare(later[0], self.fare_yen(later[0]))]
        total = sum(self.state.fares.values())
        if not 1 <= total <= self.c.max_passengers:
            self.state.fares = {}
            return [
                msg.too_many(self.phone, self.c.max_passengers)
                if total
                else msg.ask_passengers(self.phone)
            ]
        self.state.passengers = total
        return self.quote()

    def fare_yen(self, category: str) -> int:
        return self.world.config.fares[category]

    def requote(self, _params: dict[str, str]) -> list[Message]:
        if not self._have_places() or self.state.passengers < 1:
            return self.book({})
        return self.quote()

    def quote(self) -> list[Message]:
        assert self.resident is not None
        st = self.state
        # no wheelchairs given: the rider's record decides, as on every channel
        body = s.QuoteCreate(
            origin=st.origin, destination=st.destination, mode=st.mode,
            time=datetime.fromisoformat(st.time) if st.time else None,
            passengers=s.Passengers(**st.fares) if st.fares else s.Passengers(adult=st.passengers),
        )  # fmt: skip
        try:
            result = bookings.quote(self.c.host, self.actor, body, "line")
        except DrtError as e:
            st.step = "time"
            return [msg.refused(e.message_ja, self.phone)]
        st.step = "offer"
        hold_min = max(1, self.world.params.hold_s("line") // 60)
        if result.offer is not None:
            return msg.offer(result.offer, hold_min)
        return msg.alternatives(result.reason_ja or "", result.alternatives, self.phone)

    def confirm(self, params: dict[str, str]) -> list[Message]:
        quote_id = params.get("q", "")
        key = f"line:{self.ev.event_id}"  # a redelivered event cannot book twice
        try:
            _, answer = bookings.confirm(
                self.c.host, self.actor, s.BookingCreate(quote_id=quote_id), key, "line"
            )
        except DrtError as e:
            if e.code == "offer_expired":
                return [msg.expired(max(1, self.world.params.hold_s("line") // 60))]
            if e.code == "quote_already_used":
                return [msg.already_booked()]
            if e.code == "not_found":
                return [msg.offer_gone()]
            return [msg.refused(e.message_ja, self.phone)]
        booking = s.Booking.model_validate(answer)
        skip_reminder_if_late(
            self.session, self.world, self.c.config, booking, self.ev.user_id, self.now_s
        )
        self.state = State()
        return msg.confirmed(booking)

    # -- checking and cancelling -----------------------------------------------------------------

    def mine(self, _params: dict[str, str]) -> list[Message]:
        assert self.resident is not None
        self.state = State()
        upcoming = bookings.list_bookings(self.c.host, self.session, self.resident.id, True)
        upcoming.sort(key=lambda b: b.pickup_from)
        return msg.my_bookings(upcoming[:5])

    def ask_cancel(self, params: dict[str, str]) -> list[Message]:
        try:
            b = bookings.get_booking(self.c.host, self.session, self.actor, params.get("b", ""))
        except DrtError:
            return [msg.booking_missing()]
        if b.status == "cancelled":
            return [
                msg.text("この予約は、もう取り消されています。", msg.postback("予約の確認", "mine"))
            ]
        if b.status != "confirmed":
            return [msg.cannot_cancel("乗車中または終わった予約は取り消せません。")]
        self.state = State(step="cancel")
        return [msg.ask_cancel(b)]

    def cancel(self, params: dict[str, str]) -> list[Message]:
        self.state = State()
        try:
            b = bookings.cancel(self.c.host, self.actor, params.get("b", ""))
        except DrtError as e:
            if e.code == "not_found":
                return [msg.booking_missing()]
            return [msg.cannot_cancel(e.message_ja)]
        return [msg.cancelled(b)]

    def keep(self, _params: dict[str, str]) -> list[Message]:
        self.state = State()
        return [msg.kept()]


def inbound_data(data: str) -> dict[str, str]:
    """Postback data back into a dict (``a=confirm&q=Q…``)."""
    return dict(parse_qsl(data, keep_blank_values=True))
