"""Surveys staff send to a segment of residents, answered in LINE or on the app's page.

Staff (operators and admins) define a survey: a title, an introduction and up to
``MAX_QUESTIONS`` questions, each ``single`` (one choice), ``multiple`` (several choices),
``scale`` (a number from ``min`` to ``max``, 1–5 by default) or ``text`` (free text), and
required or not. A survey is a ``draft`` while it is written (it can be changed then),
``open`` once staff open it for a segment (:class:`town.segments.SegmentIn`; residents in it
who opted in to ``surveys`` may answer), and ``closed`` for good when staff close it (or
from its ``closes_at``). Every staff action is audited.

One response per resident: a row per ``(survey, respondent_key)``, where the key is the
resident id, or for an anonymous survey an HMAC of the survey id and the resident id with a
server secret (:func:`server_secret`), so one answer per resident holds without storing who
answered (``resident_id`` stays empty; the times are kept to the day only). Answering a
question again before completing replaces the draft answer; after completion a response is
final (409 ``survey_already_answered``).

Results count completed responses only: per choice, the scale's distribution and mean, the
free texts (with the resident id, unless anonymous), and a CSV with a row per completed
response and a column per question.

Functions flush and never commit; the request (or the LINE event) owns the transaction.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import DrtError, InvalidInput, NotFound
from common.ids import new_id
from common.settings import Settings, load_settings
from residents import service as people
from town import segments
from town.models import Survey, SurveyResponse

Kind = Literal["single", "multiple", "scale", "text"]
KINDS: tuple[str, ...] = ("single", "multiple", "scale", "text")
KINDS_JA = {"single": "一つ選ぶ", "multiple": "いくつでも選ぶ", "scale": "数で答える",
            "text": "自由に書く"}  # fmt: skip
MAX_QUESTIONS = 20
CHOICES_MIN, CHOICES_MAX = 2, 10
CHOICE_CHARS = 20  # a choice is a LINE quick-reply label: 20 characters at most
SCALE_LOW, SCALE_HIGH, SCALE_STEPS = 0, 10, 10  # min >= 0, max <= 10, at most 11 values
TEXT_MAX = 500  # characters of a free-text answer
QUESTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
STAFF = ("operator", "admin")
SECRET_LABEL = b"kurate-drt/surveys/respondent-key/v1"
Answer = str | int | list[str] | None


# -- input (validated at the edge for shape, here for meaning) -------------------------


class QuestionIn(BaseModel):
    id: str = Field(min_length=1, max_length=16, description="q1, q2 … (unique, a-z 0-9 _ -)")
    kind: str = Field(description="single | multiple | scale | text")
    text: str = Field(min_length=1, max_length=200, description="the question")
    choices: list[str] = Field(default_factory=list, max_length=CHOICES_MAX * 5)
    min: int | None = Field(None, ge=-1000, le=1000, description="scale: lowest (1)")
    max: int | None = Field(None, ge=-1000, le=1000, description="scale: highest (5)")
    required: bool = True


class SurveyIn(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    intro: str = Field("", max_length=1000, description="shown before the first question")
    questions: list[QuestionIn] = Field(default_factory=list, max_length=MAX_QUESTIONS * 5)
    segment: segments.SegmentIn = Field(default_factory=segments.SegmentIn)
    anonymous: bool = Field(False, description="answers are not linked to who gave them")
    closes_at: datetime | None = Field(None, description="no answers from then on")


class SurveyInvalid(InvalidInput):
    code = "survey_invalid"


class SurveyNotChangeable(DrtError):
    code = "survey_not_changeable"
    http_status = 409


class SurveyEmpty(DrtError):
    code = "survey_empty"
    http_status = 409


class SurveyClosed(DrtError):
    code = "survey_closed"
    http_status = 409


class SurveyAlreadyAnswered(DrtError):
    code = "survey_already_answered"
    http_status = 409


class SurveyIncomplete(DrtError):
    code = "survey_incomplete"
    http_status = 409


class AnswerInvalid(InvalidInput):
    code = "answer_invalid"


def _bad(where: str, ja: str, en: str) -> SurveyInvalid:
    return SurveyInvalid(ja, en, field=where)


def check_questions(questions: list[QuestionIn]) -> list[dict[str, Any]]:
    """The questions as stored, or 422 ``survey_invalid`` naming the first problem (its
    ``field``: ``questions[2].choices``)."""
    if len(questions) > MAX_QUESTIONS:
        raise _bad("questions", f"質問は{MAX_QUESTIONS}問までです({len(questions)}問あります)。",
                   f"At most {MAX_QUESTIONS} questions ({len(questions)} given).")  # fmt: skip
    out, seen = [], set()
    for i, q in enumerate(questions):
        n, where = i + 1, f"questions[{i}]"
        if not QUESTION_ID.match(q.id):
            raise _bad(f"{where}.id", f"{n}問目の番号「{q.id}」は、英数字と _ - の16文字までにしてください。",
                       f"Question {n}: id {q.id!r} must be 1-16 letters, digits, _ or -.")  # fmt: skip
        if q.id in seen:
            raise _bad(f"{where}.id", f"{n}問目の番号「{q.id}」が、ほかの質問と同じです。",
                       f"Question {n}: id {q.id!r} is used twice.")  # fmt: skip
        seen.add(q.id)
        if q.kind not in KINDS:
            raise _bad(f"{where}.kind", f"{n}問目の種類「{q.kind}」は使えません。"
                       f"次から選んでください: {', '.join(KINDS)}。",
                       f"Question {n}: kind {q.kind!r} is not one of {', '.join(KINDS)}.")  # fmt: skip
        text = q.text.strip()
        if not text:
            raise _bad(f"{where}.text", f"{n}問目の質問の文が空です。", f"Question {n}: no text.")
        row: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": text, "choices": [],
                               "min": None, "max": None, "required": q.required}  # fmt: skip
        if q.kind in ("single", "multiple"):
            choices = [c.strip() for c in q.choices]
            if not CHOICES_MIN <= len(choices) <= CHOICES_MAX:
                raise _bad(f"{where}.choices",
                           f"{n}問目の選択肢は{CHOICES_MIN}〜{CHOICES_MAX}個にしてください"
                           f"({len(choices)}個あります)。",
                           f"Question {n}: {CHOICES_MIN}-{CHOICES_MAX} choices "
                           f"({len(choices)} given).")  # fmt: skip
            for c in choices:
                if not 1 <= len(c) <= CHOICE_CHARS:
                    raise _bad(f"{where}.choices",
                               f"{n}問目の選択肢「{c}」は、1〜{CHOICE_CHARS}文字にしてください"
                               "(LINEのボタンに入る長さです)。",
                               f"Question {n}: choice {c!r} must be 1-{CHOICE_CHARS} "
                               "characters (a LINE button label).")  # fmt: skip
            if len(set(choices)) != len(choices):
                raise _bad(f"{where}.choices", f"{n}問目に同じ選択肢が二つあります。",
                           f"Question {n}: a choice is given twice.")  # fmt: skip
            row["choices"] = choices
        elif q.choices:
            raise _bad(f"{where}.choices", f"{n}問目({KINDS_JA[q.kind]})には選択肢はいりません。",
                       f"Question {n}: a {q.kind} question has no choices.")  # fmt: skip
        if q.kind == "scale":
            lo = 1 if q.min is None else q.min
            hi = 5 if q.max is None else q.max
            if not (SCALE_LOW <= lo < hi <= SCALE_HIGH and hi - lo <= SCALE_STEPS):
                raise _bad(f"{where}.min",
                           f"{n}問目の数の範囲({lo}〜{hi})は、{SCALE_LOW}から{SCALE_HIGH}のあいだで、"
                           "小さい数から大きい数にしてください(例: 1〜5)。",
                           f"Question {n}: scale {lo}..{hi} must have "
                           f"{SCALE_LOW} <= min < max <= {SCALE_HIGH} (e.g. 1..5).")  # fmt: skip
            row["min"], row["max"] = lo, hi
        elif q.min is not None or q.max is not None:
            raise _bad(f"{where}.min", f"{n}問目({KINDS_JA[q.kind]})には数の範囲はいりません。",
                       f"Question {n}: only a scale question has min and max.")  # fmt: skip
        out.append(row)
    return out


# -- the survey's life: draft, open, closed -------------------------------------------


def get(session: Session, survey_id: str) -> Survey:
    row = session.get(Survey, survey_id)
    if row is None:
        raise NotFound("そのアンケートはありません。", f"No survey {survey_id}.",
                       survey_id=survey_id)  # fmt: skip
    return row


def _checked(body: SurveyIn, now: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    questions = check_questions(body.questions)
    body.segment.check()
    if body.closes_at is not None:
        if body.closes_at.tzinfo is None:
            raise _bad("closes_at", "締め切りにはタイムゾーンを付けてください(例: 2027-01-31T17:00:00+09:00)。",
                       "closes_at needs a time zone (e.g. 2027-01-31T17:00:00+09:00).")  # fmt: skip
        if body.closes_at <= now:
            raise _bad("closes_at", "締め切りは、これから先の日時にしてください。",
                       "closes_at must be in the future.")  # fmt: skip
    return questions, body.segment.model_dump()


def create(session: Session, actor: people.Actor, body: SurveyIn, now: datetime) -> Survey:
    """A draft survey (checked whole: nothing is stored when a question is wrong); audited."""
    people.require_staff(actor, *STAFF)
    questions, segment = _checked(body, now)
    row = Survey(id=new_id("S"), title=body.title.strip(), intro=body.intro.strip(),
                 questions=questions, segment=segment, anonymous=body.anonymous,
                 status="draft", closes_at=body.closes_at, created_by=actor.id,
                 created_at=now)  # fmt: skip
    session.add(row)
    people.audit(session, actor, "town.survey.create", survey_id=row.id,
                 questions=len(questions), anonymous=body.anonymous)  # fmt: skip
    session.flush()
    return row


def update(
    session: Session, actor: people.Actor, survey_id: str, body: SurveyIn, now: datetime
) -> Survey:
    """Replace a draft's definition (409 ``survey_not_changeable`` once it is open)."""
    people.require_staff(actor, *STAFF)
    row = get(session, survey_id)
    if row.status != "draft":
        raise SurveyNotChangeable(
            "受付を始めたアンケートは変えられません。新しいアンケートを作ってください。",
            "Only a draft survey can be changed; create a new one.",
            status=row.status,
        )
    row.questions, row.segment = _checked(body, now)
    row.title, row.intro, row.anonymous = body.title.strip(), body.intro.strip(), body.anonymous
    row.closes_at = body.closes_at
    people.audit(session, actor, "town.survey.update", survey_id=row.id,
                 questions=len(row.questions))  # fmt: skip
    session.flush()
    return row


