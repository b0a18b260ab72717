"""Driver endpoints under /v1/driver/ and the tablet page at /driver/."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from common.errors import DrtError
from common.ratelimit import Attempts
from core.web import HostDep, SessionDep, page_file
from driver_app_api import schemas as s
from driver_app_api import service
from driver_app_api.service import DriverActor

PAGE = Path(__file__).parent / "page"
KEEP_ALIVE_S = 15  # a comment line this often keeps proxies from closing a quiet stream
bearer = HTTPBearer(auto_error=False)
router = APIRouter(prefix="/v1/driver", tags=["driver"])
page = APIRouter(include_in_schema=False)


def driver_dep(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> DriverActor:
    """The driver's session, from a short session of its own (no pooled connection is held
    while a stop event waits for the dispatch writer)."""
    with request.app.state.sessions() as session:
        return service.authenticate(session, creds.credentials if creds else None)


DriverDep = Annotated[DriverActor, Depends(driver_dep)]


@router.post("/sessions", response_model=s.SessionToken)
def sign_in(host: HostDep, session: SessionDep, body: s.SignIn) -> s.SessionToken:
    """The tablet's device token plus the driver's number and PIN → a session token; 429
    with ``Retry-After`` after a handful of wrong PINs for one driver number."""
    return service.sign_in(session, Attempts(host.redis, host.keys), body)


@router.post("/shift/start", response_model=s.Shift)
def shift_start(host: HostDep, actor: DriverDep, body: s.ShiftStart) -> s.Shift:
    """Start today's shift where the vehicle is (or at its depot): it is on the road now."""
    return service.start_shift(host, actor, body)


@router.post("/shift/end", response_model=s.Shift)
def shift_end(host: HostDep, actor: DriverDep) -> s.Shift:
    """End the shift (refused while riders are still planned); the session ends with it."""
    return service.end_shift(host, actor)


@router.post("/break", status_code=204)
def start_break(host: HostDep, actor: DriverDep, body: s.BreakStart) -> None:
    """An unplanned break of N minutes; later stops move, promises at risk are flagged."""
    service.take_break(host, actor, body.minutes)


@router.post("/positions", response_model=s.PositionResult)
def positions(
    host: HostDep, session: SessionDep, actor: DriverDep, body: s.PositionBatch
) -> s.PositionResult:
    """Batched GPS points (about 1 Hz); duplicates and out-of-order points are tolerated."""
    return service.ingest_positions(host, session, actor, body)


@router.get("/manifest", response_model=s.Manifest)
def manifest(host: HostDep, session: SessionDep, actor: DriverDep) -> s.Manifest:
    """The next stops in order, who boards or alights, and the route to the next stop."""
    return service.manifest(host, session, actor)


@router.post("/events", response_model=s.StopEventResult)
def event(host: HostDep, actor: DriverDep, body: s.StopEventIn) -> Any:
    """arrived / boarded / no_show / alighted / departed, once per client_event_id."""
    return service.record_event(host, actor, body)


@router.get("/stream")
async def stream(
    request: Request,
    host: HostDep,
    token: Annotated[
        str | None, Query(description="the session token (EventSource cannot send headers)")
    ] = None,
    authorization: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    limit: Annotated[int, Query(ge=0, description="close after this many events (0: never)")] = 0,
) -> StreamingResponse:
    """Server-Sent Events: a `manifest` event whenever this vehicle's plan changes.

    Each event's id is the dispatch log sequence; a reconnect with `Last-Event-ID` gets the
    current manifest at once if anything changed meanwhile, so no change is missed. The
    stream listens to the area's change channel (asyncio Redis, nothing blocks the event
    loop) and rebuilds the manifest only for changes that name this vehicle.
    """
    bearer_token = token or (
        authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    )

    def actor() -> DriverActor:
        with host.reads() as session:
            return service.authenticate(session, bearer_token)

    def current() -> s.Manifest:
        # the request pool, not the writer's; the connection goes back before the manifest
        # waits for the replica (a hundred tablets rebuilding at once must not hold them)
        with host.reads() as session:
            who = service.authenticate(session, bearer_token)
            session.commit()
            return service.manifest(host, session, who)

    first = await run_in_threadpool(current)  # a bad token fails here, before streaming
    resume = last_event_id or ""  # "²".isdigit() is true, but int() refuses it
    sent_version = int(resume) if resume.isascii() and resume.isdigit() else -1
    client = request.app.state.async_redis

    async def events() -> AsyncIterator[str]:
        nonlocal sent_version
        pubsub = client.pubsub()
        await pubsub.subscribe(host.channel)
        try:
            count, last_body, last_sent = 0, None, time.monotonic()
            latest = first
            seen = await client.get(host.keys.seq(host.area))
            stale = seen is not None and int(seen) != latest.version  # changed before we listened
            while True:
                if stale:
                    try:
                        latest = await run_in_threadpool(current)
                    except DrtError:  # the session ended (shift over, token expired): close
                        yield "event: session_ended\ndata: {}\n\n"
                        return
                    stale = False
                body = service.manifest_json(latest)
                if latest.version != sent_version and body != last_body:
                    yield f"id: {latest.version}\nevent: manifest\ndata: {body}\n\n"
                    sent_version, last_body, last_sent = latest.version, body, time.monotonic()
                    count += 1
                    if limit and count >= limit:
                        return
                elif time.monotonic() - last_sent >= KEEP_ALIVE_S:
                    try:
                        await run_in_threadpool(actor)
                    except DrtError:
                        yield "event: session_ended\ndata: {}\n\n"
                        return
                    yield ": keep-alive\n\n"
                    last_sent = time.monotonic()
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if await request.is_disconnected():
                    return
                if message is not None and _concerns(message["data"], first.vehicle_id):
                    stale = True
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip


def _concerns(data: str, vehicle_id: str) -> bool:
    """Whether a published change names one of this van's service days (``van-1@...``)."""
    try:
        vehicles = json.loads(data).get("vehicles", [])
    except (ValueError, AttributeError):
        return True  # not ours to judge: rebuild rather than miss a change
    return any(str(v).partition("@")[0] == vehicle_id for v in vehicles)


@router.get("/map")
def road_map(host: HostDep, actor: DriverDep) -> dict[str, Any]:
    """The road network as polylines (from our own OSM extract; no tile server)."""
    return host.world.road_lines()


@page.get("/driver/")
def tablet_page() -> FileResponse:
    return page_file(PAGE)


@page.get("/driver/{name}")
def tablet_asset(name: str) -> FileResponse:
    return page_file(PAGE, name)
