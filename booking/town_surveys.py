"""The surveys' API (/v1/town/surveys) and the residents' answer page (/town/surveys/).

Staff (operators and admins) write, open and close surveys and read the results (JSON, or a
CSV for Excel); residents with their own token see the open surveys they may answer (in the
segment, opted in to ``surveys``), answer a question at a time and complete. The use cases
are in :mod:`town.surveys`; this module authenticates, validates and returns.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr
from sqlalchemy.orm import Session

from booking.endpoints import ActorDep, created_once
from common.errors import Forbidden
from core.host import DispatchHost
from core.web import HostDep, SessionDep, page_file
from residents import service as people
from residents.service import Actor
from town import surveys as sv
from town.models import Survey
from town.segments import SegmentIn

api = APIRouter(prefix="/v1/town/surveys", tags=["town"])
PAGE = FilePath(__file__).parent / "survey_page"
page = APIRouter(include_in_schema=False)

SurveyId = Annotated[str, Path(min_length=1, max_length=24)]
QuestionId = Annotated[str, Path(min_length=1, max_length=16)]


class Question(BaseModel):
    id: str
    kind: str
    text: str
    choices: list[str]
    min: int | None
    max: int | None
    required: bool


class SurveyView(BaseModel):
    """A survey as staff see it."""

    id: str
    title: str
    intro: str
    questions: list[Question]
    segment: SegmentIn
    anonymous: bool
    status: str = Field(description="draft | open | closed")
    closes_at: datetime | None
    created_by: str
    created_by_name: str = Field(description="the staff account's display name")
    created_at: datetime


class MySurvey(BaseModel):
    """A survey as the resident answering it sees it, with their own answers so far."""

    id: str
    title: str
    intro: str
    anonymous: bool
    closes_at: datetime | None
    questions: list[Question]
    answers: dict[str, Any] = Field(description="question id -> the answer so far")
    next_question: str | None = Field(description="the first question not answered yet")
    completed: bool


class AnswerIn(BaseModel):
    value: StrictStr | StrictInt | list[StrictStr] | None = Field(
        description="single: a choice; multiple: a list of choices; scale: an integer; "
        "text: a text; null (or empty) skips a question that is not required"
    )


class SegmentBody(BaseModel):
    segment: SegmentIn | None = Field(None, description="empty: the survey's own")


class Preview(BaseModel):
    count: int = Field(description="residents in the segment, opted in to surveys")


class ResultText(BaseModel):
    text: str
    resident_id: str | None = None


class ResultQuestion(BaseModel):
    id: str
    kind: str
    text: str
    answered: int
    counts: dict[str, int] | None = None
    distribution: dict[str, int] | None = None
    mean: float | None = None
    texts: list[ResultText] | None = None


class Results(BaseModel):
    survey_id: str
    title: str
    status: str
    anonymous: bool
    responses: int = Field(description="completed responses (the only ones counted)")
    in_progress: int
    questions: list[ResultQuestion]


# -- helpers ---------------------------------------------------------------------------


def _views(session: Session, rows: list[Survey]) -> list[SurveyView]:
    names = people.staff_names(session, {r.created_by for r in rows})
    return [_view(session, r, names) for r in rows]


def _view(session: Session, row: Survey, names: dict[str, str] | None = None) -> SurveyView:
    if names is None:
        names = people.staff_names(session, [row.created_by])
    return SurveyView(id=row.id, title=row.title, intro=row.intro,
                      questions=[Question(**q) for q in row.questions],
                      segment=SegmentIn.model_validate(row.segment), anonymous=row.anonymous,
                      status=row.status, closes_at=row.closes_at, created_by=row.created_by,
                      created_by_name=names.get(row.created_by, row.created_by),
                      created_at=row.created_at)  # fmt: skip


def _mine(p: sv.Progress) -> MySurvey:
    row = p.survey
    nxt = p.next
    return MySurvey(id=row.id, title=row.title, intro=row.intro, anonymous=row.anonymous,
                    closes_at=row.closes_at, questions=[Question(**q) for q in row.questions],
                    answers=p.answers, next_question=nxt["id"] if nxt else None,
                    completed=p.completed)  # fmt: skip


def _today(host: DispatchHost) -> date:
    return host.world.config.calendar.local_date(host.clock())


def _resident(actor: Actor) -> None:
    if actor.kind != "resident":
        raise Forbidden("住民の方のログインで開いてください。",
                        "This is for residents: sign in with a resident's token.")  # fmt: skip


# -- staff ---------------------------------------------------------------------------------


@api.post("", response_model=SurveyView, status_code=201)
def create_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, body: sv.SurveyIn,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None,
) -> SurveyView:  # fmt: skip
    """A draft survey (operators and admins): up to 20 questions, each ``single``,
    ``multiple`` (2–10 choices of at most 20 characters), ``scale`` (``min``–``max``, 1–5 by
    default) or ``text``; 422 ``survey_invalid`` names the first problem. With an
    Idempotency-Key (the console sends one), a retry answers the same draft."""
    if not key or not key.strip():
        return _view(session, sv.create(session, actor, body, host.now()))
    people.require_staff(actor, *sv.STAFF)
    ids, _ = created_once(session, actor, "survey", key.strip(), body,
                          lambda: [sv.create(session, actor, body, host.now()).id])  # fmt: skip
    return _view(session, sv.get(session, ids[0]))


@api.get("", response_model=list[SurveyView])
def list_surveys(session: SessionDep, actor: ActorDep) -> list[SurveyView]:
    """Every survey, newest first (operators and admins)."""
    return _views(session, list(sv.listing(session, actor)))


@api.get("/mine", response_model=list[MySurvey])
def my_surveys(session: SessionDep, host: HostDep, actor: ActorDep) -> list[MySurvey]:
    """The open surveys the resident may answer (in the segment, opted in to surveys)."""
    _resident(actor)
    secret = sv.process_secret()
    rows = sv.open_for(session, actor.id, _today(host), host.now(), host.world.stops.districts())
    return [_mine(sv.progress(session, r, actor.id, secret)) for r in rows]


@api.get("/{survey_id}", response_model=SurveyView | MySurvey)
def read_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId
) -> SurveyView | MySurvey:
    """Staff: the survey; a resident: its questions and their answers so far (404 when it
    is not for them)."""
    if actor.is_staff:
        people.require_staff(actor, *sv.STAFF)
        return _view(session, sv.get(session, survey_id))
    row = sv.for_resident(session, survey_id, actor.id, _today(host), host.world.stops.districts())
    return _mine(sv.progress(session, row, actor.id, sv.process_secret()))


@api.put("/{survey_id}", response_model=SurveyView)
def update_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId, body: sv.SurveyIn
) -> SurveyView:
    """Replace a draft (409 ``survey_not_changeable`` once open)."""
    return _view(session, sv.update(session, actor, survey_id, body, host.now()))


@api.post("/{survey_id}/open", response_model=SurveyView)
def open_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId,
    body: Annotated[SegmentBody | None, Body()] = None,
) -> SurveyView:  # fmt: skip
    """Start taking answers (from ``segment``, or the draft's own); invitations go out by
    LINE to the segment's residents opted in to surveys."""
    seg = body.segment if body is not None else None
    return _view(session, sv.open_survey(session, actor, survey_id, seg, host.now()))


@api.post("/{survey_id}/close", response_model=SurveyView)
def close_survey(session: SessionDep, actor: ActorDep, survey_id: SurveyId) -> SurveyView:
    """No more answers."""
    return _view(session, sv.close(session, actor, survey_id))


@api.post("/{survey_id}/preview", response_model=Preview)
def preview_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId,
    body: Annotated[SegmentBody | None, Body()] = None,
) -> Preview:  # fmt: skip
    """How many residents the segment (or the survey's own) is, opted in to surveys."""
    seg = body.segment if body is not None else None
    return Preview(
        count=sv.preview(session, actor, survey_id, seg, _today(host), host.world.stops.districts())
    )