def open_survey(
    session: Session, actor: people.Actor, survey_id: str, segment: segments.SegmentIn | None,
    now: datetime,
) -> Survey:  # fmt: skip
    """Start taking answers from ``segment`` (the draft's own when None). Opening an open
    survey again changes nothing; a closed one stays closed (409 ``survey_closed``), an
    empty one cannot open (409 ``survey_empty``)."""
    people.require_staff(actor, *STAFF)
    row = get(session, survey_id)
    if row.status == "open":
        return row
    if row.status == "closed":
        raise _closed()
    if not row.questions:
        raise SurveyEmpty("質問が一つもないアンケートは始められません。",
                          "A survey needs at least one question to open.")  # fmt: skip
    if row.closes_at is not None and row.closes_at <= now:
        raise _bad("closes_at", "締め切りが過ぎています。締め切りを変えてから始めてください。",
                   "closes_at has passed: change it first.")  # fmt: skip
    if segment is not None:
        segment.check()
        row.segment = segment.model_dump()
    row.status = "open"
    people.audit(session, actor, "town.survey.open", survey_id=row.id, segment=row.segment)
    session.flush()
    return row


def close(session: Session, actor: people.Actor, survey_id: str) -> Survey:
    """No more answers (a draft closed is never sent); closing again changes nothing."""
    people.require_staff(actor, *STAFF)
    row = get(session, survey_id)
    if row.status != "closed":
        row.status = "closed"
        people.audit(session, actor, "town.survey.close", survey_id=row.id)
        session.flush()
    return row


