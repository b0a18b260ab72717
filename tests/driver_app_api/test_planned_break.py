"""An operator plans the driver's lunch; the tablet shows it as 休憩 and its break button
starts it for its planned length (before, planned breaks existed only in the simulator)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from core import models as m
from tests.booking.conftest import START, Svc
from tests.driver_app_api.test_driver import DEVICE, driver, manifest  # noqa: F401

pytestmark = pytest.mark.services


def plan_break(svc: Svc, **body: object) -> tuple[int, dict]:
    r = svc.client.post("/v1/operator/vehicles/van-1/breaks", json=body,
                        headers=svc.auth(svc.operator_token))  # fmt: skip
    return r.status_code, dict(r.json())


def test_a_planned_break_is_on_the_tablet_and_started_there(svc: Svc, driver: str) -> None:  # noqa: F811
    start = svc.client.post("/v1/driver/shift/start", json={}, headers=svc.auth(driver))
    assert start.status_code == 200, start.text
    today = START.date().isoformat()
    status, brk = plan_break(svc, date=today, earliest="10:20", latest="11:00", minutes=30)
    assert status == 201, brk
    planned = datetime.fromisoformat(brk["planned"])
    assert START.replace(hour=10, minute=20) <= planned <= START.replace(hour=11)
    assert brk["place"]["id"] == "KUR-001"  # the depot
    board = svc.client.get("/v1/operator/bookings", headers=svc.auth(svc.operator_token)).json()
    assert [(b["break_id"], b["vehicle_id"], b["minutes"]) for b in board["breaks"]] == [
        (brk["break_id"], "van-1", 30)
    ]  # on the operators' day board too
    stops = manifest(svc, driver)["stops"]
    assert [s["kind"] for s in stops] == ["break"]
    assert stops[0]["name"] == "休憩"
    svc.clock.advance(20 * 60)  # 10:20: the driver presses 休憩
    r = svc.client.post("/v1/driver/break", json={"minutes": 15}, headers=svc.auth(driver))
    assert r.status_code == 204, r.text
    assert manifest(svc, driver)["stops"] == []  # taken
    with svc.db.sessionmaker()() as session:
        ops = list(session.scalars(select(m.DispatchLogEntry.op).order_by(m.DispatchLogEntry.seq)))
    assert ops.count("add_break") == 1
    assert ops.count("take_break") == 1
    assert "vehicle_at" not in ops[ops.index("take_break") :]  # not an unplanned break
    with svc.client.app.state.host.read() as view:  # type: ignore[attr-defined]
        van = view.vehicle(f"van-1@{today}")
        assert van is not None
        assert van.available_s == svc.clock.now_s + 30 * 60  # free after its 30 minutes


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [({"earliest": "11:00", "latest": "10:00"}, 422, "invalid_input"),
     ({"latest": "09:30", "earliest": "09:00"}, 422, "invalid_input"),  # already past (10:00)
     ({"earliest": "20:00", "latest": "21:00"}, 422, "invalid_input"),  # after its hours
     ({"minutes": 0}, 422, "invalid_input"),
     ({"place": "KUR-999"}, 422, "unknown_meeting_point"),
     ({"date": "2026-11-01"}, 409, "move_not_possible")],  # no such vehicle day
)  # fmt: skip
def test_bad_breaks_say_why_and_plan_nothing(svc: Svc, over: dict, status: int, code: str) -> None:
    body = {"date": START.date().isoformat(), "earliest": "11:00", "latest": "12:00",
            "minutes": 30, **over}  # fmt: skip
    got, answer = plan_break(svc, **body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message_ja"]
    with svc.db.sessionmaker()() as session:
        assert "add_break" not in set(session.scalars(select(m.DispatchLogEntry.op)))


def test_a_break_that_would_break_a_promise_is_refused(svc: Svc) -> None:
    _, rider = svc.register()
    q = svc.client.post("/v1/quotes", headers=svc.auth(rider), json={
        "origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
        "mode": "depart_at", "time": START.replace(hour=10, minute=40).isoformat()}).json()  # fmt: skip
    offer = q["offer"]
    r = svc.client.post("/v1/bookings", json={"quote_id": offer["quote_id"]},
                        headers=svc.auth(rider, **{"Idempotency-Key": "k1"}))  # fmt: skip
    assert r.status_code == 201, r.text
    got, answer = plan_break(svc, date=START.date().isoformat(), earliest="10:10",
                             latest="10:15", minutes=60)  # fmt: skip
    assert (got, answer["error"]["code"]) == (409, "invalid_state_change"), answer
    assert "休憩を入れられません" in answer["error"]["message_ja"]
    with svc.db.sessionmaker()() as session:
        assert "add_break" not in set(session.scalars(select(m.DispatchLogEntry.op)))
