"""Who may do what, and guessing secrets: each case was probed on the running service and
answered wrongly before (a channel account booking for anyone, a driver's token taken as a
resident's, unlimited wrong codes, one rider holding the whole day)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

import driver_app_api.service as drivers
from common.auth import hash_token
from driver_app_api.service import create_device, create_driver
from residents import models as rm
from residents import service as people
from tests.booking.conftest import Svc
from tests.booking.test_api import TRIP, at_time, book, quote

pytestmark = pytest.mark.services


def test_wrong_link_codes_lock_the_phone_out_for_a_while(svc: Svc) -> None:
    rid, _ = svc.register("090-5555-0001")
    code = svc.client.post(
        f"/v1/operator/residents/{rid}/link-code", headers=svc.auth(svc.operator_token)
    ).json()["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = [
        svc.client.post("/v1/auth/resident", json={"phone": "09055550001", "code": wrong})
        for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    body = answers[-1].json()["error"]
    assert body["code"] == "too_many_attempts"
    assert body["details"]["retry_after_s"] > 0
    assert body["message_ja"]
    assert body["message_en"]
    right = svc.client.post("/v1/auth/resident", json={"phone": "09055550001", "code": code})
    assert right.status_code == 429  # the right code too, until the wait is over


def test_wrong_staff_passwords_lock_the_user_out(svc: Svc) -> None:
    for _ in range(5):
        r = svc.client.post("/v1/auth/token", data={"username": "op", "password": "nope"})
        assert r.status_code == 401
    r = svc.client.post("/v1/auth/token", data={"username": "op", "password": "op-pass"})
    assert r.status_code == 429
    other = svc.client.post("/v1/auth/token", data={"username": "app", "password": "app-pass"})
    assert other.status_code == 200  # only that user name waits


def count_secret_checks(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """Every secret ``module`` checks with ``verify_password``, in order."""
    checked: list[str] = []
    real = module.verify_password

    def counting(secret: str, stored: str) -> bool:
        checked.append(secret)
        return bool(real(secret, stored))

    monkeypatch.setattr(module, "verify_password", counting)
    return checked


def test_an_unknown_user_name_costs_the_same_password_check(
    svc: Svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = count_secret_checks(monkeypatch, people)
    svc.client.post("/v1/auth/token", data={"username": "op", "password": "nope"})
    svc.client.post("/v1/auth/token", data={"username": "nobody", "password": "nope"})
    assert checked == ["nope", "nope"]  # no shortcut that timing would reveal


def test_link_codes_are_stored_salted(svc: Svc) -> None:
    rid, _ = svc.register("090-5555-0002")
    code = svc.client.post(
        f"/v1/operator/residents/{rid}/link-code", headers=svc.auth(svc.operator_token)
    ).json()["code"]
    with svc.db.sessionmaker()() as s:
        stored = s.scalars(select(rm.LinkCode.code_hash)).all()
    assert len(stored) == 1
    assert stored[0].startswith("scrypt$")
    assert code not in stored[0]
    assert stored[0] != hashlib.sha256(f"{rid}:{code}".encode()).hexdigest()
    assert stored[0] != hash_token(f"{rid}:{code}")


def test_a_channel_account_acts_only_through_residents_tokens(svc: Svc) -> None:
    rid, rider = svc.register()
    as_channel = svc.auth(svc.channel_token)
    q = svc.client.post("/v1/quotes", json={**TRIP, "resident_id": rid}, headers=as_channel)
    assert q.status_code == 403
    assert q.json()["error"]["code"] == "forbidden"
    b = book(svc, rider, quote(svc, rider)["offer"]["quote_id"])
    assert svc.client.get(f"/v1/bookings/{b['id']}", headers=as_channel).status_code == 403
    cancel = svc.client.post(f"/v1/bookings/{b['id']}/cancel", headers=as_channel)
    assert cancel.status_code == 403
    assert (
        svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(rider)).json()["status"]
        == "confirmed"
    )


def test_a_drivers_token_is_not_a_residents(svc: Svc) -> None:
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-sec")
        create_driver(s, "1009", "運転 手", "4321")
        s.commit()
    r = svc.client.post(
        "/v1/driver/sessions", json={"device_token": "tablet-sec", "login": "1009", "pin": "4321"}
    )
    driver = r.json()["access_token"]
    for method, path in (("get", "/v1/residents/me"), ("get", "/v1/residents/me/bookings")):
        answer = getattr(svc.client, method)(path, headers=svc.auth(driver))
        assert answer.status_code == 401, path
    q = svc.client.post("/v1/quotes", json=TRIP, headers=svc.auth(driver))
    assert q.status_code == 401


def test_only_admins_read_the_whole_audit_log(svc: Svc) -> None:
    rid, _ = svc.register()
    op = svc.auth(svc.operator_token)
    assert svc.client.get("/v1/operator/audit", headers=op).status_code == 403
    mine = svc.client.get(f"/v1/operator/audit?resident_id={rid}", headers=op)
    assert mine.status_code == 200
    assert {e["resident_id"] for e in mine.json()} == {rid}
    with svc.db.sessionmaker()() as s:
        people.create_staff(s, "boss", "boss-pass-long", "admin")
        s.commit()
    token = svc.client.post(
        "/v1/auth/token", data={"username": "boss", "password": "boss-pass-long"}
    ).json()["access_token"]
    assert svc.client.get("/v1/operator/audit", headers=svc.auth(token)).status_code == 200


def test_one_rider_cannot_hold_the_day_with_unconfirmed_offers(svc: Svc) -> None:
    _, greedy = svc.register("090-7777-0001")
    for i in range(26):  # a quote every 20 minutes of the day, none confirmed
        quote(svc, greedy, mode="depart_at", time=at_time(0.5 + i / 3))
    host = svc.client.app.state.host  # type: ignore[attr-defined]
    with host.read() as d:
        held = [
            ps for v in d.vehicle_ids() for ps in d.plan(v)
            if (b := d.booking(ps.booking_id)) is not None and str(b.status) == "held"
        ]  # fmt: skip
    requests = {ps.booking_id.partition("#")[0].partition("~")[0] for ps in held}
    assert len(requests) <= 2  # the policy's max_held_requests
    _, other = svc.register("090-7777-0002")
    late = quote(svc, other, mode="depart_at", time=at_time(3))
    assert late["status"] == "offer"  # someone else still gets the van


def test_operators_find_a_caller_by_full_width_digits(svc: Svc) -> None:
    rid, _ = svc.register("0949-42-5555")
    r = svc.client.get(
        "/v1/operator/residents", params={"q": "５５５５"}, headers=svc.auth(svc.operator_token)
    )
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["results"]] == [rid]


def test_registering_a_phone_twice_is_a_clear_409_not_a_500(svc: Svc) -> None:
    svc.register("090-3333-0001")
    body = {"name": "二重 登録", "kana": "ニジュウ トウロク", "phone": "０９０-３３３３-０００１",
            "address": "鞍手町大字中山 1", "birth_year": 1950, "consent": True}  # fmt: skip
    r = svc.client.post("/v1/operator/residents", json=body, headers=svc.auth(svc.operator_token))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "phone_already_registered"


def test_wrong_driver_pins_lock_the_driver_number_out_on_every_tablet(svc: Svc) -> None:
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-pin-a")
        create_device(s, "van-1", "tablet-pin-b")
        create_driver(s, "1010", "遠賀 進", "4826")
        create_driver(s, "1011", "鞍手 花", "5937")
        s.commit()

    def sign_in(device: str, login: str, pin: str) -> int:
        body = {"device_token": device, "login": login, "pin": pin}
        return svc.client.post("/v1/driver/sessions", json=body).status_code

    assert [sign_in("tablet-pin-a", "1010", f"{n:04d}") for n in range(5)] == [401] * 5
    r = svc.client.post(
        "/v1/driver/sessions",
        json={"device_token": "tablet-pin-b", "login": "1010", "pin": "4826"},
    )
    assert r.status_code == 429  # the right PIN too, and on another tablet
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert sign_in("tablet-pin-a", "1011", "5937") == 200  # only that driver number waits


def test_an_unknown_driver_number_costs_the_same_pin_check(
    svc: Svc, monkeypatch: pytest.MonkeyPatch
) -> None:
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-pin-c")
        create_driver(s, "1012", "遠賀 進", "4826")
        s.commit()
    checked = count_secret_checks(monkeypatch, drivers)
    for login in ("1012", "9999"):
        body = {"device_token": "tablet-pin-c", "login": login, "pin": "0000"}
        assert svc.client.post("/v1/driver/sessions", json=body).status_code == 401
    assert checked == ["0000", "0000"]  # no shortcut that timing would reveal
