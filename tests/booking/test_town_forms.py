"""The forms API (/v1/town/forms) on the running app: who may do what (nobody, residents A and
B, an operator, an admin, a channel account, a driver's tablet), a resident's pre-application
retried with the same Idempotency-Key (one application, one number), the counter: found by
its number as typed, completion refused until the ID check is written and the record's
fields ticked, the PDF read back with pypdf (every pre-filled field and the number in it),
the record used only with consent, bad input answered with a code and never a 500.

Residents: A 鞍手 太郎 (クラテ タロウ), 鞍手町大字中山 1, 09020000001, born 1950; B the same
name at 鞍手町大字新延 2, 09020000002.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from driver_app_api.service import create_device, create_driver
from residents import models as rm
from residents.service import create_staff
from tests.booking.conftest import Svc
from town import forms as fm

pytestmark = pytest.mark.services
BASE = "/v1/town/forms"
APPS = f"{BASE}/applications"
DEVICE = "tablet-forms"
CHOSEN = {
    "certificate": "住民票の写し",
    "scope": "世帯全員",
    "copies": 2,
    "purpose": "年金・保険の手続き",
}
RECORD_FIELDS = ["kana", "name", "birth_year", "phone", "address"]
RECORD_A = {"kana": "クラテ タロウ", "name": "鞍手 太郎", "birth_year": 1950, "phone": "09020000001",
            "address": "鞍手町大字中山 1"}  # fmt: skip


@dataclass
class Town:
    svc: Svc
    tokens: dict[str, str | None]
    ids: dict[str, str]
    keys: int = 0

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        token = self.tokens[who]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return getattr(self.svc.client, method)(path, headers={**headers, **kw.pop("headers", {})},
                                                **kw)  # fmt: skip

    def ok(self, who: str, method: str, path: str, **kw: Any) -> Any:
        r = self.call(who, method, path, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def key(self) -> dict[str, str]:
        self.keys += 1
        return {"Idempotency-Key": f"forms-{self.keys}"}

    def apply(self, who: str = "A", form: str = "certificate", **body: Any) -> dict[str, Any]:
        body = {"prefill": True, "values": CHOSEN, **body}
        r = self.call(who, "post", f"{BASE}/{form}/applications", json=body, headers=self.key())
        assert r.status_code == 201, r.text
        return dict(r.json())


@pytest.fixture
def town(svc: Svc) -> Town:
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
    tokens: dict[str, str | None] = {
        "anonymous": None, "A": token_a, "B": token_b, "operator": svc.operator_token,
        "admin": admin, "channel": svc.channel_token, "driver": driver,
    }  # fmt: skip
    return Town(svc, tokens, {"A": a, "B": b})


def pdf_text(content: bytes) -> str:
    """The PDF's text, without the spaces and line breaks the layout puts in."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return "".join(reader.pages[0].extract_text().split())


def plain(value: Any) -> str:
    return "".join(str(value).split())


