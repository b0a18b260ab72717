"""Finding a meeting point however it is typed (issue 17: 「木月」 did not find 「大字木月」, and a
misspelt name found nothing). One search, the same for LINE and the API."""

from __future__ import annotations

import pytest

from common.japanese import fold
from core.world import World
from tests.booking.conftest import Svc
from tests.booking.test_meeting_points import admin

pytestmark = pytest.mark.services


@pytest.mark.parametrize(
    ("typed", "folded"),
    [("フルカド", "ふるかど"), ("ﾌﾙｶﾄﾞ", "ふるかど"), ("ＫＵＲ－００１", "kur001"),
     ("古門・公民館", "古門公民館"), ("古門　公民館", "古門公民館")],
)  # fmt: skip
def test_one_folding_for_every_search(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("鞍手町役場", "KUR-001"), ("役場", "KUR-001"), ("鞍手病院", "KUR-002"),  # shortened
     ("鞍手町立病院", "KUR-002"), ("鞍手町立病因", "KUR-002"),  # misspelt
     ("新延郵便局", "KUR-005"), ("にのぶ郵便局", "KUR-005"),  # by its reading
     ("ＫＵＲ－００５", "KUR-005"), ("鞍手役場", "KUR-001")],
)  # fmt: skip
def test_names_are_found_shortened_or_misspelt(
    world: World, typed: str, expected: str | None
) -> None:
    found = [p.id for p in world.search_stops(typed)]
    if expected is None:
        assert "KUR-005" not in found[:1]
    else:
        assert found[0] == expected, [world.stops.get(i).name for i in found]


def test_a_district_finds_its_points(world: World) -> None:
    found = world.search_stops("木月", limit=50)
    assert found
    assert all("木月" in (p.district or "") + p.name for p in found)


def test_a_reading_set_by_staff_is_searched_in_either_kana(svc: Svc) -> None:
    head = admin(svc)
    r = svc.client.patch("/v1/operator/meeting-points/KUR-005", json={"kana": "にのぶ ゆうびんきょく"},
                         headers=head)  # fmt: skip
    assert r.status_code == 200, r.text
    for typed in ("にのぶ", "ニノブ", "ﾆﾉﾌﾞ"):
        got = svc.client.get("/v1/meeting-points", params={"q": typed}, headers=head)
        assert got.status_code == 200, got.text
        assert got.json()[0]["id"] == "KUR-005", typed
    assert len(svc.client.get("/v1/meeting-points", headers=head).json()) == len(
        svc.world.stops.points
    )
