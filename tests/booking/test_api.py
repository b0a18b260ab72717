"""The booking API end to end over HTTP (TestClient), on PostgreSQL and Redis."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import models as m
from tests.booking.conftest import JST, START, Svc

pytestmark = pytest.mark.services

TRIP = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1}}


def at_time(hours_after_start: float) -> str:
    return (START + timedelta(hours=hours_after_start)).isoformat()


def quote(svc: Svc, token: str, **over: object) -> dict:
    r = svc.client.post("/v1/quotes", json={**TRIP, **over}, headers=svc.auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def book(svc: Svc, token: str, quote_id: str, key: str = "k1") -> dict:
    r = svc.client.post(
        "/v1/bookings",
        json={"quote_id": quote_id},
        headers=svc.auth(token, **{"Idempotency-Key": key}),
    )
    assert r.status_code == 201, r.text
    return r.json()


def count(svc: Svc, model: type) -> int:
    with svc.db.sessionmaker()() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_quote_confirm_status_and_cancel(svc: Svc) -> None:
    _, token = svc.register()
    q = quote(svc, token, mode="depart_at", time=at_time(1))
    assert q["status"] == "offer"
    offer = q["offer"]
    assert offer["fare_yen"] == 200
    pickup_from = datetime.fromisoformat(offer["pickup_from"])
    pickup_to = datetime.fromisoformat(offer["pickup_to"])
    assert (pickup_to - pickup_from) == timedelta(minutes=10)
    assert pickup_from >= START + timedelta(hours=1)
    assert datetime.fromisoformat(offer["dropoff_by"]) > datetime.fromisoformat(offer["pickup_to"])
    b = book(svc, token, offer["quote_id"])
    assert b["status"] == "confirmed"
    assert b["reservation_number"].endswith("-5678")
    assert b["eta_pickup"] is not None
    assert pickup_from <= datetime.fromisoformat(b["eta_pickup"]) <= pickup_to
    got = svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(token)).json()
    assert got["id"] == b["id"]
    assert got["status"] == "confirmed"
    mine = svc.client.get("/v1/residents/me/bookings", headers=svc.auth(token)).json()
    assert [x["id"] for x in mine] == [b["id"]]
    r = svc.client.post(f"/v1/bookings/{b['id']}/cancel", headers=svc.auth(token))
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    again = svc.client.post(f"/v1/bookings/{b['id']}/cancel", headers=svc.auth(token))
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"
    with svc.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        assert all(not d.plan(v) for v in d.vehicle_ids())  # the seat is free again


def test_fares_by_category(svc: Svc) -> None:
    _, token = svc.register()
    q = quote(svc, token, passengers={"adult": 2, "child": 1, "disability": 1, "preschool": 1})
    assert q["offer"]["fare_yen"] == 2 * 200 + 100 + 100 + 0


def test_same_idempotency_key_gives_the_same_booking(svc: Svc) -> None:
    _, token = svc.register()
    offer = quote(svc, token)["offer"]
    first = book(svc, token, offer["quote_id"], key="same")
    second = book(svc, token, offer["quote_id"], key="same")
    assert first == second
    assert count(svc, m.Booking) == 1
    other = quote(svc, token, origin="KUR-020")["offer"]
    r = svc.client.post(
        "/v1/bookings", json={"quote_id": other["quote_id"]},
        headers=svc.auth(token, **{"Idempotency-Key": "same"}),
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert count(svc, m.Booking) == 1


def test_expired_offer_cannot_be_confirmed_and_frees_its_seat(svc: Svc) -> None:
    _, token = svc.register()
    offer = quote(svc, token)["offer"]
    svc.clock.advance(svc.world.params.hold_ttl_s + 1)
    r = svc.client.post(
        "/v1/bookings",
        json={"quote_id": offer["quote_id"]},
        headers=svc.auth(token, **{"Idempotency-Key": "x"}),
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "offer_expired"
    with svc.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        assert all(not d.plan(v) for v in d.vehicle_ids())


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"origin": "KUR-999"}, "unknown_meeting_point"),
        ({"origin": "33.60,130.40"}, "outside_service_area"),  # Fukuoka city, not Kurate
        ({"destination": "KUR-010"}, "request_invalid"),
        ({"passengers": {}}, "invalid_input"),
        ({"passengers": {"adult": 9}}, "too_many_passengers"),
        ({"mode": "depart_at", "time": "2026-12-02T09:00:00+09:00"}, "time_in_past"),
        ({"mode": "depart_at", "time": "2026-12-02T21:00:00+09:00"}, "outside_service_hours"),
        ({"mode": "depart_at", "time": "2026-12-30T10:00:00+09:00"}, "too_far_ahead"),
        ({"mode": "depart_at", "time": "2026-12-02T12:00:00"}, "invalid_input"),
        ({"mode": "depart_at"}, "invalid_input"),
        ({"passengers": {"adult": 1}, "wheelchairs": 2}, "invalid_input"),
        ({"passengers": {"grown_up": 1}}, "invalid_input"),
    ],
)
def test_bad_quotes_are_refused_and_change_nothing(svc: Svc, body: dict, code: str) -> None:
    _, token = svc.register()
    r = svc.client.post("/v1/quotes", json={**TRIP, **body}, headers=svc.auth(token))
    assert 400 <= r.status_code < 500, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert err["message_ja"]
    assert err["message_en"]
    assert count(svc, m.Quote) == 0


def test_no_service_on_new_years_day(svc: Svc) -> None:
    svc.clock.now_s = int(datetime(2026, 12, 28, 10, 0, tzinfo=JST).timestamp())
    _, token = svc.register()
    r = svc.client.post(
        "/v1/quotes", json={**TRIP, "mode": "depart_at", "time": "2026-12-30T10:00:00+09:00"},
        headers=svc.auth(token),
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "no_service_that_day"


def test_malformed_json_and_missing_token(svc: Svc) -> None:
    _, token = svc.register()
    r = svc.client.post(
        "/v1/quotes",
        content=b"{not json",
        headers=svc.auth(token, **{"Content-Type": "application/json"}),
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "malformed_json"
    for method, url in [("post", "/v1/quotes"), ("get", "/v1/residents/me/bookings"),
                        ("get", "/v1/operator/residents?q=090"), ("post", "/v1/residents")]:  # fmt: skip
        r = getattr(svc.client, method)(url)
        assert r.status_code == 401, (url, r.text)
        assert r.json()["error"]["code"] == "not_authenticated"


def test_residents_cannot_see_each_others_bookings(svc: Svc) -> None:
    _, alice = svc.register("090-0000-0001")
    _, bob = svc.register("090-0000-0002")
    b = book(svc, alice, quote(svc, alice)["offer"]["quote_id"])
    for method, url in [
        ("get", f"/v1/bookings/{b['id']}"),
        ("post", f"/v1/bookings/{b['id']}/cancel"),
    ]:
        r = getattr(svc.client, method)(url, headers=svc.auth(bob))
        assert r.status_code == 404
    assert svc.client.get("/v1/operator/residents?q=090", headers=svc.auth(bob)).status_code == 403
    assert (
        svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(alice)).json()["status"]
        == "confirmed"
    )


def test_operator_books_on_behalf_and_everything_is_audited(svc: Svc) -> None:
    op = svc.operator_token
    r = svc.client.post(
        "/v1/operator/residents",
        json={"name": "遠賀 梅子", "kana": "オンガ ウメコ", "phone": "0949-11-2233",
              "address": "鞍手町大字新北 5", "birth_year": 1940, "consent": True, "needs_help": True},
        headers=svc.auth(op),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    rid = r.json()["resident"]["id"]
    assert r.json()["token"] is None  # operators do not get resident tokens
    found = svc.client.get(
        "/v1/operator/residents", params={"q": "2233"}, headers=svc.auth(op)
    ).json()
    assert [x["id"] for x in found["results"]] == [rid]
    by_kana = svc.client.get(
        "/v1/operator/residents", params={"q": "ウメコ"}, headers=svc.auth(op)
    ).json()
    assert [x["id"] for x in by_kana["results"]] == [rid]
    q = svc.client.post(
        "/v1/operator/quotes", json={**TRIP, "resident_id": rid}, headers=svc.auth(op)
    ).json()
    b = svc.client.post(
        "/v1/operator/bookings", json={"quote_id": q["offer"]["quote_id"]},
        headers=svc.auth(op, **{"Idempotency-Key": "call-1"}),
    )  # fmt: skip
    assert b.status_code == 201
    assert b.json()["channel"] == "phone"
    c = svc.client.post(f"/v1/operator/bookings/{b.json()['id']}/cancel", headers=svc.auth(op))
    assert c.json()["status"] == "cancelled"
    log = svc.client.get(
        "/v1/operator/audit", params={"resident_id": rid}, headers=svc.auth(op)
    ).json()
    actions = [e["action"] for e in reversed(log)]
    assert actions == ["resident.register", "quote", "booking.confirm", "booking.cancel"]
    unknown = svc.client.post(
        "/v1/operator/quotes", json={**TRIP, "resident_id": "Rnope"}, headers=svc.auth(op)
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "resident_not_registered"


def test_resident_links_the_app_with_an_operator_code(svc: Svc) -> None:
    rid, _ = svc.register("090-5555-0000")
    code = svc.client.post(
        f"/v1/operator/residents/{rid}/link-code", headers=svc.auth(svc.operator_token)
    ).json()
    bad = svc.client.post("/v1/auth/resident", json={"phone": "090-5555-0000", "code": "000000x"})
    assert bad.status_code == 401
    r = svc.client.post("/v1/auth/resident", json={"phone": "09055550000", "code": code["code"]})
    assert r.status_code == 200
    me = svc.client.get("/v1/residents/me", headers=svc.auth(r.json()["access_token"])).json()
    assert me["id"] == rid
    reused = svc.client.post(
        "/v1/auth/resident", json={"phone": "09055550000", "code": code["code"]}
    )
    assert reused.status_code == 401  # one-time


def test_resident_cancel_cutoff(svc: Svc) -> None:
    _, token = svc.register()
    b = book(svc, token, quote(svc, token, mode="depart_at", time=at_time(1))["offer"]["quote_id"])
    pickup_from = datetime.fromisoformat(b["pickup_from"])
    svc.clock.now_s = int(pickup_from.timestamp()) - svc.world.config.policy.cancel_cutoff_s + 60
    r = svc.client.post(f"/v1/bookings/{b['id']}/cancel", headers=svc.auth(token))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "cancel_too_late"
    assert svc.world.config.operator_phone in r.json()["error"]["message_ja"]
    ok = svc.client.post(
        f"/v1/operator/bookings/{b['id']}/cancel", headers=svc.auth(svc.operator_token)
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "cancelled"


def test_a_location_is_served_by_the_nearest_meeting_point(svc: Svc) -> None:
    _, token = svc.register()
    p = svc.world.stops.get("KUR-010")
    q = quote(svc, token, origin=f"{p.lat + 0.0005},{p.lon}")  # about 55 m north of it
    assert q["offer"]["origin"]["id"] == "KUR-010"


def test_no_shows_suspend_self_service_booking_but_not_the_operator(svc: Svc) -> None:
    rid, token = svc.register()
    with svc.db.sessionmaker()() as s:  # three no-shows on record
        for i in range(svc.world.config.policy.no_show_limit):
            b = book_row(svc, token, f"ns{i}")
            row = s.get(m.Booking, b)
            assert row is not None
            row.status = "no_show"
        s.commit()
    r = svc.client.post("/v1/quotes", json=TRIP, headers=svc.auth(token))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "booking_suspended"
    assert svc.world.config.operator_phone in r.json()["error"]["message_ja"]
    by_phone = svc.client.post(
        "/v1/operator/quotes",
        json={**TRIP, "resident_id": rid},
        headers=svc.auth(svc.operator_token),
    )
    assert by_phone.status_code == 200


def book_row(svc: Svc, token: str, key: str) -> str:
    return str(book(svc, token, quote(svc, token)["offer"]["quote_id"], key=key)["id"])


def test_past_service_days_leave_the_search(svc: Svc) -> None:
    _, token = svc.register()
    quote(svc, token)  # the first turn adds today's and the next 7 days' vehicles
    svc.clock.advance(24 * 3600)
    quote(svc, token)
    with svc.client.app.state.host.read() as d:  # type: ignore[attr-defined]
        in_service = {v for v in d.vehicle_ids() if (s := d.vehicle(v)) and s.in_service}
    assert "van-1@2026-12-02" not in in_service
    assert "van-1@2026-12-03" in in_service
    assert "van-1@2026-12-10" in in_service  # the new last day one may book


@pytest.mark.parametrize("mode", ["asap", "depart_at", "arrive_by"])
def test_the_dropoff_shown_is_never_before_the_pickup_window_ends_plus_the_ride(
    svc: Svc, mode: str
) -> None:
    """A rider told "picked up 9:00-9:10" reads a 9:06 drop-off as arriving before being
    picked up: the estimate shown allows for a pickup at the end of the window."""
    _, token = svc.register()
    timing = {} if mode == "asap" else {"time": at_time(2)}
    q = quote(svc, token, mode=mode, **timing)
    assert q["status"] == "offer", q
    offer = q["offer"]
    world = svc.world
    o, d = world.place_of(TRIP["origin"]), world.place_of(TRIP["destination"])
    p = world.params
    ride = p.dwell_board_s + p.stop_overhead_s + int(world.places.duration_s[o, d])
    estimate = datetime.fromisoformat(offer["dropoff_estimate"])
    assert estimate >= datetime.fromisoformat(offer["pickup_to"]) + timedelta(seconds=ride)
    assert estimate <= datetime.fromisoformat(offer["dropoff_by"])
