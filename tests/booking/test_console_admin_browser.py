"""The console's admin screens in a real browser (Debian's Chromium via Playwright, 1366×768):
the meeting points on our own roads (rename, close for road works with the rides to call,
open again, add one by clicking the map), the staff accounts, and a driver's break planned
from the day board. Operators see the points but none of the admins' controls."""

from __future__ import annotations

import math
import re

import httpx
import pytest

from server.seed import DEMO_ADMIN, DEMO_OPERATOR
from tests.booking.conftest import START
from tests.booking.test_console_browser import earlier_trip
from tests.booking.test_console_browser import page as page
from tests.booking.test_console_browser import world as world
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services
TOWN_HALL = (33.7916891, 130.6739777)  # KUR-001 鞍手町役場
DAY = START.date().isoformat()


def auth(base: str, who: tuple[str, str]) -> dict[str, str]:
    r = httpx.post(f"{base}/v1/auth/token", data={"username": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def canvas_xy(roads: dict, lat: float, lon: float) -> tuple[float, float]:
    """Where the page draws a point on its 1000×640 canvas (the same projection as the page)."""
    south, west, north, east = roads["bbox"]
    kx = math.cos(math.radians((south + north) / 2))
    scale = min(1000 / ((east - west) * kx), 640 / (north - south))
    dx, dy = (1000 - (east - west) * kx * scale) / 2, (640 - (north - south) * scale) / 2
    return dx + (lon - west) * kx * scale, dy + (north - lat) * scale


@pytest.fixture
def admin(page: object) -> object:
    """The console signed in again, as the demo admin."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.locator("#sign-out").click()
    page.locator("#username").fill(DEMO_ADMIN[0])
    page.locator("#password").fill(DEMO_ADMIN[1])
    page.locator("#signin-form button[type=submit]").click()
    expect(page.locator("#who")).to_have_text("受付中(管理者)")
    expect(page.locator("#to-staff")).to_be_visible()
    return page


def test_an_admin_renames_a_point_closes_it_for_road_works_and_opens_it_again(
    admin: object, demo: str
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    booked = earlier_trip(demo)  # 古門 幸子: KUR-001 → KUR-010 at 12:00
    page.locator("#to-points").click()
    rows = page.locator("#pt-table tbody tr")
    expect(rows).to_have_count(180)
    page.get_by_label("ポイントをさがす").fill("kur-010")
    expect(rows).to_have_count(1)
    rows.first.click()
    expect(page.locator("#pt-chosen h3")).to_have_text("ヤクルト鞍手センター(KUR-010)")
    expect(rows.first).to_have_class(re.compile("chosen"))
    page.get_by_label("名前", exact=True).fill("中山公民館前")
    page.get_by_label("よみ", exact=True).fill("なかやま こうみんかんまえ")
    page.get_by_role("button", name="名前・よみを変える").click()
    message = page.locator("#message")
    expect(message).to_contain_text(
        "KUR-010 を「中山公民館前」(ナカヤマ コウミンカンマエ)にしました"
    )
    expect(rows.first).to_contain_text("ナカヤマ コウミンカンマエ")
    page.get_by_label("ポイントをさがす").fill("こうみんかん")  # the reading, typed in hiragana
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("中山公民館前")
    expect(page.locator("#point-names option[value='中山公民館前 [KUR-010]']")).to_have_count(1)

    page.get_by_label("閉じ始め").fill(f"{DAY}T11:00")
    page.get_by_label("閉じ終わり").fill(f"{DAY}T17:00")
    page.get_by_label("理由(お客様に伝えます)").fill("道路工事")
    page.get_by_role("button", name="この期間は閉じる").click()
    calls = page.locator("#pt-affected")
    expect(calls).to_contain_text("お電話でお知らせするご予約: 1件")
    expect(calls.locator("li")).to_contain_text("古門 幸子(☎ 0949425555)")
    expect(calls.locator("li")).to_contain_text(booked["reservation_number"])
    expect(page.locator("#pt-state")).to_contain_text("11:00 〜")
    expect(page.locator("#pt-state")).to_contain_text("17:00(道路工事)")
    expect(rows.first).to_have_class(re.compile("closed"))
    expect(rows.first).to_contain_text("道路工事")

    page.get_by_role("button", name="使えるように戻す").click()
    expect(message).to_contain_text("「中山公民館前」をまた使えるようにしました")
    expect(page.locator("#pt-state")).to_have_text("使えます(閉じる予定はありません)")
    expect(page.get_by_role("button", name="使えるように戻す")).to_have_count(0)
    expect(rows.first).not_to_have_class(re.compile("closed"))
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"


def test_an_admin_adds_a_point_by_clicking_the_map(admin: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    roads = httpx.get(f"{demo}/v1/operator/map", headers=auth(demo, DEMO_ADMIN)).json()
    page.locator("#to-points").click()
    rows = page.locator("#pt-table tbody tr")
    expect(rows).to_have_count(180)
    page.get_by_text("乗降ポイントを追加する").click()
    near = (TOWN_HALL[0] + 0.0004, TOWN_HALL[1] - 0.0004)  # some 60 m from the town hall
    x, y = canvas_xy(roads, *near)
    canvas = page.locator("#pt-map")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": x * box["width"] / 1000, "y": y * box["height"] / 640})
    lat = float(page.get_by_label("緯度").input_value())
    lon = float(page.get_by_label("経度").input_value())
    assert abs(lat - near[0]) < 0.0003, lat
    assert abs(lon - near[1]) < 0.0003, lon
    page.get_by_label("ポイントの名前").fill("役場北の角")
    page.get_by_label("ポイントのよみ").fill("やくばきたのかど")
    page.get_by_role("button", name="この場所に作る").click()
    expect(page.locator("#message")).to_contain_text(
        re.compile(r"乗降ポイント「役場北の角」\(KUR-\d+\)を作りました")
    )
    expect(rows).to_have_count(181)
    row = page.locator("#pt-table tbody tr", has_text="役場北の角")
    expect(row).to_have_class(re.compile("chosen"))
    expect(row).to_contain_text("ヤクバキタノカド")
    expect(page.locator("#pt-chosen")).to_contain_text("追加した乗降ポイント")
    expect(page.locator("#pt-add")).not_to_have_attribute("open", "")
    points = httpx.get(f"{demo}/v1/meeting-points", headers=auth(demo, DEMO_ADMIN)).json()
    added = next(p for p in points if p["name"] == "役場北の角")  # bookable at once
    assert abs(added["lat"] - near[0]) < 0.003  # on the road nearest the click
    assert abs(added["lon"] - near[1]) < 0.003


def test_an_admin_opens_an_operator_account_and_turns_it_off(admin: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    page.locator("#to-staff").click()
    table = page.locator("#st-table tbody")
    expect(table.locator("tr[data-username='operator']")).to_contain_text("受付 オペレーター")
    expect(table.locator("tr[data-username='operator'] td").nth(2)).to_have_text("受付")
    expect(table.locator("tr[data-username='admin'] td").nth(2)).to_have_text("管理者")
    expect(table.locator("tr[data-username='admin']")).to_contain_text("ご自分")  # no 止める
    page.get_by_text("新しいアカウントを作る").click()
    page.get_by_label("ユーザー名(半角の英小文字・数字)").fill("tanaka.h")
    page.get_by_label("名前(画面と記録に出ます)").fill("田中 花子")
    page.get_by_label("役割").select_option("operator")
    page.get_by_label("はじめのパスワード(10文字以上)").fill("hanako-pass-1")
    page.get_by_role("button", name="アカウントを作る").click()
    message = page.locator("#message")
    expect(message).to_contain_text("田中 花子さんのアカウント(tanaka.h、受付)を作りました")
    row = table.locator("tr[data-username='tanaka.h']")
    expect(row).to_contain_text("田中 花子")
    expect(row.locator("td").nth(2)).to_have_text("受付")
    expect(row.locator("td").nth(3)).to_have_text("使用中")
    auth(demo, ("tanaka.h", "hanako-pass-1"))  # she can sign in

    page.on("dialog", lambda d: d.accept())  # 「よろしいですか?」
    row.get_by_role("button", name="止める").click()
    expect(message).to_contain_text("田中 花子さんのアカウントを止めました")
    expect(row.locator("td").nth(3)).to_have_text("停止中")
    refused = httpx.post(f"{demo}/v1/auth/token",
                         data={"username": "tanaka.h", "password": "hanako-pass-1"})  # fmt: skip
    assert refused.status_code == 401

    row.get_by_role("button", name="使えるようにする").click()
    expect(row.locator("td").nth(3)).to_have_text("使用中")
    row.get_by_label("田中 花子さんの新しいパスワード").fill("short")
    row.get_by_role("button", name="変える").click()
    expect(message).to_contain_text("10文字以上")  # said on screen, nothing sent
    row.get_by_label("田中 花子さんの新しいパスワード").fill("hanako-pass-2")
    row.get_by_role("button", name="変える").click()
    expect(message).to_contain_text("田中 花子さんのパスワードを変えました")
    auth(demo, ("tanaka.h", "hanako-pass-2"))
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"

    page.locator("#sign-out").click()  # nothing of the staff page stays for the next person
    expect(page.locator("#staff *")).to_have_count(0)
    expect(page.locator("#nav")).to_be_hidden()


def test_an_operator_sees_the_points_but_no_admin_controls(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    admin = auth(demo, DEMO_ADMIN)
    closed = httpx.patch(f"{demo}/v1/operator/meeting-points/KUR-002", headers=admin, json={
        "closed_from": f"{DAY}T11:00:00+09:00", "closed_to": f"{DAY}T15:00:00+09:00",
        "closed_note": "道路工事"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    roads = httpx.get(f"{demo}/v1/operator/map", headers=admin).json()
    expect(page.locator("#who")).to_have_text("受付中")
    expect(page.locator("#to-staff")).to_be_hidden()
    page.locator("#to-points").click()
    rows = page.locator("#pt-table tbody tr")
    expect(rows).to_have_count(180)
    expect(page.locator("#pt-count")).to_have_text("180か所(全部で 180か所)")
    hospital = page.locator("#pt-table tbody tr[data-id='KUR-002']")
    expect(hospital).to_have_class(re.compile("closed"))
    expect(hospital).to_contain_text("道路工事")

    def colour(lat: float, lon: float) -> list[int]:
        x, y = canvas_xy(roads, lat, lon)
        return list(page.evaluate(
            """([x, y]) => Array.from(document.getElementById("pt-map").getContext("2d")
            .getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3))""", [x, y]))  # fmt: skip

    points = {
        p["id"]: p for p in httpx.get(f"{demo}/v1/operator/meeting-points", headers=admin).json()
    }
    assert colour(points["KUR-002"]["lat"], points["KUR-002"]["lon"]) == [176, 0, 32]  # closed: red
    assert colour(points["KUR-001"]["lat"], points["KUR-001"]["lon"]) == [11, 92, 173]  # open: blue

    page.get_by_label("ポイントをさがす").fill("やくば")  # by its reading (read by machine)
    expect(rows.first).to_contain_text("クラテマチヤクバ(機械の読み・未確認)")
    page.get_by_label("ポイントをさがす").fill("役場")
    expect(rows.first).to_contain_text("鞍手町役場")
    rows.first.click()
    expect(page.locator("#pt-chosen")).to_contain_text("鞍手町役場(KUR-001)")
    expect(page.locator("#pt-chosen")).to_contain_text("役場・公共施設")
    expect(page.locator("#pt-state")).to_have_text("使えます(閉じる予定はありません)")
    for admin_only in ("#pt-rename", "#pt-close", "#pt-reopen", "#staff *"):
        expect(page.locator(admin_only)).to_have_count(0)  # not built at all
    expect(page.locator("#pt-add")).to_be_hidden()
    x, y = canvas_xy(roads, points["KUR-002"]["lat"], points["KUR-002"]["lon"])
    canvas = page.locator("#pt-map")
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": x * box["width"] / 1000, "y": y * box["height"] / 640})
    expect(page.locator("#pt-chosen h3")).to_contain_text("(KUR-002)")  # a click chooses a point
    expect(page.locator("#pt-state")).to_contain_text("道路工事")
    assert page.locator("#pt-new-lat").input_value() == ""  # and adds nothing


def test_planning_a_driver_s_break_from_the_board(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)
    page.get_by_role("button", name="一日の予約").click()
    expect(page.locator("#b-date")).to_have_value(DAY)
    page.get_by_text("運転手さんの休憩を入れる").click()
    vehicles = page.get_by_label("休憩する車")
    expect(vehicles.locator("option")).to_have_text(["van-1", "van-2"])
    vehicles.select_option("van-2")
    page.get_by_label("早くて").fill("06:00")  # before the van's day and before now
    page.get_by_label("遅くとも(始める時刻)").fill("06:30")
    page.get_by_role("button", name="休憩を入れる").click()
    message = page.locator("#message")
    expect(message).to_contain_text("休憩の時間帯は")  # the service's reason, in Japanese
    page.get_by_label("早くて").fill("11:00")
    page.get_by_label("遅くとも(始める時刻)").fill("12:00")
    page.get_by_label("休憩の長さ(分)").fill("30")
    page.get_by_role("button", name="休憩を入れる").click()
    expect(message).to_contain_text(
        re.compile(r"van-2 の休憩を (11:\d\d|12:00) から30分 入れました")
    )
    expect(page.locator("#add-break")).not_to_have_attribute("open", "")
    expect(page.locator("#b-table tbody tr")).to_have_count(1)  # the board as it was
    planned = page.locator("#br-planned")  # the board lists no breaks: the page keeps its own
    expect(planned).to_be_visible()
    expect(planned.locator("li")).to_have_count(1)
    expect(planned.locator("li")).to_contain_text(
        re.compile(r"van-2: .+ (11:\d\d|12:00) から 30分")
    )


def rules_of(base: str) -> dict[str, float]:
    r = httpx.get(f"{base}/v1/operator/service-rules", headers=auth(base, DEMO_ADMIN))
    assert r.status_code == 200, r.text
    return {x["key"]: x["value"] for x in r.json()["rules"]}


def test_an_admin_widens_the_pickup_window_on_the_rules_page(admin: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    before = rules_of(demo)
    page.locator("#to-rules").click()
    rows = page.locator("#ru-table tbody tr")
    expect(rows).to_have_count(len(before))
    expect(page.locator("#ru-table thead th")).to_have_text(
        ["項目", "今の値", "設定ファイルの値", "新しい値"]
    )
    window = page.locator("#ru-table tbody tr[data-key='pickup_window_s'] td")
    expect(window.nth(0)).to_have_text("お迎えの時間帯の幅(秒)")
    expect(window.nth(1)).to_have_text("600 秒(10分)")
    expect(window.nth(2)).to_have_text("600 秒(10分)")
    page.get_by_label("お迎えの時間帯の幅(秒)の新しい値").fill("900")
    page.get_by_role("button", name="保存").click()
    message = page.locator("#message")
    expect(message).to_have_text("設定を変えました。これからの予約に使います(今の予約はそのまま)")
    expect(window.nth(1)).to_have_text("900 秒(15分)")
    expect(window.nth(2)).to_have_text("600 秒(10分)")  # the file keeps its value
    expect(page.locator("#ru-table tbody tr[data-key='pickup_window_s']")).to_have_class(
        re.compile("changed")
    )
    expect(page.get_by_label("お迎えの時間帯の幅(秒)の新しい値")).to_have_value("900")
    assert rules_of(demo) == {**before, "pickup_window_s": 900}  # only the changed key was sent
    page.locator("#to-desk").click()
    page.locator("#to-rules").click()  # as the service has it now
    expect(window.nth(1)).to_have_text("900 秒(15分)")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"


def test_a_bad_rule_shows_the_service_s_reason_and_changes_nothing(
    admin: object, demo: str
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    before = rules_of(demo)
    page.locator("#to-rules").click()
    hold = int(before["hold_ttl_s"])
    page.get_by_label("空き確認の結果を押さえておく時間(秒)の新しい値").fill(str(hold + 60))
    page.get_by_label("お約束の内側に残す余裕(秒)の新しい値").fill("400")  # over half of 600 s
    page.get_by_role("button", name="保存").click()
    message = page.locator("#message")
    expect(message).to_have_class(re.compile("error"))
    expect(message).to_contain_text("promise_slack_s")
    expect(message).to_contain_text("pickup_window_s の半分以下にしてください")
    slack = page.locator("#ru-table tbody tr[data-key='promise_slack_s']")
    expect(slack).to_have_class(re.compile("bad"))  # the rule the service named
    expect(page.get_by_label("お約束の内側に残す余裕(秒)の新しい値")).to_have_value("400")
    expect(slack.locator("td").nth(1)).to_contain_text(f"{int(before['promise_slack_s'])} 秒")
    hold_now = page.locator("#ru-table tbody tr[data-key='hold_ttl_s'] td").nth(1)
    expect(hold_now).to_contain_text(f"{hold} 秒")
    assert rules_of(demo) == before  # checked together: the valid change was not made either


def test_an_operator_reads_the_rules_and_cannot_change_them(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    r = httpx.patch(f"{demo}/v1/operator/service-rules", json={"pickup_window_s": 900},
                    headers=auth(demo, DEMO_ADMIN))  # fmt: skip
    assert r.status_code == 200, r.text
    expect(page.locator("#who")).to_have_text("受付中")
    page.get_by_role("button", name="設定").click()
    expect(page.locator("#rules")).to_be_visible()
    expect(page.locator("#ru-table thead th")).to_have_text(["項目", "今の値", "設定ファイルの値"])
    window = page.locator("#ru-table tbody tr[data-key='pickup_window_s'] td")
    expect(window.nth(1)).to_have_text("900 秒(15分)")  # the admin's change, in force
    expect(window.nth(2)).to_have_text("600 秒(10分)")
    expect(page.locator("#ru-note")).to_contain_text("見るだけ")
    expect(page.locator("#ru-table input")).to_have_count(0)  # not built at all
    expect(page.get_by_role("button", name="保存")).to_have_count(0)


def test_an_admin_changes_another_account_s_role_and_name(admin: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(admin, Page)
    page = admin
    page.locator("#to-staff").click()
    table = page.locator("#st-table tbody")
    own = table.locator("tr[data-username='admin']")
    expect(own).to_contain_text("ご自分の役割は、ほかの管理者が変えます。")
    expect(own.locator("select")).to_have_count(0)
    row = table.locator("tr[data-username='operator']")
    expect(row.locator("td").nth(2)).to_have_text("受付")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))  # 「よろしいですか?」
    row.get_by_label("受付 オペレーターさんの新しい役").select_option("admin")
    row.get_by_role("button", name="役割を変更").click()
    message = page.locator("#message")
    expect(message).to_contain_text("受付 オペレーターさんの役割を「管理者」にしました")
    expect(row.locator("td").nth(2)).to_have_text("管理者")
    assert "「受付」から「管理者」" in dialogs[0]
    promoted = auth(demo, DEMO_OPERATOR)
    assert httpx.get(f"{demo}/v1/operator/staff", headers=promoted).status_code == 200

    row.get_by_label("operator の表示名").fill("山田 一郎")
    row.get_by_role("button", name="名前を変更").click()
    expect(message).to_contain_text("operator の名前を「山田 一郎」にしました")
    expect(row.locator("td").nth(1)).to_have_text("山田 一郎")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"
