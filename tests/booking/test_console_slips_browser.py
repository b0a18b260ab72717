"""The console's 納付書 in a real browser (Debian's Chromium via Playwright, 1366×768): a
slips file (Shift_JIS, as the tax system writes it) and a payments file chosen with the
file inputs and imported, a wrong file refused with its rows named, the list as the API
has it (paid and unpaid), and an unpaid slip's PDF opened: its barcode decodes to the
slip's digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.booking.test_console_browser import page as page
from tests.booking.test_console_town_browser import SACHIKO, Api, _open_town
from tests.booking.test_town_slips import codes_on_page
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services
HEADER = "resident_id,subject,fiscal_year,period,payer_name,biller_code,free_field,due,amount"


def test_slips_and_payments_imported_listed_and_a_pdf_opened(
    page: Any, demo: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    api = Api(demo)
    rid = api.resident(SACHIKO)["id"]
    slips = tmp_path / "slips.csv"
    slips.write_bytes("\n".join([
        HEADER,
        f"{rid},固定資産税・都市計画税,2026,第3期,古門 幸子,912345,{'7' * 21},2026-12-25,23400",
        f",軽自動車税(種別割),2026,全期,町外 次郎,912345,{'8' * 21},2026-12-28,10800",
    ]).encode("cp932"))  # fmt: skip
    _open_town(page, "slips")
    expect(page.locator("#sl-table")).to_contain_text("納付書はありません")
    page.locator("#sl-import-file").set_input_files(str(slips))
    page.locator("#sl-import").get_by_role("button", name="取り込む").click()
    expect(page.locator("#sl-report")).to_contain_text("新しく 2件")
    rows = page.locator("#sl-table tbody tr")
    expect(rows).to_have_count(2)
    mine = rows.filter(has_text="古門 幸子")
    expect(mine).to_contain_text("12月25日(金)")
    expect(mine).to_contain_text("23,400円")
    expect(mine).to_contain_text("まだ払われていない")
    expect(rows.filter(has_text="町外 次郎")).to_contain_text("結びついていません")

    listed = api.call("GET", "/v1/town/slips")
    ours = next(s for s in listed if s["resident_id"] == rid)
    payments = tmp_path / "payments.csv"
    payments.write_text(f"barcode,paid_on\nEAN{ours['barcode']},2026-12-20\n", encoding="utf-8")
    page.locator("#sl-pay-file").set_input_files(str(payments))
    page.locator("#sl-pay").get_by_role("button", name="取り込む").click()
    expect(page.locator("#sl-report")).to_contain_text("支払い済みにしました: 1件")
    expect(mine).to_contain_text("支払い済み(12月20日(日))")
    assert api.call("GET", f"/v1/town/slips/{ours['id']}")["status"] == "paid"
    page.locator("#sl-status").select_option("unpaid")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("町外 次郎")
    page.locator("#sl-status").select_option("")

    # the payments file chosen as a slips file by mistake: refused, its problem named
    page.locator("#sl-import-file").set_input_files(str(payments))
    page.locator("#sl-import").get_by_role("button", name="取り込む").click()
    expect(page.locator("#sl-report")).to_contain_text("取り込めませんでした")
    expect(page.locator("#sl-report")).to_contain_text("biller_code")
    assert len(api.call("GET", "/v1/town/slips")) == 2

    unpaid = next(s for s in listed if s["resident_id"] is None)
    with page.expect_download() as got:
        rows.filter(has_text="町外 次郎").get_by_role("button", name="PDFを開く").click()
    pdf = Path(got.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert codes_on_page(pdf)["Code128"] == unpaid["barcode"]
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"
