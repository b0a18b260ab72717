"""A local stand-in for the LINE platform: the Messaging API endpoints the project calls,
and the platform's side of webhooks (events with reply tokens, signed bodies).

There is no internet here, and the tests must exercise the real SDK, so this is an HTTP
service the SDK talks to through ``Configuration(host=...)``:

- ``POST /v2/bot/message/reply``: reply tokens are single-use and expire
  (``reply_ttl_s``, 60 s by default, on the stand-in's own clock); a bad one gets
  ``400 {"message": "Invalid reply token"}`` like LINE.
- ``POST /v2/bot/message/push``: honours ``X-Line-Retry-Key`` (a UUID): the same key again
  is not delivered a second time and gets ``409`` with ``x-line-accepted-request-id``.
- Rich menus: create, list, upload the image (``/v2/bot/richmenu/{id}/content``, PNG or
  JPEG of the menu's exact size, at most 1 MB), set and get the default.
- ``GET /v2/bot/profile/{userId}``.

Every call needs ``Authorization: Bearer <channel access token>``. Messages are checked
against the limits that LINE enforces and this project could break (1–5 messages per
request, text length, quick reply count and label length, postback data, Flex alt text),
answered with LINE's error shape; everything delivered is recorded per user.

The platform's side (:meth:`Standin.event` and friends) builds webhook events as LINE
sends them (``webhookEventId``, ``deliveryContext.isRedelivery``, a fresh reply token) and
signs bodies with the channel secret. ``GET /_standin/log`` shows a user's conversation
(the demo page polls it). Not covered: LINE's rate limits, message quota accounting,
media messages and every other endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_IMAGE_BYTES = 1_000_000
LABEL_MAX = 20  # quick reply and rich menu action labels
FLEX_LABEL_MAX = 40  # button labels inside Flex messages


def sign(channel_secret: str, body: bytes) -> str:
    """The ``x-line-signature`` of a webhook body: base64(HMAC-SHA256(secret, body))."""
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _ulid() -> str:
    millis = int(time.time() * 1000)
    head = "".join(ULID_ALPHABET[(millis >> (5 * i)) & 31] for i in range(9, -1, -1))
    return head + "".join(secrets.choice(ULID_ALPHABET) for _ in range(16))


@dataclass
class Entry:
    """One line of a user's conversation as the stand-in saw it."""

    seq: int
    user_id: str
    sender: str  # "user" (sent to the bot) or "bot"
    via: str  # "event", "reply" or "push"
    messages: list[dict[str, Any]]
    retry_key: str | None = None
    at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "user_id": self.user_id, "from": self.sender, "via": self.via,
                "messages": self.messages, "retry_key": self.retry_key, "at": self.at}  # fmt: skip


