"""The pages under the app's Content-Security-Policy in a real browser: nothing is refused.

Debian's Chromium via Playwright, as the other browser tests. Every CSP violation the page
causes (a blocked script, style, font, image or connection) is reported by the browser as a
``securitypolicyviolation`` event; the test collects them and expects none.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from common.settings import load_settings
from core.world import World
from line_channel.demo import demo_settings
from server.app import create_app
from server.migrate import upgrade
from server.seed import seed_demo
from tests.booking.conftest import START, Clock
from tests.harness import CHROMIUM, FLAGS, Backends, IsolatedDatabase, require_chromium
from tests.line_channel.conftest import ServedApp

pytestmark = pytest.mark.services
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(
  `${e.effectiveDirective} refused ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def demo_clock() -> Clock:
    """The served demo's clock (a test may move it)."""
    return Clock(START)


@pytest.fixture
def demo(
    db_schema: IsolatedDatabase,
    redis_prefix: str,
    service_backends: Backends,
    world: World,
    demo_clock: Clock,
) -> Iterator[str]:
    """The app as `drt demo` runs it (LINE stand-in, demo data), served over HTTP."""
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as session:
        seed_demo(session)
        session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = load_settings(redis_url=service_backends.redis_url, embedded=service_backends.embedded,
                         redis_prefix=redis_prefix)  # fmt: skip
    app = create_app(demo_settings(base, "127.0.0.1", port), world=world, clock=demo_clock,
                     engine=db_schema.engine)  # fmt: skip
    with ServedApp(app, port) as served:
        yield served.base


def test_the_pages_run_under_the_policy(demo: str) -> None:
    require_chromium()
    from playwright.sync_api import Route, expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_context(locale="ja-JP").new_page()
        page.add_init_script(WATCH)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(demo + "/line/demo")
        expect(page.locator("#menu button").first).to_be_visible()  # the script ran
        expect(page.locator("#users label")).to_have_count(2)  # the data blocks were read
        assert page.locator("header").evaluate("e => getComputedStyle(e).backgroundColor") == (
            "rgb(6, 199, 85)"
        )  # the style sheet applies
        assert page.locator("#newcomer").is_hidden()  # linked user first: no newcomer box
        page.get_by_label("いちろうさん", exact=False).check()
        expect(page.locator("#newcomer")).to_be_visible()  # styles set from the script
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == []

        page.goto(demo + "/driver/")
        expect(page.locator("#setup")).to_be_visible()  # app.js ran and chose the first step
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == []

        outside: list[str] = []  # no internet where the town runs it: nothing from elsewhere

        def local_only(route: Route) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", local_only)
        page.goto(demo + "/docs")
        expect(page.locator(".opblock").first).to_be_visible()  # Swagger UI read the API
        expect(page.locator(".opblock-summary-path", has_text="/v1/quotes").first).to_be_visible()
        page.wait_for_timeout(300)
        assert outside == []
        assert page.evaluate("window.__csp") == []

        page.goto(demo + "/redoc")  # ReDoc too: the same API, read as one page
        expect(page.locator("h1", has_text="Kurate DRT booking API")).to_be_visible()
        expect(page.get_by_text("/v1/quotes").first).to_be_attached()
        page.wait_for_timeout(300)
        styles = page.evaluate("[...document.querySelectorAll('style')].map(s => !!s.sheet)")
        assert styles
        assert all(styles)
        assert outside == []
        # ReDoc asks its CDN for its logo; the policy refuses it (nothing leaves the town's
        # network) and ReDoc leaves the logo out. Nothing else is refused.
        logo = "img-src refused https://cdn.redoc.ly/redoc/logo-mini.svg at :0"
        assert [v for v in page.evaluate("window.__csp") if v != logo] == []
        assert errors == []
        browser.close()
