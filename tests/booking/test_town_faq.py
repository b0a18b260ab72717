"""The FAQ bot's API (/v1/town/faq): anyone may ask; the bus's facts come from the live
configuration; a question with no answer is listed for staff; tickets by residents or by
staff for them; who may list and close them; bad input is a 4xx with code and ja/en."""

from __future__ import annotations

from typing import Any

import pytest

from core.guide import faq_facts
from driver_app_api.service import create_device, create_driver
from tests.booking.conftest import Svc
from town.faq import PLACEHOLDERS

pytestmark = pytest.mark.services


def _error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert err["message_ja"]
    assert err["message_en"]


def _driver_token(svc: Svc) -> str:
    with svc.db.sessionmaker()() as s:
        create_device(s, "van-1", "tablet-faq")
        create_driver(s, "1008", "表 運転", "4822")
        s.commit()
    body = {"device_token": "tablet-faq", "login": "1008", "pin": "4822"}
    r = svc.client.post("/v1/driver/sessions", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_the_facts_cover_every_placeholder_from_the_live_config(svc: Svc) -> None:
    facts = faq_facts(svc.world)
    assert set(facts) >= PLACEHOLDERS
    assert facts["phone"] == svc.world.config.operator_phone == "0949-42-0000"
    assert facts["fare_adult"] == "200円"
    assert facts["fare_preschool"] == "無料"
    assert facts["weekday_hours"] == "平日 7時〜19時"
    assert facts["weekend_hours"] == "土日・祝日 9時〜18時"


def test_anyone_asks_and_the_answer_has_the_live_facts(svc: Svc) -> None:
    r = svc.client.get("/v1/town/faq", params={"q": "りょうきんはいくらですか"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["answered"], body["entry_id"]) == (True, "bus-fare")
    assert "おとな(中学生以上) 200円" in body["answer"]
    assert "{" not in body["answer"]
    assert body["score"] >= body["threshold"]
    hours = svc.client.get("/v1/town/faq", params={"q": "バスは何時から何時まで走っていますか"})
    assert "平日 7時〜19時" in hours.json()["answer"]
    assert hours.json()["staff_suggested"] is False


def test_a_question_with_no_answer_is_listed_for_staff(svc: Svc) -> None:
    for _ in range(2):
        r = svc.client.get("/v1/town/faq", params={"q": "あしたのてんきはどうですか"})
        assert r.status_code == 200
        assert r.json()["answered"] is False
        assert r.json()["staff_suggested"] is True
        assert "0949-42-0000" in r.json()["answer"]
    assert svc.client.get("/v1/town/faq/misses").status_code == 401
    misses = svc.client.get("/v1/town/faq/misses", headers=svc.auth(svc.operator_token))
    assert misses.status_code == 200
    assert [(m["question"], m["count"]) for m in misses.json()] == [
        ("あしたのてんきはどうですか", 1)
    ]


def test_bad_questions_are_refused_with_a_reason(svc: Svc) -> None:
    _error(svc.client.get("/v1/town/faq"), 422, "invalid_input")
    _error(svc.client.get("/v1/town/faq", params={"q": ""}), 422, "invalid_input")
    _error(svc.client.get("/v1/town/faq", params={"q": "あ" * 201}), 422, "invalid_input")


def test_tickets_by_a_resident_or_by_staff_for_one(svc: Svc) -> None:
    rid, token = svc.register()
    other_id, _ = svc.register("090-1234-0000")
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": "質問"}), 401,
           "not_authenticated")  # fmt: skip
    mine = svc.client.post("/v1/town/faq/tickets", json={"question": "病院の帰りも乗れますか"},
                           headers=svc.auth(token))  # fmt: skip
    assert mine.status_code == 201, mine.text
    assert (mine.json()["resident_id"], mine.json()["channel"]) == (rid, "app")
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": "x", "resident_id": other_id},
                           headers=svc.auth(token)), 403, "forbidden")  # fmt: skip
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": ""},
                           headers=svc.auth(token)), 422, "invalid_input")  # fmt: skip
    op = svc.auth(svc.operator_token)
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": "x"}, headers=op), 422,
           "invalid_input")  # fmt: skip
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": "x", "resident_id": "Rnone"},
                           headers=op), 404, "not_found")  # fmt: skip
    for_other = svc.client.post("/v1/town/faq/tickets", headers=op,
                                json={"question": "電話で聞かれた質問", "resident_id": other_id})  # fmt: skip
    assert for_other.status_code == 201
    assert for_other.json()["channel"] == "phone"
    _error(svc.client.post("/v1/town/faq/tickets", json={"question": "x"},
                           headers=svc.auth(svc.channel_token)), 403, "forbidden")  # fmt: skip
    listed = svc.client.get("/v1/town/faq/tickets", params={"status": "open"}, headers=op).json()
    assert {t["id"] for t in listed} == {mine.json()["id"], for_other.json()["id"]}  # same time


def test_who_may_list_and_close_tickets_and_closing_twice_is_the_same(svc: Svc) -> None:
    _rid, token = svc.register()
    ticket = svc.client.post("/v1/town/faq/tickets", json={"question": "質問です"},
                             headers=svc.auth(token)).json()  # fmt: skip
    driver = _driver_token(svc)
    close = f"/v1/town/faq/tickets/{ticket['id']}/close"
    for headers, status in (({}, 401), (svc.auth(token), 403), (svc.auth(driver), 401),
                            (svc.auth(svc.channel_token), 403)):  # fmt: skip
        assert svc.client.get("/v1/town/faq/tickets", headers=headers).status_code == status
        assert svc.client.get("/v1/town/faq/misses", headers=headers).status_code == status
        assert svc.client.post(close, json={"note": "x"}, headers=headers).status_code == status
    op = svc.auth(svc.operator_token)
    first = svc.client.post(close, json={"note": "お電話で答えました"}, headers=op)
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["note"]) == ("closed", "お電話で答えました")
    again = svc.client.post(close, json={"note": "もう一度"}, headers=op)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert svc.client.get("/v1/town/faq/tickets", headers=op).json() == []
    closed = svc.client.get("/v1/town/faq/tickets", params={"status": "closed"}, headers=op)
    assert [t["id"] for t in closed.json()] == [ticket["id"]]
    _error(svc.client.get("/v1/town/faq/tickets", params={"status": "maybe"}, headers=op), 422,
           "invalid_input")  # fmt: skip
    _error(svc.client.post("/v1/town/faq/tickets/Qnosuch/close", json={}, headers=op), 404,
           "faq_ticket_not_found")  # fmt: skip
    _error(svc.client.post(close, json={"note": "x" * 1001}, headers=op), 422, "invalid_input")