def listing(session: Session, actor: people.Actor, limit: int = 100) -> list[Survey]:
    people.require_staff(actor, *STAFF)
    return list(session.scalars(select(Survey).order_by(Survey.created_at.desc(), Survey.id)
                                .limit(limit)))  # fmt: skip


def is_open(survey: Survey, now: datetime) -> bool:
    return survey.status == "open" and (survey.closes_at is None or now < survey.closes_at)


def _closed() -> SurveyClosed:
    return SurveyClosed(
        "このアンケートの受付は終わりました。ご協力ありがとうございました。",
        "This survey is closed.",
    )


def recipients(
    session: Session, survey: Survey, today: date, known: Iterable[str] = ()
) -> list[segments.Member]:
    """Who may answer: the survey's segment, opted in to ``surveys``."""
    seg = segments.SegmentIn.model_validate(survey.segment)
    return segments.members(session, seg, "surveys", today, known)


def preview(
    session: Session, actor: people.Actor, survey_id: str, segment: segments.SegmentIn | None,
    today: date, known: Iterable[str] = (),
) -> int:  # fmt: skip
    """How many residents ``segment`` (or the survey's own) is: the same count as who may
    answer."""
    people.require_staff(actor, *STAFF)
    row = get(session, survey_id)
    seg = segment or segments.SegmentIn.model_validate(row.segment)
    return len(segments.members(session, seg, "surveys", today, known))


