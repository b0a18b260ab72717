"""A survey answered end to end in LINE: signed webhooks on the LINE stand-in, the real
line-bot-sdk, the app's own database.

Staff open a survey of four questions (one choice, several choices, a scale, a free text) for
中山; the linked resident of 中山 who opted in to surveys gets the invitation
(``due_invitations``, pushed through the stand-in), taps 「答える」, the quick replies, types the
free text, and is thanked; the results API then shows exactly those answers. Also: a typed
message is an answer only while the free-text question is open, 「あとで」 and 「アンケート」,
a closed survey said politely, and an anonymous survey answered twice is one response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from line_channel import repository as line_channel_repo
from line_channel import survey_chat
from line_channel.town_push import TownPush
from tests.booking.conftest import START
from tests.line_channel.conftest import Line, buttons, data_of, quick_replies, texts
from town.models import Subscription, SurveyResponse

pytestmark = pytest.mark.services
USER = "U-survey-1"
SURVEY: dict[str, Any] = {
    "title": "バスの使いごこち",
    "intro": "のりあいバスをよくするため、4問お聞きします。",
    "questions": [
        {"id": "q1", "kind": "single", "text": "よく乗りますか", "choices": ["よく乗る", "ときどき", "乗らない"]},
        {"id": "q2", "kind": "multiple", "text": "よく行く所", "choices": ["病院", "お店", "役場"]},
        {"id": "q3", "kind": "scale", "text": "満足度は", "min": 1, "max": 5},
        {"id": "q4", "kind": "text", "text": "ご意見をどうぞ", "required": False},
    ],
    "segment": {"districts": ["中山"]},
}  # fmt: skip


def opt_in(line: Line, rid: str) -> None:
    with line.db.sessionmaker()() as s:
        s.add(Subscription(resident_id=rid, service="surveys", options={},
                           started_at=datetime.now(UTC)))  # fmt: skip
        s.commit()


def open_survey(line: Line, **over: Any) -> str:
    sid = str(line.operator("post", "/v1/town/surveys", json={**SURVEY, **over})["id"])
    line.operator("post", f"/v1/town/surveys/{sid}/open")
    return sid


def invitations(line: Line) -> list[TownPush]:
    with line.db.sessionmaker()() as s:
        return survey_chat.due_invitations(s, line.world, line.clock.now_s)


def push(line: Line, p: TownPush) -> list[dict[str, Any]]:
    """Send an invitation the way the notifier does (claimed once, through the stand-in)."""
    seq = line.st.last_seq
    portal = line.client.portal
    assert portal is not None
    assert (
        portal.call(line.channel.pusher.push_once, p.key, p.kind, p.user_id, p.messages) == "sent"
    )
    return line.st.bot_messages(p.user_id, since=seq)


def tap(line: Line, message: dict[str, Any], label: str) -> list[dict[str, Any]]:
    action = next(a for a in quick_replies(message) if a["label"] == label)
    return line.tap(USER, action["data"])


def test_a_survey_answered_through_signed_webhooks(line: Line) -> None:
    rid = line.link(USER)
    line.link("U-survey-other", phone="090-1234-0000")  # linked, but never opted in
    opt_in(line, rid)
    sid = open_survey(line)

    due = invitations(line)
    assert [(p.key, p.kind, p.user_id) for p in due] == [(f"survey:{sid}:{USER}", "survey", USER)]
    sent = push(line, due[0])
    assert "バスの使いごこち" in texts(sent)
    assert "質問は4問です" in texts(sent)
    assert invitations(line) == []  # sent once
    start = next(a for a in buttons(sent) if a["label"] == "答える")
    assert data_of(start) == {"a": "sv_start", "s": sid}

    q1 = line.tap(USER, start["data"])[-1]
    assert "質問1/4" in q1["text"]
    assert "よく乗りますか" in q1["text"]
    assert [a["label"] for a in quick_replies(q1)] == ["よく乗る", "ときどき", "乗らない", "あとで"]
    q2 = tap(line, q1, "ときどき")[-1]
    assert "質問2/4" in q2["text"]
    assert "選んだもの: (まだありません)" in q2["text"]
    assert "決定" not in [a["label"] for a in quick_replies(q2)]  # nothing marked yet
    marked = tap(line, q2, "病院")[-1]
    assert "選んだもの: 病院" in marked["text"]
    marked = tap(line, marked, "役場")[-1]
    marked = tap(line, marked, "✓ 病院")[-1]  # unmarked again
    marked = tap(line, marked, "お店")[-1]
    assert "選んだもの: お店、役場" in marked["text"]
    q3 = tap(line, marked, "決定")[-1]
    assert "質問3/4" in q3["text"]
    assert [a["label"] for a in quick_replies(q3)] == ["1", "2", "3", "4", "5", "あとで"]
    q4 = tap(line, q3, "4")[-1]
    assert "質問4/4" in q4["text"]
    assert "文で送って" in q4["text"]
    assert "答えない" in [a["label"] for a in quick_replies(q4)]  # not required
    end = line.say(USER, "土曜日も走ってほしいです")
    assert "「土曜日も走ってほしいです」と受け付けました" in texts(end)
    assert "ありがとうございました" in texts(end)
    after = line.say(USER, "ありがとう")  # the question is closed: the chat goes on as before
    assert "受け付けました" not in texts(after)

    results = line.operator("get", f"/v1/town/surveys/{sid}/results")
    assert results["responses"] == 1
    assert results["in_progress"] == 0
    q = {x["id"]: x for x in results["questions"]}
    assert q["q1"]["counts"] == {"よく乗る": 0, "ときどき": 1, "乗らない": 0}
    assert q["q2"]["counts"] == {"病院": 0, "お店": 1, "役場": 1}
    assert q["q3"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert q["q3"]["mean"] == 4.0
    assert q["q4"]["texts"] == [{"resident_id": rid, "text": "土曜日も走ってほしいです"}]
    again = line.tap(USER, start["data"])  # an old 「答える」 after completing
    assert "もう答えていただいています" in texts(again)


def test_typed_text_is_an_answer_only_while_the_text_question_is_open(line: Line) -> None:
    rid = line.link(USER)
    opt_in(line, rid)
    sid = open_survey(line, questions=[SURVEY["questions"][3], SURVEY["questions"][0]])
    before = line.say(USER, "こんにちは")  # no question open yet: the chat's own answer
    assert "受け付けました" not in texts(before)
    q = line.tap(USER, f"a=sv_start&s={sid}")[-1]
    assert "ご意見をどうぞ" in q["text"]
    paused = tap(line, q, "あとで")
    assert "続きは「アンケート」と送ると" in texts(paused)
    chat = line.say(USER, "予約したい")  # paused: this is the booking chat again
    assert "どこから乗りますか" in texts(chat)
    resumed = line.say(USER, "アンケート")[-1]
    assert "ご意見をどうぞ" in resumed["text"]
    line.tap(USER, "a=book")  # another button of the chat: the typed answer is off
    assert "受け付けました" not in texts(line.say(USER, "役場"))
    resumed = line.say(USER, "アンケート")[-1]
    skipped = tap(line, resumed, "答えない")[-1]
    assert "よく乗りますか" in skipped["text"]
    with line.db.sessionmaker()() as s:
        row = s.scalars(select(SurveyResponse)).one()
        assert row.answers["q4"] is None
        assert row.completed_at is None


def test_a_closed_survey_is_said_politely(line: Line) -> None:
    rid = line.link(USER)
    opt_in(line, rid)
    sid = open_survey(line)
    q1 = line.tap(USER, f"a=sv_start&s={sid}")[-1]
    line.operator("post", f"/v1/town/surveys/{sid}/close")
    answer = tap(line, q1, "よく乗る")
    assert "受付は終わりました" in texts(answer)
    assert invitations(line) == []


def test_anonymous_survey_in_line_is_one_response_without_who(line: Line) -> None:
    rid = line.link(USER)
    opt_in(line, rid)
    sid = open_survey(line, anonymous=True, questions=SURVEY["questions"][:1])
    q1 = line.tap(USER, f"a=sv_start&s={sid}")[-1]
    assert "結びつけずに" in texts(push(line, invitations(line)[0]))
    assert "ありがとうございました" in texts(tap(line, q1, "乗らない"))
    assert "もう答えていただいています" in texts(tap(line, q1, "よく乗る"))
    with line.db.sessionmaker()() as s:
        rows = s.scalars(select(SurveyResponse)).all()
    assert len(rows) == 1
    assert rows[0].resident_id is None
    assert rows[0].respondent_key != rid
    assert rows[0].answers == {"q1": "乗らない"}
    results = line.operator("get", f"/v1/town/surveys/{sid}/results")
    assert results["questions"][0]["counts"] == {"よく乗る": 0, "ときどき": 0, "乗らない": 1}


def test_the_invitation_links_the_page_when_the_address_is_known(
    line: Line, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = line.link(USER)
    opt_in(line, rid)
    sid = open_survey(line)
    monkeypatch.setenv("DRT_PUBLIC_URL", "https://bus.example.jp/")
    sent = push(line, invitations(line)[0])
    link = next(a for a in buttons(sent) if a["type"] == "uri")
    assert link["uri"] == f"https://bus.example.jp/town/surveys/?s={sid}"


def test_an_invitation_deferred_by_line_is_offered_again_and_a_sent_one_not(line: Line) -> None:
    rid = line.link(USER)
    opt_in(line, rid)
    open_survey(line)
    (p,) = invitations(line)
    with line.db.sessionmaker()() as s:  # LINE answered 429 the first time: left pending
        line_channel_repo.claim_push(s, p.key, p.user_id, p.kind, None, START.date(), START, None)
        s.commit()
    assert [i.key for i in invitations(line)] == [p.key]  # the notifier's claim retries it
    push(line, p)
    assert invitations(line) == []
