"""Surveys (town/surveys.py) against the database: a definition refused with a clear error,
the draft → open → closed life, one response per resident (anonymous too, with no resident
id stored), completion, and the results and CSV of a small hand-made set of answers.

The set: a survey of three questions (q1 single 「バス」「車」「歩き」, q2 multiple 「朝」「昼」
「夜」, q3 scale 1–5, q4 free text, not required) answered by three residents A, B, C:

    A: バス, 朝+夜, 5, 「もっと便を」     B: 車, 昼, 3, (skipped)     C: バス, 朝, 4, 「ありがとう」

so q1 counts バス 2 / 車 1 / 歩き 0, q2 朝 2 / 昼 1 / 夜 1, q3 3:1 4:1 5:1 mean 4.0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import Forbidden
from common.settings import load_settings
from residents import models as rm
from residents.service import Actor
from server.migrate import upgrade
from tests.harness import IsolatedDatabase
from town import surveys as sv
from town.models import Subscription, Survey, SurveyResponse
from town.segments import SegmentIn

pytestmark = pytest.mark.services
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 10:00 in Kurate
TODAY = date(2026, 12, 2)
JST = ZoneInfo("Asia/Tokyo")
OP = Actor("staff", "S-op", "operator")
SECRET = b"test-secret-for-surveys"
QUESTIONS: list[dict[str, Any]] = [
    {"id": "q1", "kind": "single", "text": "ふだんの移動は", "choices": ["バス", "車", "歩き"]},
    {"id": "q2", "kind": "multiple", "text": "出かける時間", "choices": ["朝", "昼", "夜"]},
    {"id": "q3", "kind": "scale", "text": "満足度", "min": 1, "max": 5},
    {"id": "q4", "kind": "text", "text": "ご意見", "required": False},
]
ANSWERS: dict[str, dict[str, sv.Answer]] = {
    "A": {"q1": "バス", "q2": ["夜", "朝"], "q3": 5, "q4": "もっと便を"},
    "B": {"q1": "車", "q2": ["昼"], "q3": 3, "q4": None},
    "C": {"q1": "バス", "q2": ["朝"], "q3": 4, "q4": "ありがとう"},
}


@pytest.fixture
def session(db_schema: IsolatedDatabase) -> Iterator[Session]:
    """Migrated tables, and residents A, B, C (中山, opted in to surveys) and D (not)."""
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as s:
        for rid in ("A", "B", "C", "D"):
            s.add(rm.Resident(id=rid, name=f"住民{rid}", kana="ジュウミン", phone=f"0900000000{ord(rid) % 10}",
                              address="鞍手町大字中山 1", birth_year=1950, eligibility="resident",
                              consent_at=NOW, created_at=NOW))  # fmt: skip
        s.flush()
        for rid in ("A", "B", "C"):
            s.add(Subscription(resident_id=rid, service="surveys", options={}, started_at=NOW))
        s.commit()
        yield s


def body(**over: Any) -> sv.SurveyIn:
    return sv.SurveyIn.model_validate({"title": "バスについて", "questions": QUESTIONS, **over})


def opened(session: Session, **over: Any) -> Any:
    row = sv.create(session, OP, body(**over), NOW)
    return sv.open_survey(session, OP, row.id, None, NOW)


def answer_all(session: Session, survey: Any) -> None:
    for rid, answers in ANSWERS.items():
        for qid, value in answers.items():
            sv.answer(session, survey, rid, qid, value, SECRET, "line", NOW)
        sv.complete(session, survey, rid, SECRET, "line", NOW)
    session.commit()


# -- the definition ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"kind": "ranking"}, "questions[0].kind", "種類「ranking」"),
        ({"choices": ["バス"]}, "questions[0].choices", "2〜10個"),
        ({"choices": [f"c{i}" for i in range(11)]}, "questions[0].choices", "(11個あります)"),
        ({"choices": ["バス", "あ" * 21]}, "questions[0].choices", "1〜20文字"),
        ({"choices": ["バス", "バス"]}, "questions[0].choices", "同じ選択肢"),
        ({"id": "q 1"}, "questions[0].id", "英数字"),
        ({"text": "   "}, "questions[0].text", "空"),
    ],
)
def test_a_wrong_question_is_refused_saying_what_and_where(
    session: Session, change: dict[str, Any], field: str, words: str
) -> None:
    questions = [{**QUESTIONS[0], **change}, *QUESTIONS[1:]]
    with pytest.raises(sv.SurveyInvalid) as e:
        sv.create(session, OP, body(questions=questions), NOW)
    assert e.value.code == "survey_invalid"
    assert e.value.http_status == 422
    assert e.value.details["field"] == field
    assert words in e.value.message_ja
    assert "1問目" in e.value.message_ja


def test_scales_ids_and_counts_are_checked(session: Session) -> None:
    cases = [
        ([{**QUESTIONS[2], "min": 5, "max": 1}], "questions[0].min", "1〜5"),
        ([{**QUESTIONS[2], "min": 1, "max": 11}], "questions[0].min", "0から10"),
        ([{**QUESTIONS[3], "min": 1}], "questions[0].min", "数の範囲はいりません"),
        ([{**QUESTIONS[3], "choices": ["a", "b"]}], "questions[0].choices", "選択肢はいりません"),
        ([QUESTIONS[0], {**QUESTIONS[1], "id": "q1"}], "questions[1].id", "ほかの質問と同じ"),
        ([{**QUESTIONS[3], "id": f"q{i}"} for i in range(21)], "questions", "20問まで"),
    ]
    for questions, field, words in cases:
        with pytest.raises(sv.SurveyInvalid) as e:
            sv.create(session, OP, body(questions=questions), NOW)
        assert (e.value.details["field"], words in e.value.message_ja) == (field, True), e.value
    assert session.scalar(select(func.count()).select_from(Survey)) == 0  # nothing stored
    row = sv.create(session, OP, body(questions=[{**QUESTIONS[2], "min": None, "max": None}]), NOW)
    assert (row.questions[0]["min"], row.questions[0]["max"]) == (1, 5)  # the default scale


def test_only_staff_write_and_every_action_is_audited(session: Session) -> None:
    with pytest.raises(Forbidden):
        sv.create(session, Actor("resident", "A", "resident"), body(), NOW)
    with pytest.raises(Forbidden):
        sv.create(session, Actor("staff", "S-app", "channel"), body(), NOW)
    row = sv.create(session, OP, body(), NOW)
    sv.update(session, OP, row.id, body(title="バスの使いごこち"), NOW)
    empty = sv.create(session, OP, body(questions=[]), NOW)
    with pytest.raises(sv.SurveyEmpty):
        sv.open_survey(session, OP, empty.id, None, NOW)
    sv.open_survey(session, OP, row.id, SegmentIn(districts=["中山"]), NOW)
    assert row.status == "open"
    assert row.segment["districts"] == ["中山"]
    assert sv.open_survey(session, OP, row.id, None, NOW).status == "open"  # again: the same
    with pytest.raises(sv.SurveyNotChangeable):
        sv.update(session, OP, row.id, body(), NOW)
    sv.close(session, OP, row.id)
    with pytest.raises(sv.SurveyClosed):
        sv.open_survey(session, OP, row.id, None, NOW)
    actions = session.scalars(select(rm.AuditEntry.action).order_by(rm.AuditEntry.id)).all()
    assert actions == ["town.survey.create", "town.survey.update", "town.survey.create",
                       "town.survey.open", "town.survey.close"]  # fmt: skip


# -- answering ---------------------------------------------------------------------------


def test_one_response_per_resident_draft_answers_change_until_completed(session: Session) -> None:
    survey = opened(session)
    p = sv.answer(session, survey, "A", "q1", "車", SECRET, "line", NOW)
    assert p.next is not None
    assert p.next["id"] == "q2"
    sv.answer(session, survey, "A", "q1", "バス", SECRET, "app", NOW)  # changed before completing
    with pytest.raises(sv.SurveyIncomplete) as e:
        sv.complete(session, survey, "A", SECRET, "line", NOW)
    assert e.value.details["missing"] == ["q2", "q3"]  # q4 is not required
    sv.answer(session, survey, "A", "q2", ["夜", "朝", "朝"], SECRET, "line", NOW)
    sv.answer(session, survey, "A", "q3", 4, SECRET, "line", NOW)
    done = sv.complete(session, survey, "A", SECRET, "line", NOW)
    assert done.completed
    assert done.answers == {
        "q1": "バス",
        "q2": ["朝", "夜"],
        "q3": 4,
        "q4": None,
    }
    assert sv.complete(session, survey, "A", SECRET, "line", NOW).completed  # idempotent
    with pytest.raises(sv.SurveyAlreadyAnswered) as again:
        sv.answer(session, survey, "A", "q3", 1, SECRET, "line", NOW)
    assert again.value.http_status == 409
    rows = session.scalars(select(SurveyResponse)).all()
    assert [(r.resident_id, r.respondent_key, r.answers["q3"]) for r in rows] == [("A", "A", 4)]


@pytest.mark.parametrize(
    ("qid", "value", "words"),
    [
        ("q1", "電車", "次から一つ選んでください"),
        ("q1", ["バス"], "次から一つ選んでください"),
        ("q2", ["朝", "深夜"], "次から選んでください"),
        ("q3", 6, "1から5まで"),
        ("q3", True, "1から5まで"),
        ("q3", None, "答えが必要"),
        ("q4", "あ" * 501, "500文字まで"),
        ("q4", 3, "文で答えて"),
    ],
)
def test_a_wrong_answer_says_what_is_expected(
    session: Session, qid: str, value: Any, words: str
) -> None:
    survey = opened(session)
    with pytest.raises(sv.AnswerInvalid) as e:
        sv.answer(session, survey, "A", qid, value, SECRET, "line", NOW)
    assert words in e.value.message_ja
    assert e.value.details["question_id"] == qid


def test_a_closed_survey_takes_no_answers(session: Session) -> None:
    survey = opened(session, closes_at=NOW + timedelta(days=7))
    sv.answer(session, survey, "A", "q1", "車", SECRET, "line", NOW)
    with pytest.raises(sv.SurveyClosed):
        sv.answer(session, survey, "A", "q1", "車", SECRET, "line", NOW + timedelta(days=7))
    sv.close(session, OP, survey.id)
    with pytest.raises(sv.SurveyClosed):
        sv.answer(session, survey, "B", "q1", "車", SECRET, "line", NOW)


def test_anonymous_stores_no_resident_yet_keeps_one_per_resident(session: Session) -> None:
    survey = opened(session, anonymous=True)
    sv.answer(session, survey, "A", "q1", "車", SECRET, "line", NOW)
    sv.answer(session, survey, "A", "q1", "バス", SECRET, "app", NOW + timedelta(hours=3))
    sv.answer(session, survey, "B", "q1", "車", SECRET, "line", NOW)
    session.commit()
    rows = session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)).all()
    assert len(rows) == 2
    assert all(r.resident_id is None for r in rows)
    keys = {r.respondent_key for r in rows}
    assert "A" not in keys
    assert "B" not in keys
    assert all(len(k) == 64 for k in keys)
    assert sv.respondent_key(survey, "A", SECRET) in keys  # the same resident, the same key
    assert sv.respondent_key(survey, "A", b"another secret") not in keys
    assert rows[0].answers == {"q1": "バス"}
    assert rows[0].started_at == datetime(2026, 12, 2, tzinfo=UTC)  # the day only
    dump = repr([(r.respondent_key, r.answers, r.channel) for r in rows])
    assert "'A'" not in dump
    assert "'B'" not in dump
    with pytest.raises(sv.SurveyIncomplete):
        sv.complete(session, survey, "A", SECRET, "line", NOW)


def test_the_anonymous_key_is_its_own_setting_and_outlives_rotated_secrets() -> None:
    key = "a-random-survey-key-0123456789-abcdefgh"
    one = sv.server_secret(load_settings(survey_key=key, line_channel_secret="abc"))
    # rotating the LINE secret or the database password changes nothing (the old code keyed
    # anonymous answers on the LINE secret: after a rotation a resident could answer again)
    assert one == sv.server_secret(load_settings(survey_key=key, line_channel_secret="abd"))
    assert one == sv.server_secret(
        load_settings(survey_key=key, database_url="postgresql+psycopg://drt:new@db/drt")
    )
    assert one != sv.server_secret(load_settings(survey_key=key + "x"))
    assert key.encode() not in one
    assert len(one) == 32
    # without one (demo, tests): from the database URL, stable
    bare = sv.server_secret(load_settings(database_url="sqlite:///a.db"))
    assert bare == sv.server_secret(load_settings(database_url="sqlite:///a.db"))
    assert bare != one


@pytest.mark.parametrize(
    ("key", "refused"),
    [("", True), ("CHANGE-ME-survey-key", True), ("short-key", True), ("a" * 40, True),
     ("a-random-survey-key-0123456789-abcdefgh", False)],
)  # fmt: skip
def test_drt_serve_needs_a_real_survey_key(key: str, refused: bool) -> None:
    problems = sv.survey_key_problems(load_settings(survey_key=key))
    assert bool(problems) is refused
    assert all("DRT_SURVEY_KEY" in p for p in problems)


def test_who_may_answer_is_the_segment_opted_in(session: Session) -> None:
    survey = opened(session, segment={"districts": ["中山"]})
    assert [m.resident_id for m in sv.recipients(session, survey, TODAY)] == ["A", "B", "C"]
    assert [s.id for s in sv.open_for(session, "A", TODAY, NOW)] == [survey.id]
    assert sv.open_for(session, "D", TODAY, NOW) == []  # not opted in
    other = opened(session, segment={"districts": ["新延"]})
    assert sv.open_for(session, "A", TODAY, NOW) == [survey]
    assert sv.preview(session, OP, other.id, None, TODAY) == 0
    assert sv.preview(session, OP, other.id, SegmentIn(districts=["中山"]), TODAY) == 3


# -- results ------------------------------------------------------------------------------


def test_results_of_the_hand_made_set(session: Session) -> None:
    survey = opened(session)
    answer_all(session, survey)
    sv.answer(session, survey, "D", "q1", "歩き", SECRET, "line", NOW)  # in progress: not counted
    r = sv.results(session, OP, survey.id)
    assert (r["responses"], r["in_progress"], r["anonymous"]) == (3, 1, False)
    q1, q2, q3, q4 = r["questions"]
    assert q1["counts"] == {"バス": 2, "車": 1, "歩き": 0}
    assert q1["answered"] == 3
    assert q2["counts"] == {"朝": 2, "昼": 1, "夜": 1}
    assert q3["distribution"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert q3["mean"] == 4.0
    assert q4["texts"] == [{"resident_id": "A", "text": "もっと便を"},
                           {"resident_id": "C", "text": "ありがとう"}]  # fmt: skip
    assert q4["answered"] == 2


def test_csv_of_the_hand_made_set(session: Session) -> None:
    survey = opened(session)
    answer_all(session, survey)
    name, header, rows = sv.results_csv(session, OP, survey.id, JST)
    assert name == f"survey-{survey.id}.csv"
    text = sv.csv_text(header, rows)
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        [
            "resident_id",
            "completed",
            "q1 ふだんの移動は",
            "q2 出かける時間",
            "q3 満足度",
            "q4 ご意見",
        ],
        ["A", "2026-12-02T10:00+09:00", "バス", "朝、夜", "5", "もっと便を"],
        ["B", "2026-12-02T10:00+09:00", "車", "昼", "3", ""],
        ["C", "2026-12-02T10:00+09:00", "バス", "朝", "4", "ありがとう"],
    ]
    assert session.scalars(select(rm.AuditEntry.action).where(
        rm.AuditEntry.action == "town.survey.export")).all() == ["town.survey.export"]  # fmt: skip


def test_anonymous_results_and_csv_say_nothing_of_who(session: Session) -> None:
    survey = opened(session, anonymous=True)
    answer_all(session, survey)
    r = sv.results(session, OP, survey.id)
    assert r["questions"][3]["texts"] == [{"text": "ありがとう"}, {"text": "もっと便を"}]
    assert r["questions"][0]["counts"] == {"バス": 2, "車": 1, "歩き": 0}
    _, header, rows = sv.results_csv(session, OP, survey.id, JST)
    assert header == ["completed", "q1 ふだんの移動は", "q2 出かける時間", "q3 満足度", "q4 ご意見"]
    assert sorted(rows) == sorted([
        ["2026-12-02", "バス", "朝、夜", "5", "もっと便を"],
        ["2026-12-02", "車", "昼", "3", ""],
        ["2026-12-02", "バス", "朝", "4", "ありがとう"],
    ])  # fmt: skip
    keys = [sv.respondent_key(survey, rid, SECRET) for rid in ("A", "B", "C")]
    by_key = [ANSWERS[rid]["q3"] for _, rid in sorted(zip(keys, "ABC", strict=True))]
    assert [int(row[3]) for row in rows] == by_key  # in key order, not the order they came
