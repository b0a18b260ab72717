"""The LINE stand-in answers the real line-bot-sdk the way LINE does (over HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import time
from typing import Any, TypeVar

import httpx
import pytest
from linebot.v3.messaging import RichMenuRequest
from linebot.v3.messaging.exceptions import ApiException

from line_channel.config import LineConfig
from line_channel.richmenu import rich_menu, rich_menu_image
from line_channel.sender import LineApi
from line_channel.standin import Standin
from tests.line_channel.conftest import SECRET, TOKEN

T = TypeVar("T")
USER = "U" + "e" * 32
HELLO = [{"type": "text", "text": "こんにちは"}]


def config(base: str, token: str = TOKEN) -> LineConfig:
    return LineConfig(
        channel_secret=SECRET, access_token=token, api_base=base, api_data_base=base,
        push_kinds=frozenset(), push_daily_cap=0, reminder_at=time(17),
        approaching_s=300, delay_notice_s=120, notifier_interval_s=0, state_ttl_s=3600,
        standin=False,
    )  # fmt: skip


def with_api(base: str, work: Callable[[LineApi], Awaitable[T]], token: str = TOKEN) -> T:
    """Run ``work`` with a fresh SDK client (aiohttp sessions belong to one event loop)."""

    async def run() -> T:
        api = LineApi(config(base, token))
        try:
            return await work(api)
        finally:
            await api.close()

    return asyncio.run(run())


def test_a_reply_token_works_once(standin: tuple[Standin, str]) -> None:
    st, base = standin
    token = st.text(USER, "やあ")["replyToken"]

    async def twice(api: LineApi) -> tuple[bool, bool]:
        return await api.reply(token, HELLO), await api.reply(token, HELLO)

    assert with_api(base, twice) == (True, False)
    assert st.bot_messages(USER) == HELLO


def test_an_expired_reply_token_is_refused(standin: tuple[Standin, str]) -> None:
    st, base = standin
    token = st.text(USER, "やあ")["replyToken"]
    st.expire_reply_tokens()
    assert with_api(base, lambda api: api.reply(token, HELLO)) is False
    assert st.bot_messages(USER) == []


def test_a_push_with_the_same_retry_key_is_delivered_once(standin: tuple[Standin, str]) -> None:
    st, base = standin
    key = "123e4567-e89b-12d3-a456-426614174000"

    async def twice(api: LineApi) -> tuple[str, str]:
        return await api.push(USER, HELLO, key), await api.push(USER, HELLO, key)

    assert with_api(base, twice) == ("sent", "accepted_before")
    assert [e.retry_key for e in st.entries(USER, sender="bot")] == [key]

    async def bad_key(api: LineApi) -> Any:
        return await api.push(USER, HELLO, "not-a-uuid")

    with pytest.raises(ApiException) as err:
        with_api(base, bad_key)
    assert err.value.status == 400


def test_a_wrong_access_token_gets_401(standin: tuple[Standin, str]) -> None:
    _, base = standin
    with pytest.raises(ApiException) as err:
        with_api(base, lambda api: api.push(USER, HELLO, "123e4567-e89b-12d3-a456-426614174001"),
                 token="wrong")  # fmt: skip
    assert err.value.status == 401


def test_messages_beyond_lines_limits_are_refused(standin: tuple[Standin, str]) -> None:
    st, base = standin
    long_label = {
        "type": "text", "text": "どちらにしますか",
        "quickReply": {"items": [{"type": "action", "action": {
            "type": "postback", "label": "とても長いラベルはLINEでは送れません。二十文字まで", "data": "a=x"}}]},
    }  # fmt: skip
    with pytest.raises(ApiException) as err:
        with_api(
            base, lambda api: api.push(USER, [long_label], "123e4567-e89b-12d3-a456-426614174002")
        )
    assert err.value.status == 400
    assert st.rejected[-1]["details"] == [{
        "message": "Length must be between 1 and 20",
        "property": "messages[0].quickReply.items[0].action.label"}]  # fmt: skip
    six = httpx.post(  # the SDK refuses six itself; LINE (and the stand-in) too
        base + "/v2/bot/message/push", json={"to": USER, "messages": HELLO * 6},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )  # fmt: skip
    assert six.status_code == 400
    assert six.json()["details"][0]["property"] == "messages"
    assert st.bot_messages(USER) == []


def test_rich_menu_and_profile(standin: tuple[Standin, str]) -> None:
    st, base = standin
    st.profiles[USER] = "はなこ"
    menu, image = rich_menu("0949-42-0000"), rich_menu_image("0949-42-0000")

    async def setup(api: LineApi) -> tuple[str, str, str | None, str | None]:
        first = await api.ensure_rich_menu(menu, image)
        second = await api.ensure_rich_menu(menu, image)  # found by name: not created again
        return first, second, await api.display_name(USER), await api.display_name("Unobody")

    first, second, name, nobody = with_api(base, setup)
    assert first == second == st.default_rich_menu
    assert len(st.rich_menus) == 1
    assert (name, nobody) == ("はなこ", None)
    wrong_size = rich_menu_image("0949-42-0000")[:16] + b"\x00\x00\x01\x00\x00\x00\x01\x00"

    async def bad_image(api: LineApi) -> None:
        other = {**menu, "name": "another"}
        created = await api.api.create_rich_menu(RichMenuRequest.from_dict(other))
        await api.blob.set_rich_menu_image(created.rich_menu_id, wrong_size,
                                           _headers={"Content-Type": "image/png"})  # fmt: skip

    with pytest.raises(ApiException) as err:
        with_api(base, bad_image)
    assert err.value.status == 400
