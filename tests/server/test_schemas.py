"""Input that parses but makes no sense: times out of range, GPS nonsense, full-width phones."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from residents import models as rm
from tests.booking.conftest import START, Svc

pytestmark = pytest.mark.services


@pytest.mark.parametrize(
    "time",
    [
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
        "1999-12-31T23:59:59+09:00",
        "2101-01-01T00:00:00+09:00",
    ],
)
@pytest.mark.parametrize("path", ["/v1/quotes", "/v1/operator/quotes"])
def test_quote_times_out_of_range(svc: Svc, raw: TestClient, time: str, path: str) -> None:
    rid, token = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "mode": "depart_at", "time": time,
            "passengers": {"adult": 1}}  # fmt: skip
    if path.startswith("/v1/operator"):
        body["resident_id"] = rid
        token = svc.operator_token
    r = raw.post(path, json=body, headers=svc.auth(token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"][0]["field"] == "time"


def test_a_quote_time_in_range_is_fine(svc: Svc) -> None:
    _, token = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "mode": "depart_at",
            "time": START.replace(hour=11).isoformat(), "passengers": {"adult": 1}}  # fmt: skip
    r = svc.client.post("/v1/quotes", json=body, headers=svc.auth(token))
    assert r.status_code == 200, r.text


def point(**over: object) -> dict[str, object]:
    return {"t": START.timestamp() + 5, "lat": 33.79, "lon": 130.68, "speed_mps": 8.0,
            "heading_deg": 90.0, "accuracy_m": 5.0, **over}  # fmt: skip


def post_points(client: TestClient, token: str, raw_point: str) -> Response:
    """The body as text, so that NaN and Infinity (which Python's json reads) get through."""
    return client.post(
        "/v1/driver/positions",
        content=f'{{"points": [{raw_point}]}}'.encode(),
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
    )


@pytest.mark.parametrize(
    "t",
    [
        "Infinity", "-Infinity", "NaN", "0", "-1", "-1e20", "1e308",
        str(int(START.timestamp() * 1000)),  # milliseconds
        "1577836799",  # 2019-12-31T23:59:59Z
        "4102444801",  # after 2100-01-01
    ],
)  # fmt: skip
def test_gps_times(svc: Svc, raw: TestClient, driver: str, t: str) -> None:
    text = json.dumps(point(t="T")).replace('"T"', t)
    r = post_points(raw, driver, text)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "points.0.t"


@pytest.mark.parametrize("field", ["lat", "lon", "speed_mps", "heading_deg", "accuracy_m"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e308", "-1e308"])
def test_gps_numbers(svc: Svc, raw: TestClient, driver: str, field: str, value: str) -> None:
    text = json.dumps(point(**{field: "V"})).replace('"V"', value)
    r = post_points(raw, driver, text)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == f"points.0.{field}"


def test_shift_start_position_must_be_finite(svc: Svc, raw: TestClient, driver: str) -> None:
    for value in ("NaN", "Infinity"):
        r = raw.post("/v1/driver/shift/start", content=f'{{"lat": {value}, "lon": 130.68}}',
                     headers={**svc.auth(driver), "content-type": "application/json"})  # fmt: skip
        assert r.status_code == 422, r.text


def test_a_good_gps_point_is_accepted(svc: Svc, driver: str) -> None:
    r = post_points(svc.client, driver, json.dumps(point()))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1


FULL_WIDTH = "０９０-１２３４-５６７８"


def stored_phone(svc: Svc, rid: str) -> str:
    with svc.db.sessionmaker()() as s:
        phone = s.scalar(select(rm.Resident.phone).where(rm.Resident.id == rid))
    assert phone is not None
    return phone


@pytest.mark.parametrize(
    "phone",
    [FULL_WIDTH, "０９０－１２３４－５６７８", "(090) 1234 5678", "０９０ー１２３４ー５６７８"],
)
def test_full_width_phone_numbers_are_stored_as_ascii_digits(svc: Svc, phone: str) -> None:
    rid, _ = svc.register(phone=phone)
    assert stored_phone(svc, rid) == "09012345678"
    r = svc.client.get(f"/v1/operator/residents/{rid}", headers=svc.auth(svc.operator_token))
    assert r.json()["phone"] == "09012345678"


@pytest.mark.parametrize("phone", ["٠٩٠١٢٣٤٥٦٧٨", "090-1234-567８x", "phone 0901234567"])
def test_phone_numbers_with_other_characters_are_refused(svc: Svc, phone: str) -> None:
    body = {"name": "鞍手 太郎", "kana": "クラテ タロウ", "phone": phone, "address": "鞍手町 1",
            "birth_year": 1950, "consent": True}  # fmt: skip
    r = svc.client.post("/v1/residents", json=body, headers=svc.auth(svc.channel_token))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "phone"


def test_a_resident_logs_in_with_a_full_width_phone_number_and_code(svc: Svc) -> None:
    rid, _ = svc.register(phone="090-5555-0000")
    code = svc.client.post(f"/v1/operator/residents/{rid}/link-code",
                           headers=svc.auth(svc.operator_token)).json()["code"]  # fmt: skip
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    r = svc.client.post(
        "/v1/auth/resident", json={"phone": "０９０-５５５５-００００", "code": wide}
    )
    assert r.status_code == 200, r.text
    me = svc.client.get("/v1/residents/me", headers=svc.auth(r.json()["access_token"]))
    assert me.json()["id"] == rid