# -- respondents ----------------------------------------------------------------------


def server_secret(settings: Settings) -> bytes:
    """The key of anonymous respondents' HMACs, from ``DRT_SURVEY_KEY`` (its own setting, so
    that rotating the LINE secret or the database password changes nothing); without one
    (the demo, tests), derived from the database URL. It must stay the same while a survey
    is open, or a resident could answer twice."""
    material = (
        f"key:{settings.survey_key}" if settings.survey_key else f"db:{settings.database_url}"
    )
    return hmac.new(SECRET_LABEL, material.encode(), hashlib.sha256).digest()


SURVEY_KEY_MIN = 32


def survey_key_problems(settings: Settings) -> list[str]:
    """Why ``drt serve`` must not run with this survey key (empty: it is fine)."""
    key = settings.survey_key
    if not key:
        return ["DRT_SURVEY_KEY is empty: set a random key of at least 32 characters "
                "(for example `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"]  # fmt: skip
    if "CHANGE-ME" in key or len(key) < SURVEY_KEY_MIN or len(set(key)) < 8:
        return ["DRT_SURVEY_KEY is the example's placeholder or too weak: set a random key of "
                "at least 32 characters"]  # fmt: skip
    return []


@cache
def process_secret() -> bytes:
    """:func:`server_secret` of this process's settings, read once."""
    return server_secret(load_settings())


def respondent_key(survey: Survey, resident_id: str, secret: bytes) -> str:
    """The resident id, or for an anonymous survey HMAC-SHA256(secret, survey id, resident id)
    in hex: the same resident always gets the same key, and the key does not say who."""
    if not survey.anonymous:
        return resident_id
    return hmac.new(secret, f"{survey.id}\x00{resident_id}".encode(), hashlib.sha256).hexdigest()


def is_member(
    session: Session, survey: Survey, resident_id: str, today: date, known: Iterable[str] = ()
) -> bool:
    return any(m.resident_id == resident_id for m in recipients(session, survey, today, known))


def for_resident(
    session: Session, survey_id: str, resident_id: str, today: date, known: Iterable[str] = ()
) -> Survey:
    """A survey (open, or closed since) the resident was asked to answer; 404 otherwise (a
    draft, or not for them: not saying whether it exists)."""
    row = session.get(Survey, survey_id)
    if row is None or row.status == "draft" or not is_member(session, row, resident_id, today,
                                                             known):  # fmt: skip
        raise NotFound("そのアンケートはありません。", f"No survey {survey_id} for you.",
                       survey_id=survey_id)  # fmt: skip
    return row


