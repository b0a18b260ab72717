"""Driver endpoints under /v1/driver/ and the tablet page at /driver/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from booking.endpoints import HostDep, SessionDep
from booking.errors import NotFound
from common.errors import DrtError
from driver_app_api import schemas as s
from driver_app_api import service
from driver_app_api.service import DriverActor

PAGE = Path(__file__).parent / "page"
bearer = HTTPBearer(auto_error=False)
router = APIRouter(prefix="/v1/driver", tags=["driver"])
page = APIRouter(include_in_schema=False)


def driver_dep(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> DriverActor:
    return service.authenticate(session, creds.credentials if creds else None)


DriverDep = Annotated[DriverActor, Depends(driver_dep)]


@router.post("/sessions", response_model=s.SessionToken)
def sign_in(session: SessionDep, body: s.SignIn) -> s.SessionToken:
    """The tablet's device token plus the driver's number and PIN → a session token."""
    return service.sign_in(session, body)


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
    current manifest at once if anything changed meanwhile, so no change is missed.
    """
    bearer_token = token or (
        authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    )

    def current() -> s.Manifest:
        with host.sessions() as session:
            actor = service.authenticate(session, bearer_token)
            return service.manifest(host, session, actor)

    first = await run_in_threadpool(current)  # a bad token fails here, before streaming
    sent_version = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1

    async def events() -> AsyncIterator[str]:
        nonlocal sent_version
        count, last_body, quiet = 0, None, 0.0
        latest = first
        while True:
            body = service.manifest_json(latest)
            if latest.version != sent_version and body != last_body:
                yield f"id: {latest.version}\nevent: manifest\ndata: {body}\n\n"
                sent_version, last_body, quiet = latest.version, body, 0.0
                count += 1
                if limit and count >= limit:
                    return
            elif quiet >= 15:
                yield ": keep-alive\n\n"
                quiet = 0.0
            await asyncio.sleep(0.5)
            quiet += 0.5
            if await request.is_disconnected():
                return
            if service.change_stream_state(host) != latest.version:
                try:
                    latest = await run_in_threadpool(current)
                except DrtError:  # the session ended (shift over, token expired): close
                    yield "event: session_ended\ndata: {}\n\n"
                    return

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip


@router.get("/map")
def road_map(host: HostDep, actor: DriverDep) -> dict[str, Any]:
    """The road network as polylines (from our own OSM extract; no tile server)."""
    return host.world.road_lines()


@page.get("/driver/")
def tablet_page() -> FileResponse:
    return FileResponse(PAGE / "index.html", media_type="text/html; charset=utf-8")


@page.get("/driver/{name}")
def tablet_asset(name: str) -> FileResponse:
    path = (PAGE / name).resolve()
    if path.parent != PAGE.resolve() or not path.is_file():
        raise NotFound("ファイルがありません。", "No such file.")
    return FileResponse(path)
