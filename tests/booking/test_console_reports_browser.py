"""The console's 報告 page in a real browser (Debian's Chromium via Playwright, 1366×768):
the town's report as a table and bar charts drawn by our own code, and its CSV file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.booking.conftest import START
from tests.booking.test_console_browser import earlier_trip
from tests.booking.test_console_browser import page as page
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services


def test_the_report_shows_a_table_charts_and_saves_a_csv(page: object, demo: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    earlier_trip(demo)  # one booking on the demo's day
    page.locator("#to-reports").click()
    expect(page.locator("#reports")).to_be_visible()
    # No dates given: the service's month so far (its clock, not this PC's).
    expect(page.locator("#rp-from")).to_have_value("2026-12-01")
    expect(page.locator("#rp-to")).to_have_value(START.date().isoformat())
    row = page.locator("#rp-table tbody tr", has_text="12月2日")
    expect(row).to_have_count(1)
    assert int(row.locator("td").nth(1).inner_text()) >= 1  # bookings of the day
    expect(page.locator("#rp-table tfoot tr")).to_contain_text("合計")
    bars = page.locator("#rp-chart svg rect.bar")
    expect(bars).to_have_count(2 * page.locator("#rp-table tbody tr").count())  # rides, refusals
    assert page.locator("#rp-chart svg").bounding_box()["height"] > 100  # type: ignore[index]
    expect(page.locator("#rp-ages svg text.label").first).to_have_text("64歳以下")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 1366, f"the page is {wide}px wide: it scrolls sideways at 1366×768"

    page.locator("#rp-by").select_option("month")
    page.get_by_role("button", name="表示する").click()
    expect(page.locator("#rp-table tbody tr").first).to_contain_text("2026年12月")
    expect(page.locator("#rp-table tbody tr")).to_have_count(1)

    with page.expect_download() as saved:
        page.locator("#rp-csv").click()
    assert saved.value.suggested_filename == "ridership.csv"
    lines = Path(saved.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("period,bookings,completed,")
    assert "refused_no_time_available" in lines[0]
    assert "wait_p90_s" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == ["2026-12", "total"]
