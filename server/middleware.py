"""The app's two ASGI middlewares: what every request and every response goes through.

:class:`RequestGuard` (inner) reads the request body, at most ``max_body_bytes`` of it
(``413 body_too_large`` beyond, without reading further), and refuses text no one can store
or show: a NUL character or an unpaired surrogate anywhere, in the path, the query string,
a header, or a decoded string of a JSON or form body (``422 invalid_text``). Checked here
once, every field of every endpoint is covered, and the endpoints (the LINE webhook too)
get a body that is bounded. It also turns an unexpected exception into a ``500
internal_error`` envelope before the server logs it.

:class:`SecurityHeaders` (outer) puts the security headers on every response: a
Content-Security-Policy (``default-src 'self'``; the API docs, Swagger UI and ReDoc served
by the app itself, may run their one inline script, allowed by its hash, and ReDoc's style
elements, allowed by the page's nonce), ``nosniff``,
``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``; ``Cache-Control: no-store`` on
every /v1/ answer (personal data); ``Retry-After`` on every 503.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import BodyTooLarge, DrtError, InternalError, InvalidInput, InvalidText

MAX_BODY_BYTES = 1 << 20
RETRY_AFTER_S = 2

BASE_POLICY = {
    "default-src": ["'self'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "object-src": ["'none'"],
}
DOCS_POLICY = {  # Swagger UI (/docs), ReDoc (/redoc), files under /docs-assets, nothing else
    **BASE_POLICY,
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
}
FIXED_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_INLINE = re.compile(rb"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_NONCE = re.compile(rb'\bdata-style-nonce="([A-Za-z0-9_-]{16,})"')


def policy_header(policy: dict[str, list[str]]) -> bytes:
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items()).encode()


def _inline_hashes(html: bytes) -> dict[str, list[str]]:
    """``'sha256-…'`` sources for each inline ``<script>`` and ``<style>`` of a page."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for tag, attrs, content in _INLINE.findall(html):
        if tag.lower() == b"script" and b"src=" in attrs.lower():
            continue
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        found[f"{tag.lower().decode()}-src"].append(f"'sha256-{digest}'")
    for nonce in _NONCE.findall(html):  # ReDoc's style elements, made by its script
        found["style-src"].append(f"'nonce-{nonce.decode()}'")
    return found


