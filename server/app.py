"""The composition root: the one FastAPI app, above every channel and the core.

`drt demo` and `drt serve` run this, tests create it with fakes. It mounts the channels
(the app and operator API in :mod:`booking`, the driver side, the LINE webhook) and wires
them to the core (the dispatch host, the world) and the residents domain.

Nothing happens at import time: :func:`create_app` builds the app, and its lifespan opens the
database engine and Redis client, loads the area (road graph, meeting points, rules) and
catches the dispatcher replica up with the log.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import redis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from booking.endpoints import ROUTERS
from booking.town import town as town_router
from booking.town_faq import faq as faq_router
from booking.town_forms import forms as forms_router
from booking.town_reservations import reservations as reservations_router
from booking.town_slips import slips as slips_router
from booking.town_surveys import surveys as surveys_router
from common import metrics
from common.clock import Clock, ShiftedClock
from common.db import make_engine, make_sessionmaker
from common.errors import DatabaseUnavailable, DrtError, RedisUnavailable
from common.redis import make_async_redis, make_redis
from common.settings import Settings, load_settings
from core.host import DispatchHost
from core.world import World
from driver_app_api.endpoints import page as driver_page
from driver_app_api.endpoints import router as driver_router
from line_channel.webhook import line_router
from routing.config import load_area
from server.middleware import (
    MAX_BODY_BYTES,
    RETRY_AFTER_S,
    RequestGuard,
    SecurityHeaders,
    error_body,
)
from server.observe import (
    Observe,
    landing_page,
    readiness,
    redoc_page,
    require_metrics_reader,
)

log = logging.getLogger(__name__)
DOCS_ASSETS = "/docs-assets"  # Swagger UI's and ReDoc's files, from fastapi-offline


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


def _retry_headers(exc: DrtError) -> dict[str, str]:
    """``Retry-After`` for a 503 (and for a 429 that says how long to wait)."""
    wait = exc.details.get("retry_after_s")
    if exc.http_status == 503 or (exc.http_status == 429 and wait is not None):
        seconds = wait if isinstance(wait, int | float) and wait > 0 else RETRY_AFTER_S
        return {"Retry-After": str(max(1, round(seconds)))}
    return {}


def _render(exc: DrtError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message_ja, exc.message_en, exc.details or None),
        status_code=exc.http_status,
        headers=_retry_headers(exc),
    )


def _reason(exc: BaseException) -> str:
    """The kind of failure for the log: the error's class and first line, never parameters
    (engines hide them; a connection error names the server, not a person)."""
    orig = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(orig).splitlines() if line.strip()), "")
    if isinstance(exc, sa_exc.StatementError):
        first = first.split("[SQL:", 1)[0].strip()
    return f"{type(orig).__name__}: {first}"[:300]


def database_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    log.warning("database unavailable (%s %s): %s", request.method, request.url.path, _reason(exc))
    return _render(DatabaseUnavailable(
        "ただいまデータベースにつながりません。少し待ってからもう一度お試しください。",
        "The database is unavailable for a moment. Please try again shortly.",
    ))  # fmt: skip


def redis_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    log.warning("Redis unavailable (%s %s): %s", request.method, request.url.path, _reason(exc))
    return _render(RedisUnavailable(
        "ただいま予約の調整役(Redis)につながりません。少し待ってからもう一度お試しください。",
        "The coordination service (Redis) is unavailable for a moment. "
        "Please try again shortly.",
    ))  # fmt: skip


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DrtError)
    async def drt_error(_request: Request, exc: DrtError) -> JSONResponse:
        return _render(exc)

    @app.exception_handler(sa_exc.DBAPIError)
    async def dbapi_error(request: Request, exc: sa_exc.DBAPIError) -> JSONResponse:
        """An outage (the connection failed, was lost, or the database is locked) is a 503;
        any other database error is a bug: it goes on as a 500 (``RequestGuard``)."""
        if isinstance(exc, sa_exc.OperationalError) or exc.connection_invalidated:
            return database_unavailable(request, exc)
        raise exc

    @app.exception_handler(sa_exc.TimeoutError)  # every pooled connection is busy
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(sqlite3.OperationalError)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        return database_unavailable(request, exc)

    @app.exception_handler(redis.RedisError)
    async def redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        return redis_unavailable(request, exc)

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


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable, stable (e.g. `not_found`, `invalid_text`)")
    message_ja: str = Field(description="what happened and what to do next, in Japanese")
    message_en: str = Field(description="the same in English")
    details: Any = Field(None, description="structured details, when there are any")


class ErrorEnvelope(BaseModel):
    """Every error the service answers."""

    error: ErrorBody


ERROR_RESPONSES: dict[int, str] = {
    400: "Bad request (e.g. a missing Idempotency-Key, an unreadable body)",
    401: "Not authenticated: no token, or an expired or unknown one",
    403: "Forbidden for this account",
    404: "Not found",
    409: "Conflicts with the current state (e.g. a shift already started, a booking not there)",
    413: "The request body is over the limit (`body_too_large`)",
    422: "Invalid input (`invalid_input`, `malformed_json`, `invalid_text`, …)",
    429: "Too many attempts: wait `Retry-After` seconds",
    503: "Busy, or a service it depends on is down: retry after `Retry-After` seconds",
}
"""The errors every operation may answer, documented on each of them (``document_errors``)."""


def document_errors(app: FastAPI) -> None:
    """Document the error envelope on every operation of the OpenAPI schema.

    One place instead of ``responses=`` on each route: the middlewares (413, 422
    ``invalid_text``), the outage handlers (503) and the domain errors apply to every
    operation, and FastAPI's own 422 schema is not what the handlers answer."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(envelope.pop("$defs", {}))
        components["ErrorEnvelope"] = envelope
        retry = {"Retry-After": {"description": "seconds to wait before retrying",
                                 "schema": {"type": "integer"}}}  # fmt: skip
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_RESPONSES.items():
                    response: dict[str, Any] = {
                        "description": description,
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                    }  # fmt: skip
                    if status in (429, 503):
                        response["headers"] = retry
                    responses[str(status)] = response
                operation["responses"] = dict(sorted(responses.items()))
        text = str(schema.get("paths"))
        for unused in ("HTTPValidationError", "ValidationError"):
            if f"#/components/schemas/{unused}" not in text:
                components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings,
    *,
    world: World | None = None,
    clock: Clock | None = None,
    engine: Engine | None = None,
    extra_startup: Callable[[FastAPI], None] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The booking service. ``world`` and ``clock`` are injectable for tests and the demo;
    ``max_body_bytes`` bounds every request body (413 beyond)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = engine or make_engine(settings.effective_database_url)
        # The dispatch writer and its replica get a small pool of their own: requests that
        # hold a connection while they wait for the writer can never starve it.
        own = engine is None and db.dialect.name != "sqlite"
        writer_db = (
            make_engine(settings.effective_database_url, pool_size=2, max_overflow=2) if own else db
        )
        client = make_redis(settings.redis_url, embedded=settings.embedded)
        # the app's own world: meeting points changed through the log change here only
        loaded = (world or World.load(load_area(settings.area), settings.cache_dir)).fork()
        app.state.sessions = make_sessionmaker(db)
        app.state.redis = client
        app.state.async_redis = make_async_redis(settings.redis_url, embedded=settings.embedded)
        app.state.world = loaded
        ticks = clock or ShiftedClock(settings.clock_offset_s)
        app.state.clock = ticks
        app.state.host = DispatchHost(
            loaded,
            make_sessionmaker(writer_db),
            client,
            settings.redis_prefix,
            ticks,
            reads=app.state.sessions,
        )
        with app.state.host.read():
            pass  # replay the committed log before the first request
        # the reading library's dictionary (~0.6 s) loads beside the first requests, not
        # inside the first search that reads a kanji name (under the replica's lock)
        threading.Thread(target=loaded.reader.hiragana, args=("町",), daemon=True).start()
        if extra_startup is not None:
            extra_startup(app)
        try:
            yield
        finally:
            await app.state.async_redis.aclose()
            client.close()
            if engine is None:
                db.dispose()
            if writer_db is not db:
                writer_db.dispose()

    app = FastAPIOffline(  # Swagger UI and ReDoc served by the app itself (no CDN)
        redoc_url=None,  # ours below: with a nonce for its style elements
        static_url=DOCS_ASSETS,
        title="鞍手町のりあいバス 予約サービス / Kurate DRT booking API",
        version="1.0",
        description=(
            "Residents, quotes and bookings, phone operators, and the dispatcher behind them. "
            'Errors are `{"error": {"code", "message_ja", "message_en"}}`.'
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes)
    docs = ("/docs", "/redoc", app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeaders, docs_paths=[p for p in docs if p])
    app.add_middleware(Observe)  # the outermost: request ids and metrics around everything
    document_errors(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(town_router)
    app.include_router(faq_router)
    app.include_router(surveys_router)
    app.include_router(reservations_router)
    app.include_router(forms_router)
    app.include_router(slips_router)
    app.include_router(driver_router)
    app.include_router(driver_page)
    app.include_router(line_router(settings))  # LINE webhook; its lifespan runs the channel

    @app.get("/", include_in_schema=False)
    def root() -> HTMLResponse:
        """The front page: every page the service has, for staff and residents."""
        return HTMLResponse(landing_page(line_demo=settings.line_standin))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        """The API as one page (ReDoc), beside Swagger UI at /docs."""
        return HTMLResponse(redoc_page(app.title, app.openapi_url or "/openapi.json",
                                       DOCS_ASSETS, secrets.token_urlsafe(16)))  # fmt: skip

    @app.get("/healthz", tags=["ops"])
    def health() -> dict[str, Any]:
        """The process is alive (it says nothing of the database or Redis: ``/readyz`` does)."""
        host: DispatchHost = app.state.host
        return {"status": "ok", "area": host.area, "log_seq": host.seq, "pid": os.getpid(),
                "snapshot_seq": host.snapshot_seq, "writer": host.stats()}  # fmt: skip

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "not ready, and why"}})
    def ready() -> JSONResponse:
        """Ready to serve: PostgreSQL and Redis answer, the writer lock is not stuck, this
        worker's replica has caught up with the dispatch log. 503 (``Retry-After``) names
        what is not."""
        ok, checks = readiness(app.state.host)
        body = {"status": "ready" if ok else "not_ready", "pid": os.getpid(), "checks": checks}
        headers = {} if ok else {"Retry-After": "5"}
        return JSONResponse(body, status_code=200 if ok else 503, headers=headers)

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    def prometheus(request: Request) -> Response:
        """Prometheus metrics of every worker (docs/operations.md lists them), for a scraper
        with ``Authorization: Bearer <DRT_METRICS_TOKEN>`` (the embedded demo: from this
        machine without one)."""
        require_metrics_reader(request, settings.metrics_token, settings.embedded)
        data, kind = metrics.exposition()
        return Response(data, media_type=kind)

    return app


def from_env() -> FastAPI:
    """The app with settings from the environment (``uvicorn --factory`` for `drt serve`)."""
    return create_app(load_settings())
