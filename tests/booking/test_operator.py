"""Operators on the phone: finding the caller however the name or number is typed, and the
caller's own needs taken from their record (issue 16's findings)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.commands import VehicleAt
from core.world import World
from residents.models import AuditEntry
from tests.booking.conftest import START, Clock, Svc, service_app, signed_in, with_second_van
from tests.harness import Backends, IsolatedDatabase

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


def day_board(svc: Svc, **params: object) -> dict:
    r = svc.client.get("/v1/operator/bookings", params=params, headers=svc.auth(svc.operator_token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_day_s_bookings_with_riders_vehicles_and_live_times(svc: Svc) -> None:
    """GET /v1/operator/bookings answered 405; now the day's board, from the live plan."""
    me = register(svc)
    op = svc.auth(svc.operator_token)
    booked = []
    for hour in (1, 3):
        when = (START + timedelta(hours=hour)).isoformat()
        body = {
            **TRIP,
            "mode": "depart_at",
            "time": when,
            "resident_id": me["id"],
            "wheelchairs": 0,
        }
        q = svc.client.post("/v1/operator/quotes", json=body, headers=op).json()
        qid = (q["offer"] or q["alternatives"][0])["quote_id"]
        b = svc.client.post("/v1/operator/bookings", json={"quote_id": qid},
                            headers=svc.auth(svc.operator_token, **{"Idempotency-Key": qid}))  # fmt: skip
        assert b.status_code == 201, b.text
        booked.append(b.json())
    svc.client.post(f"/v1/operator/bookings/{booked[1]['id']}/cancel", headers=op)
    day = START.date().isoformat()
    board = day_board(svc, date=day)
    assert board["date"] == day
    assert [b["id"] for b in board["bookings"]] == [booked[0]["id"], booked[1]["id"]]
    assert board["counts"] == {"confirmed": 1, "cancelled": 1}
    first = board["bookings"][0]
    assert first["rider_name"] == "古門 幸子"
    assert first["rider_phone"] == "0949425555"
    assert first["vehicle_id"] == "van-1"  # from the live plan
    assert first["eta_pickup"] is not None
    assert first["late_by_min"] == 0
    assert board["bookings"][1]["vehicle_id"] is None  # cancelled: on no plan
    only = day_board(svc, date=day, status="cancelled")
    assert [b["id"] for b in only["bookings"]] == [booked[1]["id"]]
    assert day_board(svc, date=day, vehicle="van-2")["bookings"] == []
    other = (START + timedelta(days=1)).date().isoformat()
    assert day_board(svc, date=other)["bookings"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [({"date": "2026-13-01"}, "invalid_input"), ({"date": ""}, "invalid_input"),
     ({"date": "2026-12-04", "status": "lost"}, "invalid_input")],
)  # fmt: skip
def test_a_bad_day_board_request_says_what_is_wrong(svc: Svc, params: dict, code: str) -> None:
    r = svc.client.get("/v1/operator/bookings", params=params, headers=svc.auth(svc.operator_token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert error["message_ja"]
    assert error["message_en"]


def test_the_day_board_shows_a_rider_the_late_van_will_reach_after_the_promise(svc: Svc) -> None:
    me = register(svc)
    op = svc.auth(svc.operator_token)
    when = (START + timedelta(hours=1)).isoformat()
    body = {**TRIP, "mode": "depart_at", "time": when, "resident_id": me["id"]}
    q = svc.client.post("/v1/operator/quotes", json=body, headers=op).json()
    qid = q["offer"]["quote_id"]
    b = svc.client.post("/v1/operator/bookings", json={"quote_id": qid},
                        headers=svc.auth(svc.operator_token, **{"Idempotency-Key": qid})).json()  # fmt: skip
    # nobody reports the pickup; 20 minutes after the window the next turn re-times the van
    svc.clock.now_s = int(datetime.fromisoformat(b["pickup_to"]).timestamp()) + 20 * 60
    svc.client.post("/v1/operator/quotes", json={**TRIP, "resident_id": me["id"]}, headers=op)
    row = day_board(svc, date=START.date().isoformat())["bookings"][0]
    assert row["id"] == b["id"]
    assert row["late_by_min"] >= 20


def test_the_audit_log_has_residents_own_actions_with_names_and_meeting_points(svc: Svc) -> None:
    """It recorded only staff actions, showed staff ids and the dispatcher's place numbers."""
    rid, token = svc.register(phone="090-3141-5926")
    later = {**TRIP, "mode": "depart_at", "time": (START + timedelta(hours=3)).isoformat()}
    q = svc.client.post("/v1/quotes", json=later, headers=svc.auth(token)).json()
    qid = (q["offer"] or q["alternatives"][0])["quote_id"]
    b = svc.client.post("/v1/bookings", json={"quote_id": qid},
                        headers=svc.auth(token, **{"Idempotency-Key": qid})).json()  # fmt: skip
    c = svc.client.post(f"/v1/bookings/{b['id']}/cancel", headers=svc.auth(token))
    assert c.status_code == 200, c.text
    log = svc.client.get(
        "/v1/operator/audit", params={"resident_id": rid}, headers=svc.auth(svc.operator_token)
    ).json()
    seen = [(e["action"], e["actor_kind"], e["actor_name"]) for e in reversed(log)]
    assert seen == [
        ("resident.register", "staff", "app"),  # the app's backend registered them
        ("quote", "resident", "鞍手 太郎"),
        ("booking.confirm", "resident", "鞍手 太郎"),
        ("booking.cancel", "resident", "鞍手 太郎"),
    ]
    quote = next(e for e in log if e["action"] == "quote")
    assert quote["details"]["request"]["origin"] == "KUR-010"  # not a place number
    assert quote["details"]["request"]["destination"] == "KUR-001"


def test_the_day_board_defaults_to_the_service_s_today(svc: Svc) -> None:
    assert day_board(svc)["date"] == START.date().isoformat()  # the service clock's day


@pytest.fixture
def two_vans(
    db_schema: IsolatedDatabase, redis_prefix: str, service_backends: Backends, world: World
) -> Iterator[Svc]:
    """The service with a second van (van-2, same depot) beside van-1."""
    both = with_second_van(world)
    clock = Clock(START)
    app = service_app(db_schema, redis_prefix, service_backends, both, clock)
    with TestClient(app) as client:
        yield signed_in(client, clock, db_schema, both)


def book_for(svc: Svc, rid: str, hours: float) -> dict:
    op = svc.auth(svc.operator_token)
    when = (START + timedelta(hours=hours)).isoformat()
    body = {**TRIP, "mode": "depart_at", "time": when, "resident_id": rid, "wheelchairs": 0}
    q = svc.client.post("/v1/operator/quotes", json=body, headers=op).json()
    qid = q["offer"]["quote_id"]
    b = svc.client.post("/v1/operator/bookings", json={"quote_id": qid},
                        headers=svc.auth(svc.operator_token, **{"Idempotency-Key": qid}))  # fmt: skip
    assert b.status_code == 201, b.text
    return dict(b.json())


def move(svc: Svc, booking_id: str, **body: object) -> tuple[int, dict]:
    r = svc.client.post(f"/v1/operator/bookings/{booking_id}/move", json=body,
                        headers=svc.auth(svc.operator_token))  # fmt: skip
    return r.status_code, dict(r.json())


def test_an_operator_moves_a_booking_to_another_van_after_seeing_it_fits(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    board = {x["id"]: x for x in day_board(svc, date=START.date().isoformat())["bookings"]}
    here = board[b["id"]]["vehicle_id"]
    there = "van-2" if here == "van-1" else "van-1"
    status, check = move(svc, b["id"], vehicle_id=there, dry_run=True)
    assert status == 200, check
    assert check["fits"] is True
    assert check["moved"] is False
    assert check["pickup_estimate"] is not None
    board = {x["id"]: x for x in day_board(svc, date=START.date().isoformat())["bookings"]}
    assert board[b["id"]]["vehicle_id"] == here  # a dry run changes nothing
    status, done = move(svc, b["id"], vehicle_id=there)
    assert status == 200, done
    assert done["moved"] is True
    board = {x["id"]: x for x in day_board(svc, date=START.date().isoformat())["bookings"]}
    assert board[b["id"]]["vehicle_id"] == there  # the live plan: the API and both tablets
    log = svc.client.get("/v1/operator/audit", params={"resident_id": me["id"]},
                         headers=svc.auth(svc.operator_token)).json()  # fmt: skip
    moved = next(e for e in log if e["action"] == "booking.move")
    assert (moved["details"]["from_vehicle"], moved["details"]["to_vehicle"]) == (here, there)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({"vehicle_id": "van-9"}, 409, "move_not_possible"),
     ({"vehicle_id": ""}, 422, "invalid_input"),
     ({"vehicle_id": "van-2", "extra": 1}, 422, "invalid_input")],
)  # fmt: skip
def test_bad_moves_say_why_and_change_nothing(
    two_vans: Svc, body: dict, status: int, code: str
) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    before = day_board(svc, date=START.date().isoformat())["bookings"]
    got, answer = move(svc, b["id"], **body)
    assert got == status, answer
    assert answer["error"]["code"] == code
    assert answer["error"]["message_ja"]
    assert day_board(svc, date=START.date().isoformat())["bookings"] == before


def test_a_cancelled_booking_or_its_own_van_cannot_be_the_move(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    here = day_board(svc, date=START.date().isoformat())["bookings"][0]["vehicle_id"]
    got, answer = move(svc, b["id"], vehicle_id=here)
    assert got == 409
    assert answer["error"]["code"] == "invalid_state_change"
    svc.client.post(f"/v1/operator/bookings/{b['id']}/cancel", headers=svc.auth(svc.operator_token))
    got, answer = move(svc, b["id"], vehicle_id="van-2")
    assert got == 409
    assert answer["error"]["code"] == "move_not_possible"


def protect(svc: Svc, booking_id: str, body: object) -> tuple[int, dict]:
    r = svc.client.post(f"/v1/operator/bookings/{booking_id}/protect", json=body,
                        headers=svc.auth(svc.operator_token))  # fmt: skip
    return r.status_code, dict(r.json())


@pytest.mark.parametrize("kept", [True, False])
def test_a_protected_booking_stays_on_its_van_when_that_van_runs_late(
    two_vans: Svc, kept: bool
) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 0.5)
    status, row = protect(svc, b["id"], {"protected": kept})
    assert status == 200, row
    assert row["protected"] is kept
    here = row["vehicle_id"]
    assert protect(svc, b["id"], {"protected": kept})[1] == row  # idempotent
    log = svc.client.get("/v1/operator/audit", params={"resident_id": me["id"]},
                         headers=svc.auth(svc.operator_token)).json()  # fmt: skip
    assert [e["details"]["protected"] for e in log if e["action"] == "booking.protect"] == (
        [True] if kept else []  # asking for the state it is in logs nothing
    )
    # The tablet says the van is stuck across the town for an hour (a delay repair).
    host = svc.client.app.state.host
    far = svc.world.places.nodes[svc.world.place_of("KUR-150")]
    with host.write() as step:
        step.do(VehicleAt(f"{here}@{START.date().isoformat()}", far, step.now_s + 3600, False))
    row = {x["id"]: x for x in day_board(svc, date=START.date().isoformat())["bookings"]}[b["id"]]
    if kept:
        assert row["vehicle_id"] == here  # kept where the operator put it ...
        assert row["late_by_min"] > 0  # ... and shown late on the board, to be called
    else:
        assert row["vehicle_id"] != here  # the engine moved it to the other van
        assert row["late_by_min"] == 0
    status, row = protect(svc, b["id"], {"protected": False})
    assert (status, row["protected"]) == (200, False)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({}, 422, "invalid_input"), ({"protected": "yes"}, 422, "invalid_input"),
     ({"protected": True, "extra": 1}, 422, "invalid_input")],
)  # fmt: skip
def test_bad_protections_say_why_and_change_nothing(
    two_vans: Svc, body: dict, status: int, code: str
) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    got, answer = protect(svc, b["id"], body)
    assert (got, answer["error"]["code"]) == (status, code)
    assert answer["error"]["message_ja"]
    assert not day_board(svc, date=START.date().isoformat())["bookings"][0]["protected"]