def error_body(code: str, ja: str, en: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message_ja": ja, "message_en": en}
    if details:
        body["details"] = details
    return {"error": body}


async def send_error(
    send: Send, exc: DrtError, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Answer with ``exc`` as the error envelope (the same body the app's handlers write)."""
    body = json.dumps(
        error_body(exc.code, exc.message_ja, exc.message_en, exc.details or None),
        ensure_ascii=False,
    ).encode()
    await send({
        "type": "http.response.start",
        "status": exc.http_status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *headers],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


# -- text ------------------------------------------------------------------------------------


def bad_text(text: str) -> bool:
    """NUL, or a lone surrogate (what ``json`` makes of ``"\\ud800"`` or of bytes ED A0 80)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bad_bytes(raw: bytes) -> bool:
    """NUL, or not UTF-8 (a UTF-8 decoder refuses encoded surrogates too)."""
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_urlencoded(raw: bytes) -> str | None:
    """The first bad name or value of ``a=1&b=2`` (a query string or a form), decoded."""
    for pair in raw.split(b"&"):
        for i, part in enumerate(pair.split(b"=", 1)):
            if _bad_bytes(unquote_to_bytes(part.replace(b"+", b" "))):
                name = unquote_to_bytes(pair.split(b"=", 1)[0]).decode("utf-8", "replace")
                return _printable(name) if i else "(a parameter name)"
    return None


def _printable(text: str) -> str:
    """Text safe to put in an answer: NUL and surrogates as ``\\u`` escapes."""
    return json.dumps(text)[1:-1]


def _bad_json_field(document: Any) -> str | None:
    """Where the first bad string of a parsed JSON document is (``passengers.adult``), if any.

    Iterative, so a deeply nested document cannot exhaust the stack."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            if bad_text(node):
                return where or "(body)"
        elif isinstance(node, dict):
            for key, value in node.items():
                field = f"{where}.{_printable(key)}" if where else _printable(key)
                if bad_text(key):
                    return field
                stack.append((field, value))
        elif isinstance(node, list):
            stack.extend((f"{where}.{i}" if where else str(i), v) for i, v in enumerate(node))
    return None


def invalid_text(where: str, field: str | None = None) -> InvalidText:
    details: dict[str, str] = {"where": where}
    if field is not None:
        details["field"] = field
    place = f" ({field})" if field else ""
    return InvalidText(
        f"使えない文字(NUL 文字、または対になっていないサロゲート)が含まれています{place}。"
        "文字化けした部分を消すか入力し直して、もう一度送ってください。",
        f"The {where}{place} contains a character that cannot be used: a NUL character "
        "(\\u0000) or an unpaired surrogate (such as \\ud800). Remove it or type the text "
        "again (it usually comes from a copy-paste or an encoding error), then send again.",
        **details,
    )


class MalformedJson(InvalidInput):
    code = "malformed_json"


def _media_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";", 1)[0].strip().lower().decode("latin-1")
    return None


def _is_json(media_type: str | None) -> bool:
    """Whether FastAPI reads the body as JSON (it does without a content type too)."""
    if media_type is None:
        return True
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def check_body(media_type: str | None, body: bytes) -> DrtError | None:
    """What is wrong with the text of a body, if anything (see the module docstring)."""
    if not body:
        return None
    if media_type == "application/x-www-form-urlencoded":
        field = _bad_urlencoded(body)
        return invalid_text("form", field) if field is not None else None
    if media_type is not None and media_type.startswith("multipart/"):
        # No endpoint takes files: a multipart body is form fields, which must be text.
        return invalid_text("form") if _bad_bytes(body) else None
    if media_type is not None and media_type.startswith("text/"):
        return invalid_text("body") if _bad_bytes(body) else None
    if not _is_json(media_type):
        return None  # binary (the LINE stand-in's rich menu image): not text, nothing to check
    try:
        document = json.loads(body)  # as Starlette's Request.json() reads it
    except UnicodeDecodeError:
        return invalid_text("body")
    except RecursionError:
        return MalformedJson(
            "送られた JSON の入れ子が深すぎます。", "The JSON body is nested too deeply."
        )
    except ValueError:
        return None  # not JSON: the endpoint says what it expected
    field = _bad_json_field(document)
    return invalid_text("body", field) if field is not None else None


def check_url(scope: Scope) -> DrtError | None:
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if "\x00" in scope["path"] or _bad_bytes(unquote_to_bytes(raw_path)):
        return invalid_text("path")
    query: bytes = scope.get("query_string", b"")
    field = _bad_urlencoded(query) if query else None
    if field is not None:
        return invalid_text("query string", field)
    for name, value in scope.get("headers", []):
        if b"\x00" in value:
            return invalid_text("header", name.decode("latin-1"))
    return None


class RequestGuard:
    """Bounded body, text checked (see the module docstring); a crash answers the envelope."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    def too_large(self) -> BodyTooLarge:
        limit = f"{self.max_body_bytes / 2**20:g} MiB"
        return BodyTooLarge(
            f"送られた内容が大きすぎます(上限 {limit})。内容を減らすか、分けて送ってください。",
            f"The request body is too large (the limit is {limit}). Send less, or send it in parts.",
            limit_bytes=self.max_body_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = check_url(scope)
        if problem is not None:
            await send_error(send, problem)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        declared = next((v for k, v in headers if k.lower() == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await send_error(send, self.too_large(), [(b"connection", b"close")])
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending the whole body: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await send_error(send, self.too_large(), [(b"connection", b"close")])
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = check_body(_media_type(headers), body)
        if problem is not None:
            await send_error(send, problem)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, replay, tracked)
        except Exception:
            if not started:  # the server still logs the exception, and tests see it raised
                await send_error(send, InternalError(
                    "サーバーで問題が起きました。時間をおいてもう一度お試しください。",
                    "Something went wrong on the server. Please try again later.",
                ))  # fmt: skip
            raise


class SecurityHeaders:
    """The response headers of the module docstring, on every HTTP response."""

    def __init__(self, app: ASGIApp, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        self.policy = policy_header(BASE_POLICY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith("/v1/")
        docs = path in self.docs_paths
        held: list[Message] = []  # a docs page, until its inline scripts are known

        def headers_for(start: Message, policy: bytes) -> list[tuple[bytes, bytes]]:
            replaced = {b"content-security-policy", *(k for k, _ in FIXED_HEADERS)}
            if api:
                replaced.add(b"cache-control")
            out = [(k, v) for k, v in start.get("headers", []) if k.lower() not in replaced]
            out += [(b"content-security-policy", policy), *FIXED_HEADERS]
            if api:
                out.append((b"cache-control", b"no-store"))
            if start["status"] == 503 and not any(k.lower() == b"retry-after" for k, _ in out):
                out.append((b"retry-after", str(RETRY_AFTER_S).encode()))
            return out

        async def wrapped(message: Message) -> None:
            if not docs:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": headers_for(message, self.policy)}
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                start, *bodies = held
                page = b"".join(m.get("body", b"") for m in bodies)
                policy = {k: list(v) for k, v in DOCS_POLICY.items()}
                for directive, sources in _inline_hashes(page).items():
                    policy[directive] += sources
                await send({**start, "headers": headers_for(start, policy_header(policy))})
                await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, wrapped)
