"""Who may call what: every endpoint of the API × every kind of caller, with the answer
expected in each cell. A new endpoint fails this test until its row is added.

Callers: nobody (no token), resident A (owner of the resources in the paths), resident B,
an operator, an admin, a channel account (an app's backend) and a driver's tablet session.
Rows that change something build a fresh resource for each cell, so cells do not depend on
each other's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from driver_app_api.service import create_device, create_driver
from residents.service import create_staff
from tests.booking.conftest import Svc
from tests.booking.test_api import TRIP, at_time
from town.calendars import import_calendar

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
CALLERS = ("anonymous", "resident_a", "resident_b", "operator", "admin", "channel", "driver")
DEVICE = "tablet-matrix"


@dataclass
class Matrix:
    svc: Svc
    tokens: dict[str, str | None]
    resident_a: str
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self) -> int:
        self.counter[0] += 1
        return self.counter[0]

    def headers(self, caller: str) -> dict[str, str]:
        token = self.tokens[caller]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def quote_for_a(self) -> str:
        n = self.unique()  # spread over six days and their hours, so the van never fills up
        when = at_time(24 * (n % 6) + 1 + (n % 7))
        body = {**TRIP, "mode": "depart_at", "time": when, "resident_id": self.resident_a}
        r = self.svc.client.post("/v1/operator/quotes", json=body, headers=self.headers("operator"))
        assert r.status_code == 200, r.text
        data = r.json()
        return str((data["offer"] or data["alternatives"][0])["quote_id"])

    def booking_of_a(self) -> str:
        key = {"Idempotency-Key": f"matrix-{self.unique()}"}
        r = self.svc.client.post(
            "/v1/operator/bookings", json={"quote_id": self.quote_for_a()},
            headers={**self.headers("operator"), **key},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def notice(self) -> str:
        """A notice scheduled for tomorrow (so that it can still be cancelled)."""
        path, kw = new_notice(self, "operator")
        r = self.svc.client.post(path, **{**kw, "headers": {**kw["headers"],
                                                              **self.headers("operator")}})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def survey(self, opened: bool = False) -> str:
        """A survey for everyone (draft, or open), residents A and B opted in to surveys."""
        for who in ("resident_a", "resident_b"):
            r = self.svc.client.put("/v1/town/subscriptions/me/surveys", json={},
                                    headers=self.headers(who))  # fmt: skip
            assert r.status_code == 200, r.text
        r = self.svc.client.post("/v1/town/surveys", json=SURVEY, headers=self.headers("operator"))
        assert r.status_code == 201, r.text
        sid = str(r.json()["id"])
        if opened:
            r = self.svc.client.post(f"/v1/town/surveys/{sid}/open",
                                     headers=self.headers("operator"))  # fmt: skip
            assert r.status_code == 200, r.text
        return sid

    def ticket(self) -> str:
        """A question resident A handed to staff."""
        r = self.svc.client.post("/v1/town/faq/tickets", json={"question": "忘れ物をしました"},
                                 headers=self.headers("resident_a"))  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def event(self) -> str:
        """A class tomorrow with ten places (a fresh one each time)."""
        path, kw = new_event(self, "operator")
        r = self.svc.client.post(path, json=kw["json"],
                                 headers={**kw["headers"], **self.headers("operator")})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def reservation_of_a(self) -> str:
        r = self.svc.client.post(f"/v1/town/reservations/events/{self.event()}/reservations",
                                 json={"resident_id": self.resident_a},
                                 headers=self.headers("operator"))  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def driver_session(self) -> str:
        r = self.svc.client.post(
            "/v1/driver/sessions", json={"device_token": DEVICE, "login": "1007", "pin": "4821"}
        )
        assert r.status_code == 200, r.text
        token = str(r.json()["access_token"])
        start = self.svc.client.post(
            "/v1/driver/shift/start", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert start.status_code == 200, start.text
        return token


Request = tuple[str, dict[str, Any]]  # (path, httpx keyword arguments)
Build = Callable[[Matrix, str], Request]


def fixed(path: str, **kw: Any) -> Build:
    return lambda _w, _caller: (path, kw)


SURVEY = {"title": "表の検査", "segment": {},
          "questions": [{"id": "q1", "kind": "single", "text": "乗りますか", "choices": ["はい", "いいえ"]}]}  # fmt: skip


def answered_survey(w: Matrix, caller: str) -> Request:
    """An open survey the caller answered (when a resident), to complete."""
    sid = w.survey(opened=True)
    w.svc.client.put(f"/v1/town/surveys/{sid}/answers/q1", json={"value": "はい"},
                     headers=w.headers(caller))  # fmt: skip
    return f"/v1/town/surveys/{sid}/complete", {}


def new_notice(w: Matrix, _caller: str) -> Request:
    when = datetime.now(UTC) + timedelta(days=1)
    body = {"title": "表の検査", "body": "送られません(明日の予定)。", "send_at": when.isoformat()}
    return "/v1/town/notices", {"json": body, "headers": {"Idempotency-Key": f"n-{w.unique()}"}}


EVENT = {"kind": "class", "title": "表の検査の教室", "place": "役場", "stop_id": "KUR-010",
         "starts_at": "2026-12-03T10:00:00+09:00", "ends_at": "2026-12-03T11:00:00+09:00",
         "capacity": 10}  # fmt: skip


def new_event(w: Matrix, _caller: str) -> Request:
    return "/v1/town/reservations/events", {
        "json": EVENT, "headers": {"Idempotency-Key": f"e-{w.unique()}"}}  # fmt: skip


def new_slots(w: Matrix, _caller: str) -> Request:
    body = {"title": "表の検査の窓口", "place": "役場", "day": "2026-12-03", "first": "13:00",
            "last": "13:30", "minutes": 30}  # fmt: skip
    return "/v1/town/reservations/slots", {
        "json": body, "headers": {"Idempotency-Key": f"s-{w.unique()}"}}  # fmt: skip


def ride_quotes_of_a(w: Matrix, _caller: str) -> Request:
    """Resident A's reservation with the bus there and back quoted (by an operator)."""
    rid = w.reservation_of_a()
    r = w.svc.client.post(f"/v1/town/reservations/{rid}/rides/quote", json={"home": "KUR-002"},
                          headers=w.headers("operator"))  # fmt: skip
    assert r.status_code == 200, r.text
    legs = [r.json()[leg]["offer"] or r.json()[leg]["alternatives"][0] for leg in ("there", "back")]
    return f"/v1/town/reservations/{rid}/rides", {
        "json": {"quote_ids": [o["quote_id"] for o in legs]}
    }


