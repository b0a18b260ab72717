"""``POST /v1/line/webhook`` and the LINE channel's part of the app's lifespan.

The flow of one webhook request, top to bottom:

1. verify ``x-line-signature`` over the raw body (line-bot-sdk's ``WebhookParser``): a bad
   or missing signature is ``400 line_signature_invalid`` and nothing is processed;
2. answer ``200`` at once; the events are handled in a task of their own (not tied to the
   request, so the next webhook on the same connection is not held up), one rider's events
   in the order they came;
3. per event: claim its ``webhookEventId`` in ``line_webhook_events`` (a redelivered or
   duplicate event that was handled already stops here), run the conversation in a worker
   thread (the booking service's calls block on the writer lock and the database), then
4. reply with the event's reply token; if LINE no longer takes it, push the answer once,
   with an ``X-Line-Retry-Key`` derived from the event id;
5. mark the event done.

:func:`line_router` builds the router that ``server.app.create_app`` includes; its
lifespan creates the async Messaging API client, sets up the rich menu and runs the
notifier. With ``line_standin`` (``drt demo``) it also serves the LINE stand-in at
``/line-standin`` and the demo page at ``/line/demo``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

import aiohttp
import anyio
import redis
import redis.asyncio
from fastapi import APIRouter, FastAPI, Request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhooks import (
    FollowEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)
from sqlalchemy.orm import Session, sessionmaker

from common.clock import at
from common.errors import DrtError
from common.settings import Settings
from core.host import DispatchHost
from line_channel import messages as msg
from line_channel import repository as repo
from line_channel.config import STANDIN_PATH, LineConfig
from line_channel.conversation import Conversation, Inbound, StateStore, inbound_data
from line_channel.notify import Notifier, Pusher
from line_channel.richmenu import rich_menu, rich_menu_image
from line_channel.sender import LineApi
from line_channel.standin import Standin, standin_router

log = logging.getLogger(__name__)
RICH_MENU_TRIES = 6


class LineSignatureInvalid(DrtError):
    code = "line_signature_invalid"
    http_status = 400


class LineBodyInvalid(DrtError):
    code = "line_body_invalid"
    http_status = 400


class LineNotConfigured(DrtError):
    code = "line_not_configured"
    http_status = 503


def to_inbound(ev: Any) -> tuple[Inbound, str | None, bool] | None:
    """(the event for the conversation, its reply token, is it a redelivery), or None for
    events the channel does not answer (groups, joins, beacons...)."""
    source = getattr(ev, "source", None)
    user_id = getattr(source, "user_id", None)
    event_id = getattr(ev, "webhook_event_id", None)
    if not user_id or not event_id or getattr(source, "type", "user") != "user":
        return None
    context = getattr(ev, "delivery_context", None)
    redelivery = bool(getattr(context, "is_redelivery", False))
    token = getattr(ev, "reply_token", None)
    base = Inbound(event_id=event_id, user_id=user_id, kind="other")
    if isinstance(ev, FollowEvent):
        inbound = replace(base, kind="follow")
    elif isinstance(ev, UnfollowEvent):
        inbound = replace(base, kind="unfollow")
    elif isinstance(ev, PostbackEvent):
        params = {k: str(v) for k, v in (ev.postback.params or {}).items()}
        inbound = replace(base, kind="postback", data=inbound_data(ev.postback.data or ""),
                          params=params)  # fmt: skip
    elif isinstance(ev, MessageEvent) and isinstance(ev.message, TextMessageContent):
        inbound = replace(base, kind="text", text=ev.message.text or "")
    elif isinstance(ev, MessageEvent) and isinstance(ev.message, LocationMessageContent):
        inbound = replace(base, kind="location", lat=ev.message.latitude,
                          lon=ev.message.longitude)  # fmt: skip
    elif isinstance(ev, MessageEvent):
        inbound = base  # a sticker, a photo...: the short help text
    else:
        return None
    return inbound, token, redelivery


class LineChannel:
    """Everything the channel runs in one app process."""

    def __init__(
        self, config: LineConfig, host: DispatchHost, sessions: sessionmaker[Session],
        client: redis.Redis, aclient: redis.asyncio.Redis, prefix: str, clock: Callable[[], int],
    ) -> None:  # fmt: skip
        self.config, self.host, self.sessions, self.redis, self.clock = (
            config, host, sessions, client, clock,
        )  # fmt: skip
        self.aredis = aclient  # what the event loop talks to Redis with
        self.phone = host.world.config.operator_phone
        self.parser = WebhookParser(config.channel_secret)
        self.api = LineApi(config)
        self.store = StateStore(client, prefix, config.state_ttl_s)
        self.conversation = Conversation(config, host, sessions, self.store, clock)
        self.pusher = Pusher(self.api, sessions, host.world, clock)
        self.notifier = Notifier(config, host, sessions, self.pusher, clock,
                                 follow_up=self.conversation.current_question)  # fmt: skip
        self.rich_menu_id: str | None = None
        self.rich_menu_ready = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()  # rich menu set-up, notifier
        self._handling: set[asyncio.Task[None]] = set()  # webhook events being handled
        self._riders: dict[str, asyncio.Lock] = {}  # one per LINE user seen (a town's worth)

    # -- webhook events ---------------------------------------------------------------------

    def parse(self, body: bytes, signature: str | None) -> list[Any]:
        """The events of a webhook body whose signature is right; raises otherwise."""
        bad = LineSignatureInvalid(
            "署名(x-line-signature)が正しくありません。",
            "The x-line-signature header is missing or does not match the body.",
        )
        if not signature:
            raise bad
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise bad from None
        try:
            return list(self.parser.parse(text, signature))
        except InvalidSignatureError:
            raise bad from None
        except (ValueError, KeyError, TypeError):
            raise LineBodyInvalid(
                "LINE からの内容を読めませんでした。", "The webhook body is not a LINE webhook."
            ) from None

    def accept(self, events: list[Any]) -> None:
        """Start handling a webhook's events; the webhook answers without waiting."""
        task = asyncio.create_task(self.handle(events))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def drain(self) -> None:
        """Wait until every accepted event has been handled (tests, shutdown)."""
        while self._handling:
            await asyncio.gather(*list(self._handling), return_exceptions=True)

    async def handle(self, events: list[Any]) -> None:
        """Handle a request's events in order (a failure never stops the next event)."""
        for ev in events:
            user_id = str(getattr(getattr(ev, "source", None), "user_id", None) or "")
            try:
                async with self._riders.setdefault(user_id, asyncio.Lock()):
                    await self.handle_event(ev)
            except Exception:
                log.exception("LINE event %s failed", getattr(ev, "webhook_event_id", "?"))

    def _claim(self, inbound: Inbound, redelivery: bool) -> bool:
        with self.sessions() as session:
            fresh = repo.claim_event(session, inbound.event_id, inbound.user_id, inbound.kind,
                                     redelivery, at(self.clock()))  # fmt: skip
            session.commit()
            return fresh

    def _finish(self, event_id: str) -> None:
        with self.sessions() as session:
            repo.finish_event(session, event_id, at(self.clock()))
            session.commit()

    async def handle_event(self, ev: Any) -> None:
        found = to_inbound(ev)
        if found is None:
            return
        inbound, token, redelivery = found
        if not await anyio.to_thread.run_sync(self._claim, inbound, redelivery):
            log.info("LINE event %s was handled before (redelivery: %s)", inbound.event_id,
                     redelivery)  # fmt: skip
            return
        try:
            if inbound.kind == "follow":
                inbound = replace(
                    inbound, display_name=await self.api.display_name(inbound.user_id)
                )
            try:
                answer = await anyio.to_thread.run_sync(self.conversation.respond, inbound)
            except Exception:
                log.exception("LINE conversation failed for event %s", inbound.event_id)
                answer = [msg.sorry(self.phone)]
            if answer:
                await self.deliver(inbound.event_id, inbound.user_id, token, answer)
        finally:
            await anyio.to_thread.run_sync(self._finish, inbound.event_id)

    async def deliver(
        self, event_id: str, user_id: str, token: str | None, messages: list[dict[str, Any]]
    ) -> str:
        """Reply; if the reply token cannot be used, push once instead. Returns how."""
        if token:
            try:
                if await self.api.reply(token, messages):
                    return "reply"
            except ApiException as e:
                if e.status not in (429,) and (e.status or 0) < 500:
                    log.error("LINE refused the reply to %s: %s", event_id, e.status)
                    return "refused"
            except (aiohttp.ClientError, TimeoutError) as e:
                log.warning("LINE reply to %s failed (%s); pushing instead", event_id, e)
        status = await self.pusher.push_once(f"reply:{event_id}", "reply", user_id, messages)
        return f"push:{status}"

    # -- background work ------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self.spawn(self.setup_rich_menu())
        if self.config.notifier_interval_s > 0:
            self.spawn(self.run_notifier())

    async def stop(self) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout=20)
        for task in list(self._tasks | self._handling):
            task.cancel()
        for task in list(self._tasks | self._handling):
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.api.close()

    async def setup_rich_menu(self) -> None:
        """The menu for everyone, retried while LINE (or the demo's own server) is not up."""
        menu = rich_menu(self.phone)
        image = await anyio.to_thread.run_sync(rich_menu_image, self.phone)
        for attempt in range(RICH_MENU_TRIES):
            if not await self.aredis.set(self.store.key("richmenu", "setup"), "1", nx=True, ex=30):
                await asyncio.sleep(2)  # another worker is creating it; then find it listed
                continue
            try:
                self.rich_menu_id = await self.api.ensure_rich_menu(menu, image)
                self.rich_menu_ready.set()
                return
            except (ApiException, aiohttp.ClientError, TimeoutError) as e:
                log.warning("LINE rich menu not set up yet (%s); trying again", e)
                await asyncio.sleep(min(2**attempt, 30))
            finally:
                await self.aredis.delete(self.store.key("richmenu", "setup"))
        log.error("LINE rich menu could not be set up; the chat still works without it")

    async def run_notifier(self) -> None:
        """A tick every interval, and at once when the dispatcher publishes a change.

        Nothing ends the loop but cancellation: a failed tick (Redis or the database down,
        SQLite busy in the demo, a bug) is logged, and the loop backs off and goes on."""
        pubsub = self.aredis.pubsub(ignore_subscribe_messages=True)
        interval = self.config.notifier_interval_s
        failures, subscribed = 0, False
        try:
            while True:
                try:
                    if not subscribed:  # at the start, and again after a Redis error
                        await pubsub.subscribe(self.host.channel)
                        subscribed = True
                    await pubsub.get_message(timeout=interval)
                    while await pubsub.get_message(timeout=0) is not None:
                        pass  # one tick covers every change so far
                    await self.notifier.tick()
                    failures = 0
                except (redis.RedisError, OSError) as e:
                    failures, subscribed = failures + 1, False
                    log.warning("LINE notifier: %s", e)
                    await asyncio.sleep(min(interval * failures, 60.0))
                except DrtError as e:
                    failures += 1
                    log.warning("LINE notifier: %s", e)
                    await asyncio.sleep(min(interval * failures, 60.0))
                except Exception:
                    failures += 1
                    log.exception("LINE notifier tick failed; trying again")
                    await asyncio.sleep(min(interval * failures, 60.0))
        finally:
            with suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves PubSub.aclose unannotated


