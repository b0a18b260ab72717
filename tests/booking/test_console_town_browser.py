"""The console's 町のサービス in a real browser (Debian's Chromium via Playwright, 1366×768):
a caller's opt-ins changed on the phone desk; a notice composed for a segment, its count
checked against the API's, scheduled and cancelled; a survey written, opened, answered by a
resident and read as charts and CSV; the FAQ bot's tickets answered and its misses listed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.seed import DEMO_OPERATOR
from tests.booking.conftest import START
from tests.booking.test_console_browser import page as page
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services
SACHIKO = "0949-42-5555"  # 古門 幸子, a demo resident: 鞍手町大字古門 3-8, born 1944


class Api:
    def __init__(self, base: str) -> None:
        form = dict(zip(("username", "password"), DEMO_OPERATOR, strict=True))
        token = httpx.post(f"{base}/v1/auth/token", data=form).json()["access_token"]
        self.base, self.auth = base, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.auth, **kw.pop("headers", {})}
        r = httpx.request(method, self.base + path, headers=headers, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def resident(self, phone: str) -> dict[str, Any]:
        return dict(self.call("GET", "/v1/operator/residents", params={"q": phone})["results"][0])

    def resident_token(self, phone: str) -> str:
        rid = self.resident(phone)["id"]
        code = self.call("POST", f"/v1/operator/residents/{rid}/link-code")["code"]
        r = httpx.post(f"{self.base}/v1/auth/resident", json={"phone": phone, "code": code})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


def _open_town(page: Any, tab: str) -> None:
    from playwright.sync_api import expect

    page.locator("#to-town").click()
    expect(page.locator("#town")).to_be_visible()
    page.locator(f"#tw-to-{tab}").click()
    expect(page.locator(f"#tw-{tab}")).to_be_visible()


def test_opt_ins_on_the_desk_and_a_notice_to_a_segment(page: Any, demo: str) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    page.on("dialog", lambda d: d.accept())
    # The phone desk: 古門 幸子 asks for the town's notices by LINE.
    page.get_by_label("お客様をさがす").fill("5555")
    page.get_by_role("button", name="さがす").click()
    page.get_by_role("button", name="古門 幸子").click()
    notices = page.locator('#c-town li[data-service="notices"]')
    expect(notices).to_contain_text("受け取らない")
    notices.get_by_role("button", name="受け取る").click()
    expect(notices).to_contain_text("お知らせ: 受け取る")
    rid = api.resident(SACHIKO)["id"]
    on = {s["service"]: s["on"] for s in api.call("GET", f"/v1/town/residents/{rid}/subscriptions")}
    assert on["notices"] is True
    assert on["garbage"] is False
    # 中山 一郎 opted in too (by the API): outside a notice to 古門
    other = api.resident("080-3333-4444")["id"]
    api.call("PUT", f"/v1/town/residents/{other}/subscriptions/notices", json={})

    _open_town(page, "notices")
    page.get_by_label("件名").fill("古門の道路工事")
    page.get_by_label("本文").fill("12月10日は、古門の町道が通れません。")
    page.locator("#nt-districts").get_by_label("古門").check()
    page.get_by_role("button", name="届く人数を確かめる").click()
    expect(page.locator("#nt-count")).to_contain_text("1人に届きます")
    segment = {"districts": ["古門"], "age_bands": [], "eligibility": [], "channels": []}
    counted = api.call("POST", "/v1/town/notices/preview", json={"segment": segment})
    assert counted["residents"] == 1  # the same count as the page's
    expect(page.locator("#nt-count svg text.label").first).to_have_text("古門")
    # no district chosen: everyone who opted in (both)
    page.locator("#nt-districts").get_by_label("古門").uncheck()
    page.get_by_role("button", name="届く人数を確かめる").click()
    expect(page.locator("#nt-count")).to_contain_text("2人に届きます")
    page.locator("#nt-districts").get_by_label("古門").check()
    later = (START + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("送る日時").fill(later)
    page.get_by_role("button", name="送る", exact=True).click()
    row = page.locator("#nt-table tbody tr", has_text="古門の道路工事")
    expect(row).to_contain_text("送信予定")
    expect(row).to_contain_text("古門")
    expect(row).to_contain_text("受付 オペレーター")  # who wrote it, by name (not an account id)
    stored = api.call("GET", "/v1/town/notices")
    assert len(stored) == 1
    assert stored[0]["segment"]["districts"] == ["古門"]
    assert stored[0]["send_at"].startswith((START + timedelta(days=1)).date().isoformat())
    row.get_by_role("button", name="取り消す").click()
    expect(row).to_contain_text("取り消し")
    assert api.call("GET", "/v1/town/notices")[0]["status"] == "cancelled"
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"


def test_a_survey_written_opened_answered_and_read(page: Any, demo: str) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    page.on("dialog", lambda d: d.accept())
    rid = api.resident(SACHIKO)["id"]
    api.call("PUT", f"/v1/town/residents/{rid}/subscriptions/surveys", json={})
    _open_town(page, "surveys")
    page.locator("#sv-new summary").click()
    page.get_by_label("題名").fill("バスの使いやすさ")
    first = page.locator("#sv-questions fieldset.question").first
    first.get_by_label("質問文").fill("よく乗りますか")
    first.locator(".q-choices").fill("よく乗る\nときどき\n乗らない")
    page.get_by_role("button", name="質問を加える").click()
    second = page.locator("#sv-questions fieldset.question").nth(1)
    second.get_by_label("種類").select_option("scale")
    second.get_by_label("質問文").fill("満足度")
    page.get_by_role("button", name="下書きを保存する").click()
    row = page.locator("#sv-table tbody tr", has_text="バスの使いやすさ")
    expect(row).to_contain_text("下書き")
    row.get_by_role("button", name="始める").click()
    expect(row).to_contain_text("受付中")
    expect(row).to_contain_text("受付 オペレーター")

    # 古門 幸子 answers with her own token (as the app and the answer page do)
    token = api.resident_token(SACHIKO)
    me = {"Authorization": f"Bearer {token}"}
    mine = httpx.get(f"{demo}/v1/town/surveys/mine", headers=me).json()
    assert [s["title"] for s in mine] == ["バスの使いやすさ"]
    sid = mine[0]["id"]
    for qid, value in (("q1", "ときどき"), ("q2", 4)):
        r = httpx.put(
            f"{demo}/v1/town/surveys/{sid}/answers/{qid}", json={"value": value}, headers=me
        )
        assert r.status_code == 200, r.text
    assert httpx.post(f"{demo}/v1/town/surveys/{sid}/complete", headers=me).status_code == 200

    row.get_by_role("button", name="結果").click()
    results = page.locator("#sv-results")
    expect(results).to_contain_text("答え終わった方 1人")
    expect(results).to_contain_text("平均 4")
    charts = results.locator(".chart svg")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("text.value")).to_have_text(["0人", "1人", "0人"])
    with page.expect_download() as saved:
        results.get_by_role("button", name="CSVで保存(Excel)").click()
    lines = Path(saved.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",")[-2:] == ["q1 よく乗りますか", "q2 満足度"]
    assert lines[1].split(",")[-2:] == ["ときどき", "4"]
    row.get_by_role("button", name="締め切る").click()
    expect(row).to_contain_text("締め切り")


def test_faq_tickets_are_answered_and_misses_listed(page: Any, demo: str) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    rid = api.resident(SACHIKO)["id"]
    api.call(
        "POST",
        "/v1/town/faq/tickets",
        json={"question": "家の前の街灯が切れています", "resident_id": rid},
    )
    asked = httpx.get(f"{demo}/v1/town/faq", params={"q": "宇宙船の停め方を教えて"}).json()
    assert asked["answered"] is False  # noted for staff
    _open_town(page, "faq")
    row = page.locator("#fq-table tbody tr", has_text="家の前の街灯が切れています")
    expect(row).to_have_count(1)
    expect(page.locator("#fq-misses tbody")).to_contain_text("宇宙船の停め方を教えて")
    row.get_by_label("答えたこと").fill("電話で建設課におつなぎした")
    row.get_by_role("button", name="答えた").click()
    expect(page.locator("#fq-table tbody")).to_contain_text("問い合わせはありません")
    page.locator("#fq-status").select_option("all")
    done = page.locator("#fq-table tbody tr", has_text="家の前の街灯が切れています")
    expect(done).to_contain_text("電話で建設課におつなぎした")
    expect(done).to_contain_text("受付 オペレーター")
    tickets = api.call("GET", "/v1/town/faq/tickets", params={"status": "closed"})
    assert [t["note"] for t in tickets] == ["電話で建設課におつなぎした"]
    # the ticket's resident opens on the phone desk, to call her back
    done.get_by_role("button", name="お客様を開く").click()
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#c-name")).to_have_text("古門 幸子 様")


def test_a_class_defined_a_caller_reserved_and_the_roster(page: Any, demo: str) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    page.on("dialog", lambda d: d.accept())
    _open_town(page, "reservations")
    page.locator("#ev-new summary").click()
    page.get_by_label("名前(80文字まで)").fill("スマホ教室(LINEの使い方)")
    page.locator("#ev-place").fill("鞍手町役場 2階 会議室")
    page.locator("#ev-stop").select_option("KUR-001")
    page.locator("#ev-day").fill((START + timedelta(days=7)).date().isoformat())
    page.locator("#ev-capacity").fill("1")
    page.locator("#ev-waitlist").fill("1")
    page.get_by_role("button", name="作る", exact=True).click()
    row = page.locator("#ev-table tbody tr", has_text="スマホ教室(LINEの使い方)")
    expect(row).to_contain_text("0/1")
    expect(row).to_contain_text("あと1席")
    stored = api.call("GET", "/v1/town/reservations/events")
    assert [(e["capacity"], e["stop_id"], e["reminders"]) for e in stored] == [
        (1, "KUR-001", [{"days_before": 1, "at": "17:00"}])
    ]
    # 古門 幸子 phones: reserved from the roster; 中山 一郎 after her: waiting
    row.get_by_role("button", name="名簿").click()
    for phone, name in (("5555", "古門 幸子"), ("3333-4444", "中山 一郎")):
        page.get_by_label("予約に加えるお客様").fill(phone)
        page.locator("#ev-roster").get_by_role("button", name="さがす").click()
        page.get_by_role("button", name=f"{name}").click()
        expect(page.locator("#ev-roster-table tbody")).to_contain_text(name)
    table = page.locator("#ev-roster-table tbody")
    expect(table.locator("tr").nth(0)).to_contain_text("古門 幸子")
    expect(table.locator("tr").nth(0)).to_contain_text("予約")
    expect(table.locator("tr").nth(1)).to_contain_text("キャンセル待ち(1番目)")
    expect(row).to_contain_text("満席")
    with page.expect_download() as saved:
        page.get_by_role("button", name="名簿をCSVで保存(Excel)").click()
    lines = Path(saved.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[3] for line in lines[1:]] == ["古門 幸子", "中山 一郎"]
    # her place given back, from her card on the phone desk: his now
    page.locator("#to-desk").click()
    page.get_by_label("お客様をさがす").fill("5555")
    page.get_by_role("button", name="さがす").click()
    page.get_by_role("button", name="古門 幸子").click()
    held = page.locator("#c-reservations li", has_text="スマホ教室(LINEの使い方)")
    expect(held).to_contain_text("予約")
    held.get_by_role("button", name="取り消す").click()
    expect(page.locator("#c-town")).to_contain_text("予約している教室・窓口はありません")
    _open_town(page, "reservations")
    page.locator("#ev-table tbody tr", has_text="スマホ教室").get_by_role(
        "button", name="名簿"
    ).click()
    expect(page.locator("#ev-roster-table tbody tr", has_text="中山 一郎")).to_contain_text("予約")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"
