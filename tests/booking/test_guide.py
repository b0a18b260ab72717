"""The residents' guide without a login (issue 17: residents had no map of the meeting points,
the API needed a login, and there was nothing to print)."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from core.guide import guide
from core.world import World
from drt.guide_cli import render
from tests.booking.conftest import Svc
from tests.booking.test_meeting_points import admin
from tests.harness import CHROMIUM, FLAGS, require_chromium
from tests.server.test_pages_csp import WATCH
from tests.server.test_pages_csp import demo as demo
from tests.server.test_pages_csp import demo_clock as demo_clock

pytestmark = pytest.mark.services


def test_anyone_reads_the_guide_with_every_meeting_point_by_district(svc: Svc) -> None:
    r = svc.client.get("/v1/guide")  # no token
    assert r.status_code == 200, r.text
    g = r.json()
    assert g["phone"] == svc.world.config.operator_phone
    assert [h["days"] for h in g["hours"]] == ["平日", "土曜日", "日曜日", "祝日"]
    assert g["hours"][0] == {"days": "平日", "opens": "07:00", "closes": "19:00"}
    assert {f["yen"] for f in g["fares"]} == set(svc.world.config.fares.values())
    ids = [p["id"] for d in g["districts"] for p in d["points"]]
    assert sorted(ids) == sorted(p.id for p in svc.world.stops.points)
    assert "大字中山" in [d["name"] for d in g["districts"]]
    assert svc.client.get("/v1/guide/roads").json()["attribution"].startswith("©")
    page = svc.client.get("/guide/")
    assert page.status_code == 200
    assert "ご利用案内" in page.text


def test_a_closed_meeting_point_says_so_in_the_guide(svc: Svc) -> None:
    head = admin(svc)
    closure = {"closed_from": "2026-12-02T09:00:00+09:00", "closed_to": "2026-12-09T18:00:00+09:00",
               "closed_note": "道路工事"}  # fmt: skip
    assert (
        svc.client.patch(
            "/v1/operator/meeting-points/KUR-010", json=closure, headers=head
        ).status_code
        == 200
    )
    points = {
        p["id"]: p for d in svc.client.get("/v1/guide").json()["districts"] for p in d["points"]
    }
    assert points["KUR-010"]["closed_note"] == "道路工事"
    assert points["KUR-001"]["closed_note"] is None


def test_the_printed_guide_has_hours_fares_the_phone_and_each_district(
    world: World, tmp_path: Path
) -> None:
    data = guide(world).model_dump(mode="json")
    out = tmp_path / "guide.pdf"
    pages = render(data, world.road_lines(), out)
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == pages >= 3
    first = reader.pages[0].extract_text()
    for needed in ("ご利用案内", "平日", "07:00〜19:00", "200円", world.config.operator_phone):
        assert needed in first, needed
    rest = "".join(page.extract_text() for page in reader.pages[2:])
    for d in data["districts"]:
        assert d["name"] in rest, d["name"]  # every 大字 has its map and its list


def test_the_guide_page_lists_and_finds_meeting_points_in_a_browser(demo: str) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_context(
            locale="ja-JP", viewport={"width": 1024, "height": 900}
        ).new_page()
        page.add_init_script(WATCH)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(demo + "/guide/")
        expect(page.locator("#phone")).to_have_text("0949-42-0000")
        expect(page.locator("#hours")).to_contain_text("07:00〜19:00")
        expect(page.locator(".district li").first).to_be_visible()
        page.get_by_label("名前や読みでさがす").fill("鞍手町役場")  # and the one 200 m north of it
        expect(page.locator(".district li")).to_have_count(2)
        expect(page.locator(".district li").first).to_contain_text("鞍手町役場クラテマチヤクバ")
        page.get_by_label("名前や読みでさがす").fill("ＫＵＲ－００１")  # full-width, as typed
        expect(page.locator(".district li")).to_have_count(1)
        page.get_by_label("名前や読みでさがす").fill("")
        page.get_by_label("地区").select_option("大字中山")
        expect(page.locator(".district h3")).to_have_text(["大字中山"])
        assert page.evaluate("window.__csp") == []
        assert errors == []
        browser.close()