@api.get("/{survey_id}/results", response_model=Results)
def survey_results(session: SessionDep, actor: ActorDep, survey_id: SurveyId) -> Any:
    """Completed responses counted per question (the free texts without who for an
    anonymous survey)."""
    return sv.results(session, actor, survey_id)


@api.get("/{survey_id}/results.csv", response_class=Response)
def survey_results_csv(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId
) -> Response:
    """A row per completed response, a column per question (UTF-8 with a BOM for Excel;
    no resident column for an anonymous survey)."""
    name, header, rows = sv.results_csv(session, actor, survey_id,
                                        host.world.config.calendar.time_zone)  # fmt: skip
    return Response(sv.csv_text(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# -- residents -------------------------------------------------------------------------------


@api.put("/{survey_id}/answers/{question_id}", response_model=MySurvey)
def answer_question(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId,
    question_id: QuestionId, body: AnswerIn,
) -> MySurvey:  # fmt: skip
    """Answer one question (again, to change it, until completed); 422 ``answer_invalid``
    says what is expected, 409 ``survey_already_answered`` after completion."""
    _resident(actor)
    row = sv.for_resident(session, survey_id, actor.id, _today(host), host.world.stops.districts())
    return _mine(sv.answer(session, row, actor.id, question_id, body.value, sv.process_secret(), "app",
                           host.now()))  # fmt: skip


@api.post("/{survey_id}/complete", response_model=MySurvey)
def complete_survey(
    session: SessionDep, host: HostDep, actor: ActorDep, survey_id: SurveyId
) -> MySurvey:
    """Send the answers (every required question answered, else 409 ``survey_incomplete``
    with the ``missing`` ones); completing again changes nothing."""
    _resident(actor)
    row = sv.for_resident(session, survey_id, actor.id, _today(host), host.world.stops.districts())
    return _mine(sv.complete(session, row, actor.id, sv.process_secret(), "app", host.now()))


# -- the answer page (no internet: its own files) ---------------------------------------------


@page.get("/town/surveys/")
def survey_page() -> FileResponse:
    return page_file(PAGE)


@page.get("/town/surveys/{name}")
def survey_asset(name: str) -> FileResponse:
    return page_file(PAGE, name)


surveys = APIRouter()
surveys.include_router(api)
surveys.include_router(page)
