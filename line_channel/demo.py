"""`drt demo`'s LINE: the stand-in platform inside the app and a page to try the chat.

``/line/demo`` stands in for a resident's LINE app: a person types messages, taps quick
replies, Flex buttons and the rich menu, sends one of a few locations in Kurate, and sees
the bot's answers (replies and pushes) as the stand-in recorded them. Like the real LINE
platform, the stand-in builds each event with a reply token, signs the body with the
channel secret and posts it over HTTP to ``/v1/line/webhook``; the page only says what the
user did. (The browser does not sign: WebCrypto is unavailable on plain-HTTP pages opened
from another machine.)

Two demo users: 鞍手 花子 (already linked) and a newcomer who follows the account and links
with a one-time code; the page's 「確認コード」 button plays the operator issuing one.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from common.errors import DrtError
from common.fonts import japanese_font_file
from common.settings import Settings
from line_channel.config import STANDIN_PATH
from line_channel.standin import Standin
from residents import models as rm
from residents import service as people
from residents.schemas import PhoneNumber

DEMO_SECRET = "kurate-demo-line-channel-secret"
DEMO_TOKEN = "kurate-demo-line-access-token"


def _user_id(name: str) -> str:
    return "U" + hashlib.md5(f"kurate-demo:{name}".encode()).hexdigest()


DEMO_USERS = [  # (LINE user id, display name, phone of the resident to link at start-up)
    (_user_id("hanako"), "はなこ", "09011112222"),
    (_user_id("newcomer"), "いちろう", None),
]


def demo_settings(settings: Settings, host: str, port: int) -> Settings:
    """The demo's LINE settings: the stand-in at ``/line-standin`` of the demo's own server."""
    own = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{own}:{port}{STANDIN_PATH}"
    return settings.model_copy(
        update={
            "line_channel_secret": DEMO_SECRET,
            "line_channel_access_token": DEMO_TOKEN,
            "line_api_base": base,
            "line_api_data_base": base,
            "line_standin": True,
            "line_notifier_interval_s": 10.0,
        }
    )


def prepare_demo(app: FastAPI, standin: Standin) -> None:
    """Profiles on the stand-in; 鞍手 花子 linked to her LINE user (once)."""
    for user_id, name, phone in DEMO_USERS:
        standin.profiles[user_id] = name
        if phone is None:
            continue
        with app.state.sessions() as session:
            rid = session.scalar(select(rm.Resident.id).where(rm.Resident.phone == phone))
            if rid is not None:
                people.link_channel(session, rid, "line", user_id)
                session.commit()


class UserAction(BaseModel):
    """What the demo user did on their phone."""

    user_id: str = Field(max_length=64)
    kind: str = Field(pattern="^(follow|text|postback|location)$")
    text: str = Field("", max_length=500)
    data: str = Field("", max_length=300)
    params: dict[str, str] = {}
    display: str | None = Field(None, max_length=300)
    lat: float = Field(0.0, ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(0.0, ge=-180, le=180, allow_inf_nan=False)
    title: str | None = Field(None, max_length=100)


class CodeRequest(BaseModel):
    phone: PhoneNumber


def sample_places(app: FastAPI) -> list[dict[str, Any]]:
    """A few spots in Kurate to send as 「位置情報」 (about 60 m from a meeting point)."""
    out = []
    for stop_id, title in (("KUR-001", "役場の近く"), ("KUR-002", "町立病院の近く"),
                           ("KUR-010", "ヤクルト鞍手センターの近く"), ("KUR-033", "木月の家")):  # fmt: skip
        try:
            p = app.state.world.stops.get(stop_id)
        except DrtError:
            continue
        out.append({"title": title, "lat": round(p.lat + 0.0005, 6), "lon": round(p.lon, 6)})
    return out


def _data_block(value: Any) -> str:
    """JSON for a ``<script type="application/json">`` block (no ``</script>`` inside)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def demo_router(standin: Standin) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    here = Path(__file__).parent
    page = (here / "demo_page.html").read_text(encoding="utf-8")

    @r.get("/line/demo")
    async def demo_page(request: Request) -> HTMLResponse:
        """The page; its script and style are files (the app's CSP allows no inline code)."""
        users = [{"id": uid, "name": name, "linked": phone is not None}
                 for uid, name, phone in DEMO_USERS]  # fmt: skip
        html = page.replace("__USERS__", _data_block(users)).replace(
            "__PLACES__", _data_block(sample_places(request.app))
        )
        return HTMLResponse(html)

    @r.get("/line/demo/demo.js")
    async def script() -> FileResponse:
        return FileResponse(here / "demo_page.js", media_type="text/javascript; charset=utf-8")

    @r.get("/line/demo/demo.css")
    async def style() -> FileResponse:
        return FileResponse(here / "demo_page.css", media_type="text/css; charset=utf-8")

    @r.get("/line/demo/font.ttf")
    async def font() -> FileResponse:
        """IPAexGothic (matplotlib-fontja), for browsers without a Japanese font."""
        return FileResponse(japanese_font_file(), media_type="font/ttf")

    @r.post("/line/demo/send")
    async def send(action: UserAction, request: Request) -> JSONResponse:
        """The platform's side: build the event, sign it, post it to the webhook."""
        if action.kind == "follow":
            ev = standin.follow(action.user_id)
        elif action.kind == "text":
            ev = standin.text(action.user_id, action.text)
        elif action.kind == "postback":
            ev = standin.postback(action.user_id, action.data, action.params or None,
                                  action.display)  # fmt: skip
        else:
            ev = standin.location(action.user_id, action.lat, action.lon, action.title)
        body, signature = standin.webhook_body(ev)
        url = str(request.base_url).rstrip("/") + "/v1/line/webhook"
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(url, content=body, headers={
                "content-type": "application/json", "x-line-signature": signature})  # fmt: skip
        return JSONResponse({"webhook_status": answer.status_code})

    @r.post("/line/demo/link-code")
    def link_code(body: CodeRequest, request: Request) -> JSONResponse:
        """The operator's part: a one-time code for the resident with this phone number."""
        with request.app.state.sessions() as session:  # body.phone: its ASCII digits
            rid = session.scalar(select(rm.Resident.id).where(rm.Resident.phone == body.phone))
            admin = session.scalar(select(rm.Staff.id).where(rm.Staff.role == "admin"))
            if rid is None or admin is None:
                return JSONResponse({"error": "その電話番号の利用者はいません。"}, status_code=404)
            code = people.issue_link_code(session, people.Actor("staff", admin, "admin"), rid)
            session.commit()
        return JSONResponse({"code": code.code})

    return r
