"""The LINE platform for a load run: the project's stand-in, served on 127.0.0.1.

The server under load answers LINE webhooks by calling the Messaging API; in a load run
that is :class:`line_channel.standin.Standin` in a thread of the `drt bench load` process.
The webhook bodies come from Locust (``loadtests/locustfile.py``), which makes up its own
reply tokens, so this stand-in takes any reply token (and remembers no conversation log).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from loadtests.services import LOCALHOST, ServiceError, free_port

SECRET = "load-test-line-channel-secret"
ACCESS_TOKEN = "load-test-line-access-token"


class AnyReplyToken(dict[str, tuple[str, float]]):
    """Every reply token is valid (Locust, not the stand-in, made the events)."""

    def pop(self, key: str, default: Any = None) -> tuple[str, float]:
        found = super().pop(key, None)
        return found if found is not None else ("Uload", float("inf"))


@contextmanager
def line_platform() -> Iterator[str]:
    """Serve a lenient LINE stand-in; yields its base URL (for DRT_LINE_API_BASE)."""
    from line_channel.standin import Standin, create_standin_app

    st = Standin(SECRET, ACCESS_TOKEN, reply_tokens=AnyReplyToken())
    st._record = lambda *args, **kwargs: None  # type: ignore[method-assign]  # no log to grow
    port = free_port()
    config = uvicorn.Config(create_standin_app(st), host=LOCALHOST, port=port,
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise ServiceError("the LINE stand-in did not start")
        time.sleep(0.02)
    try:
        yield f"http://{LOCALHOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def line_env(base: str) -> dict[str, str]:
    """The server's LINE settings for the stand-in at ``base``."""
    return {"DRT_LINE_CHANNEL_SECRET": SECRET, "DRT_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
            "DRT_LINE_API_BASE": base, "DRT_LINE_API_DATA_BASE": base}  # fmt: skip
