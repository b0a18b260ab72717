"""Operators on the phone: finding the caller however the name or number is typed, and the
caller's own needs taken from their record (issue 16's findings)."""

from __future__ import annotations

import pytest

from tests.booking.conftest import Svc

pytestmark = pytest.mark.services

TRIP = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1}}
CALLER = {"name": "古門 幸子", "kana": "ふるかど さちこ", "phone": "０９４９-４２-５５５５",
          "address": "鞍手町大字古門 1", "birth_year": 1941, "consent": True,
          "wheelchair": True, "needs_help": True}  # fmt: skip


def register(svc: Svc, **over: object) -> dict:
    r = svc.client.post(
        "/v1/operator/residents", json={**CALLER, **over}, headers=svc.auth(svc.operator_token)
    )
    assert r.status_code == 201, r.text
    return dict(r.json()["resident"])


def found(svc: Svc, q: str) -> list[str]:
    r = svc.client.get(
        "/v1/operator/residents", params={"q": q}, headers=svc.auth(svc.operator_token)
    )
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["results"]]


@pytest.mark.parametrize(
    "q",
    ["ふるかど", "フルカド", "ﾌﾙｶﾄﾞ", "フルカドサチコ", "ふるかど　さちこ", "古門幸子", "古門　幸子",
     "５５５５", "5555", "0949425555", "0949-42-5555", "(0949) 42 5555"],
)  # fmt: skip
def test_the_caller_is_found_however_the_name_or_number_is_typed(svc: Svc, q: str) -> None:
    me = register(svc)
    assert me["kana"] == "フルカド サチコ"  # stored as katakana, whatever was typed
    assert me["phone"] == "0949425555"
    register(svc, name="中山 一郎", kana="ナカヤマ イチロウ", phone="080-3333-4444")
    assert found(svc, q) == [me["id"]]


def test_a_search_is_words_not_patterns(svc: Svc) -> None:
    register(svc)
    assert found(svc, "%") == []
    assert found(svc, "_") == []


def test_an_operator_quote_takes_the_wheelchair_from_the_caller_s_record(svc: Svc) -> None:
    me = register(svc)
    op = svc.auth(svc.operator_token)
    q = svc.client.post("/v1/operator/quotes", json={**TRIP, "resident_id": me["id"]}, headers=op)
    assert q.status_code == 200, q.text
    offer = q.json()["offer"] or q.json()["alternatives"][0]
    assert offer["wheelchairs"] == 1  # it offered 0 wheelchair spaces to a wheelchair user
    told = svc.client.post(  # the operator may still say otherwise (e.g. travelling without)
        "/v1/operator/quotes", json={**TRIP, "resident_id": me["id"], "wheelchairs": 0}, headers=op
    ).json()
    assert (told["offer"] or told["alternatives"][0])["wheelchairs"] == 0