def line_router(settings: Settings) -> APIRouter:
    """The webhook (and, for demos, the stand-in and its page); off without a channel secret."""
    config = LineConfig.from_settings(settings)
    standin = Standin(config.channel_secret, config.access_token) if config.standin else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        channel: LineChannel | None = None
        if config.enabled:
            channel = LineChannel(config, app.state.host, app.state.sessions, app.state.redis,
                                  app.state.async_redis, settings.redis_prefix, app.state.clock)  # fmt: skip
            app.state.line = channel
            if standin is not None:
                from line_channel.demo import prepare_demo

                await anyio.to_thread.run_sync(prepare_demo, app, standin)
            await channel.start()
        try:
            yield
        finally:
            if channel is not None:
                await channel.stop()

    router = APIRouter(lifespan=lifespan)

    @router.post("/v1/line/webhook", tags=["line"], response_model=dict[str, str])
    async def webhook(request: Request) -> dict[str, str]:
        """LINE's webhook: the signature is checked; the events are handled after the answer."""
        channel: LineChannel | None = getattr(request.app.state, "line", None)
        if channel is None:
            raise LineNotConfigured(
                "LINE の設定(チャネルシークレット)がありません。",
                "The LINE channel is not configured (DRT_LINE_CHANNEL_SECRET).",
            )
        events = channel.parse(await request.body(), request.headers.get("x-line-signature"))
        if events:
            channel.accept(events)
        return {}

    if standin is not None:
        from line_channel.demo import demo_router

        router.include_router(standin_router(standin), prefix=STANDIN_PATH)
        router.include_router(demo_router(standin))
    return router