@dataclass
class Standin:
    """The state of one stand-in LINE platform (one channel)."""

    channel_secret: str
    access_token: str
    reply_ttl_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    profiles: dict[str, str] = field(default_factory=dict)  # user id → display name
    log: list[Entry] = field(default_factory=list)
    reply_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = field(default_factory=dict)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menu_images: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    default_rich_menu: str | None = None
    rejected: list[dict[str, Any]] = field(default_factory=list)  # refused API calls
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- the platform's side: events as LINE sends them ------------------------------------

    def event(self, user_id: str, kind: str, note: dict[str, Any] | None = None,
              **content: Any) -> dict[str, Any]:  # fmt: skip
        """A webhook event from ``user_id`` with a fresh reply token (not for unfollow).

        ``note`` is what the user's phone shows for it (recorded in the conversation log).
        """
        ev: dict[str, Any] = {
            "type": kind,
            "mode": "active",
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": _ulid(),
            "deliveryContext": {"isRedelivery": False},
            **content,
        }
        if kind != "unfollow":
            token = secrets.token_hex(16)
            with self._lock:
                self.reply_tokens[token] = (user_id, self.clock() + self.reply_ttl_s)
            ev["replyToken"] = token
        if note is not None:
            self._record(user_id, "user", "event", [note])
        return ev

    def follow(self, user_id: str) -> dict[str, Any]:
        return self.event(user_id, "follow", {"type": "follow"}, follow={"isUnblocked": False})

    def text(self, user_id: str, text: str) -> dict[str, Any]:
        message = {"id": secrets.token_hex(8), "type": "text", "text": text,
                   "quoteToken": secrets.token_hex(8)}  # fmt: skip
        return self.event(user_id, "message", {"type": "text", "text": text}, message=message)

    def location(
        self, user_id: str, lat: float, lon: float, title: str | None = None
    ) -> dict[str, Any]:
        message = {"id": secrets.token_hex(8), "type": "location", "latitude": lat,
                   "longitude": lon, "title": title, "address": title or "位置情報"}  # fmt: skip
        note = {"type": "location", "latitude": lat, "longitude": lon, "title": title}
        return self.event(user_id, "message", note, message=message)

    def postback(
        self, user_id: str, data: str, params: dict[str, str] | None = None,
        display: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """A tapped postback button; ``display`` is its displayText (shown as the user's)."""
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        note = {"type": "text", "text": display} if display else None
        return self.event(user_id, "postback", note, postback=postback)

    @staticmethod
    def redelivery(event: dict[str, Any]) -> dict[str, Any]:
        """The same event sent again (same webhookEventId and reply token), as LINE does."""
        return {**event, "deliveryContext": {"isRedelivery": True}}

    def expire_reply_tokens(self) -> None:
        """Let every reply token issued so far run out (as if the bot answered too late)."""
        with self._lock:
            self.reply_tokens = {t: (u, 0.0) for t, (u, _) in self.reply_tokens.items()}

    def webhook_body(self, *events: dict[str, Any]) -> tuple[bytes, str]:
        """A webhook request body and its ``x-line-signature``."""
        body = json.dumps({"destination": "Ubot-standin", "events": list(events)},
                          ensure_ascii=False).encode()  # fmt: skip
        return body, sign(self.channel_secret, body)

    # -- what was delivered ------------------------------------------------------------------

    def _record(
        self, user_id: str, sender: str, via: str, messages: list[dict[str, Any]],
        retry_key: str | None = None,
    ) -> None:  # fmt: skip
        with self._lock:
            self.log.append(Entry(len(self.log) + 1, user_id, sender, via, messages, retry_key,
                                  time.time()))  # fmt: skip

    def entries(self, user_id: str, since: int = 0, sender: str | None = None) -> list[Entry]:
        with self._lock:
            return [e for e in self.log if e.user_id == user_id and e.seq > since
                    and (sender is None or e.sender == sender)]  # fmt: skip

    def bot_messages(self, user_id: str, since: int = 0) -> list[dict[str, Any]]:
        """Every message the bot sent the user, in order."""
        return [m for e in self.entries(user_id, since, "bot") for m in e.messages]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return len(self.log)

    # -- the Messaging API ----------------------------------------------------------------------

    def router(self) -> APIRouter:
        return standin_router(self)


def _error(status: int, message: str, details: list[dict[str, str]] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def _action_problems(action: dict[str, Any], where: str, label_max: int) -> list[dict[str, str]]:
    problems = []
    lab = action.get("label")
    if action.get("type") != "location" and lab is None and label_max == LABEL_MAX:
        problems.append({"message": "must be specified", "property": f"{where}.label"})
    if lab is not None and not 1 <= len(str(lab)) <= label_max:
        problems.append({"message": f"Length must be between 1 and {label_max}",
                         "property": f"{where}.label"})  # fmt: skip
    if action.get("type") == "postback":
        if not 1 <= len(str(action.get("data", ""))) <= 300:
            problems.append({"message": "Length must be between 1 and 300",
                             "property": f"{where}.data"})  # fmt: skip
        if len(str(action.get("displayText", ""))) > 300:
            problems.append({"message": "Length must be between 0 and 300",
                             "property": f"{where}.displayText"})  # fmt: skip
    if action.get("type") == "uri" and not str(action.get("uri", "")).startswith(
        ("http://", "https://", "tel:", "line:")
    ):
        problems.append({"message": "invalid uri", "property": f"{where}.uri"})
    return problems


def _flex_actions(node: Any, where: str) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            problems += _action_problems(node["action"], f"{where}.action", FLEX_LABEL_MAX)
        for k, v in node.items():
            if k != "action":
                problems += _flex_actions(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            problems += _flex_actions(v, f"{where}[{i}]")
    return problems


def message_problems(messages: Any) -> list[dict[str, str]]:
    """The limits of LINE this project could break, in LINE's error ``details`` shape."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [{"message": "Size must be between 1 and 5", "property": "messages"}]
    problems = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        kind = m.get("type") if isinstance(m, dict) else None
        if kind == "text":
            if not 1 <= len(str(m.get("text", ""))) <= 5000:
                problems.append({"message": "Length must be between 1 and 5000",
                                 "property": f"{where}.text"})  # fmt: skip
        elif kind == "flex":
            if not 1 <= len(str(m.get("altText", ""))) <= 400:
                problems.append({"message": "Length must be between 1 and 400",
                                 "property": f"{where}.altText"})  # fmt: skip
            contents = m.get("contents", {})
            if (
                contents.get("type") == "carousel"
                and not 1 <= len(contents.get("contents", [])) <= 12
            ):
                problems.append({"message": "Size must be between 1 and 12",
                                 "property": f"{where}.contents.contents"})  # fmt: skip
            elif contents.get("type") not in ("bubble", "carousel"):
                problems.append({"message": "invalid type", "property": f"{where}.contents.type"})
            problems += _flex_actions(contents, f"{where}.contents")
        elif kind not in ("sticker", "location", "image", "template"):
            problems.append({"message": "invalid type", "property": f"{where}.type"})
            continue
        items = (m.get("quickReply") or {}).get("items")
        if items is not None:
            if not 1 <= len(items) <= 13:
                problems.append({"message": "Size must be between 1 and 13",
                                 "property": f"{where}.quickReply.items"})  # fmt: skip
            for j, item in enumerate(items):
                problems += _action_problems(item.get("action", {}),
                                             f"{where}.quickReply.items[{j}].action", LABEL_MAX)  # fmt: skip
    return problems


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def _bearer_route(access_token: str) -> type[APIRoute]:
    """A route class that answers 401 like LINE unless the channel access token is sent."""

    class BearerRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def checked(request: Request) -> Response:
                if request.headers.get("authorization") != f"Bearer {access_token}":
                    return _error(401, "Authentication failed due to the following reason: "
                                  "invalid token. Confirm that the access token in the "
                                  "authorization header is valid.")  # fmt: skip
                return await handler(request)

            return checked

    return BearerRoute


def standin_router(st: Standin) -> APIRouter:
    """The stand-in's endpoints (mount under any prefix; the SDK's host includes it)."""
    r = APIRouter(include_in_schema=False, route_class=_bearer_route(st.access_token))
    inspect = APIRouter(include_in_schema=False)  # the stand-in's own pages: no token

    async def json_body(request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def refuse(path: str, body: Any, problems: list[dict[str, str]]) -> JSONResponse:
        st.rejected.append({"path": path, "body": body, "details": problems})
        return _error(400, f"The request body has {len(problems)} error(s)", problems)

    def sent(n: int) -> list[dict[str, str]]:
        return [{"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_hex(16)}
                for _ in range(n)]  # fmt: skip

    @r.post("/v2/bot/message/reply")
    async def reply(request: Request) -> JSONResponse:
        body = await json_body(request)
        if body is None:
            return _error(400, "The request body has 1 error(s)")
        problems = message_problems(body.get("messages"))
        if problems:
            return refuse("reply", body, problems)
        with st._lock:
            user_and_expiry = st.reply_tokens.pop(str(body.get("replyToken")), None)
        if user_and_expiry is None or user_and_expiry[1] < st.clock():
            st.rejected.append({"path": "reply", "body": body, "details": "invalid reply token"})
            return _error(400, "Invalid reply token")
        st._record(user_and_expiry[0], "bot", "reply", body["messages"])
        return JSONResponse({"sentMessages": sent(len(body["messages"]))},
                            headers={"x-line-request-id": str(uuid.uuid4())})  # fmt: skip

    @r.post("/v2/bot/message/push")
    async def push(request: Request) -> JSONResponse:
        body = await json_body(request)
        if body is None or not str(body.get("to", "")).startswith("U"):
            return _error(400, "The property, 'to', in the request body is invalid")
        problems = message_problems(body.get("messages"))
        if problems:
            return refuse("push", body, problems)
        key = request.headers.get("x-line-retry-key")
        if key is not None:
            try:
                uuid.UUID(key)
            except ValueError:
                return _error(400, "The value of the X-Line-Retry-Key header is invalid")
        with st._lock:
            before = st.retry_keys.get(key) if key else None
            if before is None:
                request_id, messages = str(uuid.uuid4()), sent(len(body["messages"]))
                if key:
                    st.retry_keys[key] = (request_id, messages)
        if before is not None:
            return JSONResponse({"message": "The retry key is already accepted",
                                 "sentMessages": before[1]}, status_code=409,
                                headers={"x-line-accepted-request-id": before[0]})  # fmt: skip
        st._record(str(body["to"]), "bot", "push", body["messages"], key)
        return JSONResponse({"sentMessages": messages}, headers={"x-line-request-id": request_id})

    @r.post("/v2/bot/richmenu")
    async def create_rich_menu(request: Request) -> JSONResponse:
        body = await json_body(request) or {}
        size = body.get("size", {})
        problems = []
        if not (800 <= size.get("width", 0) <= 2500 and size.get("height", 0) >= 250
                and size.get("width", 0) / max(size.get("height", 1), 1) >= 1.45):  # fmt: skip
            problems.append({"message": "invalid size", "property": "size"})
        if not 1 <= len(str(body.get("chatBarText", ""))) <= 14:
            problems.append({"message": "Length must be between 1 and 14",
                             "property": "chatBarText"})  # fmt: skip
        areas = body.get("areas", [])
        if not 1 <= len(areas) <= 20:
            problems.append({"message": "Size must be between 1 and 20", "property": "areas"})
        for i, a in enumerate(areas):
            problems += _action_problems(a.get("action", {}), f"areas[{i}].action", LABEL_MAX)
        if problems:
            return refuse("richmenu", body, problems)
        menu_id = "richmenu-" + secrets.token_hex(16)
        with st._lock:
            st.rich_menus[menu_id] = {"richMenuId": menu_id, **body}
        return JSONResponse({"richMenuId": menu_id})

    @r.get("/v2/bot/richmenu/list")
    async def list_rich_menus() -> JSONResponse:
        with st._lock:
            return JSONResponse({"richmenus": list(st.rich_menus.values())})

    @r.post("/v2/bot/richmenu/{menu_id}/content")
    async def upload_image(menu_id: str, request: Request) -> JSONResponse:
        menu = st.rich_menus.get(menu_id)
        if menu is None:
            return _error(404, "Not found")
        kind = request.headers.get("content-type", "")
        data = await request.body()
        if kind not in ("image/png", "image/jpeg") or len(data) > MAX_IMAGE_BYTES:
            return _error(400, "The image must be a PNG or JPEG of at most 1 MB")
        size = _png_size(data) if kind == "image/png" else None
        want = (menu["size"]["width"], menu["size"]["height"])
        if kind == "image/png" and size != want:
            return _error(400, f"The image size {size} does not match the rich menu size {want}")
        with st._lock:
            if menu_id in st.rich_menu_images:
                return _error(400, "An image has already been uploaded to the rich menu")
            st.rich_menu_images[menu_id] = (kind, data)
        return JSONResponse({})

    @r.post("/v2/bot/user/all/richmenu/{menu_id}")
    async def set_default(menu_id: str) -> JSONResponse:
        if menu_id not in st.rich_menus:
            return _error(404, "Not found")
        if menu_id not in st.rich_menu_images:
            return _error(400, "must upload richmenu image before applying it to user")
        st.default_rich_menu = menu_id
        return JSONResponse({})

    @r.get("/v2/bot/user/all/richmenu")
    async def get_default() -> JSONResponse:
        if st.default_rich_menu is None:
            return _error(404, "no default richmenu")
        return JSONResponse({"richMenuId": st.default_rich_menu})

    @r.get("/v2/bot/profile/{user_id}")
    async def profile(user_id: str) -> JSONResponse:
        name = st.profiles.get(user_id)
        if name is None:
            return _error(404, "Not found")
        return JSONResponse({"userId": user_id, "displayName": name, "language": "ja"})

    @inspect.get("/_standin/log")
    async def conversation(user_id: str, since: int = 0) -> JSONResponse:
        return JSONResponse([e.as_json() for e in st.entries(user_id, since)])

    @inspect.get("/_standin/richmenu")
    async def default_menu() -> JSONResponse:
        menu = st.rich_menus.get(st.default_rich_menu or "")
        return JSONResponse(menu or {})

    r.include_router(inspect)
    return r


def create_standin_app(st: Standin) -> FastAPI:
    """The stand-in as an app of its own (tests serve it with uvicorn on a free port)."""
    app = FastAPI(title="LINE platform stand-in", docs_url=None, redoc_url=None)
    app.include_router(standin_router(st))
    return app
