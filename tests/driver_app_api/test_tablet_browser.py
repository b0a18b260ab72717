"""The tablet page in a real browser: Debian's Chromium driven by Playwright, a whole shift.

The browser is the system's /usr/bin/chromium (package `chromium`); nothing downloads one.
`.ci/run` installs the package; on a developer machine without it the test says how to get it.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from core.world import World
from driver_app_api.service import create_device, create_driver
from tests.booking.conftest import START, Clock, service_app
from tests.harness import CHROMIUM, FLAGS, Backends, IsolatedDatabase, require_chromium

pytestmark = pytest.mark.services


@dataclass
class Live:
    base: str
    clock: Clock

    def post(self, path: str, token: str, **kw: object) -> httpx.Response:
        return httpx.post(
            self.base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
        )  # type: ignore[arg-type]


@pytest.fixture
def live(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[Live]:
    clock = Clock(START)
    app = service_app(db_schema, redis_prefix, service_backends, world, clock)
    with db_schema.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-van-1-token")
        create_driver(s, "1001", "遠賀 進", "1234")
        s.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", clock)
    server.should_exit = True
    thread.join(10)


def operator_books(live: Live, phone: str, origin: str, destination: str) -> tuple[str, str]:
    """An operator registers a resident and books a ride for them: (booking id, op token)."""
    tok = httpx.post(
        live.base + "/v1/auth/token", data={"username": "op", "password": "op-pass"}
    ).json()["access_token"]
    rid = live.post("/v1/operator/residents", tok, json={
        "name": "鞍手 花子", "kana": "クラテ ハナコ", "phone": phone, "address": "鞍手町", "birth_year": 1948,
        "consent": True, "needs_help": True}).json()["resident"]["id"]  # fmt: skip
    q = live.post("/v1/operator/quotes", tok, json={
        "origin": origin, "destination": destination, "passengers": {"adult": 1}, "resident_id": rid}).json()  # fmt: skip
    b = httpx.post(live.base + "/v1/operator/bookings", json={"quote_id": q["offer"]["quote_id"]},
                   headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": phone}).json()  # fmt: skip
    return str(b["id"]), str(tok)


def start_shift(page: object, live: Live) -> None:
    """Register the tablet, sign in as driver 1001 and start the shift, as a driver does."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.goto(live.base + "/driver/")
    page.fill("#device-token", "tablet-van-1-token")
    page.click("#save-device")
    page.fill("#login", "1001")
    page.fill("#pin", "1234")
    page.click("#do-signin")
    page.click("#start-shift")


def test_a_whole_shift_on_the_tablet(live: Live) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    booking_id, op = operator_books(live, "090-2222-3333", "KUR-010", "KUR-001")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 1300})
        page = context.new_page()
        page.on("dialog", lambda d: d.accept())
        start_shift(page, live)
        card = page.locator("#next-stop")
        expect(card).to_contain_text("ヤクルト")  # KUR-010's name
        expect(card).to_contain_text("鞍手 花子 様")
        expect(card).to_contain_text("乗り降りの手助け")
        expect(card).to_contain_text("運賃 200円")
        page.click("#arrive")
        page.click("button[data-pay=cash]")
        page.click("#depart")
        expect(card).to_contain_text("鞍手町役場")  # KUR-001
        page.click("#arrive")
        page.get_by_role("button", name="降車").click()
        page.click("#depart")
        expect(page.locator("#next")).to_contain_text("予定はありません")
        status = httpx.get(
            f"{live.base}/v1/bookings/{booking_id}", headers={"Authorization": f"Bearer {op}"}
        ).json()
        assert status["status"] == "completed"
        # A booking made while the tablet is open appears without reloading the page ...
        second, _ = operator_books(live, "090-4444-5555", "KUR-020", "KUR-001")
        expect(page.locator("#next-stop")).to_contain_text("鞍手 花子 様", timeout=15_000)
        # ... and so does its cancellation by the operator.
        live.post(f"/v1/operator/bookings/{second}/cancel", op)
        expect(page.locator("#next")).to_contain_text("予定はありません", timeout=15_000)
        page.click("#end-shift")
        expect(page.locator("#signin")).to_be_visible()
        browser.close()


def test_part_of_a_shift_offline_and_back_online(live: Live) -> None:
    """Reloading without signal used to show the browser's error page, and boarding could not
    be recorded (its buttons waited for the server to confirm the arrival)."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    booking_id, op = operator_books(live, "090-2222-4444", "KUR-010", "KUR-001")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 1300})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        start_shift(page, live)
        card = page.locator("#next-stop")
        expect(card).to_contain_text("鞍手 花子 様")
        expect(page.locator("#clock")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
        expect(page.locator("#navigate")).to_have_attribute("href", re.compile(r"^geo:33\."))
        page.wait_for_function(
            "navigator.serviceWorker && navigator.serviceWorker.controller !== null"
        )

        context.set_offline(True)
        page.reload()  # no signal: the page and the last manifest come from the tablet
        expect(card).to_contain_text("鞍手 花子 様")
        expect(page.locator("#conn")).to_contain_text("オフライン")
        page.click("#arrive")
        page.click("button[data-pay=cash]")  # the boarding buttons appear at once, offline
        expect(page.locator("#conn")).to_contain_text("送信待ち 2件")
        expect(card).to_contain_text("鞍手町役場")  # the drop-off is next for her
        on_server = httpx.get(f"{live.base}/v1/bookings/{booking_id}",
                              headers={"Authorization": f"Bearer {op}"}).json()  # fmt: skip
        assert on_server["status"] == "confirmed"  # nothing reached the server yet

        context.set_offline(False)  # signal again: the events go, in order, once each
        expect(page.locator("#conn")).not_to_contain_text("送信待ち", timeout=15_000)
        for _ in range(60):
            on_server = httpx.get(f"{live.base}/v1/bookings/{booking_id}",
                                  headers={"Authorization": f"Bearer {op}"}).json()  # fmt: skip
            if on_server["status"] == "onboard":
                break
            time.sleep(0.25)
        assert on_server["status"] == "onboard"
        assert errors == []
        browser.close()
