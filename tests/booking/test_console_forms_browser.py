"""The console's 申請書 (書かない窓口) in a real browser (Debian's Chromium via Playwright,
1366×768): 古門 幸子 (a demo resident: 鞍手町大字古門 3-8, born 1944) comes to the counter;
the operator finds her, starts a certificate request with her consent, sees the fields her
record filled marked 「登録から」, is refused 「完了にする」 until the ID check is written and
ticked, completes it and prints the PDF (read back: her name, address and the number in it);
then a pre-application a resident made in the app is found by its number as she says it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest

from tests.booking.test_console_browser import page as page
from tests.booking.test_console_town_browser import Api, _open_town
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services


def test_a_certificate_request_at_the_counter_and_a_pre_application_found(
    page: Any, demo: str
) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    page.on("dialog", lambda d: d.accept())
    _open_town(page, "forms")
    expect(page.locator("#fa-table")).to_contain_text("今日の申請はまだありません")
    page.get_by_label("お客様をさがす(電話番号・名前・かな)").fill("5555")
    page.get_by_role("button", name="お客様をさがす").click()
    page.locator("#fa-people").get_by_role("button", name="古門 幸子").click()
    expect(page.locator("#fa-who")).to_contain_text("古門 幸子 様")
    page.locator("#fa-form").select_option("certificate")
    page.get_by_label("ご本人が、町の登録の内容").check()
    page.get_by_role("button", name="申請書を作る").click()

    detail = page.locator("#fa-detail")
    expect(detail.locator(".fa-number")).to_have_text("受付番号 A26-0001")
    name = detail.locator('.fa-field[data-field="name"]')
    expect(name.locator(".fa-tag.prefilled")).to_have_text("登録から")
    expect(name.locator("input.fa-input")).to_have_value("古門 幸子")
    expect(detail.locator('.fa-field[data-field="address"] input.fa-input')).to_have_value(
        "鞍手町大字古門 3-8"
    )
    expect(detail.locator('.fa-field[data-field="certificate"] .fa-tag')).to_have_count(0)
    expect(page.locator("#fa-table")).to_contain_text("A26-0001")  # today's list

    detail.locator('select[data-field="certificate"]').select_option("印鑑登録証明書")
    detail.locator('select[data-field="purpose"]').select_option("金融機関・その他")
    page.locator("#fa-complete").click()  # not yet: no ID check, no ticks
    expect(page.locator("#message")).to_contain_text("まだ書いていない欄: 本人確認書類(窓口記入)")
    expect(page.locator("#fa-left")).to_contain_text("確認の印がない欄: 氏名(窓口に来た方)")
    detail.locator('select[data-field="id_document"]').select_option("マイナンバーカード")
    for field in ("name", "birth_year", "address"):
        detail.locator(f'.fa-confirm[data-field="{field}"]').check()
    page.locator("#fa-complete").click()
    expect(page.locator("#fa-status")).to_contain_text("完了")
    expect(detail.locator('select[data-field="certificate"]')).to_be_disabled()
    (stored,) = api.call("GET", "/v1/town/forms/applications", params={"number": "A26-0001"})
    assert stored["status"] == "completed"
    assert stored["values"]["certificate"] == "印鑑登録証明書"
    assert stored["confirmed"] == ["name", "birth_year", "address"]

    with page.expect_download() as saved:
        page.locator("#fa-print").click()
    assert saved.value.suggested_filename == "A26-0001.pdf"
    reader = pypdf.PdfReader(io.BytesIO(Path(saved.value.path()).read_bytes()))
    text = "".join(reader.pages[0].extract_text().split())
    for value in (
        "A26-0001",
        "古門幸子",
        "鞍手町大字古門3-8",
        "1944",
        "印鑑登録証明書",
        "マイナンバーカード",
    ):
        assert value in text, value

    # a pre-application made in the app; she says her number at the counter
    token = api.resident_token("080-3333-4444")
    r = httpx.post(f"{demo}/v1/town/forms/license-return/applications",
                   json={"prefill": True, "values": {"support": "のりあいバス回数券"}},
                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "app-1"})  # fmt: skip
    assert r.status_code == 201, r.text
    page.locator("#fa-waiting").click()
    expect(page.locator("#fa-table tbody tr")).to_have_count(1)
    page.get_by_label("受付番号(例: A26-0001。一部だけでも)").fill("b26-0001")
    page.locator("#fa-find").get_by_role("button", name="さがす").click()
    expect(detail.locator(".fa-number")).to_have_text("受付番号 B26-0001")
    expect(detail).to_contain_text("中山 一郎 様")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"
