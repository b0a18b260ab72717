"""The reservations API (/v1/town/reservations) on the running app: anyone sees the events and
their free places; staff define a class and a day of counter slots (a retried creation makes
one); a resident reserves, retries, lists and cancels; staff reserve for a caller, read the
roster and its CSV, record attendance; the bus there and back quoted by the dispatcher
(arriving before the start, leaving after the end) and booked in one request, cancelled with
the reservation; bad input answered with a code, never a 500. The 50-at-once test of the
places is in tests/town/test_reservations.py (the domain, on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from core.bookings import ARRIVE_EARLY_S, LEAVE_AFTER_S
from tests.booking.conftest import JST, START, Svc

pytestmark = pytest.mark.services
BASE = "/v1/town/reservations"
DAY = START.date() + timedelta(days=1)  # Thursday 3 December
CLASS: dict[str, Any] = {
    "kind": "class", "title": "スマホ教室(LINEの使い方)", "place": "鞍手町役場 2階 会議室",
    "stop_id": "KUR-001", "starts_at": datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=JST).isoformat(),
    "ends_at": datetime(DAY.year, DAY.month, DAY.day, 11, 30, tzinfo=JST).isoformat(),
    "capacity": 1, "waitlist": 1, "note": "スマートフォンをお持ちください。",
}  # fmt: skip


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def new_class(svc: Svc, key: str = "class-1", **over: Any) -> dict[str, Any]:
    r = svc.client.post(f"{BASE}/events", json={**CLASS, **over},
                        headers={**auth(svc.operator_token), "Idempotency-Key": key})  # fmt: skip
    return dict(ok(r, 201))


def test_a_class_reserved_waited_for_cancelled_and_marked(svc: Svc) -> None:
    e = new_class(svc)
    assert new_class(svc)["id"] == e["id"]  # the same key: the same event, made once
    listed = ok(svc.client.get(f"{BASE}/events", params={"from": DAY.isoformat()}))  # no login
    assert [(x["id"], x["free"], x["stop_name"]) for x in listed] == [
        (e["id"], 1, listed[0]["stop_name"])
    ]
    assert listed[0]["stop_name"]  # the meeting point's name
    a, token_a = svc.register("090-3000-0001")
    b, token_b = svc.register("090-3000-0002")
    c, _ = svc.register("090-3000-0003")
    mine = ok(svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token_a)), 201)
    assert (mine["status"], mine["status_ja"], mine["channel"]) == ("booked", "予約", "app")
    again = ok(svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token_a)))
    assert again["id"] == mine["id"]  # 200: already held, nothing new
    waiting = ok(
        svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token_b)), 201
    )
    assert (waiting["status"], waiting["waiting_position"]) == ("waiting", 1)
    full = svc.client.post(f"{BASE}/events/{e['id']}/reservations", json={"resident_id": c},
                           headers=auth(svc.operator_token))  # fmt: skip
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "event_full"
    assert "満席" in full.json()["error"]["message_ja"]

    roster = ok(svc.client.get(f"{BASE}/events/{e['id']}/roster", headers=auth(svc.operator_token)))
    assert [(x["resident_id"], x["status"]) for x in roster] == [(a, "booked"), (b, "waiting")]
    assert roster[0]["phone"] == "09030000001"  # as stored
    assert [x["id"] for x in ok(svc.client.get(f"{BASE}/mine", headers=auth(token_a)))] == [
        mine["id"]
    ]
    # A cancels: B gets the place
    done = ok(svc.client.post(f"{BASE}/{mine['id']}/cancel", headers=auth(token_a)))
    assert done["status"] == "cancelled"
    assert (
        ok(svc.client.get(f"{BASE}/{waiting['id']}", headers=auth(token_b)))["status"] == "booked"
    )
    # attendance: not before the day; then on it
    early = svc.client.post(f"{BASE}/{waiting['id']}/attendance", json={"attended": True},
                            headers=auth(svc.operator_token))  # fmt: skip
    assert early.json()["error"]["code"] == "attendance_not_yet"
    svc.clock.advance(86_400)  # the class's day
    marked = ok(svc.client.post(f"{BASE}/{waiting['id']}/attendance", json={"attended": True},
                                headers=auth(svc.operator_token)))  # fmt: skip
    assert marked["status_ja"] == "出席"
    csv = svc.client.get(f"{BASE}/events/{e['id']}/roster.csv", headers=auth(svc.operator_token))
    assert csv.status_code == 200
    rows = csv.text.lstrip("\ufeff").splitlines()
    assert [r.split(",")[1] for r in rows[1:]] == ["attended", "cancelled"]


def test_who_may_do_what(svc: Svc) -> None:
    e = new_class(svc)
    a, token_a = svc.register("090-3100-0001")
    _b, token_b = svc.register("090-3100-0002")
    r = ok(svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token_a)), 201)
    # another resident: neither sees nor cancels it, nor reserves for A
    assert svc.client.get(f"{BASE}/{r['id']}", headers=auth(token_b)).status_code == 404
    assert svc.client.post(f"{BASE}/{r['id']}/cancel", headers=auth(token_b)).status_code == 404
    other = svc.client.post(f"{BASE}/events/{e['id']}/reservations", json={"resident_id": a},
                            headers=auth(token_b))  # fmt: skip
    assert other.status_code == 403
    # residents and app accounts define nothing and read no roster
    for token in (token_a, svc.channel_token):
        made = svc.client.post(
            f"{BASE}/events", json=CLASS, headers={**auth(token), "Idempotency-Key": "k"}
        )
        assert made.status_code == 403
        assert (
            svc.client.get(f"{BASE}/events/{e['id']}/roster", headers=auth(token)).status_code
            == 403
        )
    assert svc.client.post(f"{BASE}/events/{e['id']}/reservations").status_code == 401
    # staff must say for whom
    bad = svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(svc.operator_token))
    assert bad.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    "over",
    [{"ends_at": CLASS["starts_at"]}, {"stop_id": "KUR-999"}, {"capacity": 0},
     {"kind": "party"}, {"starts_at": "2026-12-03T10:00:00"}, {"title": "\x00"},
     {"reminders": [{"days_before": 1, "at": "25:00"}]}],
)  # fmt: skip
def test_bad_events_get_a_code_never_a_500(svc: Svc, over: dict[str, Any]) -> None:
    r = svc.client.post(f"{BASE}/events", json={**CLASS, **over},
                        headers={**auth(svc.operator_token), "Idempotency-Key": str(over)})  # fmt: skip
    assert r.status_code in (409, 422), r.text
    assert set(r.json()["error"]) >= {"code", "message_ja", "message_en"}


def test_counter_slots_in_one_request(svc: Svc) -> None:
    body = {"title": "マイナンバーカードの窓口", "place": "鞍手町役場 1階", "stop_id": "KUR-001",
            "day": DAY.isoformat(), "first": "13:00", "last": "14:30", "minutes": 30}  # fmt: skip
    headers = {**auth(svc.operator_token), "Idempotency-Key": "slots-1"}
    slots = ok(svc.client.post(f"{BASE}/slots", json=body, headers=headers), 201)
    local = [datetime.fromisoformat(s["starts_at"]).astimezone(JST) for s in slots]
    assert [t.strftime("%H:%M") for t in local] == ["13:00", "13:30", "14:00", "14:30"]
    assert [s["id"] for s in ok(svc.client.post(f"{BASE}/slots", json=body, headers=headers), 201)] == [
        s["id"] for s in slots]  # fmt: skip
    listed = ok(
        svc.client.get(f"{BASE}/events", params={"from": DAY.isoformat(), "kind": "counter"})
    )
    assert len(listed) == 4
    changed = svc.client.post(f"{BASE}/slots", json={**body, "minutes": 15}, headers=headers)
    assert changed.json()["error"]["code"] == "idempotency_key_reused"


def test_the_bus_there_and_back_with_a_reservation(svc: Svc) -> None:
    e = new_class(svc, stop_id="KUR-010")
    _rid, token = svc.register("090-3200-0001")
    r = ok(svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token)), 201)
    # no ride yet, so no usual stop: the API asks where from
    asked = svc.client.post(f"{BASE}/{r['id']}/rides/quote", json={}, headers=auth(token))
    assert asked.json()["error"]["code"] == "invalid_input"
    q = ok(
        svc.client.post(
            f"{BASE}/{r['id']}/rides/quote", json={"home": "KUR-002"}, headers=auth(token)
        )
    )
    there, back = q["there"]["offer"], q["back"]["offer"]
    assert there is not None, q
    assert back is not None, q
    starts, ends = datetime.fromisoformat(e["starts_at"]), datetime.fromisoformat(e["ends_at"])
    assert (there["origin"]["id"], there["destination"]["id"]) == ("KUR-002", "KUR-010")
    assert datetime.fromisoformat(there["dropoff_by"]) <= starts - timedelta(seconds=ARRIVE_EARLY_S)
    assert (back["origin"]["id"], back["destination"]["id"]) == ("KUR-010", "KUR-002")
    assert datetime.fromisoformat(back["pickup_from"]) >= ends + timedelta(
        seconds=LEAVE_AFTER_S
    ) - timedelta(minutes=1)
    body = {"quote_ids": [there["quote_id"], back["quote_id"]]}
    booked = ok(svc.client.post(f"{BASE}/{r['id']}/rides", json=body, headers=auth(token)), 201)
    assert len(booked) == 2
    again = ok(svc.client.post(f"{BASE}/{r['id']}/rides", json=body, headers=auth(token)), 201)
    assert [b["id"] for b in again] == [b["id"] for b in booked]  # one tap twice: the same two
    view = ok(svc.client.get(f"{BASE}/{r['id']}", headers=auth(token)))
    assert view["rides"] == [b["id"] for b in booked]
    mine = ok(svc.client.get("/v1/residents/me/bookings", headers=auth(token)))
    assert {b["id"] for b in mine} >= {b["id"] for b in booked}
    # cancelling the reservation cancels the rides made with it
    ok(svc.client.post(f"{BASE}/{r['id']}/cancel", headers=auth(token)))
    for b in booked:
        assert (
            ok(svc.client.get(f"/v1/bookings/{b['id']}", headers=auth(token)))["status"]
            == "cancelled"
        )
    # the next time, where the resident's rides start is the default
    r2 = ok(svc.client.post(f"{BASE}/events/{e['id']}/reservations", headers=auth(token)), 201)
    q2 = ok(svc.client.post(f"{BASE}/{r2['id']}/rides/quote", json={}, headers=auth(token)))
    assert q2["home"] == "KUR-002"
