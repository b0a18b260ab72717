"""Reports for the town (issue 16): refusals by reason, waits and on-time share, over a small
day made through the API and the use case behind the tablet's buttons (board, alight)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import select

from core import models as m
from core.bookings import record_stop
from tests.booking.conftest import START, Svc
from tests.booking.test_operator import TRIP, book_for, register, withdraw

pytestmark = pytest.mark.services

DAY = START.date().isoformat()
URL = "/v1/operator/reports/ridership"


def report(svc: Svc, **params: str) -> dict:
    r = svc.client.get(URL, params=params, headers=svc.auth(svc.operator_token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def secs(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def dispatch_id(svc: Svc, booking_id: str) -> str:
    with svc.db.sessionmaker()() as s:
        found = s.scalar(select(m.Booking.dispatch_id).where(m.Booking.id == booking_id))
        assert found is not None
        return found


def ride(svc: Svc, booking: dict, board_s: int, alight_s: int) -> None:
    """The van's driver presses 乗車 at ``board_s`` and 降車 at ``alight_s`` (service clock)."""
    host = svc.client.app.state.host  # type: ignore[attr-defined]
    did = dispatch_id(svc, booking["id"])
    svc.clock.now_s = board_s
    record_stop(host, did, "board")
    svc.clock.now_s = alight_s
    record_stop(host, did, "alight")


def asap_booking(svc: Svc, resident_id: str) -> dict:
    op = svc.auth(svc.operator_token)
    body = {**TRIP, "mode": "asap", "resident_id": resident_id, "wheelchairs": 0}
    q = svc.client.post("/v1/operator/quotes", json=body, headers=op).json()
    qid = q["offer"]["quote_id"]
    b = svc.client.post("/v1/operator/bookings", json={"quote_id": qid},
                        headers=svc.auth(svc.operator_token, **{"Idempotency-Key": qid}))  # fmt: skip
    assert b.status_code == 201, b.text
    return dict(b.json())


def refused_quote(svc: Svc, resident_id: str) -> dict:
    """A quote answered with no offer and no alternative (here: no van left in service)."""
    body = {**TRIP, "resident_id": resident_id, "wheelchairs": 0}
    r = svc.client.post("/v1/operator/quotes", json=body, headers=svc.auth(svc.operator_token))
    assert r.status_code == 200, r.text
    answer = dict(r.json())
    assert (answer["status"], answer["alternatives"]) == ("rejected", []), answer
    return answer


def test_waits_on_time_share_and_refusals_by_reason_of_a_day(svc: Svc) -> None:
    me = register(svc)
    on_time = book_for(svc, me["id"], 1)
    late = book_for(svc, me["id"], 3)
    # One rider boards 2 minutes into the window and arrives a minute early; the other boards
    # 5 minutes after the window closed and arrives a minute after the promise.
    ride(svc, on_time, secs(on_time["pickup_from"]) + 120, secs(on_time["dropoff_by"]) - 60)
    ride(svc, late, secs(late["pickup_to"]) + 300, secs(late["dropoff_by"]) + 60)
    asked_s = svc.clock.now_s  # as soon as possible, asked now
    now = asap_booking(svc, me["id"])
    ride(svc, now, secs(now["pickup_from"]) + 240, secs(now["dropoff_by"]))
    book_for(svc, me["id"], 7)  # booked, not yet ridden: no figure of its own
    withdraw(svc, "van-1")  # the van breaks down: the next two callers are refused
    refusals = [refused_quote(svc, me["id"])["reason"] for _ in range(2)]

    waits = sorted([120, secs(late["pickup_to"]) - secs(late["pickup_from"]) + 300, 240])
    asap_wait = secs(now["pickup_from"]) + 240 - asked_s
    got = report(svc, **{"from": DAY, "to": DAY})
    (today,) = got["periods"]
    assert today["period"] == DAY
    assert (today["bookings"], today["completed"], today["passengers"]) == (4, 3, 3)
    assert today["refused"] == 2  # the quotes that were offered something do not count
    assert refusals == ["no_time_available"] * 2
    assert today["refused_by_reason"] == {"no_time_available": 2}
    assert (today["timed_rides"], today["timed_dropoffs"]) == (3, 3)
    assert today["wait_mean_s"] == round(sum(waits) / 3)
    assert today["wait_p90_s"] == waits[-1]  # nearest rank of 3: the largest
    assert (today["asap_rides"], today["asap_wait_mean_s"]) == (1, asap_wait)
    assert today["asap_wait_p90_s"] == asap_wait
    assert (today["pickups_on_time"], today["pickup_on_time_share"]) == (2, round(2 / 3, 4))
    assert (today["dropoffs_on_time"], today["dropoff_on_time_share"]) == (2, round(2 / 3, 4))
    assert got["totals"] == {**today, "period": "total"}  # one day: the same figures

    month = report(svc, **{"from": "2026-11-01", "to": "2026-12-31", "by": "month"})
    assert [r["period"] for r in month["periods"]] == ["2026-12"]
    assert month["totals"] == {**month["periods"][0], "period": "total"}
    assert month["totals"]["wait_p90_s"] == waits[-1]

    r = svc.client.get(URL, params={"from": DAY, "to": DAY, "format": "csv"},
                       headers=svc.auth(svc.operator_token))  # fmt: skip
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [x["period"] for x in rows] == [DAY, "total"]
    assert rows[0]["refused_no_time_available"] == "2"
    assert rows[0]["refused_vehicles_full"] == "0"
    assert rows[0]["wait_p90_s"] == str(waits[-1])
    assert rows[0]["asap_wait_mean_s"] == str(asap_wait)
    assert rows[0]["pickup_on_time_share"] == str(round(2 / 3, 4))


def test_a_day_without_rides_has_no_waits_and_the_default_period_is_this_month(svc: Svc) -> None:
    me = register(svc)
    book_for(svc, me["id"], 2)  # booked only
    got = report(svc)  # no dates: from the 1st of the service's month to its today
    assert (got["first"], got["last"], got["by"]) == ("2026-12-01", DAY, "day")
    (today,) = got["periods"]
    assert (today["bookings"], today["timed_rides"], today["refused"]) == (1, 0, 0)
    assert today["refused_by_reason"] == {}
    assert (today["wait_mean_s"], today["wait_p90_s"], today["pickup_on_time_share"]) == (
        None,
        None,
        None,
    )
    rows = svc.client.get(URL, params={"format": "csv"}, headers=svc.auth(svc.operator_token))
    total = list(csv.DictReader(io.StringIO(rows.content.decode("utf-8-sig"))))[-1]
    assert (total["period"], total["bookings"], total["wait_mean_s"]) == ("total", "1", "")


@pytest.mark.parametrize(
    "params",
    [
        {"from": DAY, "to": "2026-11-30"},  # ends before it starts
        {"from": "2025-01-01", "to": DAY},  # more than 400 days
        {"from": "2026-13-01", "to": DAY},  # no such day
        {"from": DAY, "to": DAY, "by": "week"},
        {"from": DAY, "to": DAY, "format": "xls"},
    ],
)
def test_a_bad_period_says_why_in_both_languages(svc: Svc, params: dict) -> None:
    r = svc.client.get(URL, params=params, headers=svc.auth(svc.operator_token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message_ja"]
    assert error["message_en"]


def test_residents_cannot_read_the_town_s_report(svc: Svc) -> None:
    _, token = svc.register()
    r = svc.client.get(URL, params={"from": DAY, "to": DAY}, headers=svc.auth(token))
    assert r.status_code == 403
    assert r.json()["error"]["message_ja"]
