"""Logging for `drt serve` and `drt demo`: uvicorn's own config, without query strings, as
JSON lines (``common.logfmt``: with the request's id) or as uvicorn's text.

Query strings carry what must not be in a log: the tablet's session token
(``/v1/driver/stream?token=…``, EventSource cannot send headers) and the names and phone
numbers operators search for (``/v1/operator/residents?q=…``). The access log keeps the
method, the path, the status and who asked.

    uvicorn.run(..., log_config=log_config())
    uvicorn.Config(app, ..., log_config=log_config("warning"))
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from common.errors import ConfigError

ACCESS_LOGGER = "uvicorn.access"


class StripQueryString(logging.Filter):
    """Drops the query string from uvicorn's access records (``(client, method, path, …)``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) >= 3:
            path = args[2]
            if isinstance(path, str) and "?" in path:
                record.args = (*args[:2], path.split("?", 1)[0], *args[3:])
        return True  # the line is kept, only without its query string


def log_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """uvicorn's default logging config with :class:`StripQueryString` on its access log,
    for ``uvicorn.run(log_config=...)`` / ``uvicorn.Config(log_config=...)`` (every worker
    process applies it); ``level`` is that of uvicorn's loggers and of the service's own
    (the root logger's). ``fmt`` ``json``: every line a JSON object (``JsonFormatter``)."""
    if fmt not in ("json", "text"):
        raise ConfigError(
            f"ログの形式 DRT_LOG_FORMAT={fmt!r} は json か text です。",
            f"DRT_LOG_FORMAT={fmt!r}: use json or text.",
        )
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["strip_query_string"] = {"()": StripQueryString}
    access = config["loggers"].setdefault(ACCESS_LOGGER, {})
    access["filters"] = [*access.get("filters", []), "strip_query_string"]
    handler = config["handlers"].get("access")
    if handler is not None:  # records handed to the handler by other loggers are cleaned too
        handler["filters"] = [*handler.get("filters", []), "strip_query_string"]
    for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER):
        config["loggers"].setdefault(name, {})["level"] = level.upper()
    # the service's own loggers (core, line_channel, ...) reach the same handler
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    config["loggers"]["uvicorn"]["propagate"] = False
    if fmt == "json":
        config["formatters"]["json"] = {"()": "common.logfmt.JsonFormatter"}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
    return config
