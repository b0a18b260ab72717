"""The surveys' API (/v1/town/surveys) on the running app: who may do what (anonymous, a
resident, an operator, an admin, a channel account, a driver's tablet), who sees a survey
(in the segment and opted in, or not), answering and completing with a resident's token, the
results and the CSV, bad input answered with a code and never a 500, and the answer page.

Residents: A (中山, opted in), B (新延, opted in: outside a 中山 survey), C (中山, not opted in).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from driver_app_api.service import create_device, create_driver
from residents import models as rm
from residents.service import create_staff
from tests.booking.conftest import Svc
from town.models import Subscription, SurveyResponse

pytestmark = pytest.mark.services
DEVICE = "tablet-surveys"
BASE = "/v1/town/surveys"
SURVEY: dict[str, Any] = {
    "title": "のりあいバスについて",
    "intro": "よりよいバスにするため、お聞かせください。",
    "questions": [
        {"id": "q1", "kind": "single", "text": "よく乗りますか", "choices": ["よく乗る", "ときどき", "乗らない"]},
        {"id": "q2", "kind": "scale", "text": "満足度", "min": 1, "max": 5},
        {"id": "q3", "kind": "text", "text": "ご意見", "required": False},
    ],
    "segment": {"districts": ["中山"]},
}  # fmt: skip


@dataclass
class Town:
    svc: Svc
    tokens: dict[str, str | None]
    ids: dict[str, str]

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        token = self.tokens[who]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return getattr(self.svc.client, method)(
            path, headers={**headers, **kw.pop("headers", {})}, **kw
        )

    def ok(self, who: str, method: str, path: str, **kw: Any) -> Any:
        r = self.call(who, method, path, **kw)
        assert r.status_code < 300, r.text
        return r.json() if "json" in r.headers.get("content-type", "") else r.text

    def survey(self, **over: Any) -> str:
        return str(self.ok("operator", "post", BASE, json={**SURVEY, **over})["id"])

    def opened(self, **over: Any) -> str:
        sid = self.survey(**over)
        self.ok("operator", "post", f"{BASE}/{sid}/open")
        return sid


@pytest.fixture
def town(svc: Svc) -> Town:
    now = datetime.now(UTC)
    with svc.db.sessionmaker()() as s:
        create_staff(s, "chief", "chief-pass-long", "admin")
        create_device(s, "van-1", DEVICE)
        create_driver(s, "1007", "表 運転", "4821")
        s.commit()
    admin = svc.client.post(
        "/v1/auth/token", data={"username": "chief", "password": "chief-pass-long"}
    ).json()["access_token"]
    driver = svc.client.post(
        "/v1/driver/sessions", json={"device_token": DEVICE, "login": "1007", "pin": "4821"}
    ).json()["access_token"]
    a, token_a = svc.register("090-2000-0001", address="鞍手町大字中山 1")
    b, token_b = svc.register("090-2000-0002", address="鞍手町大字新延 2")
    c, token_c = svc.register("090-2000-0003", address="鞍手町大字中山 3")
    with svc.db.sessionmaker()() as s:
        for rid in (a, b):
            s.add(Subscription(resident_id=rid, service="surveys", options={}, started_at=now))
        s.commit()
    tokens: dict[str, str | None] = {
        "anonymous": None, "resident": token_a, "outside": token_b, "not_opted": token_c,
        "operator": svc.operator_token, "admin": admin, "channel": svc.channel_token,
        "driver": driver,
    }  # fmt: skip
    return Town(svc, tokens, {"A": a, "B": b, "C": c})


STAFF_CALLS = [
    ("post", "", {"json": SURVEY}),
    ("get", "", {}),
    ("put", "/{id}", {"json": SURVEY}),
    ("post", "/{id}/preview", {}),
    ("post", "/{id}/open", {}),
    ("get", "/{id}/results", {}),
    ("get", "/{id}/results.csv", {}),
    ("post", "/{id}/close", {}),
]
# anonymous, resident, operator, admin, channel account, driver's tablet
STAFF_EXPECTED = {"anonymous": 401, "resident": 403, "channel": 403, "driver": 401}


def test_staff_endpoints_authorization_matrix(town: Town) -> None:
    for who in ("anonymous", "resident", "operator", "admin", "channel", "driver"):
        sid = town.survey()
        for method, path, kw in STAFF_CALLS:
            r = town.call(who, method, BASE + path.replace("{id}", sid), **kw)
            want = STAFF_EXPECTED.get(who)
            if want is None:
                assert r.status_code < 300, (who, method, path, r.text)
            else:
                assert r.status_code == want, (who, method, path, r.text)
                assert r.json()["error"]["code"] in ("not_authenticated", "forbidden")
                assert r.json()["error"]["message_ja"]


def test_resident_endpoints_authorization_matrix(town: Town) -> None:
    sid = town.opened()
    calls = [
        ("get", "/mine", {}),
        ("put", f"/{sid}/answers/q1", {"json": {"value": "ときどき"}}),
        ("post", f"/{sid}/complete", {}),
    ]
    for method, path, kw in calls:
        for who, want in (("anonymous", 401), ("driver", 401), ("operator", 403),
                          ("admin", 403), ("channel", 403)):  # fmt: skip
            r = town.call(who, method, BASE + path, **kw)
            assert r.status_code == want, (who, method, path, r.text)
    assert town.call("anonymous", "get", f"{BASE}/{sid}").status_code == 401
    assert town.call("driver", "get", f"{BASE}/{sid}").status_code == 401
    assert town.call("channel", "get", f"{BASE}/{sid}").status_code == 403
    assert town.ok("admin", "get", f"{BASE}/{sid}")["status"] == "open"  # staff: the survey


def test_only_residents_in_the_segment_and_opted_in_see_it(town: Town) -> None:
    draft = town.survey()
    sid = town.opened()
    mine = town.ok("resident", "get", f"{BASE}/mine")
    assert [m["id"] for m in mine] == [sid]  # not the draft
    assert mine[0]["next_question"] == "q1"
    assert mine[0]["answers"] == {}
    for who in ("outside", "not_opted"):
        assert town.ok(who, "get", f"{BASE}/mine") == []
        r = town.call(who, "get", f"{BASE}/{sid}")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
        r = town.call(who, "put", f"{BASE}/{sid}/answers/q1", json={"value": "ときどき"})
        assert r.status_code == 404
    assert town.call("resident", "get", f"{BASE}/{draft}").status_code == 404
    count = town.ok("operator", "post", f"{BASE}/{sid}/preview")["count"]
    assert count == 1  # A: B lives in 新延, C did not opt in
    wider = town.ok("operator", "post", f"{BASE}/{sid}/preview", json={"segment": {}})
    assert wider["count"] == 2


def test_an_address_without_the_word_daiji_is_in_its_district(town: Town) -> None:
    """「鞍手町中山7」 is in 中山 (the meeting points' 大字, named as residents name them)."""
    d, token_d = town.svc.register("090-2000-0004", address="鞍手町中山7")
    with town.svc.db.sessionmaker()() as s:
        s.add(
            Subscription(resident_id=d, service="surveys", options={}, started_at=datetime.now(UTC))
        )
        s.commit()
    sid = town.opened()
    assert town.ok("operator", "post", f"{BASE}/{sid}/preview")["count"] == 2  # A and D
    town.tokens["D"] = token_d
    assert [m["id"] for m in town.ok("D", "get", f"{BASE}/mine")] == [sid]


def test_answer_complete_and_read_the_results(town: Town) -> None:
    sid = town.opened()
    p = town.ok("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": "よく乗る"})
    assert p["next_question"] == "q2"
    p = town.ok("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": "ときどき"})
    assert p["answers"] == {"q1": "ときどき"}  # changed before completing
    r = town.call("resident", "post", f"{BASE}/{sid}/complete")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "survey_incomplete")
    assert r.json()["error"]["details"]["missing"] == ["q2"]
    town.ok("resident", "put", f"{BASE}/{sid}/answers/q2", json={"value": 4})
    town.ok("resident", "put", f"{BASE}/{sid}/answers/q3", json={"value": "  便を増やして  "})
    done = town.ok("resident", "post", f"{BASE}/{sid}/complete")
    assert done["completed"]
    assert done["next_question"] is None
    assert town.ok("resident", "post", f"{BASE}/{sid}/complete")["completed"]  # idempotent
    r = town.call("resident", "put", f"{BASE}/{sid}/answers/q2", json={"value": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "survey_already_answered")
    results = town.ok("operator", "get", f"{BASE}/{sid}/results")
    assert results["responses"] == 1
    q1, q2, q3 = results["questions"]
    assert q1["counts"] == {"よく乗る": 0, "ときどき": 1, "乗らない": 0}
    assert q2["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert q2["mean"] == 4.0
    assert q3["texts"] == [{"resident_id": town.ids["A"], "text": "便を増やして"}]
    r = town.call("admin", "get", f"{BASE}/{sid}/results.csv")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # a BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["resident_id", "completed", "q1 よく乗りますか", "q2 満足度", "q3 ご意見"]
    assert rows[1][0] == town.ids["A"]
    assert rows[1][2:] == ["ときどき", "4", "便を増やして"]
    assert len(rows) == 2
    with town.svc.db.sessionmaker()() as s:
        actions = s.scalars(select(rm.AuditEntry.action).where(
            rm.AuditEntry.action.like("town.survey.%")).order_by(rm.AuditEntry.id)).all()  # fmt: skip
    assert actions == ["town.survey.create", "town.survey.open", "town.survey.results",
                       "town.survey.export"]  # fmt: skip


def test_anonymous_survey_through_the_api(town: Town) -> None:
    sid = town.opened(anonymous=True)
    town.ok("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": "乗らない"})
    town.ok("resident", "put", f"{BASE}/{sid}/answers/q2", json={"value": 2})
    town.ok("resident", "put", f"{BASE}/{sid}/answers/q3", json={"value": "駅まで行きたい"})
    town.ok("resident", "post", f"{BASE}/{sid}/complete")
    again = town.call("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": "ときどき"})
    assert again.status_code == 409  # still one response per resident
    mine = town.ok("resident", "get", f"{BASE}/{sid}")
    assert mine["completed"]
    assert mine["answers"]["q1"] == "乗らない"
    with town.svc.db.sessionmaker()() as s:
        rows = s.scalars(select(SurveyResponse)).all()
    assert len(rows) == 1
    assert rows[0].resident_id is None
    assert rows[0].respondent_key != town.ids["A"]
    results = town.ok("operator", "get", f"{BASE}/{sid}/results")
    assert results["questions"][2]["texts"] == [{"text": "駅まで行きたい", "resident_id": None}]
    csv_text = town.call("operator", "get", f"{BASE}/{sid}/results.csv").content.decode("utf-8-sig")
    assert town.ids["A"] not in csv_text
    assert "resident_id" not in csv_text


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"questions": [{"id": "q1", "kind": "single", "text": "?", "choices": ["a"]}]},
         "survey_invalid", 422),
        ({"questions": [{"id": "q1", "kind": "poll", "text": "?"}]}, "survey_invalid", 422),
        ({"questions": [{"id": "q1", "kind": "scale", "text": "?", "min": 3, "max": 2}]},
         "survey_invalid", 422),
        ({"questions": [{"id": "q1", "kind": "text"}]}, "invalid_input", 422),
        ({"segment": {"channels": ["fax"]}}, "invalid_input", 422),
        ({"title": ""}, "invalid_input", 422),
        ({"closes_at": "2020-01-01T00:00:00+09:00"}, "survey_invalid", 422),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_with_a_code(
    town: Town, change: dict[str, Any], code: str, status: int
) -> None:
    r = town.call("operator", "post", BASE, json={**SURVEY, **change})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message_ja"]