def test_only_a_confirmed_booking_can_be_protected(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    svc.client.post(f"/v1/operator/bookings/{b['id']}/cancel", headers=svc.auth(svc.operator_token))
    got, answer = protect(svc, b["id"], {"protected": True})
    assert (got, answer["error"]["code"]) == (409, "booking_not_changeable")
    got, answer = protect(svc, "nosuchbooking", {"protected": True})
    assert (got, answer["error"]["code"]) == (404, "not_found")


def no_show(svc: Svc, booking_id: str) -> tuple[int, dict]:
    r = svc.client.post(f"/v1/operator/bookings/{booking_id}/no-show",
                        headers=svc.auth(svc.operator_token))  # fmt: skip
    return r.status_code, dict(r.json())


def test_an_operator_records_a_no_show_the_driver_phoned_in(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 0.5)
    got, answer = no_show(svc, b["id"])  # 10:00, the window opens at 10:30: not yet
    assert (got, answer["error"]["code"]) == (409, "booking_not_changeable")
    assert "10:30" in answer["error"]["message_ja"]
    board = {x["id"]: x for x in day_board(svc)["bookings"]}
    assert board[b["id"]]["status"] == "confirmed"
    svc.clock.advance(35 * 60)
    got, answer = no_show(svc, b["id"])
    assert (got, answer["status"]) == (200, "no_show")
    assert no_show(svc, b["id"]) == (200, answer)  # idempotent: a retry changes nothing
    row = {x["id"]: x for x in day_board(svc)["bookings"]}[b["id"]]
    assert (row["status"], row["vehicle_id"]) == ("no_show", None)  # off the van's plan
    trips = svc.client.get(f"/v1/operator/residents/{me['id']}/bookings",
                           headers=svc.auth(svc.operator_token)).json()  # fmt: skip
    assert [t["status"] for t in trips] == ["no_show"]  # on the caller's card
    log = svc.client.get("/v1/operator/audit", params={"resident_id": me["id"]},
                         headers=svc.auth(svc.operator_token)).json()  # fmt: skip
    assert [e["actor_kind"] for e in log if e["action"] == "booking.no_show"] == ["staff"]
    c = svc.client.post(
        f"/v1/operator/bookings/{b['id']}/cancel", headers=svc.auth(svc.operator_token)
    )
    assert c.status_code == 409  # a no-show stays a no-show


def test_a_cancelled_booking_is_no_no_show(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 0.5)
    svc.client.post(f"/v1/operator/bookings/{b['id']}/cancel", headers=svc.auth(svc.operator_token))
    svc.clock.advance(35 * 60)
    got, answer = no_show(svc, b["id"])
    assert (got, answer["error"]["code"]) == (409, "booking_not_changeable")
    assert no_show(svc, "nosuchbooking")[0] == 404


def withdraw(svc: Svc, vehicle: str) -> tuple[int, dict]:
    r = svc.client.post(f"/v1/operator/vehicles/{vehicle}/withdraw",
                        headers=svc.auth(svc.operator_token))  # fmt: skip
    return r.status_code, dict(r.json())


def test_taking_a_van_out_of_service_moves_its_riders_or_lists_them(two_vans: Svc) -> None:
    svc = two_vans
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    first = {x["id"]: x for x in day_board(svc)["bookings"]}[b["id"]]["vehicle_id"]
    other = "van-2" if first == "van-1" else "van-1"
    status, out = withdraw(svc, first)  # a breakdown: the rider moves to the other van
    assert status == 200, out
    assert out["moved"] == [{"booking_id": b["id"], "to_vehicle": other}]
    assert out["stranded"] == []
    row = {x["id"]: x for x in day_board(svc)["bookings"]}[b["id"]]
    assert (row["vehicle_id"], row["vehicle_in_service"]) == (other, True)
    status, out = withdraw(svc, other)  # now no van is left: listed, to be called
    assert status == 200, out
    assert out["moved"] == []
    assert [x["id"] for x in out["stranded"]] == [b["id"]]
    assert out["stranded"][0]["rider_phone"] == "0949425555"
    row = {x["id"]: x for x in day_board(svc)["bookings"]}[b["id"]]
    assert (row["status"], row["vehicle_in_service"]) == ("confirmed", False)  # still booked
    again, answer = withdraw(svc, other)
    assert again == 409
    assert answer["error"]["code"] == "move_not_possible"
    q = svc.client.post("/v1/operator/quotes", json={**TRIP, "resident_id": me["id"]},
                        headers=svc.auth(svc.operator_token)).json()  # fmt: skip
    assert q["status"] == "rejected"  # no van left today: said plainly, not a 500
    assert q["reason_ja"]


def fleet_now(svc: Svc) -> dict[str, dict]:
    r = svc.client.get("/v1/operator/fleet", headers=svc.auth(svc.operator_token))
    assert r.status_code == 200, r.text
    return {v["vehicle_id"]: v for v in r.json()["vehicles"]}


def test_the_live_fleet_by_state_with_position_next_stops_and_route(svc: Svc) -> None:
    from driver_app_api.service import create_device, create_driver

    assert fleet_now(svc)["van-1"]["state"] in ("out_of_service", "idle")  # nobody planned
    me = register(svc)
    book_for(svc, me["id"], 1)
    van = fleet_now(svc)["van-1"]
    assert van["state"] == "no_gps"  # riders planned, no tablet heard from
    assert van["next_stops"][0]["name"]
    assert van["route"]  # the road to the next stop, from where the plan has it
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-fleet")
        create_driver(s, "1001", "遠賀 進", "1234")
        s.commit()
    token = svc.client.post("/v1/driver/sessions", json={
        "device_token": "tablet-fleet", "login": "1001", "pin": "1234"}).json()["access_token"]  # fmt: skip
    point = {"t": svc.clock.now_s, "lat": 33.7923, "lon": 130.6742, "speed_mps": 5.0}
    r = svc.client.post("/v1/driver/positions", json={"points": [point]}, headers=svc.auth(token))
    assert r.status_code == 200, r.text
    van = fleet_now(svc)["van-1"]
    assert van["state"] == "on_time"
    assert van["position"] == {"lat": 33.7923, "lon": 130.6742}
    assert van["gps_age_s"] == 0
    svc.clock.advance(180)
    assert fleet_now(svc)["van-1"]["state"] == "no_gps"  # three minutes without a point
    r = svc.client.get("/v1/operator/map", headers=svc.auth(svc.operator_token))
    assert r.status_code == 200
    assert r.json()["lines"]
    assert "OpenStreetMap" in r.json()["attribution"]


def test_the_audit_log_filters_by_action_and_exports_csv(svc: Svc) -> None:
    me = register(svc)
    book_for(svc, me["id"], 2)
    op = svc.auth(svc.operator_token)
    quotes = svc.client.get("/v1/operator/audit", headers=op,
                            params={"resident_id": me["id"], "action": "quote"}).json()  # fmt: skip
    assert {e["action"] for e in quotes} == {"quote"}
    r = svc.client.get("/v1/operator/audit", headers=op,
                       params={"resident_id": me["id"], "format": "csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffid,at,actor_kind,actor_name")  # a BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["action"] for r in rows][-3:] == ["booking.confirm", "quote", "resident.register"]
    assert {r["actor_name"] for r in rows} == {"op"}  # the operator's name (here, its login)
    assert all(r["at"].endswith("+09:00") for r in rows)  # local times
    exported = svc.client.get("/v1/operator/audit", headers=op,
                              params={"resident_id": me["id"], "action": "audit.export"}).json()  # fmt: skip
    assert len(exported) == 1  # the export itself is on record
    bad = svc.client.get("/v1/operator/audit", headers=op,
                         params={"resident_id": me["id"], "format": "xls"})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_input"


def test_the_ridership_report_by_day_district_and_age(svc: Svc) -> None:
    from sqlalchemy import select

    from core import models as m

    me = register(svc)  # 鞍手町大字古門, born 1941
    rides = [book_for(svc, me["id"], h) for h in (1, 3, 5)]
    svc.client.post(f"/v1/operator/bookings/{rides[2]['id']}/cancel",
                    headers=svc.auth(svc.operator_token))  # fmt: skip
    with svc.db.sessionmaker()() as s:  # the first ride done and paid (as the tablet records)
        row = s.scalar(select(m.Booking).where(m.Booking.id == rides[0]["id"]))
        assert row is not None
        row.status, row.fare_paid_yen = "completed", 200
        s.commit()
    day = START.date().isoformat()
    r = svc.client.get("/v1/operator/reports/ridership", headers=svc.auth(svc.operator_token),
                       params={"from": day, "to": day})  # fmt: skip
    assert r.status_code == 200, r.text
    report = r.json()
    (today,) = report["periods"]
    assert today["period"] == day
    assert (today["bookings"], today["completed"], today["cancelled"]) == (3, 1, 1)
    assert (today["passengers"], today["fares_yen"], today["refused"]) == (1, 200, 0)
    assert report["riders_by_district"] == {"古門": 1}
    age = START.year - 1941
    band = "85歳以上" if age >= 85 else "75〜84歳"
    assert report["rides_by_age_band"][band] == 1
    csv_text = svc.client.get("/v1/operator/reports/ridership", headers=svc.auth(svc.operator_token),
                              params={"from": day, "to": day, "format": "csv"}).text  # fmt: skip
    assert csv_text.lstrip("\ufeff").splitlines()[1].startswith(f"{day},3,1,1,")
    bad = svc.client.get("/v1/operator/reports/ridership", headers=svc.auth(svc.operator_token),
                         params={"from": day, "to": "2020-01-01"})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["error"]["message_ja"]


def add_van(svc: Svc, **body: object) -> tuple[int, dict]:
    r = svc.client.post("/v1/operator/vehicles", json=body, headers=svc.auth(svc.operator_token))
    return r.status_code, dict(r.json())


def test_a_spare_van_added_after_a_breakdown_takes_the_riders(svc: Svc) -> None:
    """One van in the town: it breaks down; without a spare its rider is stranded. The
    operator adds a spare for the rest of the day, then takes the broken van out."""
    me = register(svc)
    b = book_for(svc, me["id"], 2)
    today = START.date().isoformat()
    spare = {"vehicle_id": "spare-1", "date": today, "start": "10:30", "end": "18:00",
             "seats": 7, "wheelchairs": 1}  # fmt: skip
    status, van = add_van(svc, **spare)
    assert status == 201, van
    assert (van["vehicle_id"], van["seats"], van["depot"]["id"]) == ("spare-1", 7, "KUR-001")
    assert add_van(svc, **spare) == (200, van)  # a retry changes nothing
    got, answer = add_van(svc, **{**spare, "seats": 4})  # the same van, other figures
    assert (got, answer["error"]["code"]) == (409, "booking_not_changeable")
    assert "spare-1" in day_board(svc)["vehicles"]
    status, out = withdraw(svc, "van-1")
    assert status == 200, out
    assert out["moved"] == [{"booking_id": b["id"], "to_vehicle": "spare-1"}]
    row = {x["id"]: x for x in day_board(svc)["bookings"]}[b["id"]]
    assert (row["vehicle_id"], row["vehicle_in_service"]) == ("spare-1", True)
    with svc.db.sessionmaker()() as session:  # the audit log (admins read it all)
        added = session.scalars(select(AuditEntry).where(AuditEntry.action == "vehicle.add")).all()
        assert [(e.details["vehicle"], e.details["seats"]) for e in added] == [("spare-1", 7)]


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [({"date": "2026-11-01"}, 422, "no_service_that_day"),  # past
     ({"date": "2027-01-01"}, 422, "no_service_that_day"),  # closed, and too far ahead
     ({"start": "05:00"}, 422, "invalid_input"),  # before the service opens
     ({"end": "09:00"}, 422, "invalid_input"),  # ends before now (10:00)
     ({"start": "15:00", "end": "14:00"}, 422, "invalid_input"),
     ({"vehicle_id": "Spare 1"}, 422, "invalid_input"),
     ({"depot": "KUR-999"}, 422, "unknown_meeting_point"),
     ({"seats": None, "vehicle_id": "taxi-1"}, 422, "invalid_input"),  # unknown van: seats
     ({"seats": 0}, 422, "invalid_input"),
     ({"extra": 1}, 422, "invalid_input")],
)  # fmt: skip
def test_bad_vehicle_days_say_why_and_add_nothing(
    svc: Svc, over: dict, status: int, code: str
) -> None:
    body = {"vehicle_id": "spare-1", "date": START.date().isoformat(), "start": "10:30",
            "end": "18:00", "seats": 7, **over}  # fmt: skip
    got, answer = add_van(svc, **body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message_ja"]
    assert "spare-1" not in day_board(svc)["vehicles"]