def open_for(
    session: Session, resident_id: str, today: date, now: datetime, known: Iterable[str] = ()
) -> list[Survey]:
    """The open surveys the resident may answer (in its segment, opted in), oldest first."""
    rows = session.scalars(select(Survey).where(Survey.status == "open")
                           .order_by(Survey.created_at, Survey.id)).all()  # fmt: skip
    known = list(known)
    return [r for r in rows
            if is_open(r, now) and is_member(session, r, resident_id, today, known)]  # fmt: skip


def response_of(
    session: Session, survey: Survey, resident_id: str, secret: bytes
) -> SurveyResponse | None:
    key = respondent_key(survey, resident_id, secret)
    return session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                       SurveyResponse.respondent_key == key))  # fmt: skip


def _stamp(survey: Survey, now: datetime) -> datetime:
    """Times of an anonymous response are kept to the day: an exact time could be matched
    with the chat's own records of who wrote when."""
    return datetime.combine(now.date(), time(0), now.tzinfo) if survey.anonymous else now


def _response(
    session: Session, survey: Survey, resident_id: str, secret: bytes, channel: str,
    now: datetime,
) -> SurveyResponse:  # fmt: skip
    """The resident's response, started now if there is none (two at once: one wins)."""
    found = response_of(session, survey, resident_id, secret)
    if found is not None:
        return found
    row = SurveyResponse(survey_id=survey.id, respondent_key=respondent_key(survey, resident_id,
                         secret), resident_id=None if survey.anonymous else resident_id,
                         channel=channel, answers={}, started_at=_stamp(survey, now))  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = response_of(session, survey, resident_id, secret)
        assert found is not None
        return found
    return row


def question(survey: Survey, question_id: str) -> dict[str, Any]:
    for q in survey.questions:
        if q["id"] == question_id:
            return q
    raise NotFound("その質問はありません。", f"No question {question_id} in this survey.",
                   question_id=question_id)  # fmt: skip


def check_answer(q: dict[str, Any], value: Answer) -> Answer:
    """The answer as stored, or 422 ``answer_invalid`` saying what is expected. ``None``
    (or an empty text or list) skips a question that is not required."""
    n = q["text"][:30]

    def bad(ja: str, en: str) -> AnswerInvalid:
        return AnswerInvalid(f"「{n}」: {ja}", f"{q['id']}: {en}", question_id=q["id"])

    if value is None or value == "" or value == []:
        if q["required"]:
            raise bad("この質問には答えが必要です。", "this question needs an answer.")
        return None
    kind = q["kind"]
    if kind == "single":
        if not isinstance(value, str) or value not in q["choices"]:
            raise bad(f"次から一つ選んでください: {'、'.join(q['choices'])}。",
                      f"one of {q['choices']}.")  # fmt: skip
        return value
    if kind == "multiple":
        picked = [value] if isinstance(value, str) else value
        if not isinstance(picked, list) or any(c not in q["choices"] for c in picked):
            raise bad(f"次から選んでください: {'、'.join(q['choices'])}。",
                      f"some of {q['choices']}.")  # fmt: skip
        return [c for c in q["choices"] if c in picked]  # in the question's order, once each
    if kind == "scale":
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (q["min"] <= value <= q["max"])
        ):
            raise bad(f"{q['min']}から{q['max']}までの数で答えてください。",
                      f"an integer from {q['min']} to {q['max']}.")  # fmt: skip
        return value
    if not isinstance(value, str):
        raise bad("文で答えてください。", "a text.")
    text = value.strip()
    if len(text) > TEXT_MAX:
        raise bad(f"{TEXT_MAX}文字までにしてください({len(text)}文字あります)。",
                  f"at most {TEXT_MAX} characters ({len(text)} given).")  # fmt: skip
    if not text:
        return check_answer(q, None)
    return text


def answered(survey: Survey, answers: dict[str, Any]) -> list[str]:
    """The ids of the questions answered (or skipped), in the survey's order."""
    return [q["id"] for q in survey.questions if q["id"] in answers]


def next_question(survey: Survey, answers: dict[str, Any]) -> dict[str, Any] | None:
    """The first question not answered yet, or None."""
    return next((q for q in survey.questions if q["id"] not in answers), None)


