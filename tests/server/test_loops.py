"""Background loops survive any exception: log it, back off, keep going."""

from __future__ import annotations

import asyncio
import logging
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from line_channel.webhook import LineChannel
from server.demo import DemoFleet


class QuietPubSub:
    async def subscribe(self, *_channels: str) -> None:
        pass

    async def get_message(self, **kwargs: float) -> None:
        if kwargs.get("timeout"):
            await asyncio.sleep(0.001)

    async def aclose(self) -> None:
        pass


def test_the_line_notifier_keeps_ticking_after_any_error(caplog: pytest.LogCaptureFixture) -> None:
    ticks: list[int] = []
    errors = [RuntimeError("boom"), KeyError("gone"), ValueError("bad"), ZeroDivisionError()]

    async def tick() -> list[Any]:
        ticks.append(1)
        if len(ticks) <= len(errors):
            raise errors[len(ticks) - 1]
        return []

    channel = SimpleNamespace(
        aredis=SimpleNamespace(pubsub=lambda **_kw: QuietPubSub()),
        host=SimpleNamespace(channel="drt:test:changes"),
        config=SimpleNamespace(notifier_interval_s=0.001),
        notifier=SimpleNamespace(tick=tick),
    )

    async def run() -> None:
        task = asyncio.create_task(LineChannel.run_notifier(channel))  # type: ignore[arg-type]
        for _ in range(2000):
            if len(ticks) > len(errors) + 1 or task.done():
                break
            await asyncio.sleep(0.001)
        assert not task.done(), task.exception()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="line_channel.webhook"):
        asyncio.run(run())
    assert len(ticks) > len(errors) + 1  # ticks went on after every error
    assert "boom" in caplog.text


def test_the_demo_fleet_keeps_playing_after_any_error(caplog: pytest.LogCaptureFixture) -> None:
    fleet = DemoFleet(host=None, step_s=0.001)  # type: ignore[arg-type]
    fleet.error_backoff_s = 0.001
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        if len(calls) == 2:
            raise KeyError("van-9")
        fleet.stop.set()

    fleet.tick = tick  # type: ignore[method-assign]
    thread = threading.Thread(target=fleet.run)
    with caplog.at_level(logging.WARNING, logger="server.demo"):
        thread.start()
        thread.join(10)
    assert not thread.is_alive()
    assert len(calls) == 3
    assert "database is locked" in caplog.text