def test_bad_answers_and_states_are_4xx(town: Town) -> None:
    sid = town.opened()
    for value in ("電車", 3, ["よく乗る"], {"a": 1}, True):
        r = town.call("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": value})
        assert r.status_code == 422, (value, r.text)
    assert (
        town.call("resident", "put", f"{BASE}/{sid}/answers/q9", json={"value": "x"}).status_code
        == 404
    )
    assert town.call("resident", "put", f"{BASE}/{sid}/answers/q1", content=b"{").status_code == 422
    assert town.call("operator", "get", f"{BASE}/S-none/results").status_code == 404
    r = town.call("operator", "put", f"{BASE}/{sid}", json=SURVEY)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "survey_not_changeable")
    empty = town.survey(questions=[])
    r = town.call("operator", "post", f"{BASE}/{empty}/open")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "survey_empty")
    town.ok("operator", "post", f"{BASE}/{sid}/close")
    assert town.ok("resident", "get", f"{BASE}/mine") == []
    r = town.call("resident", "put", f"{BASE}/{sid}/answers/q1", json={"value": "ときどき"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "survey_closed")
    assert "終わりました" in r.json()["error"]["message_ja"]


def test_the_answer_page_is_served_without_inline_code(town: Town) -> None:
    page = town.svc.client.get("/town/surveys/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<script src="/town/surveys/survey.js"></script>' in html
    assert "<style" not in html
    assert "style=" not in html
    assert "onclick" not in html
    assert "http://" not in html
    assert "https://" not in html
    js = town.svc.client.get("/town/surveys/survey.js")
    assert js.status_code == 200
    assert '"/v1/town/surveys"' in js.text
    assert "/mine" in js.text
    assert town.svc.client.get("/town/surveys/survey.css").status_code == 200
    assert town.svc.client.get("/town/surveys/../endpoints.py").status_code == 404
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_a_retried_creation_with_its_key_makes_one_draft(town: Town) -> None:
    headers = {"Idempotency-Key": "survey-1"}
    first = town.ok("operator", "post", BASE, json=SURVEY, headers=headers)
    again = town.ok("operator", "post", BASE, json=SURVEY, headers=headers)
    assert again["id"] == first["id"]
    assert [s["id"] for s in town.ok("operator", "get", BASE)] == [first["id"]]
    other = town.call("operator", "post", BASE, json={**SURVEY, "title": "別の"}, headers=headers)
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert town.call("resident", "post", BASE, json=SURVEY, headers=headers).status_code == 403