def new_resident(w: Matrix, _caller: str) -> Request:
    n = w.unique()
    body = {"name": "表 検査", "kana": "オモテ ケンサ", "phone": f"090-4{n:03d}-{n:04d}",
            "address": "鞍手町大字中山 9", "birth_year": 1950, "consent": True}  # fmt: skip
    return "", {"json": body}


def someone_to_close(w: Matrix, caller: str) -> Request:
    """A fresh resident each time (resident A's account is needed by the other rows)."""
    _, kw = new_resident(w, caller)
    r = w.svc.client.post("/v1/operator/residents", json=kw["json"], headers=w.headers("operator"))
    assert r.status_code == 201, r.text
    return f"/v1/operator/residents/{r.json()['resident']['id']}/close", {}


def with_path(template: str, build: Build) -> Build:
    def inner(w: Matrix, caller: str) -> Request:
        _, kw = build(w, caller)
        return template, kw

    return inner


def confirm_quote(w: Matrix, _caller: str) -> Request:
    return "/v1/bookings", {
        "json": {"quote_id": w.quote_for_a()},
        "headers": {"Idempotency-Key": f"matrix-{w.unique()}"},
    }


def operator_confirm(w: Matrix, _caller: str) -> Request:
    return "/v1/operator/bookings", {
        "json": {"quote_id": w.quote_for_a()},
        "headers": {"Idempotency-Key": f"matrix-{w.unique()}"},
    }