def test_who_may_do_what(town: Town) -> None:
    mine = town.apply("A")
    path = f"{APPS}/{mine['id']}"
    for who, want in (("anonymous", 401), ("driver", 401)):
        for method, p in (("get", BASE), ("get", f"{BASE}/certificate"), ("get", APPS),
                          ("get", f"{APPS}/mine"), ("get", path), ("get", f"{path}.pdf")):  # fmt: skip
            assert town.call(who, method, p).status_code == want, (who, p)
    for who in ("A", "operator", "admin", "channel"):  # the forms: anyone signed in
        assert [f["id"] for f in town.ok(who, "get", BASE)] == ["certificate", "license-return"]
    for who in ("A", "B", "channel"):  # staff only
        r = town.call(who, "get", APPS)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
        assert town.call(who, "patch", path, json={"values": {"copies": 1}}).status_code == 403
        assert town.call(who, "post", f"{path}/complete").status_code == 403
    for who in ("operator", "admin", "channel"):  # residents only
        assert town.call(who, "get", f"{APPS}/mine").status_code == 403
    assert [m["id"] for m in town.ok("A", "get", f"{APPS}/mine")] == [mine["id"]]
    assert town.ok("B", "get", f"{APPS}/mine") == []
    for p in (path, f"{path}.pdf"):  # B does not learn that A's application exists
        r = town.call("B", "get", p)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "form_application_not_found")
        assert town.call("A", "get", p).status_code == 200
        assert town.call("channel", "get", p).status_code == 403
    r = town.call("B", "post", f"{BASE}/certificate/applications", headers=town.key(),
                  json={"resident_id": town.ids["A"], "values": {}})  # fmt: skip
    assert r.status_code == 403  # for oneself only
    assert town.call("B", "post", f"{path}/cancel").status_code == 404
    r = town.call("channel", "post", f"{BASE}/certificate/applications", headers=town.key(),
                  json={"resident_id": town.ids["A"]})  # fmt: skip
    assert r.status_code == 403


def test_a_pre_application_retried_is_one_application_with_one_number(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"prefill": True, "values": CHOSEN}
    key = {"Idempotency-Key": "phone-app-1"}
    first = town.call("A", "post", f"{BASE}/certificate/applications", json=body, headers=key)
    again = town.call("A", "post", f"{BASE}/certificate/applications", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["number"] == again.json()["number"] == "A26-0001"
    other = town.call("A", "post", f"{BASE}/certificate/applications", headers=key,
                      json={**body, "values": {**CHOSEN, "copies": 3}})  # fmt: skip
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    r = town.call("A", "post", f"{BASE}/certificate/applications", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "idempotency_key_required")
    # the same key from another caller is that caller's own
    second = town.call("B", "post", f"{BASE}/certificate/applications", json=body, headers=key)
    assert second.json()["number"] == "A26-0002"
    # a retry sent while the first is still running: it waits for the first, then answers it
    make = fm.create

    def slow_create(*args: Any, **kw: Any) -> Any:
        time.sleep(0.5)  # the first request holds its transaction open while the retry comes
        return make(*args, **kw)

    monkeypatch.setattr(fm, "create", slow_create)
    start, answers = threading.Barrier(2), []

    def send() -> None:
        start.wait(10)
        answers.append(town.call("A", "post", f"{BASE}/certificate/applications", json=body,
                                 headers={"Idempotency-Key": "phone-app-2"}))  # fmt: skip

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert answers[0].json()["number"] == "A26-0003"
    assert len(town.ok("operator", "get", APPS)) == 3


def test_the_counter_completes_after_the_id_check_and_prints_every_prefilled_field(
    town: Town,
) -> None:
    made = town.apply("A")
    assert made["status"] == "pre_applied"
    assert made["channel"] == "app"
    assert made["prefilled"] == RECORD_FIELDS
    assert made["values"]["name"] == "鞍手 太郎"
    assert made["values"]["phone"] == "09020000001"
    assert made["values"]["birth_year"] == 1950
    # the resident comes to the counter and shows the number; staff type it as they hear it
    found = town.ok("operator", "get", APPS, params={"number": "ａ２６－１"})
    assert [a["id"] for a in found] == []  # 「A26-1」 is not 「A26-0001」
    found = town.ok("operator", "get", APPS, params={"number": "ａ２６－０００１"})
    assert [(a["id"], a["resident_name"]) for a in found] == [(made["id"], "鞍手 太郎")]
    path = f"{APPS}/{made['id']}"
    r = town.call("operator", "post", f"{path}/complete")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "form_incomplete")
    assert r.json()["error"]["details"] == {"missing": ["id_document"],
                                            "unconfirmed": ["name", "birth_year", "address"]}  # fmt: skip
    assert "本人確認書類" in r.json()["error"]["message_ja"]
    view = town.ok(
        "operator", "patch", path, json={"values": {"id_document": "運転免許証", "fee": 300}}
    )
    assert view["status"] == "in_review"
    assert not view["ready"]
    assert view["unconfirmed"] == ["name", "birth_year", "address"]
    fields = {f["id"]: f for f in view["fields"]}
    assert fields["name"]["prefilled"]
    assert fields["name"]["staff_confirm"]
    assert fields["id_document"]["by"] == "staff"
    view = town.ok("operator", "patch", path,
                   json={"confirm": {"name": True, "birth_year": True, "address": True}})  # fmt: skip
    assert view["ready"]
    done = town.ok("operator", "post", f"{path}/complete")
    assert done["status"] == "completed"
    assert done["completed_by_name"] == "op"
    assert town.ok("admin", "post", f"{path}/complete")["completed_at"] == done["completed_at"]
    r = town.call("operator", "patch", path, json={"values": {"copies": 1}})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "form_application_closed")
    assert town.call("A", "post", f"{path}/cancel").status_code == 409

    r = town.call("operator", "get", f"{path}.pdf")
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="A26-0001.pdf"' in r.headers["content-disposition"]
    text = pdf_text(r.content)
    for fid in RECORD_FIELDS:  # every field the record filled, as stored
        assert plain(done["values"][fid]) in text, fid
    for value in ("A26-0001", "住民票の写し等交付申請書", "住民票の写し", "世帯全員", "年金・保険の手続き",
                  "運転免許証", "300", "登録から", "確認済", "2026年12月2日(水)", "見本", "完了"):  # fmt: skip
        assert plain(value) in text, value
    for f in done["fields"]:  # every label in place
        assert plain(f["label"]) in text, f["label"]
    assert town.call("A", "get", f"{path}.pdf").status_code == 200  # the resident's own copy
    with town.svc.db.sessionmaker()() as s:
        actions = s.scalars(select(rm.AuditEntry.action).where(
            rm.AuditEntry.action.like("town.form.%")).order_by(rm.AuditEntry.id)).all()  # fmt: skip
    assert actions == ["town.form.create", "town.form.prefill", "town.form.list", "town.form.list",
                       "town.form.update", "town.form.update", "town.form.complete",
                       "town.form.print", "town.form.print"]  # fmt: skip


