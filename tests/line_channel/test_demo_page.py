"""`drt demo`'s LINE page in a real browser (Debian's Chromium via Playwright).

The app runs as the demo runs it: the stand-in mounted at ``/line-standin`` of the same
server, the SDK pointed there, the page posting what the user does; the stand-in signs the
webhook bodies and posts them to ``/v1/line/webhook`` over HTTP.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from common.settings import load_settings
from core import models as bm
from core.world import World
from line_channel.demo import DEMO_USERS, demo_settings
from residents import models as rm
from server.app import create_app
from server.migrate import upgrade
from server.seed import seed_demo
from tests.booking.conftest import START, Clock
from tests.harness import CHROMIUM, FLAGS, Backends, IsolatedDatabase, require_chromium
from tests.line_channel.conftest import ServedApp

pytestmark = pytest.mark.services


@pytest.fixture
def demo(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[str]:
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as session:
        seed_demo(session)
        session.commit()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = load_settings(redis_url=service_backends.redis_url, embedded=service_backends.embedded,
                         redis_prefix=redis_prefix)  # fmt: skip
    settings = demo_settings(base, "127.0.0.1", port)
    app = create_app(settings, world=world, clock=Clock(START), engine=db_schema.engine)
    with ServedApp(app, port) as served:
        yield served.base


def test_booking_on_the_demo_page(demo: str, db_schema: IsolatedDatabase) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_context(
            locale="ja-JP", viewport={"width": 430, "height": 1600}
        ).new_page()
        page.goto(demo + "/line/demo")
        chat, choices = page.locator("#chat"), page.locator("#choices")
        page.locator(
            "#menu button", has_text="予約する"
        ).click()  # the rich menu, from the stand-in
        expect(chat).to_contain_text("どこから乗りますか")
        choices.get_by_role("button", name="位置情報を送る").click()
        page.locator("#extra button", has_text="ヤクルト鞍手センターの近く").click()
        expect(chat).to_contain_text("近くの乗る場所です")
        choices.locator("button", has_text="1. ヤクルト鞍手センター").click()
        expect(chat).to_contain_text("どこで降りますか")
        page.fill("#text", "役場")
        page.click("#send")
        choices.locator("button", has_text="1. 鞍手町役場").click()
        choices.locator("button", has_text="今すぐ").click()
        choices.locator("button", has_text="2人").click()
        expect(chat).to_contain_text("400円(2人分。お一人200円)")
        chat.locator("button", has_text="予約を確定する").last.click()
        expect(chat).to_contain_text("ご予約が確定しました")
        expect(chat).to_contain_text("-2222")  # 鞍手 花子's phone ends in 2222

        # the newcomer follows the account and links with a code from 「受付の係」
        page.get_by_label("いちろうさん", exact=False).check()
        page.click("#follow")
        expect(chat).to_contain_text("友だち追加ありがとうございます")
        expect(chat).to_contain_text("いちろうさん")  # the display name from the profile API
        page.click("#issue")
        expect(page.locator("#code")).to_contain_text("確認コード:")
        code = page.locator("#code").inner_text().split(":")[1].split("(")[0].strip()
        page.fill("#text", "080-3333-4444")
        page.click("#send")
        expect(chat).to_contain_text("確認コード(6けたの数字)")
        page.fill("#text", code)
        page.click("#send")
        expect(chat).to_contain_text("登録とつながりました。中山 一郎さん")
        browser.close()
    with db_schema.sessionmaker()() as s:
        b = s.scalars(select(bm.Booking).where(bm.Booking.channel == "line")).one()
        assert b.passengers == {"adult": 2}
        linked = s.scalars(select(rm.ResidentChannel.external_id)
                           .where(rm.ResidentChannel.kind == "line")).all()  # fmt: skip
    assert sorted(linked) == sorted(uid for uid, _, _ in DEMO_USERS)
