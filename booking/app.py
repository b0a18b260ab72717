"""The FastAPI application: `drt demo` and `drt serve` run this, tests create it with fakes.

Nothing happens at import time: :func:`create_app` builds the app, and its lifespan opens the
database engine and Redis client, loads the area (road graph, meeting points, rules) and
catches the dispatcher replica up with the log.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from booking.dispatch_host import DispatchHost
from booking.endpoints import ROUTERS
from booking.world import World
from common.db import make_engine, make_sessionmaker
from common.errors import DrtError
from common.redis import make_redis
from common.settings import Settings
from driver_app_api.endpoints import page as driver_page
from driver_app_api.endpoints import router as driver_router
from line_channel.webhook import line_router
from routing.config import load_area

Clock = Callable[[], int]


@dataclass(frozen=True)
class ShiftedClock:
    """Wall time in whole seconds, shifted by ``offset_s`` (0 in production)."""

    offset_s: int = 0

    def __call__(self) -> int:
        return int(time.time()) + self.offset_s


def error_body(code: str, ja: str, en: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message_ja": ja, "message_en": en}
    if details:
        body["details"] = details
    return {"error": body}


def _validation_message(exc: RequestValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append({"field": loc, "problem": err.get("msg", ""), "type": err.get("type", "")})
    if any(p["type"] == "json_invalid" for p in problems):
        return (
            "送られた内容が正しい JSON ではありません。",
            "The request body is not valid JSON.",
            problems,
        )
    fields = ", ".join(p["field"] or "(body)" for p in problems)
    return (
        f"入力に誤りがあります。次の項目を確認してください: {fields}",
        f"Invalid input. Check these fields: {fields}",
        problems,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DrtError)
    async def drt_error(_request: Request, exc: DrtError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message_ja, exc.message_en, exc.details or None),
            status_code=exc.http_status,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        ja, en, problems = _validation_message(exc)
        code = "malformed_json" if "JSON" in en else "invalid_input"
        return JSONResponse(error_body(code, ja, en, problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {
            404: ("not_found", "そのページ(URL)はありません。", "No such endpoint."),
            405: (
                "method_not_allowed",
                "その操作はこの URL では使えません。",
                "Method not allowed here.",
            ),
        }
        code, ja, en = messages.get(
            exc.status_code, ("http_error", "リクエストを処理できません。", str(exc.detail))
        )
        return JSONResponse(error_body(code, ja, en), status_code=exc.status_code)


def create_app(
    settings: Settings,
    *,
    world: World | None = None,
    clock: Clock | None = None,
    engine: Engine | None = None,
    extra_startup: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    """The booking service. ``world`` and ``clock`` are injectable for tests and the demo."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine or make_engine(settings.effective_database_url)
        client = make_redis(settings.redis_url, embedded=settings.embedded)
        loaded = world or World.load(load_area(settings.area), settings.cache_dir)
        app.state.sessions = make_sessionmaker(db)
        app.state.redis = client
        app.state.world = loaded
        ticks = clock or ShiftedClock(settings.clock_offset_s)
        app.state.clock = ticks
        app.state.host = DispatchHost(
            loaded, app.state.sessions, client, settings.redis_prefix, ticks
        )
        with app.state.host.read():
            pass  # replay the committed log before the first request
        if extra_startup is not None:
            extra_startup(app)
        try:
            yield
        finally:
            client.close()
            if engine is None:
                db.dispose()

    app = FastAPI(
        title="鞍手町のりあいバス 予約サービス / Kurate DRT booking API",
        version="1.0",
        description=(
            "Residents, quotes and bookings, phone operators, and the dispatcher behind them. "
            'Errors are `{"error": {"code", "message_ja", "message_en"}}`.'
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(driver_router)
    app.include_router(driver_page)
    app.include_router(line_router(settings))  # LINE webhook; its lifespan runs the channel

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, Any]:
        host: DispatchHost = app.state.host
        return {"status": "ok", "area": host.area, "log_seq": host.seq}

    return app


def from_env() -> FastAPI:
    """The app with settings from the environment (``uvicorn --factory`` for `drt serve`)."""
    from common.settings import load_settings

    return create_app(load_settings())
