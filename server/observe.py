"""What the town's IT staff watch: request ids and metrics around every request, readiness.

:class:`Observe` (the outermost middleware) gives each request its id (``X-Request-ID``: a
proxy's, when it is a short token, else a new one; answered in the response and on every log
line of the request) and counts it in ``drt_http_requests_total`` and
``drt_http_request_seconds`` by the route's template (``/v1/bookings/{booking_id}``, never a
path with an id in it; "unmatched" for a path no route has).

:func:`readiness` is ``/readyz``: PostgreSQL answers, Redis answers, the area's writer lock is
not stuck (held without an expiry), and this worker's replica has caught up with the log.
"""

from __future__ import annotations

import hmac
import html
import time
import uuid
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
from common.errors import Forbidden, NotAuthenticated
from common.logfmt import GOOD_REQUEST_ID, request_id
from core.host import DispatchHost
from core.models import DispatchLogEntry

#: A replica this many entries behind the log after catching up is not ready.
READY_MAX_LAG = 50  # entries; fewer may be a commit not yet announced on Redis


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if GOOD_REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            metrics.REQUESTS.labels(method, template, str(status)).inc()
            metrics.REQUEST_SECONDS.labels(method, template).observe(time.perf_counter() - started)
            request_id.reset(token)


def readiness(host: DispatchHost) -> tuple[bool, dict[str, Any]]:
    """(ready, what each check found); every check runs, each failure is named."""
    checks: dict[str, Any] = {}
    head = None
    try:
        with host.reads() as session:
            head = session.scalar(
                select(func.max(DispatchLogEntry.seq)).where(DispatchLogEntry.area == host.area)
            )
        checks["postgres"] = "ok"
    except Exception as exc:  # any failure is the answer, never a 500
        checks["postgres"] = f"unavailable: {type(exc).__name__}"
    try:
        host.redis.ping()
        ttl = int(host.redis.pttl(host.keys.writer(host.area)))
        checks["redis"] = "ok"
        # -2: free; > 0: held and kept alive; -1: held with no expiry, never freed
        checks["writer_lock"] = "stuck (held without expiry)" if ttl == -1 else "ok"
    except Exception as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
        checks["writer_lock"] = "unknown"
    if checks["postgres"] == "ok":
        try:
            with host.read():
                pass  # catch up, as a request would
            head = int(head or 0)  # None: nothing logged yet
            lag = max(0, head - host.seq)
            metrics.LOG_HEAD_SEQ.set(head)
            checks["replica"] = {"seq": host.seq, "log_seq": head, "lag": lag}
            if lag > READY_MAX_LAG:
                checks["replica"]["problem"] = "behind the log"
        except Exception as exc:
            checks["replica"] = {"problem": f"cannot catch up: {type(exc).__name__}"}
    else:
        checks["replica"] = {"problem": "no database"}
    ready = (
        checks["postgres"] == "ok"
        and checks["redis"] == "ok"
        and checks["writer_lock"] == "ok"
        and "problem" not in checks["replica"]
    )
    return ready, checks


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def require_metrics_reader(request: Request, token: str, embedded: bool) -> None:
    """A scraper with the metrics token. With no token set, nobody, except on the embedded
    demo a client on this machine (behind a reverse proxy every client would look local)."""
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise NotAuthenticated(
                "メトリクスを読むにはトークンが必要です(Authorization: Bearer …)。",
                "Reading the metrics needs the metrics token (Authorization: Bearer …).",
            )
        return
    if not embedded or request.client is None or request.client.host not in LOOPBACK:
        raise Forbidden(
            "メトリクスを読むには DRT_METRICS_TOKEN を設定し、そのトークンを付けてください。",
            "Set DRT_METRICS_TOKEN and send it (Authorization: Bearer …) to read the metrics.",
        )


#: The front page's links: (path, Japanese, English, who it is for).
PAGES: tuple[tuple[str, str, str, str], ...] = (
    (
        "/guide/",
        "ご利用案内(乗降ポイントの地図)",
        "Residents' guide and map",
        "住民の方 / residents",
    ),
    ("/console/", "オペレーター画面(電話予約・運行)", "Operator console", "職員 / staff"),
    ("/driver/", "運転手のタブレット", "Driver tablet", "運転手 / drivers"),
    ("/line/demo", "LINE のデモ(体験用)", "LINE demo (demo only)", "デモ / demo"),
    (
        "/docs",
        "API の説明(アプリ開発者向け)",
        "API documentation (Swagger UI)",
        "開発者 / developers",
    ),
    ("/redoc", "API の説明(1ページで読む)", "API reference (ReDoc)", "開発者 / developers"),
    ("/metrics", "メトリクス(Prometheus)", "Metrics (Prometheus)", "IT担当 / IT staff"),
    ("/readyz", "稼働確認", "Readiness", "IT担当 / IT staff"),
)


def redoc_page(title: str, openapi_url: str, assets: str, nonce: str) -> str:
    """ReDoc from the app's own files. Its style elements carry ``nonce`` (ReDoc's ``nonce``
    option), which :class:`server.middleware.SecurityHeaders` puts in the page's policy, so no
    ``'unsafe-inline'`` is needed; no web fonts are loaded. The nonce is handed over in a data
    attribute: browsers hide a ``nonce`` attribute from scripts."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - ReDoc</title>
<link rel="icon" href="{assets}/favicon.png"></head>
<body>
<div id="redoc" data-spec="{html.escape(openapi_url)}" data-style-nonce="{nonce}"></div>
<script>
// Every style element the page's scripts add gets the page's nonce (ReDoc adds some before
// its own nonce option is read).
const nonce = document.getElementById("redoc").dataset.styleNonce;
for (const name of ["appendChild", "insertBefore"]) {{
  const original = Node.prototype[name];
  Node.prototype[name] = function (node, ...rest) {{
    if (node instanceof HTMLStyleElement && !node.nonce) node.nonce = nonce;
    return original.call(this, node, ...rest);
  }};
}}
</script>
<script src="{assets}/redoc.standalone.js"></script>
<script>
const el = document.getElementById("redoc");
Redoc.init(el.dataset.spec, {{ nonce: el.dataset.styleNonce }}, el);
</script>
</body>
</html>
"""


def landing_page(line_demo: bool) -> str:
    """The front page: a link to every page of the service (the LINE demo only when the LINE
    stand-in serves it: the demo), nothing loaded from elsewhere."""
    items = "\n".join(
        f'  <li><a href="{path}">{html.escape(ja)}</a> <span lang="en">{html.escape(en)}</span>'
        f" <small>{html.escape(who)}</small></li>"
        for path, ja, en, who in PAGES
        if line_demo or path != "/line/demo"
    )
    return f"""<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>鞍手町のりあいバス</title></head>
<body>
<h1>鞍手町のりあいバス <span lang="en">Kurate on-demand bus</span></h1>
<ul>
{items}
</ul>
<p><small>地図データ © OpenStreetMap contributors (ODbL)</small></p>
</body>
</html>
"""