def missing(survey: Survey, answers: dict[str, Any]) -> list[str]:
    """Required questions without an answer."""
    return [q["id"] for q in survey.questions if q["required"] and answers.get(q["id"]) is None]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a resident is in a survey."""

    survey: Survey
    answers: dict[str, Any]
    completed: bool

    @property
    def next(self) -> dict[str, Any] | None:
        return None if self.completed else next_question(self.survey, self.answers)


def progress(session: Session, survey: Survey, resident_id: str, secret: bytes) -> Progress:
    row = response_of(session, survey, resident_id, secret)
    if row is None:
        return Progress(survey, {}, False)
    return Progress(survey, public_answers(survey, row.answers), row.completed_at is not None)


def public_answers(survey: Survey, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the survey's questions (other keys, a channel's notes, left out)."""
    ids = {q["id"] for q in survey.questions}
    return {k: v for k, v in answers.items() if k in ids}


def answer(
    session: Session, survey: Survey, resident_id: str, question_id: str, value: Answer,
    secret: bytes, channel: str, now: datetime, note: dict[str, Any] | None = None,
) -> Progress:  # fmt: skip
    """Record (or replace) the resident's answer to one question of an open survey; the
    caller has checked that the resident may answer. 409 ``survey_closed``, 409
    ``survey_already_answered`` after completion. ``note`` replaces what a channel keeps
    beside the answers (the LINE chat: which question it asked), out of the results."""
    if not is_open(survey, now):
        raise _closed()
    q = question(survey, question_id)
    stored = check_answer(q, value)
    row = _response(session, survey, resident_id, secret, channel, now)
    if row.completed_at is not None:
        raise _already()
    answers = {k: v for k, v in row.answers.items() if k != NOTE}
    answers[q["id"]] = stored
    if note:
        answers[NOTE] = note
    row.answers = answers  # a new dict: the JSON column sees the change
    session.flush()
    return Progress(survey, public_answers(survey, answers), False)


NOTE = "_channel"  # beside the answers: what a channel needs to go on (never a question id)


def set_note(
    session: Session, survey: Survey, resident_id: str, secret: bytes, channel: str,
    note: dict[str, Any] | None, now: datetime,
) -> None:  # fmt: skip
    """Keep (or with None, drop) a channel's note on the resident's unfinished response."""
    row = response_of(session, survey, resident_id, secret) if note is None else _response(
        session, survey, resident_id, secret, channel, now)  # fmt: skip
    if row is None or row.completed_at is not None:
        return
    answers = {k: v for k, v in row.answers.items() if k != NOTE}
    if note:
        answers[NOTE] = note
    if answers != row.answers:
        row.answers = answers
        session.flush()


def note_of(session: Session, survey: Survey, resident_id: str, secret: bytes) -> dict[str, Any]:
    row = response_of(session, survey, resident_id, secret)
    if row is None or row.completed_at is not None:
        return {}
    note = row.answers.get(NOTE)
    return note if isinstance(note, dict) else {}


def _already() -> SurveyAlreadyAnswered:
    return SurveyAlreadyAnswered(
        "このアンケートには、もう答えていただきました。ありがとうございました。",
        "You have completed this survey already; answers cannot be changed.",
    )


def complete(
    session: Session, survey: Survey, resident_id: str, secret: bytes, channel: str,
    now: datetime,
) -> Progress:  # fmt: skip
    """Finish the resident's response: every required question answered (else 409
    ``survey_incomplete`` naming them). Completing again changes nothing."""
    row = response_of(session, survey, resident_id, secret)
    if row is not None and row.completed_at is not None:
        return Progress(survey, public_answers(survey, row.answers), True)
    if not is_open(survey, now):
        raise _closed()
    answers = public_answers(survey, row.answers if row is not None else {})
    left = missing(survey, answers)
    if left:
        raise SurveyIncomplete(
            f"まだ答えていない質問があります({len(left)}問)。",
            f"Required questions not answered: {', '.join(left)}.",
            missing=left,
        )
    row = row or _response(session, survey, resident_id, secret, channel, now)
    skipped = {q["id"]: None for q in survey.questions if q["id"] not in answers}
    row.answers = {**answers, **skipped}
    row.completed_at = _stamp(survey, now)
    session.flush()
    return Progress(survey, row.answers, True)


