"""Payment-slip reminders through the LINE stand-in, on a simulated week: sent once, three
days before the due date from 10:00, only to residents opted in to 納付期限のお知らせ with
an unpaid slip, and not for a slip paid (imported from the payments file) before then.

Residents and slips (the test clock starts Wednesday 2 December 2026, 10:00):
  U-slip-1 opted in from the chat: slip X due Sunday 6 December (reminded from Thursday
           3 December 10:00), slip Y due Thursday 10 December, paid on 5 December.
  U-slip-2 linked, never opted in: slip Z due 6 December.
  U-slip-3 opted in by an operator on the phone: slip W due 6 December, paid on 2 December.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.booking.conftest import JST
from tests.line_channel.conftest import Line, quick_replies, texts
from town import gs1

pytestmark = pytest.mark.services
COLUMNS = "resident_id,subject,fiscal_year,period,payer_name,biller_code,free_field,due,amount"


def _slip(rid: str, free: str, due: date, amount: int) -> str:
    return f"{rid},軽自動車税(種別割),2026,全期,鞍手 太郎,912345,{free},{due.isoformat()},{amount}"


def _barcode(free: str, due: date, amount: int) -> str:
    return gs1.SlipCode("912345", free, 0, due, 0, amount).digits


def _at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 12, day, hour, minute, tzinfo=JST).timestamp())


def _tap(line: Line, user: str, answer: list[dict[str, Any]], label: str) -> list[Any]:
    action = next(a for a in quick_replies(answer[-1]) if a["label"] == label)
    return line.tap(user, action["data"])


def test_a_reminder_before_the_due_date_once_to_opted_in_residents_with_unpaid_slips(
    line: Line,
) -> None:
    r1 = line.link("U-slip-1", phone="09020000001")
    said = _tap(
        line, "U-slip-1", line.say("U-slip-1", "通知の設定"), "納付期限のお知らせを受け取る"
    )
    assert "納付期限のお知らせ" in texts(said)
    r2 = line.link("U-slip-2", phone="09020000002")
    r3 = line.link("U-slip-3", phone="09020000003")
    line.operator("put", f"/v1/town/residents/{r3}/subscriptions/payments", json={})
    sixth, tenth = date(2026, 12, 6), date(2026, 12, 10)
    x, y, z, w = "1" * 21, "2" * 21, "3" * 21, "4" * 21
    rows = [_slip(r1, x, sixth, 12300), _slip(r1, y, tenth, 4000), _slip(r2, z, sixth, 5000),
            _slip(r3, w, sixth, 7000)]  # fmt: skip
    line.operator("post", "/v1/town/slips/import", json={"csv": "\n".join([COLUMNS, *rows])})

    def paid(free: str, due: date, amount: int, on: str) -> None:
        body = {"csv": f"barcode,paid_on\n{_barcode(free, due, amount)},{on}\n"}
        report = line.operator("post", "/v1/town/slips/payments/import", json=body)
        assert report["counts"]["paid"] == 1

    paid(w, sixth, 7000, "2026-12-02")  # U-slip-3 paid before the reminder
    got: dict[str, list[tuple[int, str]]] = {f"U-slip-{n}": [] for n in (1, 2, 3)}

    def tick(at: int) -> None:
        seq = line.st.last_seq
        line.tick(at)
        for user, pushes in got.items():
            pushes += [(at, m["text"]) for m in line.st.bot_messages(user, since=seq)]

    tick(_at(3, 9, 45))  # before the window
    assert got == {u: [] for u in got}
    for at in (_at(3, 10), _at(3, 10, 15), _at(3, 19, 45), _at(4, 12), _at(5, 10, 30)):
        tick(at)
    paid(y, tenth, 4000, "2026-12-05")  # Y paid before its reminder (from 7 December 10:00)
    for at in (_at(7, 9, 30), _at(7, 10), _at(8, 12), _at(9, 19)):
        tick(at)

    assert got["U-slip-2"] == []  # not opted in
    assert got["U-slip-3"] == []  # paid before
    assert [at for at, _ in got["U-slip-1"]] == [_at(3, 10)]  # once, at the first tick
    text = got["U-slip-1"][0][1]
    for said in ("【納付期限のお知らせ】", "軽自動車税(種別割)(2026年度 全期)", "12月6日(日)",
                 "12,300円", "コンビニ", "お電話(0949-42-0000)", "「通知の設定」"):  # fmt: skip
        assert said in text, said

    # stopping from the chat: a new slip due later is not reminded of
    said = _tap(line, "U-slip-1", line.say("U-slip-1", "通知の設定"), "納付期限のお知らせをやめる")
    assert "止めました" in texts(said)
    line.operator("post", "/v1/town/slips/import",
                  json={"csv": f"{COLUMNS}\n{_slip(r1, '5' * 21, date(2026, 12, 20), 900)}"})  # fmt: skip
    seq = line.st.last_seq
    line.tick(_at(17, 10) + int(timedelta(minutes=5).total_seconds()))
    assert line.st.bot_messages("U-slip-1", since=seq) == []
