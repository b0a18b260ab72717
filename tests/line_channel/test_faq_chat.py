"""The FAQ bot in the LINE chat, through the LINE stand-in with signed webhooks: a typed
question is answered with the live facts and 「担当者につなぐ」; tapping it makes one ticket
that the staff API lists; a question with no answer shows the help and is listed as a miss."""

from __future__ import annotations

from datetime import datetime

import pytest

from line_channel.faq_chat import POSTBACK_MAX, staff_action
from tests.booking.conftest import START
from tests.line_channel.conftest import Line, data_of, quick_replies, texts
from town.models import FaqTicket

pytestmark = pytest.mark.services


def test_a_question_is_answered_with_the_live_facts_and_staff_one_tap_away(line: Line) -> None:
    answer = line.say("U-faq-1", "くるまいすでのれますか")
    said = texts(answer)
    assert "車いすのまま乗れる車が1台あります" in said
    assert "0949-42-0000" in said
    actions = quick_replies(answer[-1])
    assert len(actions) <= 5
    staff = next(a for a in actions if a["label"] == "担当者につなぐ")
    assert data_of(staff) == {"a": "faq_staff", "q": "くるまいすでのれますか"}
    assert {a["label"] for a in actions} >= {"予約する", "使い方"}


def test_handing_over_makes_one_ticket_that_staff_list(line: Line) -> None:
    rid = line.link("U-faq-2")
    answer = line.say("U-faq-2", "荷物をもってのれますか")
    staff = next(a for a in quick_replies(answer[-1]) if a["label"] == "担当者につなぐ")
    said = texts(line.tap("U-faq-2", staff["data"]))
    assert "係に伝えました" in said
    assert "荷物をもってのれますか" in said
    line.tap("U-faq-2", staff["data"])  # a second tap: still one ticket
    assert line.count(FaqTicket) == 1
    tickets = line.operator("get", "/v1/town/faq/tickets", params={"status": "open"})
    assert [
        (t["question"], t["channel"], t["resident_id"], t["line_user_id"]) for t in tickets
    ] == [("荷物をもってのれますか", "line", rid, "U-faq-2")]
    # on the service's clock (the test's), not the machine's
    assert datetime.fromisoformat(tickets[0]["created_at"]) == START
    closed = line.operator("post", f"/v1/town/faq/tickets/{tickets[0]['id']}/close",
                           json={"note": "お電話で答えました"})  # fmt: skip
    assert closed["status"] == "closed"


def test_a_question_with_no_answer_shows_the_help_and_is_listed(line: Line) -> None:
    line.link("U-faq-3")
    said = texts(line.say("U-faq-3", "あしたのてんきはどうですか"))
    assert "すみません、わかりませんでした" in said  # the chat's help (not linked: how to link)
    misses = line.operator("get", "/v1/town/faq/misses")
    assert [(m["question"], m["channels"]) for m in misses] == [
        ("あしたのてんきはどうですか", ["line"])
    ]
    assert datetime.fromisoformat(misses[0]["last_at"]) == START  # the service's clock


def test_a_long_question_fits_lines_postback_limit() -> None:
    action = staff_action(
        "鞍手町のりあいバスで隣の町の大きな病院まで行きたいのですがどうすればよいでしょうか"
    )
    assert len(action["data"]) <= POSTBACK_MAX
    assert data_of(action)["q"].startswith("鞍手町のりあいバスで")
    assert data_of(action)["q"].endswith("…")