# Expected status per caller, in the order of CALLERS.
OK_STAFF = (401, 403, 403, 200, 200, 403, 401)
ROWS: dict[tuple[str, str], tuple[Build, tuple[int, ...]]] = {
    # public: the body decides, not the caller (a wrong code is wrong for everyone)
    ("post", "/v1/auth/token"): (
        fixed("/v1/auth/token", data={"username": "op", "password": "op-pass"}),
        (200,) * 7,
    ),
    ("post", "/v1/auth/resident"): (  # a phone of its own per cell: wrong codes lock a phone
        lambda w, _c: (
            "/v1/auth/resident",
            {"json": {"phone": f"0900000{w.unique():04d}", "code": "000000"}},
        ),
        (401,) * 7,
    ),
    ("post", "/v1/driver/sessions"): (
        fixed("/v1/driver/sessions", json={"device_token": DEVICE, "login": "1007", "pin": "4821"}),
        (200,) * 7,
    ),
    ("post", "/v1/line/webhook"): (fixed("/v1/line/webhook", content=b"{}"), (503,) * 7),
    ("get", "/healthz"): (fixed("/healthz"), (200,) * 7),
    ("get", "/v1/guide"): (fixed("/v1/guide"), (200,) * 7),  # the residents' guide: no login
    ("get", "/v1/guide/roads"): (fixed("/v1/guide/roads"), (200,) * 7),
    ("get", "/v1/guide/meeting-points"): (
        fixed("/v1/guide/meeting-points", params={"q": "役場"}),
        (200,) * 7,
    ),  # the guide's search: no login
    ("get", "/readyz"): (fixed("/readyz"), (200,) * 7),
    # garbage days: public, as the town's paper calendar; which calendar is in force: staff
    ("get", "/v1/town/garbage/areas"): (fixed("/v1/town/garbage/areas"), (200,) * 7),
    ("get", "/v1/town/garbage/days"): (
        fixed(
            "/v1/town/garbage/days",
            params={"area": "中山", "from": "2026-12-01", "to": "2026-12-31"},
        ),
        (200,) * 7,
    ),
    ("get", "/v1/town/garbage/what"): (
        fixed("/v1/town/garbage/what", params={"q": "電池"}),
        (200,) * 7,
    ),
    ("get", "/v1/town/garbage/calendar"): (
        fixed("/v1/town/garbage/calendar"),
        (401, 403, 403, 200, 200, 403, 401),
    ),
    # opt-ins: a resident's own, or an operator's on their behalf
    ("get", "/v1/town/subscriptions/me"): (
        fixed("/v1/town/subscriptions/me"),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("put", "/v1/town/subscriptions/me/{service}"): (
        fixed("/v1/town/subscriptions/me/notices", json={}),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("delete", "/v1/town/subscriptions/me/{service}"): (
        fixed("/v1/town/subscriptions/me/notices"),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("get", "/v1/town/residents/{resident_id}/subscriptions"): (
        lambda w, _c: (f"/v1/town/residents/{w.resident_a}/subscriptions", {}),
        OK_STAFF,
    ),
    ("put", "/v1/town/residents/{resident_id}/subscriptions/{service}"): (
        lambda w, _c: (f"/v1/town/residents/{w.resident_a}/subscriptions/surveys", {"json": {}}),
        OK_STAFF,
    ),
    ("delete", "/v1/town/residents/{resident_id}/subscriptions/{service}"): (
        lambda w, _c: (f"/v1/town/residents/{w.resident_a}/subscriptions/surveys", {}),
        OK_STAFF,
    ),
    # notices: staff
    ("get", "/v1/town/segments/options"): (fixed("/v1/town/segments/options"), OK_STAFF),
    ("post", "/v1/town/notices/preview"): (fixed("/v1/town/notices/preview", json={}), OK_STAFF),
    ("post", "/v1/town/notices"): (new_notice, (401, 403, 403, 201, 201, 403, 401)),
    ("get", "/v1/town/notices"): (fixed("/v1/town/notices"), OK_STAFF),
    ("get", "/v1/town/notices/{notice_id}"): (
        lambda w, c: (f"/v1/town/notices/{w.notice()}", {}),
        OK_STAFF,
    ),
    ("post", "/v1/town/notices/{notice_id}/cancel"): (
        lambda w, c: (f"/v1/town/notices/{w.notice()}/cancel", {}),
        OK_STAFF,
    ),
    # the FAQ bot: anyone asks; a resident hands a question to staff; staff read and close
    ("get", "/v1/town/faq"): (fixed("/v1/town/faq", params={"q": "運賃はいくら"}), (200,) * 7),
    ("get", "/v1/town/faq/tickets"): (fixed("/v1/town/faq/tickets"), OK_STAFF),
    ("get", "/v1/town/faq/misses"): (fixed("/v1/town/faq/misses"), OK_STAFF),
    ("post", "/v1/town/faq/tickets"): (  # staff must name the resident: 422 without one
        fixed("/v1/town/faq/tickets", json={"question": "バス停に屋根はありますか"}),
        (401, 201, 201, 422, 422, 403, 401),
    ),
    ("post", "/v1/town/faq/tickets/{ticket_id}/close"): (
        lambda w, _c: (f"/v1/town/faq/tickets/{w.ticket()}/close", {"json": {"note": "電話済み"}}),
        (401, 403, 403, 200, 200, 403, 401),
    ),
    # surveys: staff define and read results; residents in the segment, opted in, answer
    ("post", "/v1/town/surveys"): (
        fixed("/v1/town/surveys", json=SURVEY),
        (401, 403, 403, 201, 201, 403, 401),
    ),
    ("get", "/v1/town/surveys"): (fixed("/v1/town/surveys"), OK_STAFF),
    ("get", "/v1/town/surveys/mine"): (
        fixed("/v1/town/surveys/mine"),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("get", "/v1/town/surveys/{survey_id}"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey(opened=True)}", {}),
        (401, 200, 200, 200, 200, 403, 401),
    ),
    ("put", "/v1/town/surveys/{survey_id}"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey()}", {"json": SURVEY}),
        OK_STAFF,
    ),
    ("post", "/v1/town/surveys/{survey_id}/open"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey()}/open", {}),
        OK_STAFF,
    ),
    ("post", "/v1/town/surveys/{survey_id}/close"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey(opened=True)}/close", {}),
        OK_STAFF,
    ),
    ("post", "/v1/town/surveys/{survey_id}/preview"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey()}/preview", {}),
        OK_STAFF,
    ),
    ("get", "/v1/town/surveys/{survey_id}/results"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey(opened=True)}/results", {}),
        OK_STAFF,
    ),
    ("get", "/v1/town/surveys/{survey_id}/results.csv"): (
        lambda w, _c: (f"/v1/town/surveys/{w.survey(opened=True)}/results.csv", {}),
        OK_STAFF,
    ),
    ("put", "/v1/town/surveys/{survey_id}/answers/{question_id}"): (
        lambda w, _c: (
            f"/v1/town/surveys/{w.survey(opened=True)}/answers/q1",
            {"json": {"value": "はい"}},
        ),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("post", "/v1/town/surveys/{survey_id}/complete"): (
        answered_survey,
        (401, 200, 200, 403, 403, 403, 401),
    ),
    # with no DRT_METRICS_TOKEN, only from the machine itself (the test client is not)
    ("get", "/metrics"): (fixed("/metrics"), (403,) * 7),
    # residents
    ("post", "/v1/residents"): (
        with_path("/v1/residents", new_resident),
        (401, 403, 403, 201, 201, 201, 401),
    ),
    ("get", "/v1/residents/me"): (fixed("/v1/residents/me"), (401, 200, 200, 404, 404, 403, 401)),
    ("get", "/v1/residents/me/bookings"): (
        fixed("/v1/residents/me/bookings"),
        (401, 200, 200, 404, 404, 403, 401),
    ),
    # trips
    ("post", "/v1/quotes"): (
        fixed("/v1/quotes", json={**TRIP, "mode": "depart_at", "time": at_time(3)}),
        (401, 200, 200, 422, 422, 403, 401),
    ),
    ("post", "/v1/bookings"): (confirm_quote, (401, 201, 404, 201, 201, 403, 401)),
    ("get", "/v1/bookings/{booking_id}"): (
        lambda w, _c: (f"/v1/bookings/{w.booking_of_a()}", {}),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("post", "/v1/bookings/{booking_id}/cancel"): (
        lambda w, _c: (f"/v1/bookings/{w.booking_of_a()}/cancel", {}),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("get", "/v1/meeting-points"): (
        fixed("/v1/meeting-points"),
        (401, 200, 200, 200, 200, 200, 401),
    ),
    # operators
    ("get", "/v1/operator/residents"): (
        fixed("/v1/operator/residents", params={"q": "0000"}),
        OK_STAFF,
    ),
    ("get", "/v1/operator/bookings"): (
        fixed("/v1/operator/bookings", params={"date": "2026-12-04"}),
        OK_STAFF,
    ),
    ("post", "/v1/operator/residents"): (
        with_path("/v1/operator/residents", new_resident),
        (401, 403, 403, 201, 201, 403, 401),
    ),
    ("get", "/v1/operator/residents/{resident_id}"): (
        lambda w, _c: (f"/v1/operator/residents/{w.resident_a}", {}),
        OK_STAFF,
    ),
    ("get", "/v1/operator/residents/{resident_id}/bookings"): (
        lambda w, _c: (f"/v1/operator/residents/{w.resident_a}/bookings", {}),
        OK_STAFF,
    ),
    ("post", "/v1/operator/residents/{resident_id}/close"): (
        someone_to_close,
        (401, 403, 403, 200, 200, 403, 401),
    ),
    ("post", "/v1/operator/residents/{resident_id}/link-code"): (
        lambda w, _c: (f"/v1/operator/residents/{w.resident_a}/link-code", {}),
        (401, 403, 403, 201, 201, 403, 401),
    ),
    ("post", "/v1/operator/quotes"): (
        lambda w, _c: ("/v1/operator/quotes", {"json": {**TRIP, "resident_id": w.resident_a}}),
        OK_STAFF,
    ),
    ("post", "/v1/operator/bookings"): (operator_confirm, (401, 403, 403, 201, 201, 403, 401)),
    ("post", "/v1/operator/bookings/{booking_id}/cancel"): (
        lambda w, _c: (f"/v1/operator/bookings/{w.booking_of_a()}/cancel", {}),
        OK_STAFF,
    ),
    ("post", "/v1/operator/bookings/{booking_id}/move"): (  # one van here: nowhere to move to
        lambda w, _c: (
            f"/v1/operator/bookings/{w.booking_of_a()}/move",
            {"json": {"vehicle_id": "van-2", "dry_run": True}},
        ),
        (401, 403, 403, 409, 409, 403, 401),
    ),
    ("post", "/v1/operator/bookings/{booking_id}/protect"): (
        lambda w, _c: (
            f"/v1/operator/bookings/{w.booking_of_a()}/protect",
            {"json": {"protected": True}},
        ),
        OK_STAFF,
    ),
    ("post", "/v1/operator/bookings/{booking_id}/no-show"): (  # allowed; before its window: 409
        lambda w, _c: (f"/v1/operator/bookings/{w.booking_of_a()}/no-show", {}),
        (401, 403, 403, 409, 409, 403, 401),
    ),
    ("post", "/v1/operator/vehicles"): (  # allowed, and refused: that day is past
        fixed(
            "/v1/operator/vehicles",
            json={
                "vehicle_id": "spare-1",
                "date": "2026-11-02",
                "start": "10:00",
                "end": "12:00",
                "seats": 7,
            },
        ),
        (401, 403, 403, 422, 422, 403, 401),
    ),
    ("post", "/v1/operator/vehicles/{vehicle_id}/breaks"): (  # allowed; no such van: 409
        fixed(
            "/v1/operator/vehicles/van-9/breaks",
            json={"date": "2026-12-04", "minutes": 30, "earliest": "11:00", "latest": "12:00"},
        ),
        (401, 403, 403, 409, 409, 403, 401),
    ),
    ("post", "/v1/operator/vehicles/{vehicle_id}/withdraw"): (  # no such van: nothing changes
        fixed("/v1/operator/vehicles/van-9/withdraw"),
        (401, 403, 403, 409, 409, 403, 401),
    ),
    ("get", "/v1/operator/fleet"): (fixed("/v1/operator/fleet"), OK_STAFF),
    ("get", "/v1/operator/map"): (fixed("/v1/operator/map"), OK_STAFF),
    ("get", "/v1/operator/reports/ridership"): (
        fixed("/v1/operator/reports/ridership", params={"from": "2026-12-01", "to": "2026-12-31"}),
        OK_STAFF,
    ),
    ("get", "/v1/operator/audit"): (
        fixed("/v1/operator/audit"),
        (401, 403, 403, 403, 200, 403, 401),
    ),
    # meeting points: operators see them, admins change them
    ("get", "/v1/operator/meeting-points"): (fixed("/v1/operator/meeting-points"), OK_STAFF),
    ("post", "/v1/operator/meeting-points"): (
        lambda w, _c: (
            "/v1/operator/meeting-points",
            {"json": {"name": f"表の乗降所{w.unique()}", "lat": 33.7897, "lon": 130.6866}},
        ),
        (401, 403, 403, 403, 201, 403, 401),
    ),
    ("patch", "/v1/operator/meeting-points/{stop_id}"): (
        fixed("/v1/operator/meeting-points/KUR-010", json={"kana": "ひょう"}),
        (401, 403, 403, 403, 200, 403, 401),
    ),
    # the service's rules: operators read them, admins change them
    ("get", "/v1/operator/service-rules"): (fixed("/v1/operator/service-rules"), OK_STAFF),
    ("patch", "/v1/operator/service-rules"): (
        fixed("/v1/operator/service-rules", json={"hold_ttl_s": 300}),
        (401, 403, 403, 403, 200, 403, 401),
    ),
    # staff accounts: admins only
    ("get", "/v1/operator/staff"): (
        fixed("/v1/operator/staff"),
        (401, 403, 403, 403, 200, 403, 401),
    ),
    ("post", "/v1/operator/staff"): (
        lambda w, _c: (
            "/v1/operator/staff",
            {
                "json": {
                    "username": f"matrix{w.unique()}",
                    "display_name": "表",
                    "role": "operator",
                    "password": "matrix-pass-1",
                }
            },
        ),
        (401, 403, 403, 403, 201, 403, 401),
    ),
    ("patch", "/v1/operator/staff/{staff_id}"): (  # allowed; no such account: 404
        fixed("/v1/operator/staff/S-nosuch", json={"display_name": "表"}),
        (401, 403, 403, 403, 404, 403, 401),
    ),
    # the driver's tablet (a fresh session with its shift started for the driver's cell)
    ("post", "/v1/driver/shift/start"): (
        fixed("/v1/driver/shift/start", json={}),
        (401,) * 6 + (200,),
    ),
    # allowed, and refused while riders are planned today (resident A's trips)
    ("post", "/v1/driver/shift/end"): (fixed("/v1/driver/shift/end"), (401,) * 6 + (409,)),
    ("post", "/v1/driver/break"): (
        fixed("/v1/driver/break", json={"minutes": 10}),
        (401,) * 6 + (204,),
    ),
    ("post", "/v1/driver/positions"): (
        lambda w, _c: (
            "/v1/driver/positions",
            {"json": {"points": [{"t": w.svc.clock.now_s, "lat": 33.7858, "lon": 130.6873}]}},
        ),
        (401,) * 6 + (200,),
    ),
    ("get", "/v1/driver/manifest"): (fixed("/v1/driver/manifest"), (401,) * 6 + (200,)),
    ("post", "/v1/driver/events"): (  # allowed, and refused for a reason of the road
        fixed("/v1/driver/events", json={"client_event_id": "m1", "kind": "departed"}),
        (401,) * 6 + (409,),
    ),
    ("get", "/v1/driver/stream"): (
        fixed("/v1/driver/stream", params={"limit": 1}),
        (401,) * 6 + (200,),
    ),
    ("get", "/v1/driver/map"): (fixed("/v1/driver/map"), (401,) * 6 + (200,)),
    # -- reservations (#20): rows below
    # the schedule is public; staff define events; a resident reserves their own
    ("get", "/v1/town/reservations/events"): (fixed("/v1/town/reservations/events"), (200,) * 7),
    ("get", "/v1/town/reservations/events/{event_id}"): (
        lambda w, _c: (f"/v1/town/reservations/events/{w.event()}", {}),
        (200,) * 7,
    ),
    ("post", "/v1/town/reservations/events"): (new_event, (401, 403, 403, 201, 201, 403, 401)),
    ("post", "/v1/town/reservations/slots"): (new_slots, (401, 403, 403, 201, 201, 403, 401)),
    ("post", "/v1/town/reservations/events/{event_id}/cancel"): (
        lambda w, _c: (f"/v1/town/reservations/events/{w.event()}/cancel", {}),
        OK_STAFF,
    ),
    ("get", "/v1/town/reservations/events/{event_id}/roster"): (
        lambda w, _c: (f"/v1/town/reservations/events/{w.event()}/roster", {}),
        OK_STAFF,
    ),
    ("get", "/v1/town/reservations/events/{event_id}/roster.csv"): (
        lambda w, _c: (f"/v1/town/reservations/events/{w.event()}/roster.csv", {}),
        OK_STAFF,
    ),
    ("post", "/v1/town/reservations/events/{event_id}/reservations"): (
        lambda w, _c: (
            f"/v1/town/reservations/events/{w.event()}/reservations",
            {"json": {"resident_id": w.resident_a}},
        ),
        (401, 201, 403, 201, 201, 403, 401),
    ),
    ("get", "/v1/town/reservations/mine"): (
        fixed("/v1/town/reservations/mine"),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("get", "/v1/town/reservations/residents/{resident_id}"): (
        lambda w, _c: (f"/v1/town/reservations/residents/{w.resident_a}", {}),
        OK_STAFF,
    ),
    ("get", "/v1/town/reservations/{reservation_id}"): (
        lambda w, _c: (f"/v1/town/reservations/{w.reservation_of_a()}", {}),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("post", "/v1/town/reservations/{reservation_id}/cancel"): (
        lambda w, _c: (f"/v1/town/reservations/{w.reservation_of_a()}/cancel", {}),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("post", "/v1/town/reservations/{reservation_id}/attendance"): (  # staff; 409 before the day
        lambda w, _c: (
            f"/v1/town/reservations/{w.reservation_of_a()}/attendance",
            {"json": {"attended": True}},
        ),
        (401, 403, 403, 409, 409, 403, 401),
    ),
    ("post", "/v1/town/reservations/{reservation_id}/rides/quote"): (
        lambda w, _c: (
            f"/v1/town/reservations/{w.reservation_of_a()}/rides/quote",
            {"json": {"home": "KUR-002"}},
        ),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("post", "/v1/town/reservations/{reservation_id}/rides"): (
        ride_quotes_of_a,
        (401, 201, 404, 201, 201, 403, 401),
    ),
    # -- forms (#20): rows below
    # the forms: anyone signed in; applications: staff, and a resident their own
    **(
        lambda of_a: {  # of_a(w): the path of a fresh pre-application of resident A's
            ("get", "/v1/town/forms"): (
                fixed("/v1/town/forms"),
                (401, 200, 200, 200, 200, 200, 401),
            ),
            ("get", "/v1/town/forms/{form_id}"): (
                fixed("/v1/town/forms/certificate"),
                (401, 200, 200, 200, 200, 200, 401),
            ),
            ("post", "/v1/town/forms/{form_id}/applications"): (  # a resident: for themselves
                lambda w, c: (
                    "/v1/town/forms/certificate/applications",
                    {
                        "json": {"prefill": True, "resident_id": w.resident_a}
                        if c in ("operator", "admin", "channel")
                        else {"prefill": True},
                        "headers": {"Idempotency-Key": f"form-{w.unique()}"},
                    },
                ),
                (401, 201, 201, 201, 201, 403, 401),
            ),
            ("get", "/v1/town/forms/applications"): (
                fixed("/v1/town/forms/applications", params={"status": "pre_applied"}),
                OK_STAFF,
            ),
            ("get", "/v1/town/forms/applications/mine"): (
                fixed("/v1/town/forms/applications/mine"),
                (401, 200, 200, 403, 403, 403, 401),
            ),
            ("get", "/v1/town/forms/applications/{application_id}"): (
                lambda w, _c: (of_a(w), {}),
                (401, 200, 404, 200, 200, 403, 401),
            ),
            ("get", "/v1/town/forms/applications/{application_id}.pdf"): (
                lambda w, _c: (of_a(w) + ".pdf", {}),
                (401, 200, 404, 200, 200, 403, 401),
            ),
            ("patch", "/v1/town/forms/applications/{application_id}"): (
                lambda w, _c: (of_a(w), {"json": {"values": {"copies": 2}}}),
                (401, 403, 403, 200, 200, 403, 401),
            ),
            ("post", "/v1/town/forms/applications/{application_id}/complete"): (  # allowed;
                lambda w, _c: (of_a(w) + "/complete", {}),  # refused: the ID not checked yet
                (401, 403, 403, 409, 409, 403, 401),
            ),
            ("post", "/v1/town/forms/applications/{application_id}/cancel"): (
                lambda w, _c: (of_a(w) + "/cancel", {}),
                (401, 200, 404, 200, 200, 403, 401),
            ),
        }
    )(
        lambda w: (
            "/v1/town/forms/applications/"
            + w.svc.client.post(
                "/v1/town/forms/certificate/applications",
                json={"prefill": True},
                headers={**w.headers("resident_a"), "Idempotency-Key": f"form-{w.unique()}"},
            ).json()["id"]
        )
    ),
    # -- slips (#20): rows below
    ("post", "/v1/town/slips/import"): (  # the same file in every cell: 200, nothing new
        fixed(
            "/v1/town/slips/import",
            json={
                "csv": "subject,fiscal_year,payer_name,biller_code,free_field,due,amount\n"
                "軽自動車税,2026,表 検査,912345,000000000000000000001,2026-12-25,1000\n"
            },
        ),
        OK_STAFF,
    ),
    ("post", "/v1/town/slips/payments/import"): (  # a slip not stored: 200, reported unknown
        fixed(
            "/v1/town/slips/payments/import",
            json={
                "csv": "barcode,paid_on\n91912345999999999999999999999026122500010002,2026-12-20\n"
            },
        ),
        OK_STAFF,
    ),
    ("post", "/v1/town/slips/barcode"): (
        fixed(
            "/v1/town/slips/barcode",
            json={"biller": "912345", "free": "0" * 21, "due": "2026-12-25", "amount": 1000},
        ),
        OK_STAFF,
    ),
    ("get", "/v1/town/slips"): (fixed("/v1/town/slips"), OK_STAFF),
    ("get", "/v1/town/slips/mine"): (  # a resident's own list (B's is empty)
        fixed("/v1/town/slips/mine"),
        (401, 200, 200, 403, 403, 403, 401),
    ),
    ("get", "/v1/town/slips/{slip_id}"): (  # resident A's slip (imported again: the same one)
        lambda w, _c: (
            "/v1/town/slips/"
            + w.svc.client.post(
                "/v1/town/slips/import",
                headers=w.headers("operator"),
                json={
                    "csv": "resident_id,subject,fiscal_year,payer_name,biller_code,free_field,due,amount\n"
                    f"{w.resident_a},軽自動車税,2026,表 検査,912345,{'0' * 20}2,2026-12-25,1000\n",
                },
            ).json()["slips"][0]["id"],
            {},
        ),
        (401, 200, 404, 200, 200, 403, 401),
    ),
    ("get", "/v1/town/slips/{slip_id}.pdf"): (  # the same slip's PDF
        lambda w, _c: (
            "/v1/town/slips/"
            + w.svc.client.post(
                "/v1/town/slips/import",
                headers=w.headers("operator"),
                json={
                    "csv": "resident_id,subject,fiscal_year,payer_name,biller_code,free_field,due,amount\n"
                    f"{w.resident_a},軽自動車税,2026,表 検査,912345,{'0' * 20}2,2026-12-25,1000\n",
                },
            ).json()["slips"][0]["id"]
            + ".pdf",
            {},
        ),
        (401, 200, 404, 200, 200, 403, 401),
    ),
}


@pytest.fixture
def matrix(svc: Svc) -> Matrix:
    with svc.db.sessionmaker()() as s:
        create_staff(s, "chief", "chief-pass-long", "admin")
        create_device(s, "van-1", DEVICE)
        create_driver(s, "1007", "表 運転", "4821")
        import_calendar(s, ROOT / "areas" / "kurate" / "garbage-sample", by="test")
        s.commit()
    admin = svc.client.post(
        "/v1/auth/token", data={"username": "chief", "password": "chief-pass-long"}
    ).json()["access_token"]
    rid_a, token_a = svc.register("090-1000-0001")
    _, token_b = svc.register("090-1000-0002")
    tokens: dict[str, str | None] = {
        "anonymous": None, "resident_a": token_a, "resident_b": token_b,
        "operator": svc.operator_token, "admin": admin, "channel": svc.channel_token,
        "driver": None,
    }  # fmt: skip
    return Matrix(svc, tokens, rid_a)


def test_every_endpoint_has_a_row(svc: Svc) -> None:
    spec = svc.client.get("/openapi.json").json()
    operations = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert operations == set(ROWS)


def test_every_caller_gets_the_expected_answer(matrix: Matrix) -> None:
    wrong = []
    for (method, template), (build, expected) in ROWS.items():
        for caller, want in zip(CALLERS, expected, strict=True):
            if caller == "driver":
                matrix.tokens["driver"] = matrix.driver_session()
            path, kw = build(matrix, caller)
            headers = {**matrix.headers(caller), **kw.pop("headers", {})}
            r = getattr(matrix.svc.client, method)(path, headers=headers, **kw)
            if r.status_code != want:
                wrong.append((method, template, caller, want, r.status_code, r.text[:120]))
            elif r.status_code >= 400:
                assert set(r.json()["error"]) >= {"code", "message_ja", "message_en"}
    assert wrong == [], "\n".join(map(str, wrong))