def test_without_consent_nothing_comes_from_the_record_until_the_counter_asks(town: Town) -> None:
    made = town.apply("A", prefill=False)
    assert made["prefilled"] == []
    assert made["prefill_consent_at"] is None
    assert not set(made["values"]) & set(RECORD_FIELDS)
    path = f"{APPS}/{made['id']}"
    text = pdf_text(town.call("operator", "get", f"{path}.pdf").content)
    for fid in RECORD_FIELDS:  # nothing of the record on the page
        assert plain(RECORD_A[fid]) not in text, fid
    assert "写していません" in text
    view = town.ok("operator", "patch", path, json={"prefill": True})
    assert view["prefilled"] == RECORD_FIELDS
    assert view["prefill_consent_at"] is not None
    assert view["values"]["address"] == "鞍手町大字中山 1"
    # the counter starts one for B (who came in person), with B's consent
    counter = town.ok("admin", "post", f"{BASE}/license-return/applications", headers=town.key(),
                      json={"resident_id": town.ids["B"], "prefill": True,
                            "values": {"support": "タクシー利用券", "returned_on": "2026-11-30",
                                       "certificate_seen": True}})  # fmt: skip
    assert (counter["number"], counter["status"], counter["channel"]) == (
        "B26-0001",
        "in_review",
        "counter",
    )
    assert counter["values"]["address"] == "鞍手町大字新延 2"
    assert counter["unconfirmed"] == ["name", "birth_year", "address"]
    text = pdf_text(town.call("admin", "get", f"{APPS}/{counter['id']}.pdf").content)
    assert "2026年11月30日" in text
    assert "■はい" in text