# -- results --------------------------------------------------------------------------


def _completed(session: Session, survey: Survey) -> list[SurveyResponse]:
    """Completed responses: by respondent key for an anonymous survey (the order they came
    in would say who), else in the order they were started."""
    order = (SurveyResponse.respondent_key,) if survey.anonymous else (SurveyResponse.id,)
    return list(session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.completed_at.is_not(None))
        .order_by(*order)
    ))  # fmt: skip


def results(session: Session, actor: people.Actor, survey_id: str) -> dict[str, Any]:
    """Counts of the completed responses, per question: ``counts`` per choice, a scale's
    ``distribution`` and ``mean``, the free ``texts`` (with ``resident_id`` unless the survey
    is anonymous); ``responses`` completed and ``in_progress``. Audited."""
    people.require_staff(actor, *STAFF)
    survey = get(session, survey_id)
    done = _completed(session, survey)
    started = len(session.scalars(select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.completed_at.is_(None))).all())  # fmt: skip
    out = []
    for q in survey.questions:
        given: list[tuple[SurveyResponse, Any]] = [
            (r, r.answers[q["id"]]) for r in done if r.answers.get(q["id"]) is not None
        ]
        item: dict[str, Any] = {"id": q["id"], "kind": q["kind"], "text": q["text"],
                                "answered": len(given)}  # fmt: skip
        if q["kind"] in ("single", "multiple"):
            counts = dict.fromkeys(q["choices"], 0)
            for _, v in given:
                for c in [v] if isinstance(v, str) else v:
                    if c in counts:
                        counts[c] += 1
            item["counts"] = counts
        elif q["kind"] == "scale":
            dist = {str(n): 0 for n in range(q["min"], q["max"] + 1)}
            for _, v in given:
                dist[str(v)] = dist.get(str(v), 0) + 1
            item["distribution"] = dist
            item["mean"] = round(sum(int(v) for _, v in given) / len(given), 2) if given else None
        else:
            texts = [{"text": str(v)} if survey.anonymous else
                     {"resident_id": r.resident_id, "text": str(v)} for r, v in given]  # fmt: skip
            item["texts"] = sorted(texts, key=lambda t: t["text"]) if survey.anonymous else texts
        out.append(item)
    people.audit(session, actor, "town.survey.results", survey_id=survey.id)
    return {"survey_id": survey.id, "title": survey.title, "status": survey.status,
            "anonymous": survey.anonymous, "responses": len(done), "in_progress": started,
            "questions": out}  # fmt: skip


def cell(q: dict[str, Any], value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def results_csv(
    session: Session, actor: people.Actor, survey_id: str, tz: Any
) -> tuple[str, list[str], list[list[str]]]:
    """(file name, header, rows): a row per completed response, a column per question
    (「q1 質問」); ``resident_id`` first unless anonymous, then the day (anonymous) or the
    local time it was completed. Audited as an export."""
    people.require_staff(actor, *STAFF)
    survey = get(session, survey_id)
    done = _completed(session, survey)
    header = ([] if survey.anonymous else ["resident_id"]) + ["completed"] + [
        f"{q['id']} {q['text']}" for q in survey.questions]  # fmt: skip
    rows = []
    for r in done:
        assert r.completed_at is not None
        when = (r.completed_at.date().isoformat() if survey.anonymous
                else r.completed_at.astimezone(tz).isoformat(timespec="minutes"))  # fmt: skip
        front = [] if survey.anonymous else [r.resident_id or ""]
        rows.append(front + [when] + [cell(q, r.answers.get(q["id"])) for q in survey.questions])
    people.audit(session, actor, "town.survey.export", survey_id=survey.id, rows=len(rows))
    return f"survey-{survey.id}.csv", header, rows


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """The CSV for Excel: UTF-8 with a BOM, CRLF line ends."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return "\ufeff" + out.getvalue()
