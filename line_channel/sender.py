"""The Messaging API through line-bot-sdk v3 (async client), pointed at ``line_api_base``.

Replies use the event's reply token; a token that can no longer be used (expired, already
used, a redelivered event) makes the caller fall back to a push. Pushes carry an
``X-Line-Retry-Key``: LINE (and the stand-in) accept a key once and answer 409 to a
repeat, so a push retried after a lost answer is never delivered twice.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    RichMenuRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from common.logfmt import masked
from line_channel.config import LineConfig

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


class LineApi:
    """One channel's Messaging API clients (created in the app's lifespan, closed with it)."""

    def __init__(self, config: LineConfig) -> None:
        token = config.access_token
        self._client = AsyncApiClient(Configuration(host=config.api_base, access_token=token))
        self._data = AsyncApiClient(Configuration(host=config.api_data_base, access_token=token))
        self.api = AsyncMessagingApi(self._client)
        self.blob = AsyncMessagingApiBlob(self._data)

    async def close(self) -> None:
        await self._client.close()
        await self._data.close()

    @staticmethod
    def _models(messages: list[dict[str, Any]]) -> list[Any]:
        return [Message.from_dict(m) for m in messages]

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> bool:
        """True if replied; False if the reply token cannot be used any more."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=self._models(messages))
        try:
            await self.api.reply_message(request, _request_timeout=TIMEOUT_S)
        except ApiException as e:
            if e.status == 400 and "reply token" in str(e.body or "").lower():
                return False
            raise
        return True

    async def push(
        self, user_id: str, messages: list[dict[str, Any]], retry_key: str
    ) -> Literal["sent", "accepted_before"]:
        request = PushMessageRequest(to=user_id, messages=self._models(messages))
        try:
            await self.api.push_message(request, x_line_retry_key=retry_key,
                                        _request_timeout=TIMEOUT_S)  # fmt: skip
        except ApiException as e:
            if e.status == 409:  # this retry key was accepted before: delivered once already
                return "accepted_before"
            raise
        return "sent"

    async def display_name(self, user_id: str) -> str | None:
        try:
            profile = await self.api.get_profile(user_id, _request_timeout=TIMEOUT_S)
        except (ApiException, aiohttp.ClientError, TimeoutError) as e:
            log.info("LINE profile of %s not available: %s", masked(user_id), type(e).__name__)
            return None
        name = getattr(profile, "display_name", None)
        return str(name) if name else None

    async def ensure_rich_menu(self, menu: dict[str, Any], image_png: bytes) -> str:
        """Create the menu (once per content) with its image and make it everyone's default."""
        existing = await self.api.get_rich_menu_list(_request_timeout=TIMEOUT_S)
        found = [m.rich_menu_id for m in existing.richmenus if m.name == menu["name"]]
        if found:
            menu_id = str(found[0])
        else:
            created = await self.api.create_rich_menu(
                RichMenuRequest.from_dict(menu), _request_timeout=TIMEOUT_S
            )
            menu_id = str(created.rich_menu_id)
            await self.blob.set_rich_menu_image(
                menu_id, image_png, _headers={"Content-Type": "image/png"},
                _request_timeout=TIMEOUT_S,
            )  # fmt: skip
        await self.api.set_default_rich_menu(menu_id, _request_timeout=TIMEOUT_S)
        return menu_id