RESIDENT_MISTAKES = [
    ("post", "/certificate/applications", {"values": {"shoe_size": 25}}, 422, "form_value_invalid"),
    ("post", "/certificate/applications", {"values": {"copies": 99}}, 422, "form_value_invalid"),
    ("post", "/certificate/applications", {"values": {"certificate": "戸籍謄本"}}, 422, "form_value_invalid"),
    ("post", "/certificate/applications", {"values": {"id_document": "運転免許証"}}, 422, "form_field_staff_only"),
    ("post", "/certificate/applications", {"values": {"copies": [1]}}, 422, "invalid_input"),
    ("post", "/certificate/applications", {"prefill": "yes please"}, 422, "invalid_input"),
    ("post", "/nosuch/applications", {}, 404, "form_not_found"),
    ("get", "/nosuch", None, 404, "form_not_found"),
    ("get", "/applications/Fnosuch", None, 404, "form_application_not_found"),
]  # fmt: skip


def test_bad_input_from_a_resident_is_a_code_and_a_message(town: Town) -> None:
    for method, path, body, status, code in RESIDENT_MISTAKES:
        kw: dict[str, Any] = {"headers": town.key()}
        if body is not None:
            kw["json"] = body
        r = town.call("A", method, BASE + path, **kw)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, body, r.text)
        assert r.json()["error"]["message_ja"]
        assert r.json()["error"]["message_en"]
    assert town.ok("operator", "get", APPS) == []  # nothing half-made


def test_bad_input_from_staff_is_a_code_and_a_message(town: Town) -> None:
    made = town.apply("A")
    path = f"{APPS}/{made['id']}"
    cases = [
        ("post", f"{BASE}/certificate/applications", {"json": {}, "headers": town.key()}, 422, "invalid_input"),
        ("patch", path, {"json": {"confirm": {"relationship": True}}}, 422, "form_value_invalid"),
        ("patch", path, {"json": {"confirm": {"copies": True}}}, 422, "form_value_invalid"),
        ("patch", path, {"json": {"values": {"copies": "たくさん"}}}, 422, "form_value_invalid"),
        ("patch", path, {"content": b"{", "headers": {"content-type": "application/json"}}, 422, "malformed_json"),
        ("get", APPS, {"params": {"status": "lost"}}, 422, "invalid_input"),
        ("get", APPS, {"params": {"date": "12月2日"}}, 422, "invalid_input"),
        ("get", APPS, {"params": {"number": "--"}}, 422, "invalid_input"),
        ("post", f"{APPS}/Fnosuch/complete", {}, 404, "form_application_not_found"),
    ]  # fmt: skip
    for method, p, kw, status, code in cases:
        r = town.call("operator", method, p, **kw)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (p, kw, r.text)
        assert r.json()["error"]["message_ja"]
    town.ok("operator", "post", f"{path}/cancel")
    assert town.ok("operator", "post", f"{path}/cancel")["status"] == "cancelled"  # again: same
    r = town.call("operator", "post", f"{path}/complete")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "form_application_closed")


def test_today_s_list_and_the_resident_s_own(town: Town) -> None:
    first = town.apply("A")
    town.svc.clock.advance(24 * 3600)
    second = town.apply("A", form="license-return", values={"support": "のりあいバス回数券"})
    today = town.ok("operator", "get", APPS, params={"date": "2026-12-03"})
    assert [a["number"] for a in today] == [second["number"]] == ["B26-0001"]
    waiting = town.ok("operator", "get", APPS, params={"status": "pre_applied"})
    assert [a["id"] for a in waiting] == [second["id"], first["id"]]
    assert [a["id"] for a in town.ok("A", "get", f"{APPS}/mine")] == [second["id"], first["id"]]
    assert town.ok("A", "post", f"{APPS}/{first['id']}/cancel")["status"] == "cancelled"
    assert (
        town.ok("operator", "get", APPS, params={"status": "pre_applied"})[0]["id"] == second["id"]
    )
