"""Structured logs: one JSON object per line, with the request's id, and nothing personal.

Every log line the service writes (uvicorn's access and error logs, ours) goes through
:class:`JsonFormatter` under ``drt serve``: ``{"time", "level", "logger", "message",
"request_id", ...}``. The request id comes from the ``X-Request-ID`` header a proxy sets (when
it is a short token) or is made here, is answered in the response's ``X-Request-ID`` and is on
every line logged while the request runs (:data:`request_id`).

What is personal never reaches a log line: names, readings, phone numbers and addresses are
not logged by the code (SQL parameters are hidden by ``common.db``), query strings (tablet
tokens, searched names and phones) are cut from access lines, and an identifier that belongs to
a person (a LINE user id) is logged :func:`masked`. The test suite keeps every record it
logs and fails if a seeded resident's name, reading, phone or address is in one
(``tests/conftest.py``).
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

#: The id of the request being answered ("-" outside one).
request_id: ContextVar[str] = ContextVar("request_id", default="-")

#: A request id a client or proxy may choose: short, letters, digits, dot, dash, underscore.
GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def masked(identifier: str) -> str:
    """The first 6 characters of a person's identifier and its length: enough to tell two
    apart in a log, not enough to find the person."""
    return f"{identifier[:6]}…({len(identifier)})" if len(identifier) > 6 else "…"


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; extra fields given with ``extra=`` are kept."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 5:
            out.update(client=str(args[0]), method=str(args[1]), path=str(args[2]).split("?")[0],
                       status=args[4])  # fmt: skip
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
                )
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
