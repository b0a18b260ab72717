"""The operators' console in a real browser (Debian's Chromium via Playwright): a phone
booking for a known caller in at most five operator actions, and one for a new caller
registered during the call. The screen is an operator's 1366×768."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core.world import World
from server.seed import DEMO_OPERATOR
from tests.booking.conftest import START, Clock, with_second_van
from tests.harness import CHROMIUM, FLAGS, require_chromium
from tests.server.test_pages_csp import WATCH
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def world(world: World) -> World:
    """Kurate with a second van (van-2 beside van-1), so that a booking can be moved."""
    return with_second_van(world)


@pytest.fixture
def page(demo: str) -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768})
        tab = context.new_page()
        tab.add_init_script(WATCH)
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(demo + "/console/")
        tab.get_by_label("ユーザー名").fill(DEMO_OPERATOR[0])
        tab.get_by_label("パスワード").fill(DEMO_OPERATOR[1])
        tab.get_by_role("button", name="ログイン").click()
        try:
            tab.locator("#desk").wait_for(state="visible", timeout=20_000)
        except Exception as exc:  # say what the page said
            message = tab.locator("#message").text_content()
            raise AssertionError(f"the console did not open after login: {message!r}") from exc
        yield tab
        assert tab.evaluate("window.__csp") == []  # every asset from the app, none refused
        assert errors == []
        browser.close()


def earlier_trip(base: str) -> dict:
    """古門 幸子 (a demo resident) rode from the town hall to the hospital before."""
    token = httpx.post(f"{base}/v1/auth/token", data=dict(zip(("username", "password"),
                       DEMO_OPERATOR, strict=True))).json()["access_token"]  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    rid = httpx.get(f"{base}/v1/operator/residents", params={"q": "5555"}, headers=auth).json()[
        "results"
    ][0]["id"]
    body = {"origin": "KUR-001", "destination": "KUR-010", "mode": "depart_at",
            "time": (START + timedelta(hours=2)).isoformat(), "passengers": {"adult": 1},
            "resident_id": rid}  # fmt: skip
    q = httpx.post(f"{base}/v1/operator/quotes", json=body, headers=auth).json()
    qid = (q["offer"] or q["alternatives"][0])["quote_id"]
    r = httpx.post(f"{base}/v1/operator/bookings", json={"quote_id": qid},
                   headers={**auth, "Idempotency-Key": qid})  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_known_caller_is_booked_in_five_actions(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    actions = 0

    def act(step: object) -> None:
        nonlocal actions
        actions += 1

    page.get_by_label("お客様をさがす").fill("ふるかど")  # typed as said on the phone
    page.get_by_label("お客様をさがす").press("Enter")
    act("search")
    page.get_by_role("button", name="古門 幸子", exact=False).click()
    act("choose the caller")
    expect(page.locator("#c-name")).to_have_text("古門 幸子 様")
    expect(page.locator("#trips")).to_contain_text("予約中")  # the earlier trip, cancellable
    page.locator("#return-trip").click()  # home again: the earlier trip the other way
    act("the trip")
    page.get_by_role("button", name="空きを調べる").click()  # as soon as possible
    act("quote")
    expect(page.locator("#offers .offer").first).to_contain_text("お迎え")
    page.locator("#offers .confirm").first.click()
    act("confirm")
    script = page.locator("#read-back")
    expect(script).to_contain_text("予約番号")
    expect(script).to_contain_text("5555")  # the reservation number ends in the phone's digits
    expect(script).to_contain_text("でお待ちください")
    assert actions <= 5


def test_a_new_caller_is_registered_and_booked_during_the_call(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.get_by_label("お客様をさがす").fill("0949-77-1234")
    page.get_by_label("お客様をさがす").press("Enter")
    expect(page.locator("#results")).to_contain_text("見つかりません")
    page.get_by_role("button", name="はじめてのお客様を登録する").click()
    page.get_by_label("お名前").fill("新延 とし子")
    page.get_by_label("よみ(ひらがな・カタカナ)").fill("しのぶ としこ")
    page.get_by_label("電話番号").fill("0949-77-1234")
    page.get_by_label("住所").fill("鞍手町大字新延 3")
    page.get_by_label("生まれた年").fill("1938")
    page.get_by_label("車いすを使う").check()
    page.get_by_label("個人情報の利用に同意をいただいた").check()
    page.get_by_role("button", name="登録する", exact=True).click()
    expect(page.locator("#c-name")).to_have_text("新延 とし子 様")
    expect(page.locator("#c-kana")).to_have_text("シノブ トシコ")
    expect(page.locator("#c-needs")).to_contain_text("車いす")
    page.get_by_label("乗る場所").fill("KUR-001")
    page.get_by_label("降りる場所").fill("KUR-010")
    page.get_by_label("いつ").select_option("depart_at")
    when = (START + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("時刻", exact=True).fill(when)
    page.get_by_role("button", name="空きを調べる").click()
    offer = page.locator("#offers .offer").first
    expect(offer).to_contain_text("車いす 1")  # from the record just made
    page.locator("#offers .confirm").first.click()
    expect(page.locator("#read-back")).to_contain_text("1234")
    page.get_by_label("乗る場所").fill("どこにもない停留所")
    page.get_by_role("button", name="空きを調べる").click()
    expect(page.locator("#message")).to_contain_text("見つかりません")  # said, not a dead end


def test_a_caller_who_leaves_is_refused_while_a_ride_is_booked_then_closed(page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.on("dialog", lambda d: d.accept())  # 「よろしいですか」
    page.get_by_label("お客様をさがす").fill("0949-77-8888")
    page.get_by_label("お客様をさがす").press("Enter")
    page.get_by_role("button", name="はじめてのお客様を登録する").click()
    page.get_by_label("お名前").fill("室木 はる")
    page.get_by_label("よみ(ひらがな・カタカナ)").fill("むろき はる")
    page.get_by_label("電話番号").fill("0949-77-8888")
    page.get_by_label("住所").fill("鞍手町大字室木 5")
    page.get_by_label("生まれた年").fill("1941")
    page.get_by_label("個人情報の利用に同意をいただいた").check()
    page.get_by_role("button", name="登録する", exact=True).click()
    expect(page.locator("#c-name")).to_have_text("室木 はる 様")
    page.get_by_label("乗る場所").fill("KUR-001")
    page.get_by_label("降りる場所").fill("KUR-010")
    page.get_by_label("いつ").select_option("depart_at")
    page.get_by_label("時刻", exact=True).fill(
        (START + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_role("button", name="空きを調べる").click()
    page.locator("#offers .confirm").first.click()
    expect(page.locator("#read-back")).to_contain_text("予約番号")
    page.get_by_role("button", name="退会の手続き(ご本人のお申し出)").click()
    expect(page.locator("#message")).to_contain_text("まだ乗る前のご予約があります")  # said why
    page.locator("#trips").get_by_role("button", name="取り消す").click()
    expect(page.locator("#message")).to_contain_text("取り消しました")
    page.get_by_role("button", name="退会の手続き(ご本人のお申し出)").click()
    expect(page.locator("#message")).to_contain_text("退会の手続きをしました")
    expect(page.locator("#c-closed")).to_contain_text("退会されました")
    expect(page.locator("#trip-form")).to_be_hidden()
    expect(page.locator("#c-close")).to_be_hidden()


def test_the_day_board_lists_the_day_s_bookings_by_vehicle(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    page.get_by_role("button", name="一日の予約").click()
    table = page.locator("#b-table tbody")
    expect(table.locator("tr")).to_have_count(1)
    expect(table).to_contain_text("古門 幸子")
    here = table.locator("td").nth(4).text_content()  # the vehicle of the live plan
    assert here in ("van-1", "van-2")
    other = "van-2" if here == "van-1" else "van-1"
    mover = page.get_by_label("古門 幸子様の予約を移す車")
    expect(mover).to_have_value(other)
    page.get_by_role("button", name="確認").click()  # the engine's check, nothing changed
    expect(table).to_contain_text(f"{other}なら")
    expect(table).to_contain_text("お約束の範囲内")
    page.get_by_role("button", name="移す", exact=True).click()
    expect(page.locator("#message")).to_contain_text(f"{other} に移しました")
    expect(table.locator("td").nth(4)).to_have_text(other)
    page.get_by_role("button", name="この車に固定").click()  # no automatic move from now on
    expect(page.locator("#message")).to_contain_text(f"{other} に固定しました")
    expect(table.locator("td").nth(4)).to_have_text(f"{other}(固定)")
    page.get_by_role("button", name="車を固定中(解除)").click()
    expect(table.locator("td").nth(4)).to_have_text(other)
    expect(page.locator("#b-date")).to_have_value(START.date().isoformat())  # the service's today
    expect(page.locator("#b-summary")).to_contain_text("予約中 1件")
    assert page.locator("#attention").is_hidden()  # nobody late, nobody unplaced
    page.get_by_label("状態").select_option("cancelled")
    page.get_by_role("button", name="表示する").click()
    expect(table.locator("tr")).to_have_count(0)


def test_taking_a_van_out_of_service_from_the_board(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    page.get_by_role("button", name="一日の予約").click()
    table = page.locator("#b-table tbody")
    expect(table.locator("tr")).to_have_count(1)
    here = table.locator("td").nth(4).text_content()
    other = "van-2" if here == "van-1" else "van-1"
    page.on("dialog", lambda d: d.accept())  # 「よろしいですか?」
    page.get_by_role("button", name=f"{here} を運休にする").click()
    expect(page.locator("#withdrawn")).to_contain_text("ほかの車に移したご予約: 1件")
    expect(table.locator("td").nth(4)).to_have_text(other)
    page.get_by_role("button", name=f"{other} を運休にする").click()  # now nobody can take her
    expect(page.locator("#withdrawn")).to_contain_text("移せなかったお客様 1人")
    expect(page.locator("#withdrawn")).to_contain_text("古門 幸子")
    expect(page.locator("#attention")).to_contain_text("運休です")  # the rider to call
    # a spare van for the rest of the day, and the stranded rider moved onto it
    page.get_by_text("この日に車を追加する").click()
    page.get_by_label("車両の名前").fill("spare-1")
    page.get_by_label("から").fill("10:30")
    page.get_by_label("車いす", exact=True).fill("1")  # she travels in her wheelchair
    page.get_by_role("button", name="追加する").click()
    expect(page.locator("#message")).to_contain_text("spare-1 を 10:30〜18:00 に追加しました")
    page.get_by_label("古門 幸子様の予約を移す車").select_option("spare-1")
    page.get_by_role("button", name="確認").click()
    expect(table).to_contain_text("spare-1なら")
    page.get_by_role("button", name="移す", exact=True).click()
    expect(table.locator("td").nth(4)).to_have_text("spare-1")
    expect(page.locator("#attention")).to_be_hidden()


def test_the_fleet_map_draws_our_roads_and_each_van_s_state(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    page.get_by_role("button", name="車両の地図").click()
    vans = page.locator("#vehicles li")
    expect(vans).to_have_count(2)
    expect(page.locator("#vehicles")).to_contain_text("位置が届かない")  # planned, no tablet yet
    expect(page.locator("#vehicles")).to_contain_text("予約なし")  # the other van
    drawn = page.evaluate(  # the canvas has roads on it: many pixels differ from the background
        """() => { const c = document.getElementById("map"), d = c.getContext("2d")
        .getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert drawn > 10_000
    expect(page.locator(".credit")).to_contain_text("OpenStreetMap")


def test_a_rider_a_late_van_will_not_reach_in_time_is_listed_to_call(
    page: object, demo: str, demo_clock: Clock
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    b = earlier_trip(demo)
    # nobody reports the pickup: 20 minutes after the window the van is re-timed from now
    demo_clock.now_s = int(datetime.fromisoformat(b["pickup_to"]).timestamp()) + 20 * 60
    page.get_by_role("button", name="一日の予約").click()
    attention = page.locator("#attention")
    expect(attention).to_be_visible()
    expect(attention).to_contain_text("古門 幸子")
    expect(attention).to_contain_text("分遅れの見込み")
    expect(attention).to_contain_text("0949425555")  # the number to call
    expect(page.locator("#b-table tr.late")).to_have_count(1)
    # handled: the driver phones in that she is not at the stop; the operator records it
    page.on("dialog", lambda d: d.accept())  # 「運転手さんから連絡がありましたか?」
    page.get_by_role("button", name="来られなかった").click()
    expect(page.locator("#message")).to_contain_text("「来られなかった」にしました")
    expect(page.locator("#b-table tbody td").nth(6)).to_have_text("来られず")
    expect(attention).to_be_hidden()  # nobody left to call


def test_the_audit_log_of_the_caller_with_names_and_a_csv_file(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    page.get_by_label("お客様をさがす").fill("5555")
    page.get_by_label("お客様をさがす").press("Enter")
    page.get_by_role("button", name="古門 幸子", exact=False).click()
    page.get_by_role("button", name="記録").click()
    table = page.locator("#a-table tbody")
    expect(table).to_contain_text("予約の確定")
    expect(table).to_contain_text("受付 オペレーター(職員)")  # a name, not a staff id
    expect(table).to_contain_text("KUR-001")  # meeting points by id, not place numbers
    with page.expect_download() as saved:
        page.get_by_role("button", name="CSVで保存").click()
    text = Path(saved.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("id,at,actor_kind,actor_name")
    assert "booking.confirm" in text
